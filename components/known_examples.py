"""Rasa NLU component: a message that is exactly one of the training examples gets that example's intent.

DIET does not always return the label of a short example it was trained on: a retraining with more data read the
button title "Serviço" as `negar` and "ok" as `informar`, both written in data/nlu/ with their intent. Short
canonical answers (button titles, "ok", a field's name) are where a wrong reading costs most and where an exact match
is unambiguous, so this component, last in the pipeline, gives a message whose words are exactly those of a training
example (case, accents and punctuation aside) that example's intent with confidence 1. A text written under two
intents is left to DIET. Entities are untouched.
"""
from __future__ import annotations

import json
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.known_words import words

EXAMPLES_FILE = "examples.json"


def key(text: str) -> str:
    """What two texts must share to be the same example: their lower-case words without accents."""
    return " ".join(words(text))


def labelled_examples(training_data: TrainingData) -> dict[str, str]:
    """Each example's key and intent; keys written under more than one intent are left out."""
    intents: dict[str, set[str]] = {}
    for example in training_data.intent_examples:
        text, intent = example.get(TEXT), example.get(INTENT)
        if text and intent and key(text):
            intents.setdefault(key(text), set()).add(intent)
    return {text: next(iter(names)) for text, names in intents.items() if len(names) == 1}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class KnownExamplesClassifier(GraphComponent, IntentClassifier):
    def __init__(self, model_storage: ModelStorage, resource: Resource, examples: dict[str, str]) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self.examples = examples

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> KnownExamplesClassifier:
        return cls(model_storage, resource, {})

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> KnownExamplesClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                examples = json.loads((directory / EXAMPLES_FILE).read_text(encoding="utf-8"))
        except ValueError:  # nothing persisted: a model trained without examples
            examples = {}
        return cls(model_storage, resource, examples)

    def train(self, training_data: TrainingData) -> Resource:
        self.examples = labelled_examples(training_data)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / EXAMPLES_FILE).write_text(json.dumps(self.examples, sort_keys=True), encoding="utf-8")
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            intent = None if text.startswith("/") else self.examples.get(key(text))  # payloads: RegexMessageHandler
            if intent:
                label = {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0}
                message.data[INTENT] = label
                ranking = [item for item in message.data.get(INTENT_RANKING_KEY, [])
                           if item.get(INTENT_NAME_KEY) != intent]
                message.data[INTENT_RANKING_KEY] = [dict(label), *ranking]
        return messages
