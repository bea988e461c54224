"""Rasa NLU component: a person's name that DIET tagged in pieces becomes one `nome` entity.

DIET's tags are per token, and a three-word name it has rarely seen in that shape ("John Michael Turner",
"Marcos Paulo Andrade") sometimes comes out as two adjacent names, "John" and "Michael Turner". Two people's names
are never typed with only a space between them (users write "e" or a comma), so adjacent `nome` entities separated by
blanks alone are joined into one, spanning the whole name.
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

NAME = "nome"


def joined_names(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`entities` with every run of `nome` entities separated only by blanks made one entity."""
    result: list[dict[str, Any]] = []
    for entity in sorted(entities, key=lambda item: (item.get("start", 0), item.get("end", 0))):
        previous = result[-1] if result else None
        if (previous is not None and previous.get("entity") == NAME and entity.get("entity") == NAME
                and "start" in entity and "end" in previous and entity["start"] >= previous["end"]
                and not text[previous["end"]:entity["start"]].strip()):
            merged = dict(previous, end=entity["end"], value=text[previous["start"]:entity["end"]])
            if "confidence_entity" in previous and "confidence_entity" in entity:
                merged["confidence_entity"] = min(previous["confidence_entity"], entity["confidence_entity"])
            result[-1] = merged
        else:
            result.append(entity)
    return result


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class NameJoiner(GraphComponent, EntityExtractorMixin):
    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> NameJoiner:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            entities = message.get(ENTITIES, [])
            if sum(1 for entity in entities if entity.get("entity") == NAME) > 1:
                message.set(ENTITIES, joined_names(message.get(TEXT) or "", entities), add_to_output=True)
        return messages
