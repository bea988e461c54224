"""Rasa NLU component: a message made only of words never seen in training is not understood (`nlu_fallback`).

DIET, fed with character n-grams, is confident about text it has no evidence for: "x" repeated 5,000 times or a
list of fruit were classified as skills with confidence above 0.9 (bench/fallback_threshold.py), so a confidence
threshold alone cannot catch them. This component remembers the words of the training examples and, after the
FallbackClassifier, turns into `nlu_fallback` any message with no known word, no pattern entity (CPF, e-mail, phone,
ticket number) and no short name. A single known word is enough, so typos next to known words still reach DIET's
prediction. Valid button payloads ("/abrir_acionamento") are decided afterwards by Rasa's RegexMessageHandler, so
only unknown ones ("/intencao_falsa") end here.
"""
from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

VOCABULARY_FILE = "vocabulary.json"
PATTERN_ENTITIES = {"cpf", "email", "telefone", "numero_acionamento"}
# A name typed alone ("Kenji Tanaka") is new words by nature; DIET tags it `nome` and the form needs it.
MAX_NAME_WORDS = 6
WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Lower-case words without accents, as the vocabulary stores them."""
    folded = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return WORD.findall(plain)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class UnknownWordsFallback(GraphComponent, IntentClassifier):
    def __init__(self, model_storage: ModelStorage, resource: Resource, vocabulary: set[str]) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary = vocabulary

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> UnknownWordsFallback:
        return cls(model_storage, resource, set())

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> UnknownWordsFallback:
        try:
            with model_storage.read_from(resource) as directory:
                vocabulary = set(json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8")))
        except ValueError:  # nothing persisted: a model trained without examples
            vocabulary = set()
        return cls(model_storage, resource, vocabulary)

    def train(self, training_data: TrainingData) -> Resource:
        vocabulary: set[str] = set()
        for example in training_data.training_examples:
            vocabulary.update(words(example.get(TEXT) or ""))
        self.vocabulary = vocabulary
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(json.dumps(sorted(vocabulary)), encoding="utf-8")
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if self.is_unknown(message):
                fallback = {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: 1.0}
                message.data[INTENT] = fallback
                ranking = [r for r in message.data.get(INTENT_RANKING_KEY, [])
                           if r.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME]
                message.data[INTENT_RANKING_KEY] = [dict(fallback), *ranking]
        return messages

    def is_unknown(self, message: Message) -> bool:
        text: str | None = message.get(TEXT)
        if not self.vocabulary or not text:
            return False
        found = {entity.get("entity") for entity in message.get(ENTITIES, [])}
        if found & PATTERN_ENTITIES:
            return False
        tokens = words(text)
        if "nome" in found and 0 < len(tokens) <= MAX_NAME_WORDS:
            return False
        return not any(token in self.vocabulary for token in tokens)
