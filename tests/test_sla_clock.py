"""The ticket's life after registration with a frozen clock (contract §9): the ANS clock paused while waiting for
the user, the scheduler's round (at risk, breach and escalation, reminders, auto-close) and its idempotency."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from backend import contacts as contact_rules
from backend import scheduler
from backend import tickets as ticket_rules
from backend.clock import BRASILIA
from backend.errors import InvalidTransition
from backend.models import OutboxMessage, Ticket, TicketEvent
from backend.outbox import list_messages

SOLUTION = "Permissão de acesso corrigida pela equipe de suporte."
QUESTION = "Qual mensagem de erro aparece na tela?"


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BRASILIA)


class Clock:
    """Every operation at a moment chosen by the test, each in its own transaction like the desk does."""

    def __init__(self, db, desk, personas) -> None:  # noqa: ANN001
        self.db, self.desk, self.personas = db, desk, personas

    def open(self, now: datetime, persona: str = "carla", service: str = "Área do Cliente",
             category: str = "problema", impact: str = "medio") -> str:
        with self.db.transaction() as s:
            requester = contact_rules.get_active_contact(s, self.personas[persona])
            ticket = ticket_rules.open_ticket(s, self.desk.links, requester, service, category,
                                              "O relatório de consumo não abre.", impact, now=now)
            return ticket.number

    def do(self, number: str, operation) -> dict:  # noqa: ANN001
        from backend.serialize import ticket_to_dict
        with self.db.transaction() as s:
            ticket = ticket_rules.get_ticket(s, number)
            operation(s, ticket)
            return ticket_to_dict(ticket)

    def wait(self, number: str, now: datetime, question: str = QUESTION) -> dict:
        return self.do(number, lambda s, t: ticket_rules.wait_for_user(s, self.desk.links, t, question, now=now))

    def answer(self, number: str, now: datetime, text: str = "Aparece 'acesso negado'.") -> dict:
        return self.do(number, lambda s, t: ticket_rules.complement(t, t.requester.email, text, now=now))

    def forward(self, number: str, level: str, now: datetime) -> dict:
        return self.do(number, lambda s, t: ticket_rules.forward(t, level, now=now))

    def resolve(self, number: str, now: datetime) -> dict:
        return self.do(number, lambda s, t: ticket_rules.resolve(s, self.desk.links, t, SOLUTION, now=now))

    def reopen(self, number: str, now: datetime) -> dict:
        return self.do(number, lambda s, t: ticket_rules.reopen(
            s, self.desk.links, t, t.requester, "O erro voltou a acontecer.", now=now))

    def run(self, now: datetime) -> dict:
        report = self.desk.sla_run(now)
        assert not report.skipped
        return report.to_json()

    def show(self, number: str) -> dict:
        return self.desk.staff_show(number)

    def snapshot(self) -> tuple:
        with self.db.transaction() as s:
            rows = [(t.number, t.status, t.level, t.due_at, t.sla_status, t.breached_at, t.waiting_reminded_at,
                     t.evaluation_reminded_at, t.closed_at) for t in s.scalars(select(Ticket).order_by(Ticket.id))]
            return (rows, s.scalar(select(func.count()).select_from(TicketEvent)),
                    s.scalar(select(func.count()).select_from(OutboxMessage)))

    def mail(self) -> list[OutboxMessage]:
        with self.db.transaction() as s:
            return list_messages(s)


@pytest.fixture
def clock(db, desk, personas) -> Clock:
    return Clock(db, desk, personas)


NOTHING = {"at_risk": [], "escalated": [], "reminded": [], "closed": []}
MONDAY = (2026, 3, 2)  # Monday 02/03/2026, far from holidays


def local(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


# --- the rules the scenarios use (seed data) ----------------------------------------------------------


def test_the_rules_of_the_scenarios(clock: Clock) -> None:
    business = clock.show(clock.open(at(*MONDAY, 9)))
    round_the_clock = clock.show(clock.open(at(*MONDAY, 9), impact="alto"))

    assert business["sla"] == {"hours": 8, "calendar": "comercial"}
    assert round_the_clock["sla"] == {"hours": 4, "calendar": "24x7"}
    assert business["sla_status"] == round_the_clock["sla_status"] == "no_prazo"


# --- the pause ----------------------------------------------------------------------------------------


def test_acceptance_question_at_11_answered_at_15_moves_the_deadline_to_tuesday_11(clock: Clock) -> None:
    number = clock.open(at(*MONDAY, 9))
    assert local(clock.show(number)["due_at"]) == at(*MONDAY, 17)

    waiting = clock.wait(number, at(*MONDAY, 11))
    assert (waiting["status"], waiting["sla_status"], waiting["pending_question"]) == (
        "aguardando_usuario", "pausado", QUESTION)
    assert local(waiting["paused_at"]) == at(*MONDAY, 11)

    answered = clock.answer(number, at(*MONDAY, 15))

    assert local(answered["due_at"]) == at(2026, 3, 3, 11)  # Tuesday 11:00
    assert (answered["status"], answered["sla_status"], answered["paused_at"]) == ("em_atendimento", "no_prazo", None)
    assert answered["complements"][-1]["text"] == "Aparece 'acesso negado'."
    resumed = answered["history"][-1]
    assert resumed["kind"] == "sla_resumed"
    assert resumed["text"] == ("Prazo suspenso de 02/03/2026 11:00 a 02/03/2026 15:00 (4 h 00 min úteis de pausa); "
                               "novo prazo: 03/03/2026 11:00.")


def test_paused_over_a_night_and_a_weekend_and_answered_on_monday(clock: Clock) -> None:
    number = clock.open(at(2026, 3, 6, 9))  # Friday 09:00, due Friday 17:00
    clock.wait(number, at(2026, 3, 6, 16))  # one business hour left

    answered = clock.answer(number, at(2026, 3, 9, 10))  # Monday 10:00

    # Only Friday 16-18 and Monday 08-10 were business time: the remaining hour runs from Monday 10:00.
    assert local(answered["due_at"]) == at(2026, 3, 9, 11)
    assert "(4 h 00 min úteis de pausa)" in answered["history"][-1]["text"]


def test_pause_before_and_after_a_national_holiday(clock: Clock) -> None:
    number = clock.open(at(2026, 4, 20, 9))  # Monday 20/04, due 17:00; Tuesday 21/04 is Tiradentes
    clock.wait(number, at(2026, 4, 20, 16))

    answered = clock.answer(number, at(2026, 4, 22, 9))  # Wednesday 09:00

    assert local(answered["due_at"]) == at(2026, 4, 22, 10)
    assert "(3 h 00 min úteis de pausa)" in answered["history"][-1]["text"]


def test_round_the_clock_rule_paused_across_midnight(clock: Clock) -> None:
    number = clock.open(at(*MONDAY, 22), impact="alto")  # 4 h round the clock: due 02:00
    assert local(clock.show(number)["due_at"]) == at(2026, 3, 3, 2)
    clock.wait(number, at(*MONDAY, 23))

    answered = clock.answer(number, at(2026, 3, 3, 0, 30))

    assert local(answered["due_at"]) == at(2026, 3, 3, 3, 30)
    assert "(1 h 30 min de pausa)" in answered["history"][-1]["text"]


def test_a_pause_entirely_outside_business_hours_moves_nothing(clock: Clock) -> None:
    number = clock.open(at(*MONDAY, 9))
    clock.wait(number, at(*MONDAY, 19))
    assert local(clock.answer(number, at(2026, 3, 3, 7))["due_at"]) == at(*MONDAY, 17)


def test_staff_starting_a_waiting_ticket_also_resumes_the_clock(clock: Clock) -> None:
    number = clock.open(at(*MONDAY, 9))
    clock.wait(number, at(*MONDAY, 11))

    started = clock.do(number, lambda s, t: ticket_rules.start(t, now=at(*MONDAY, 12)))

    assert local(started["due_at"]) == at(*MONDAY, 18)
    assert [e["kind"] for e in started["history"]][-2:] == ["started", "sla_resumed"]


def test_the_question_is_mailed_with_an_answer_link(clock: Clock) -> None:
    number = clock.open(at(*MONDAY, 9))
    clock.wait(number, at(*MONDAY, 11))

    question = clock.mail()[-1]
    assert question.subject == f"[CSS] Acionamento {number}: precisamos de uma informação sua"
    assert f"> {QUESTION}" in question.body
    assert f"http://css.test/resposta/{number}?t=" in question.body
    assert "prazo de atendimento (ANS) fica suspenso" in question.body


def test_a_paused_ticket_is_neither_late_nor_at_risk_nor_breached(clock: Clock) -> None:
    number = clock.open(at(*MONDAY, 9))
    clock.wait(number, at(*MONDAY, 11))

    assert clock.run(at(2026, 3, 3, 9)) == NOTHING  # past the old deadline, but paused
    shown = clock.show(number)
    assert (shown["sla_status"], shown["level"]) == ("pausado", "N1")


# --- at risk and breach -------------------------------------------------------------------------------


def test_at_risk_exactly_at_75_percent(clock: Clock) -> None:
    number = clock.open(at(*MONDAY, 9))  # 8 business hours: 75 % spent at 15:00

    assert clock.run(at(*MONDAY, 14, 59)) == NOTHING
    assert clock.show(number)["sla_status"] == "no_prazo"
    assert clock.run(at(*MONDAY, 15)) == {**NOTHING, "at_risk": [number]}
    assert clock.show(number)["sla_status"] == "em_risco"
    assert clock.run(at(*MONDAY, 16)) == NOTHING  # reported once


def test_at_risk_counts_only_ans_time_not_the_pause(clock: Clock) -> None:
    number = clock.open(at(*MONDAY, 9))
    clock.wait(number, at(*MONDAY, 11))
    clock.answer(number, at(*MONDAY, 15))  # due Tuesday 11:00; 2 h spent

    assert clock.run(at(*MONDAY, 17, 59)) == NOTHING  # 5 h spent: 62.5 %
    assert clock.run(at(2026, 3, 3, 9)) == {**NOTHING, "at_risk": [number]}  # 6 h spent: 75 %


def test_breach_escalates_one_level_with_a_history_event(clock: Clock) -> None:
    number = clock.open(at(*MONDAY, 9))

    assert clock.run(at(*MONDAY, 17)) == {**NOTHING, "escalated": [number]}

    shown = clock.show(number)
    assert (shown["status"], shown["level"], shown["sla_status"], shown["late"]) == ("encaminhado", "N2", "violado", True)
    event = shown["history"][-1]
    assert (event["kind"], event["actor"], event["level"]) == ("sla_breached", ticket_rules.SYSTEM, "N2")
    assert event["text"] == "Prazo vencido em 02/03/2026 17:00; escalado de N1 para N2."
    assert clock.run(at(*MONDAY, 18)) == NOTHING


def test_breach_at_n3_stays_n3_and_is_still_reported(clock: Clock) -> None:
    number = clock.open(at(*MONDAY, 9))
    clock.forward(number, "N3", at(*MONDAY, 10))
    before = clock.snapshot()

    assert clock.run(at(2026, 3, 3, 8)) == {**NOTHING, "escalated": [number]}

    shown = clock.show(number)
    assert (shown["status"], shown["level"], shown["sla_status"]) == ("encaminhado", "N3", "violado")
    assert shown["history"][-1]["text"] == "Prazo vencido em 02/03/2026 17:00; já no nível N3."
    assert clock.snapshot()[1] == before[1] + 1  # one history event
    assert clock.run(at(2026, 3, 4, 8)) == NOTHING


def test_a_breached_ticket_stays_breached_after_a_pause(clock: Clock) -> None:
    number = clock.open(at(*MONDAY, 9))
    clock.run(at(*MONDAY, 17, 30))
    clock.wait(number, at(2026, 3, 3, 9))

    answered = clock.answer(number, at(2026, 3, 3, 10))

    assert (answered["sla_status"], answered["level"]) == ("violado", "N2")
    assert clock.run(at(2026, 3, 3, 11)) == NOTHING  # not escalated twice for one breach


def test_reopening_starts_a_new_ans_period(clock: Clock) -> None:
    number = clock.open(at(*MONDAY, 9))
    clock.run(at(*MONDAY, 17, 30))
    clock.resolve(number, at(2026, 3, 3, 9))
    assert clock.show(number)["sla_status"] == "encerrado"

    reopened = clock.reopen(number, at(2026, 3, 3, 10))

    assert reopened["sla_status"] == "no_prazo"
    assert local(reopened["due_at"]) == at(2026, 3, 3, 18)
    assert clock.run(at(2026, 3, 3, 18)) == {**NOTHING, "escalated": [number]}  # N2 → N3
    assert clock.show(number)["level"] == "N3"


def test_a_round_twice_at_the_same_instant_changes_nothing(clock: Clock) -> None:
    risky = clock.open(at(*MONDAY, 9))
    late = clock.open(at(2026, 2, 27, 9))
    waiting = clock.open(at(2026, 2, 25, 9))
    clock.wait(waiting, at(2026, 2, 25, 10))
    done = clock.open(at(2026, 2, 20, 9))
    clock.resolve(done, at(2026, 2, 20, 10))
    now = at(*MONDAY, 15)

    first = clock.run(now)
    after_first = clock.snapshot()
    second = clock.run(now)

    assert first == {"at_risk": [risky], "escalated": [late], "reminded": [waiting], "closed": [done]}
    assert second == NOTHING
    assert clock.snapshot() == after_first


# --- reminders and closing ---------------------------------------------------------------------------


def test_waiting_reminder_after_two_business_days_not_repeated(clock: Clock) -> None:
    number = clock.open(at(*MONDAY, 9))
    clock.wait(number, at(*MONDAY, 11))
    mails = len(clock.mail())

    assert clock.run(at(2026, 3, 4, 10, 59)) == NOTHING
    assert clock.run(at(2026, 3, 4, 11)) == {**NOTHING, "reminded": [number]}  # Wednesday 11:00
    assert clock.run(at(2026, 3, 4, 11)) == NOTHING
    assert clock.run(at(2026, 3, 9, 11)) == NOTHING

    reminders = clock.mail()[mails:]
    assert [m.subject for m in reminders] == [f"[CSS] Lembrete: o acionamento {number} aguarda sua resposta"]
    assert f"> {QUESTION}" in reminders[0].body and f"/resposta/{number}?t=" in reminders[0].body


def test_a_new_question_gets_its_own_reminder(clock: Clock) -> None:
    number = clock.open(at(*MONDAY, 9))
    clock.wait(number, at(*MONDAY, 11))
    clock.run(at(2026, 3, 4, 11))
    clock.answer(number, at(2026, 3, 4, 12))
    clock.wait(number, at(2026, 3, 4, 13), question="E em qual navegador?")

    assert clock.run(at(2026, 3, 6, 12, 59)) == NOTHING
    assert clock.run(at(2026, 3, 6, 13)) == {**NOTHING, "reminded": [number]}
    assert "> E em qual navegador?" in clock.mail()[-1].body


def test_auto_close_after_seven_days_and_reopen_window_from_the_close(clock: Clock) -> None:
    number = clock.open(at(*MONDAY, 9))
    resolved_at = at(*MONDAY, 10)
    clock.resolve(number, resolved_at)
    mails = len(clock.mail())

    assert clock.run(resolved_at + timedelta(days=5) - timedelta(minutes=1)) == NOTHING
    assert clock.run(resolved_at + timedelta(days=5)) == {**NOTHING, "reminded": [number]}
    assert clock.run(resolved_at + timedelta(days=6)) == NOTHING
    closed_at = resolved_at + timedelta(days=7, hours=3)  # the scheduler was away for a while
    assert clock.run(closed_at) == {**NOTHING, "closed": [number]}
    assert clock.run(closed_at) == NOTHING

    shown = clock.show(number)
    assert (shown["status"], shown["sla_status"], local(shown["closed_at"])) == ("fechado", "encerrado", closed_at)
    assert shown["history"][-1]["actor"] == ticket_rules.SYSTEM
    subjects = [m.subject for m in clock.mail()[mails:]]
    assert subjects == [f"[CSS] Lembrete: avalie o acionamento {number}", f"[CSS] Acionamento {number} fechado"]
    assert "reabri-lo em até 7 dias" in clock.mail()[-1].body

    # 7 days counted from the close, not from the solution (that would have ended at resolved_at + 7 days).
    with pytest.raises(InvalidTransition):
        clock.reopen(number, closed_at + timedelta(days=7, seconds=1))
    assert clock.reopen(number, closed_at + timedelta(days=7))["status"] == "reaberto"


def test_an_evaluated_ticket_gets_no_reminder(clock: Clock, desk) -> None:  # noqa: ANN001
    number = clock.open(at(*MONDAY, 9))
    clock.resolve(number, at(*MONDAY, 10))
    clock.do(number, lambda s, t: ticket_rules.evaluate(t, t.requester, 4, None, now=at(*MONDAY, 11)))

    assert clock.run(at(2026, 3, 12, 10)) == NOTHING


# --- the scheduler's loop ----------------------------------------------------------------------------


def test_summary_reads_like_a_morning_report() -> None:
    report = scheduler.RoundReport(at_risk=["SS-2026-000001"], escalated=["SS-2026-000002", "SS-2026-000003"])
    assert report.summary(at(*MONDAY, 8)) == (
        "ANS 02/03/2026 08:00: 1 em risco (SS-2026-000001); "
        "2 vencido(s) e escalado(s) (SS-2026-000002, SS-2026-000003).")
    assert scheduler.RoundReport().summary(at(*MONDAY, 8)) == "ANS 02/03/2026 08:00: nada a fazer."
