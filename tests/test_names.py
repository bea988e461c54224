"""The NameJoiner NLU component: a name DIET tagged in pieces becomes one `nome` entity."""
from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message

from components.names import NameJoiner, joined_names


def name(text: str, part: str, confidence: float = 0.9) -> dict:
    start = text.index(part)
    return {"entity": "nome", "start": start, "end": start + len(part), "value": part, "confidence_entity": confidence,
            "extractor": "DIETClassifier"}


def test_adjacent_pieces_of_one_name_are_joined():
    text = "John Michael Turner"
    joined = joined_names(text, [name(text, "Michael Turner", 0.8), name(text, "John", 0.95)])
    assert joined == [{"entity": "nome", "start": 0, "end": 19, "value": "John Michael Turner",
                       "confidence_entity": 0.8, "extractor": "DIETClassifier"}]


def test_two_people_and_other_entities_stay_apart():
    text = "tira a Carla Dias e o Bruno Lima, bruno.lima@exemplo.gov.br"
    email = {"entity": "email", "start": 34, "end": 59, "value": "bruno.lima@exemplo.gov.br"}
    entities = [name(text, "Carla Dias"), name(text, "Bruno Lima"), email]
    assert joined_names(text, entities) == entities
    text = "Ana, Bruno"
    assert len(joined_names(text, [name(text, "Ana"), name(text, "Bruno")])) == 2


def test_the_component_rewrites_the_message_entities():
    text = "é o Marcos Paulo Andrade"
    message = Message(data={"text": text, "entities": [name(text, "Marcos"), name(text, "Paulo Andrade")]})
    [processed] = NameJoiner().process([message])
    assert [(e["entity"], e["value"]) for e in processed.get("entities")] == [("nome", "Marcos Paulo Andrade")]
