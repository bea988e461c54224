"""Rasa NLU component adding the entities of `components/patterns.py` to each message.

Used instead of RegexEntityExtractor so that these entities need no annotations in the training data, DIET never
learns (and duplicates) them, and ticket numbers typed loosely arrive already in canonical form.
"""
from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.patterns import find_entities


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class PatternEntityExtractor(GraphComponent, EntityExtractorMixin):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> PatternEntityExtractor:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text: str | None = message.get(TEXT)
            if not text:
                continue
            ours = {"cpf", "email", "telefone", "numero_acionamento"}
            entities = [e for e in message.get(ENTITIES, []) if e.get("entity") not in ours]
            entities += [
                {"entity": f.entity, "value": f.value, "start": f.start, "end": f.end,
                 "confidence_entity": 1.0, "extractor": self.__class__.__name__}
                for f in find_entities(text)
            ]
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
