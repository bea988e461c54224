"""Every user line of the conversation tests against a trained model, all at once.

`rasa test --fail-on-prediction-errors` (make conversations) stops at the first story a line breaks; after a change
of NLU data this script lists every line whose intent or entities the model now reads otherwise, with the top three
intents and their confidences, so a training can be judged in one pass.

usage: .venv/bin/python bench/story_lines.py [MODEL] [--stories tests/test_stories.yml]
Exit status 1 when some line differs.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

import structlog
import yaml
from rasa.core.agent import Agent
from rasa.shared.nlu.training_data.entities_parser import find_entities_in_training_example, replace_entities

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the model names the custom components (components.*)


def user_lines(stories_file: Path) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """(story, plain text, intent, [(entity, value)]) for every typed user line (button payloads are not parsed)."""
    lines = []
    for story in yaml.safe_load(stories_file.read_text(encoding="utf-8"))["stories"]:
        for step in story["steps"]:
            annotated = str(step.get("user", "")).strip()
            if not annotated or annotated.startswith("/"):
                continue
            entities = [(entity["entity"], str(entity["value"]))
                        for entity in find_entities_in_training_example(annotated)]
            lines.append((story["story"], replace_entities(annotated), step.get("intent", ""), sorted(entities)))
    return lines


def reading(parsed: dict[str, Any]) -> tuple[str, float, list[tuple[str, str]], str]:
    """The model's intent, confidence, entities and top three, as printed."""
    intent = parsed["intent"]
    entities = sorted((entity["entity"], str(entity["value"])) for entity in parsed["entities"])
    top = ", ".join(f"{item['name']} {item['confidence']:.2f}" for item in parsed.get("intent_ranking", [])[:3])
    return intent["name"], float(intent["confidence"]), entities, top


async def check(model: Path, stories_file: Path) -> int:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))  # Rasa's debug lines
    agent = Agent.load(str(model))
    lines = user_lines(stories_file)
    wrong = 0
    for story, text, intent, entities in lines:
        got, confidence, got_entities, top = reading(await agent.parse_message(text))
        if got == intent and got_entities == entities:
            continue
        wrong += 1
        print(f"{story}\n  {text!r}\n  want {intent} {entities}\n  got  {got} {confidence:.2f} {got_entities}"
              f"  [{top}]")
    print(f"{len(lines) - wrong} of {len(lines)} user lines read as the conversation tests say ({wrong} differ)")
    return 1 if wrong else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("model", nargs="?", type=Path, default=ROOT / "models" / "assistente.tar.gz")
    parser.add_argument("--stories", type=Path, default=ROOT / "tests" / "test_stories.yml")
    args = parser.parse_args(argv)
    return asyncio.run(check(args.model, args.stories))


if __name__ == "__main__":
    sys.exit(main())
