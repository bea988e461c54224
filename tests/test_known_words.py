"""The UnknownWordsFallback NLU component: no known word → nlu_fallback, keeping DIET's ranking for suggestions."""
from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.known_words import UnknownWordsFallback, words

TRAINING = ["quero abrir um chamado", "Qual o horário de atendimento?", "nota 5", "Dúvida"]


@pytest.fixture
def component(tmp_path: Path) -> UnknownWordsFallback:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("unknown_words")
    context = ExecutionContext(GraphSchema({}), "test")
    trained = UnknownWordsFallback.create({}, storage, resource, context)
    trained.train(TrainingData([Message(data={"text": t, "intent": "x"}) for t in TRAINING]))
    return UnknownWordsFallback.load({}, storage, resource, context)  # what a served model sees


def parsed(text: str, intent: str = "abrir_acionamento", entities: list[dict] | None = None) -> Message:
    ranking = [{"name": intent, "confidence": 0.9}, {"name": "faq", "confidence": 0.1}]
    return Message(data={"text": text, "intent": dict(ranking[0]), "intent_ranking": ranking,
                         "entities": entities or []})


def intent_of(component: UnknownWordsFallback, message: Message) -> str:
    return component.process([message])[0].get("intent")["name"]


def test_words_are_lower_case_without_accents():
    assert words("Horário de ATENDIMENTO, nº 5!") == ["horario", "de", "atendimento", "no", "5"]


@pytest.mark.parametrize("text", ["x" * 5000, "banana laranja abacaxi", "😀😀🙏", "!!!", "/intencao_falsa"])
def test_a_message_without_known_words_is_not_understood(component, text):
    message = component.process([parsed(text)])[0]
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 1.0}
    # DIET's ranking stays for the "você quis dizer…" buttons
    assert [r["name"] for r in message.get("intent_ranking")] == ["nlu_fallback", "abrir_acionamento", "faq"]


@pytest.mark.parametrize("text", ["qro abrir um chamdo", "HORARIO???", "5", "duvida"])
def test_one_known_word_is_enough(component, text):
    assert intent_of(component, parsed(text)) == "abrir_acionamento"


def test_pattern_entities_are_understood(component):
    cpf = [{"entity": "cpf", "value": "52998224725"}]
    assert intent_of(component, parsed("529.982.247-25", "informar", cpf)) == "informar"


def test_a_short_name_is_understood_but_a_long_unknown_text_with_a_name_is_not(component):
    name = [{"entity": "nome", "value": "Kenji Tanaka"}]
    assert intent_of(component, parsed("Kenji Tanaka", "informar", name)) == "informar"
    assert intent_of(component, parsed("lorem ipsum dolor sit amet consectetur adipiscing", "informar", name)) \
        == "nlu_fallback"


def test_an_untrained_component_changes_nothing(tmp_path):
    storage = LocalModelStorage(tmp_path)
    empty = UnknownWordsFallback.load({}, storage, Resource("nothing"), ExecutionContext(GraphSchema({}), "t"))
    assert intent_of(empty, parsed("banana")) == "abrir_acionamento"
