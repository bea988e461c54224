"""The KnownExamplesClassifier NLU component: a message that is exactly a training example gets its intent."""
from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.known_examples import KnownExamplesClassifier, key

TRAINING = [("Serviço", "informar"), ("ok", "afirmar"), ("quero abrir um chamado", "abrir_acionamento"),
            ("Qual o horário de atendimento?", "faq"), ("boa noite", "cumprimentar"), ("boa noite", "despedir")]


@pytest.fixture
def component(tmp_path: Path) -> KnownExamplesClassifier:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("known_examples")
    context = ExecutionContext(GraphSchema({}), "test")
    trained = KnownExamplesClassifier.create({}, storage, resource, context)
    trained.train(TrainingData([Message(data={"text": text, "intent": intent}) for text, intent in TRAINING]))
    return KnownExamplesClassifier.load({}, storage, resource, context)  # what a served model sees


def parsed(text: str, intent: str = "negar") -> Message:
    ranking = [{"name": intent, "confidence": 0.9}, {"name": "informar", "confidence": 0.05},
               {"name": "faq", "confidence": 0.05}]
    return Message(data={"text": text, "intent": dict(ranking[0]), "intent_ranking": ranking, "entities": []})


def test_the_key_ignores_case_accents_and_punctuation():
    assert key("SERVIÇO!") == key("servico") == "servico"


@pytest.mark.parametrize("text, intent", [("Serviço", "informar"), ("servico", "informar"), ("OK!", "afirmar"),
                                          ("qual o horario de atendimento", "faq")])
def test_a_training_example_gets_its_intent(component, text, intent):
    message = component.process([parsed(text)])[0]
    assert message.get("intent") == {"name": intent, "confidence": 1.0}
    ranking = [item["name"] for item in message.get("intent_ranking")]
    assert ranking[0] == intent and ranking.count(intent) == 1 and "negar" in ranking


@pytest.mark.parametrize("text", ["serviço fora do ar", "ok, obrigado", "quero abrir", "boa noite",
                                  "/informar", ""])
def test_anything_else_is_left_to_diet(component, text):
    # not an example, an example's part or extension, a text written under two intents, a button payload
    message = component.process([parsed(text)])[0]
    assert message.get("intent") == {"name": "negar", "confidence": 0.9}
