"""The NLU hold-out gate run by `make test`: reads `rasa test nlu` reports, prints the figures, fails below the bar.

usage: python tests/nlu_gate.py RESULTS_DIR --min-intent-f1 0.90 [--min-response-accuracy 0.85]
           [--min-entity-f1 0.98 --entities cpf email telefone numero_acionamento]
           [--entity-extractor PatternEntityExtractor]

Entities are read from the report of the extractor that finds them (`<extractor>_report.json`): CPF, e-mail,
phone and ticket number come from components/entities.py's PatternEntityExtractor, not from DIET.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SUMMARY_ROWS = {"accuracy", "macro avg", "weighted avg", "micro avg"}
DEFAULT_EXTRACTOR = "PatternEntityExtractor"


def intent_figures(report: dict) -> tuple[float, list[tuple[str, float, int]]]:
    """Macro-F1 and every intent's (name, F1, support), weakest first."""
    per_intent = [(name, row["f1-score"], row["support"]) for name, row in report.items()
                  if name not in SUMMARY_ROWS and isinstance(row, dict)]
    return report["macro avg"]["f1-score"], sorted(per_intent, key=lambda item: item[1])


def response_accuracy(report: dict) -> float:
    if "accuracy" in report:
        return float(report["accuracy"])
    return float(report["micro avg"]["f1-score"])


def entity_figures(report: dict, entities: list[str]) -> dict[str, tuple[float, float, float, int] | None]:
    """Per entity (precision, recall, F1, support); None when the hold-out has no example of it."""
    figures: dict[str, tuple[float, float, float, int] | None] = {}
    for name in entities:
        row = report.get(name)
        if not isinstance(row, dict) or not row.get("support"):
            figures[name] = None
        else:
            figures[name] = (row["precision"], row["recall"], row["f1-score"], int(row["support"]))
    return figures


def check_entities(results: Path, extractor: str, entities: list[str], minimum: float) -> bool:
    path = results / f"{extractor}_report.json"
    if not path.is_file():
        print(f"  entity report missing: {path} (is {extractor} in config.yml's pipeline?)", file=sys.stderr)
        return False
    ok = True
    for name, row in entity_figures(json.loads(path.read_text()), entities).items():
        if row is None:
            # A gate on an entity the set never shows would pass without measuring anything.
            print(f"  entity {name}: no example in the hold-out (gate {minimum:.2f}) — FAILED")
            ok = False
            continue
        precision, recall, f1, support = row
        verdict = "" if f1 >= minimum else " — FAILED"
        print(f"  entity {name}: F1 {f1:.3f} (P {precision:.3f}, R {recall:.3f}, n={support}; "
              f"gate {minimum:.2f}){verdict}")
        ok = ok and f1 >= minimum
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("results", type=Path)
    parser.add_argument("--min-intent-f1", type=float, required=True)
    parser.add_argument("--min-response-accuracy", type=float)
    parser.add_argument("--min-entity-f1", type=float)
    parser.add_argument("--entities", nargs="+", default=[])
    parser.add_argument("--entity-extractor", default=DEFAULT_EXTRACTOR)
    args = parser.parse_args(argv)
    if (args.min_entity_f1 is None) != (not args.entities):
        parser.error("--min-entity-f1 and --entities go together")

    macro_f1, ranked = intent_figures(json.loads((args.results / "intent_report.json").read_text()))
    print(f"NLU hold-out {args.results}: intent macro-F1 = {macro_f1:.3f} (gate {args.min_intent_f1:.2f})")
    print("  weakest intents: " + ", ".join(f"{n} {f:.2f} (n={s})" for n, f, s in ranked[:3]))
    ok = macro_f1 >= args.min_intent_f1
    if args.min_response_accuracy is not None:
        accuracy = response_accuracy(json.loads((args.results / "response_selection_report.json").read_text()))
        print(f"  FAQ response selection accuracy = {accuracy:.3f} (gate {args.min_response_accuracy:.2f})")
        ok = ok and accuracy >= args.min_response_accuracy
    if args.min_entity_f1 is not None:
        ok = check_entities(args.results, args.entity_extractor, args.entities, args.min_entity_f1) and ok
    if not ok:
        print("NLU hold-out gate FAILED", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
