"""The follow-up skills' last step as the action server runs it: evaluate (agree → closed, disagree → reopened) in
one backend operation, the same one the e-mail form uses; complement and reopen; declining writes nothing."""
from __future__ import annotations

from typing import Any

import pytest

from actions.ticket_followup import ActionAvaliarAcionamento, ActionComplementarAcionamento, ActionReabrirAcionamento
from backend.desk import ServiceDesk
from tests.actions_helpers import (  # noqa: F401 — `plugged` is an autouse fixture
    DATA_METHODS,
    Spy,
    all_text,
    plugged,
    responses,
    run,
    slot_values,
    token_for,
    tracker,
)


@pytest.fixture
def resolved(desk: ServiceDesk, personas: dict[str, int]) -> str:
    number = desk.open_ticket(personas["carla"], "financeiro", "problema", "Não consigo baixar a nota fiscal.",
                              impact="baixo")["number"]
    desk.staff_resolve(number, "A nota fiscal foi reenviada para o seu e-mail.")
    return number


def confirmed(desk: ServiceDesk, number: str, **slots: Any):
    values = {"numero_acionamento": number, "confirmacao": True, **slots}
    return tracker("sim", intent="afirmar", token=token_for(desk, "carla"), slots=values)


def test_agreeing_scores_and_closes_in_one_operation(desk, resolved, monkeypatch):
    spy = Spy(desk, monkeypatch, *DATA_METHODS)
    events, messages = run(ActionAvaliarAcionamento(),
                           confirmed(desk, resolved, nota=5.0, comentario="Rápido.", concorda=True))
    assert spy.calls == ["answer_evaluation"]
    assert responses(messages) == ["utter_avaliacao_fechado"]
    ticket = desk.staff_show(resolved)
    assert ticket["status"] == "fechado"
    assert ticket["evaluation"] == {"score": 5, "comment": "Rápido."}
    assert all(value is None for value in slot_values(events).values())


def test_disagreeing_scores_and_reopens_with_the_reason(desk, resolved):
    reason = "A nota enviada é de outro mês."
    _events, messages = run(ActionAvaliarAcionamento(),
                            confirmed(desk, resolved, nota=2.0, comentario="-", concorda=False, motivo=reason))
    assert responses(messages)[0] == "utter_avaliacao_reaberto"
    ticket = desk.staff_show(resolved)
    assert ticket["status"] == "reaberto"
    kinds = [event["kind"] for event in ticket["history"]]
    assert kinds[-2:] == ["evaluated", "reopened"]
    assert ticket["history"][-1]["text"] == reason


def test_a_refused_reason_writes_nothing_at_all(desk, resolved):
    before = desk.staff_show(resolved)
    _events, messages = run(ActionAvaliarAcionamento(),
                            confirmed(desk, resolved, nota=1.0, comentario="-", concorda=False, motivo="não"))
    assert "motivo" in all_text(messages).lower()
    assert desk.staff_show(resolved) == before  # not even the score


def test_declining_the_evaluation_writes_nothing(desk, resolved):
    before = desk.staff_show(resolved)
    track = confirmed(desk, resolved, nota=5.0, comentario="-", concorda=True, confirmacao=False)
    _events, messages = run(ActionAvaliarAcionamento(), track)
    assert responses(messages) == ["utter_avaliacao_nao_registrada"]
    assert desk.staff_show(resolved) == before


def test_complement_is_stored_as_typed(desk, personas):
    number = desk.open_ticket(personas["carla"], "financeiro", "duvida", "Como emito a segunda via?")["number"]
    text = "<b>Acrescento</b>: o boleto é de 2026 ' OR 1=1 😀"
    _events, messages = run(ActionComplementarAcionamento(), confirmed(desk, number, complemento=text))
    assert responses(messages) == ["utter_complemento_registrado"]
    assert desk.staff_show(number)["complements"][-1]["text"] == text


def test_reopen_tells_what_happens_next(desk, resolved):
    _events, messages = run(ActionReabrirAcionamento(),
                            confirmed(desk, resolved, motivo="A nota enviada é de outro mês."))
    assert desk.staff_show(resolved)["status"] == "reaberto"
    assert resolved in all_text(messages)
