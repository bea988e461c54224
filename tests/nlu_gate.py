"""The NLU hold-out gate run by `make test`: reads `rasa test nlu` reports, prints the figures, fails below the bar.

usage: python tests/nlu_gate.py RESULTS_DIR --min-intent-f1 0.90 [--min-response-accuracy 0.85]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SUMMARY_ROWS = {"accuracy", "macro avg", "weighted avg", "micro avg"}


def intent_figures(report: dict) -> tuple[float, list[tuple[str, float, int]]]:
    """Macro-F1 and every intent's (name, F1, support), weakest first."""
    per_intent = [(name, row["f1-score"], row["support"]) for name, row in report.items()
                  if name not in SUMMARY_ROWS and isinstance(row, dict)]
    return report["macro avg"]["f1-score"], sorted(per_intent, key=lambda item: item[1])


def response_accuracy(report: dict) -> float:
    if "accuracy" in report:
        return float(report["accuracy"])
    return float(report["micro avg"]["f1-score"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("results", type=Path)
    parser.add_argument("--min-intent-f1", type=float, required=True)
    parser.add_argument("--min-response-accuracy", type=float)
    args = parser.parse_args(argv)

    macro_f1, ranked = intent_figures(json.loads((args.results / "intent_report.json").read_text()))
    print(f"NLU hold-out: intent macro-F1 = {macro_f1:.3f} (gate {args.min_intent_f1:.2f})")
    print("  weakest intents: " + ", ".join(f"{n} {f:.2f} (n={s})" for n, f, s in ranked[:3]))
    ok = macro_f1 >= args.min_intent_f1
    if args.min_response_accuracy is not None:
        accuracy = response_accuracy(json.loads((args.results / "response_selection_report.json").read_text()))
        print(f"  FAQ response selection accuracy = {accuracy:.3f} (gate {args.min_response_accuracy:.2f})")
        ok = ok and accuracy >= args.min_response_accuracy
    if not ok:
        print("NLU hold-out gate FAILED", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
