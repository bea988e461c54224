"""Choose the FallbackClassifier threshold from measurement: prints, per candidate threshold, what happens to the
hold-out set (tests/test_nlu.yml) and to messages the assistant cannot act on (tests/fallback_noise.txt).

usage: .venv/bin/python bench/fallback_threshold.py [--model models/assistente.tar.gz]

For each in-scope hold-out message, the top intent *before* the FallbackClassifier (its ranking without
`nlu_fallback`) is compared with the label:
- kept right: confidence >= threshold and correct (the user is served)
- kept wrong: confidence >= threshold but wrong (the worst case: the assistant does the wrong thing)
- sent to fallback: confidence < threshold ("você quis dizer…", a recoverable detour)
For noise, "caught" means it would not start a skill: below the threshold, rejected for having no known word
(components/known_words.py), or classified as something harmless (fora_do_escopo, informar, greetings...).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the model names the custom component components.entities
THRESHOLDS = [0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9]
# informar outside a form only asks what to do (action_dado_solto); inside one the form validates it.
HARMLESS = {"informar", "fora_do_escopo", "cumprimentar", "despedir", "agradecer", "ajuda", "nlu_fallback"}


def load_holdout(path: Path) -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def load_noise(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("# ")]


def top_before_fallback(parsed: dict) -> tuple[str, float, float]:
    """Top intent, its confidence and the margin to the second, ignoring the FallbackClassifier's own entry.
    A message the UnknownWordsFallback component rejected (no known word) counts as confidence 0."""
    if (parsed.get("intent") or {}).get("name") == "nlu_fallback" and parsed["intent"].get("confidence") == 1.0:
        return "nlu_fallback", 0.0, 0.0
    ranking = [r for r in parsed.get("intent_ranking") or [] if r["name"] != "nlu_fallback"]
    if not ranking:
        return "", 0.0, 0.0
    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
    return ranking[0]["name"], ranking[0]["confidence"], ranking[0]["confidence"] - second


async def parse_all(model: Path, texts: list[str]) -> list[dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "assistente.tar.gz")
    parser.add_argument("--ambiguity", type=float, default=0.1, help="ambiguity_threshold of the classifier")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.disable(logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # Rasa logs every parse at debug level otherwise

    holdout = load_holdout(ROOT / "tests" / "test_nlu.yml")
    noise = load_noise(ROOT / "tests" / "fallback_noise.txt")
    parsed = asyncio.run(parse_all(args.model, [t for t, _ in holdout] + noise))
    scored = [top_before_fallback(p) for p in parsed]
    held, junk = scored[:len(holdout)], scored[len(holdout):]

    print(f"hold-out: {len(holdout)} messages; noise: {len(noise)} messages; ambiguity margin {args.ambiguity}")
    print(f"{'threshold':>9} | {'kept right':>10} {'kept wrong':>10} {'to fallback':>11} | {'noise caught':>12}")
    for t in THRESHOLDS:
        right = wrong = fallback = 0
        for (intent, conf, margin), (_text, label) in zip(held, holdout):
            if conf < t or margin < args.ambiguity:
                fallback += 1
            elif intent == label:
                right += 1
            else:
                wrong += 1
        caught = sum(1 for intent, conf, margin in junk
                     if conf < t or margin < args.ambiguity or intent in HARMLESS)
        n = len(holdout)
        print(f"{t:>9.2f} | {right / n:>10.1%} {wrong / n:>10.1%} {fallback / n:>11.1%} | "
              f"{caught / len(junk):>12.1%}")
    missed = [(text, intent, round(conf, 2)) for text, (intent, conf, _m) in zip(noise, junk)
              if intent not in HARMLESS]
    print("noise that reaches a skill at the highest confidence:")
    for text, intent, conf in sorted(missed, key=lambda m: -m[2])[:12]:
        print(f"  {conf:.2f} {intent:<24} {text!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
