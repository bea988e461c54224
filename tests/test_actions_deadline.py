"""A ticket's own deadline (issue 11, point 4): "qual o prazo do SS-…?" gives that ticket's due time, state and level,
whether the NLU read it as a consultation or as the FAQ; without a number, every open ticket; the general question
keeps the general answer."""
from __future__ import annotations

from datetime import datetime

import pytest
from rasa_sdk.events import SlotSet

from actions.deadline import asks_deadline, refers_to_own_ticket
from actions.faq import ActionResponderFaq
from actions.tickets import ActionConsultarAcionamento
from tests.actions_helpers import (  # noqa: F401 — `plugged` is an autouse fixture
    Spy,
    entity,
    kwargs_of,
    plugged,
    render,
    responses,
    run,
    token_for,
    tracker,
)


def shown_time(iso: str) -> str:
    """dd/mm/aaaa hh:mm of an ISO time the backend wrote with the Brasília offset."""
    return datetime.fromisoformat(iso).strftime("%d/%m/%Y %H:%M")


def open_for(desk, personas, persona: str, service: str = "datavalid", impact: str | None = None) -> str:
    category = "problema" if impact else "duvida"
    return desk.open_ticket(personas[persona], service, category, f"Teste de prazo de {persona}.", impact)["number"]


def faq_about(text: str, key: str, token: str | None, number: str | None = None, slots: dict | None = None):
    """The message as the NLU may read it: intent faq, with whatever FAQ answer the ResponseSelector picked."""
    track = tracker(text, intent="faq", token=token, slots=slots,
                    entities=[entity("numero_acionamento", number)] if number else [])
    track.latest_message["response_selector"] = {
        "all_retrieval_intents": ["faq"],
        "faq": {"response": {"intent_response_key": f"faq/{key}", "utter_action": f"utter_faq/{key}",
                             "confidence": 0.9, "responses": [{"text": "…"}]}, "ranking": []},
    }
    return track


def consult_about(text: str, token: str | None, number: str | None = None, slots: dict | None = None):
    return tracker(text, intent="consultar_acionamento", token=token, slots=slots,
                   entities=[entity("numero_acionamento", number)] if number else [])


@pytest.mark.parametrize("text", [
    "qual o prazo do SS-2026-000123?", "quando vence meu chamado", "até quando vocês têm para atender?",
    "ate qdo resolvem", "qual a data limite do 2026/000010", "tem previsão?", "o ANS dele vence quando?",
])
def test_deadline_questions_are_recognised(text):
    assert asks_deadline(text.replace("qdo", "quando"))


@pytest.mark.parametrize("text", [
    "como está o SS-2026-000123?", "quero abrir um chamado", "prazeroso atendimento", "quem atende o chamado?",
])
def test_other_questions_are_not_deadline_questions(text):
    assert not asks_deadline(text)


def test_own_ticket_words():
    assert refers_to_own_ticket("qual o prazo do meu chamado?")
    assert refers_to_own_ticket("e o prazo dele?")
    assert not refers_to_own_ticket("qual o prazo de atendimento da CSS?")


@pytest.mark.parametrize("text, key", [
    ("até quando vocês têm para atender o {n}?", "horario_atendimento"),
    ("qual o prazo pra resolverem o {n}?", "canais_atendimento"),
    ("qual o prazo do {n}?", "prazo_atendimento"),
])
def test_a_numbered_deadline_question_read_as_faq_gets_that_tickets_deadline(text, key, desk, personas):
    number = open_for(desk, personas, "bruno", impact="alto")
    shown = desk.staff_show(number)

    events, messages = run(ActionResponderFaq(), faq_about(text.format(n=number), key, token_for(desk, "bruno"), number))

    assert events == [SlotSet("autenticado", True), SlotSet("numero_acionamento", number)]
    [message] = messages
    assert message["response"] == "utter_prazo_acionamento"
    assert kwargs_of(message) == {"numero": number, "servico": "Datavalid", "situacao": "registrado", "nivel": "N1",
                                  "prazo": shown_time(shown["due_at"]), "atraso": ""}
    assert f"é {shown_time(shown['due_at'])}" in render(message)


