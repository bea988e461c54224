"""The e-mail links' operations on the service desk: open one ticket, evaluate it as its requester, close or
reopen. A link that is forged, expired, for another ticket or another purpose changes nothing."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from sqlalchemy import func, select

from backend import identity
from backend.clock import now_utc
from backend.errors import InvalidInput, InvalidToken, InvalidTransition, PermissionDenied
from backend.models import Contact, OutboxMessage, Ticket, TicketEvent
from backend.vocabulary import EVENT_KINDS, EVENT_LABELS
from tests.conftest import TEST_SECRET

SOLUTION = "Cache do relatório limpo; o relatório abre normalmente."
REASON = "O relatório voltou a ficar em branco hoje de manhã."


def link_token(url: str) -> str:
    return unquote(parse_qs(urlparse(url).query)["t"][0])


@pytest.fixture
def resolved(desk, personas) -> str:
    """A ticket of bruno's, resolved by staff (its e-mail carries the evaluation link)."""
    number = desk.open_ticket(personas["bruno"], "Datavalid", "duvida", "Como valido uma CNH pelo Datavalid?")["number"]
    desk.staff_resolve(number, SOLUTION)
    return number


def evaluation_token(desk, number: str) -> str:
    return link_token(desk.links.evaluate(number))


def state(desk) -> tuple:
    with desk.db.transaction() as s:
        return (
            [(t.number, t.status, t.evaluation_score, t.evaluated_at, t.reopen_count, t.closed_at)
             for t in s.scalars(select(Ticket).order_by(Ticket.id))],
            s.scalar(select(func.count()).select_from(TicketEvent)),
            s.scalar(select(func.count()).select_from(OutboxMessage)),
        )


# --- reading ------------------------------------------------------------------------------------


def test_follow_link_opens_its_ticket(desk, resolved) -> None:
    token = link_token(desk.links.follow(resolved))
    ticket = desk.ticket_by_link(resolved, token, identity.PURPOSE_TRACK)
    assert ticket["number"] == resolved
    assert ticket["status"] == "resolvido"
    assert [e["kind"] for e in ticket["history"]] == ["registered", "resolved"]


def test_link_number_may_be_typed_loosely(desk, resolved) -> None:
    token = link_token(desk.links.follow(resolved))
    loose = resolved.replace("-", "").lower()
    assert desk.ticket_by_link(loose, token, identity.PURPOSE_TRACK)["number"] == resolved


@pytest.mark.parametrize("mangle, reason", [
    (lambda t: t[:-3] + ("AAA" if not t.endswith("AAA") else "BBB"), "assinatura"),
    (lambda t: "", "ausente"),
    (lambda t: "nao-e-um-token", "malformado"),
])
def test_tampered_link_is_refused(desk, resolved, mangle, reason) -> None:
    token = link_token(desk.links.follow(resolved))
    with pytest.raises(InvalidToken) as error:
        desk.ticket_by_link(resolved, mangle(token), identity.PURPOSE_TRACK)
    assert error.value.reason == reason
    assert error.value.message == identity.LINK_MESSAGES[reason]


def test_link_opens_only_its_own_ticket(desk, personas, resolved) -> None:
    other = desk.open_ticket(personas["diego"], "Consulta CPF", "duvida", "Qual o limite de consultas?")["number"]
    token = link_token(desk.links.follow(resolved))
    with pytest.raises(InvalidToken) as error:
        desk.ticket_by_link(other, token, identity.PURPOSE_TRACK)
    assert error.value.reason == "destino"


def test_link_that_is_not_a_ticket_number_is_refused(desk, resolved) -> None:
    token = link_token(desk.links.follow(resolved))
    with pytest.raises(InvalidToken) as error:
        desk.ticket_by_link("../../etc/passwd", token, identity.PURPOSE_TRACK)
    assert error.value.reason == "destino"


def test_follow_link_cannot_evaluate(desk, resolved) -> None:
    before = state(desk)
    token = link_token(desk.links.follow(resolved))
    with pytest.raises(InvalidToken) as error:
        desk.evaluate_by_link(resolved, token, 5, None, agrees=True)
    assert error.value.reason == "destino"
    assert state(desk) == before


def test_expired_link_is_refused(desk, resolved) -> None:
    old = identity.sign_link(TEST_SECRET, identity.PURPOSE_EVALUATE, resolved, ttl_days=1,
                             now=now_utc() - timedelta(days=2))
    before = state(desk)
    with pytest.raises(InvalidToken) as error:
        desk.evaluate_by_link(resolved, old, 5, None, agrees=True)
    assert error.value.reason == "expirado"
    assert state(desk) == before


