"""How well the description judge (actions/ticket_text.describes_what_happens) tells a usable first message from one
that only names the service, the category and the wish to open a ticket.

Reads the labelled set bench/descriptions.yml and prints accuracy, precision and recall per class, and the messages it
gets wrong. `python bench/description_judge.py` (from the project root). Exit status 0 always: it measures.
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions.ticket_text import describes_what_happens  # noqa: E402

DATASET = ROOT / "bench" / "descriptions.yml"
CLASSES = ("usable", "not_usable")


def load(part: str = "tuning", path: Path = DATASET) -> list[tuple[str, str]]:
    """(message, label) pairs of one part of the labelled set: "tuning" (written with the rule) or "holdout"
    (written after the rule was fixed)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    section = data["holdout"] if part == "holdout" else data
    return [(text, label) for label in CLASSES for text in section[label]]


def judge(text: str) -> str:
    return "usable" if describes_what_happens(text) else "not_usable"


def scores(pairs: list[tuple[str, str]]) -> dict[str, dict[str, float]]:
    """Per class: precision, recall and support; plus overall accuracy under "all"."""
    predicted = [(judge(text), label) for text, label in pairs]
    result: dict[str, dict[str, float]] = {}
    for cls in CLASSES:
        true_pos = sum(1 for p, g in predicted if p == cls and g == cls)
        said = sum(1 for p, _ in predicted if p == cls)
        real = sum(1 for _, g in predicted if g == cls)
        result[cls] = {"precision": true_pos / said if said else 0.0, "recall": true_pos / real if real else 0.0,
                       "support": real}
    result["all"] = {"accuracy": sum(1 for p, g in predicted if p == g) / len(predicted), "support": len(predicted)}
    return result


def report(part: str) -> None:
    pairs = load(part)
    figures = scores(pairs)
    print(f"\n{part} part of {DATASET.relative_to(ROOT)} ({len(pairs)} messages)")
    print(f"accuracy: {figures['all']['accuracy']:.1%}")
    print(f"{'class':<12} {'precision':>9} {'recall':>7} {'support':>8}")
    for cls in CLASSES:
        f = figures[cls]
        print(f"{cls:<12} {f['precision']:>9.1%} {f['recall']:>7.1%} {int(f['support']):>8}")
    wrong = [(text, label) for text, label in pairs if judge(text) != label]
    if wrong:
        print("\nmisjudged:")
        for text, label in wrong:
            print(f"  [{label}] {text}")


def main() -> None:
    print("description judge: actions/ticket_text.describes_what_happens")
    report("tuning")
    report("holdout")
    report_all = load("tuning") + load("holdout")
    print(f"\nboth parts: accuracy {scores(report_all)['all']['accuracy']:.1%} on {len(report_all)} messages")


if __name__ == "__main__":
    main()