def test_a_loosely_typed_number_in_a_consultation_gets_its_deadline(desk, personas):
    number = open_for(desk, personas, "ana")
    _ss, year, sequence = number.split("-")

    events, messages = run(ActionConsultarAcionamento(),
                           consult_about(f"quando vence o ss{year}{sequence}?", token_for(desk, "ana")))

    assert events == [SlotSet("autenticado", True), SlotSet("numero_acionamento", number)]
    assert responses(messages) == ["utter_prazo_acionamento"]
    assert kwargs_of(messages[0])["numero"] == number


def test_right_after_talking_about_a_ticket_its_deadline(desk, personas):
    number = open_for(desk, personas, "ana")

    _events, messages = run(ActionConsultarAcionamento(), consult_about(
        "e o prazo dele?", token_for(desk, "ana"), slots={"numero_acionamento": number}))

    assert responses(messages) == ["utter_prazo_acionamento"]
    assert kwargs_of(messages[0])["numero"] == number


def test_without_a_number_every_open_ticket_nearest_deadline_first(desk, personas):
    slow = open_for(desk, personas, "bruno", impact="baixo")
    urgent = open_for(desk, personas, "bruno", impact="alto")
    done = open_for(desk, personas, "bruno")
    desk.staff_resolve(done, "Orientação enviada por e-mail.")
    waiting = open_for(desk, personas, "bruno", service="financeiro")
    desk.staff_wait(waiting, "Qual o número da nota fiscal?")

    events, messages = run(ActionConsultarAcionamento(), consult_about(
        "quais os prazos dos meus chamados em aberto?", token_for(desk, "bruno"), slots={"numero_acionamento": done}))

    assert events == [SlotSet("autenticado", True)]
    [message] = messages
    assert message["response"] == "utter_prazos_acionamentos_abertos"
    lines = kwargs_of(message)["lista"].splitlines()
    assert [line.split(" · ")[0].lstrip("• ") for line in lines[:2]] == [urgent, slow]
    assert done not in kwargs_of(message)["lista"]
    assert any(line.startswith(f"• {waiting}") and line.endswith("suspenso até a sua resposta") for line in lines)
    render(message)


def test_no_open_ticket_offers_to_open_one(desk, personas):
    _events, messages = run(ActionConsultarAcionamento(), consult_about("quando vencem meus chamados?",
                                                                        token_for(desk, "carla")))
    assert responses(messages) == ["utter_sem_acionamentos_abertos"]


def test_a_resolved_ticket_has_no_deadline_open(desk, personas):
    number = open_for(desk, personas, "ana")
    desk.staff_resolve(number, "Acesso liberado.")

    _events, messages = run(ActionConsultarAcionamento(), consult_about(f"qual o prazo do {number}?",
                                                                        token_for(desk, "ana"), number))

    assert responses(messages) == ["utter_prazo_acionamento_encerrado"]
    assert "não há prazo" in render(messages[0])


def test_another_companys_ticket_is_not_found(desk, personas):
    number = open_for(desk, personas, "diego")

    events, messages = run(ActionResponderFaq(), faq_about(f"qual o prazo do {number}?", "prazo_atendimento",
                                                           token_for(desk, "ana"), number))

    assert events == [SlotSet("autenticado", True), SlotSet("numero_acionamento", None)]
    assert number not in messages[0]["text"] or "não" in messages[0]["text"].lower()
    assert "Datavalid" not in str(messages)


def test_signed_out_a_ticket_deadline_question_reads_nothing(desk, personas, monkeypatch):
    number = open_for(desk, personas, "ana")
    spy = Spy(desk, monkeypatch, "ticket_for", "tickets_for")

    events, messages = run(ActionResponderFaq(), faq_about(f"qual o prazo do {number}?", "prazo_atendimento",
                                                           None, number))

    assert events == [SlotSet("autenticado", False)]
    assert responses(messages) == ["utter_entrar_area_cliente"]
    assert spy.calls == []


def test_the_general_question_keeps_the_general_answer(desk, personas):
    open_for(desk, personas, "ana")

    events, messages = run(ActionResponderFaq(), faq_about("qual o prazo de atendimento da CSS?", "prazo_atendimento",
                                                           token_for(desk, "ana")))

    assert events == []
    assert responses(messages) == ["utter_faq/prazo_atendimento", "utter_prazos_da_empresa"]