def test_identity_token_is_not_a_link(desk, resolved) -> None:
    token = desk.issue_token("34567891228")
    with pytest.raises(InvalidToken) as error:
        desk.ticket_by_link(resolved, token, identity.PURPOSE_TRACK)
    assert error.value.reason == "tipo"


# --- evaluating ---------------------------------------------------------------------------------


def test_agreeing_scores_and_closes_as_the_requester(desk, resolved) -> None:
    ticket = desk.evaluate_by_link(resolved, evaluation_token(desk, resolved), 5, "Rápido e claro.", agrees=True)
    assert ticket["status"] == "fechado"
    assert ticket["evaluation"] == {"score": 5, "comment": "Rápido e claro."}
    evaluated, closed = ticket["history"][-2:]
    assert (evaluated["kind"], evaluated["actor"], evaluated["text"]) == (
        "evaluated", "bruno.lima@exemplo.gov.br", "nota 5: Rápido e claro.")
    assert (closed["kind"], closed["actor"]) == ("closed", "bruno.lima@exemplo.gov.br")


def test_disagreeing_reopens_with_the_reason_and_mails_the_requester(desk, resolved) -> None:
    outbox_before = len(desk.outbox())
    ticket = desk.evaluate_by_link(resolved, evaluation_token(desk, resolved), 2, None, agrees=False, reason=REASON)
    assert ticket["status"] == "reaberto"
    assert ticket["reopen_count"] == 1
    assert [e["kind"] for e in ticket["history"][-2:]] == ["evaluated", "reopened"]
    assert ticket["history"][-1]["text"] == REASON
    mails = desk.outbox()[outbox_before:]
    assert [(m["to"], m["subject"]) for m in mails] == [
        ("bruno.lima@exemplo.gov.br", f"[CSS] Acionamento {resolved} reaberto")]


@pytest.mark.parametrize("reason", [None, "", "   ", "ruim"])
def test_disagreeing_without_a_reason_changes_nothing(desk, resolved, reason) -> None:
    before = state(desk)
    with pytest.raises(InvalidInput) as error:
        desk.evaluate_by_link(resolved, evaluation_token(desk, resolved), 2, "Não resolveu", agrees=False,
                              reason=reason)
    assert "motivo da reabertura" in error.value.message
    assert state(desk) == before


@pytest.mark.parametrize("score", [0, 6, -1])
def test_score_out_of_range_changes_nothing(desk, resolved, score) -> None:
    before = state(desk)
    with pytest.raises(InvalidInput):
        desk.evaluate_by_link(resolved, evaluation_token(desk, resolved), score, None, agrees=True)
    assert state(desk) == before


def test_a_ticket_is_evaluated_once(desk, resolved) -> None:
    token = evaluation_token(desk, resolved)
    desk.evaluate_by_link(resolved, token, 4, None, agrees=True)
    before = state(desk)
    with pytest.raises(InvalidTransition):
        desk.evaluate_by_link(resolved, token, 1, None, agrees=False, reason=REASON)
    assert state(desk) == before


def test_unresolved_ticket_cannot_be_evaluated(desk, personas) -> None:
    number = desk.open_ticket(personas["ana"], "Área do Cliente", "duvida", "Onde vejo minhas faturas?")["number"]
    before = state(desk)
    with pytest.raises(InvalidTransition):
        desk.evaluate_by_link(number, evaluation_token(desk, number), 5, None, agrees=True)
    assert state(desk) == before


def test_removed_requester_cannot_evaluate(desk, personas, resolved) -> None:
    with desk.db.transaction() as s:
        s.get(Contact, personas["bruno"]).removed_at = now_utc()
    before = state(desk)
    with pytest.raises(PermissionDenied):
        desk.evaluate_by_link(resolved, evaluation_token(desk, resolved), 5, None, agrees=True)
    assert state(desk) == before


def test_evaluation_link_says_whether_the_ticket_can_be_evaluated(desk, resolved) -> None:
    token = evaluation_token(desk, resolved)
    ticket, unavailable = desk.evaluation_by_link(resolved, token)
    assert (ticket["number"], unavailable) == (resolved, None)

    desk.evaluate_by_link(resolved, token, 5, None, agrees=True)
    ticket, unavailable = desk.evaluation_by_link(resolved, token)
    assert ticket["status"] == "fechado"
    assert unavailable == f"Só é possível avaliar acionamentos resolvidos; o {resolved} está fechado."


def test_evaluation_status_needs_an_evaluation_link(desk, resolved) -> None:
    with pytest.raises(InvalidToken):
        desk.evaluation_by_link(resolved, link_token(desk.links.follow(resolved)))


def test_every_event_kind_has_a_label() -> None:
    assert set(EVENT_LABELS) == set(EVENT_KINDS)
