"""The ANS scheduler (contract §9): one round looks at every live ticket as of `now` and does what is due.

- open tickets: `em_risco` once 75 % of the ANS time is spent; past the deadline `violado`, escalated one level
  (N1→N2→N3; N3 stays N3 and is still reported) with a history event;
- tickets waiting for the user: one reminder after 2 business days without an answer;
- resolved tickets: one evaluation reminder at day 5, closed at day 7 (e-mail; the reopen window counts from then).

Idempotent: what was done is written on the ticket (sla_status, breached_at, *_reminded_at, closed_at) in the same
transaction as the e-mails, so a second round at the same instant finds nothing to do. One runner at a time:
PostgreSQL takes a transaction-level advisory lock (a second runner skips its round); SQLite serialises writers
already, because every transaction begins IMMEDIATE (backend/db.py).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from backend import sla
from backend import tickets as ticket_rules
from backend.clock import format_br
from backend.links import Links
from backend.models import Ticket
from backend.vocabulary import (
    AUTO_CLOSE_DAYS,
    EVALUATION_REMINDER_DAYS,
    OPEN_STATUSES,
    WAITING_REMINDER_BUSINESS_DAYS,
    WAITING_STATUS,
)

log = logging.getLogger(__name__)

# Any constant shared by every runner of this application ("ANS" in ASCII).
ADVISORY_LOCK_KEY = 0x414E53


@dataclass
class RoundReport:
    """Ticket numbers acted on in one round (contract §7), and whether another runner held the lock."""

    at_risk: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    skipped: bool = False

    def to_json(self) -> dict[str, list[str]]:
        return {"at_risk": self.at_risk, "escalated": self.escalated, "reminded": self.reminded,
                "closed": self.closed}

    @property
    def acted(self) -> bool:
        return any(self.to_json().values())

    def summary(self, now: datetime) -> str:
        """A short morning summary in Portuguese."""
        if self.skipped:
            return f"ANS {format_br(now)}: outra rodada em andamento; nada feito por esta."
        if not self.acted:
            return f"ANS {format_br(now)}: nada a fazer."
        parts = [
            (self.at_risk, "em risco"),
            (self.escalated, "vencido(s) e escalado(s)"),
            (self.reminded, "lembrete(s) enviado(s)"),
            (self.closed, "fechado(s) sem avaliação"),
        ]
        said = [f"{len(numbers)} {label} ({', '.join(numbers)})" for numbers, label in parts if numbers]
        return f"ANS {format_br(now)}: " + "; ".join(said) + "."


def acquire_round_lock(session: Session) -> bool:
    """True if this transaction may run the round. PostgreSQL: a non-blocking advisory lock held until commit."""
    if session.get_bind().dialect.name == "postgresql":
        return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}))
    return True  # SQLite: the IMMEDIATE transaction already holds the only write lock


def run_round(session: Session, links: Links, now: datetime) -> RoundReport:
    report = RoundReport()
    live = session.scalars(
        select(Ticket)
        .where(Ticket.status.in_((*OPEN_STATUSES, "resolvido")))
        .order_by(Ticket.due_at, Ticket.id)
        .with_for_update()
    ).all()
    for ticket in live:
        if ticket.status == "resolvido":
            _resolved(session, links, ticket, now, report)
        elif ticket.status == WAITING_STATUS:
            _waiting(session, links, ticket, now, report)
        else:
            _running(ticket, now, report)
    return report


def _running(ticket: Ticket, now: datetime, report: RoundReport) -> None:
    if ticket.breached_at is None and now >= ticket.due_at:
        ticket_rules.breach(ticket, now)
        report.escalated.append(ticket.number)
    elif ticket.sla_status == "no_prazo" and sla.is_at_risk(ticket.due_at, ticket.sla_hours, ticket.sla_calendar, now):
        ticket_rules.mark_at_risk(ticket)
        report.at_risk.append(ticket.number)


def _waiting(session: Session, links: Links, ticket: Ticket, now: datetime, report: RoundReport) -> None:
    if ticket.waiting_reminded_at is not None or ticket.paused_at is None:
        return
    if now >= sla.business_days_later(ticket.paused_at, WAITING_REMINDER_BUSINESS_DAYS):
        ticket_rules.remind_waiting(session, links, ticket, now)
        report.reminded.append(ticket.number)


def _resolved(session: Session, links: Links, ticket: Ticket, now: datetime, report: RoundReport) -> None:
    if ticket.resolved_at is None or ticket.evaluated_at is not None:
        return  # an evaluated ticket is closed or reopened by its evaluation
    if now >= ticket.resolved_at + timedelta(days=AUTO_CLOSE_DAYS):
        ticket_rules.close_unevaluated(session, links, ticket, now)
        report.closed.append(ticket.number)
    elif ticket.evaluation_reminded_at is None and now >= ticket.resolved_at + timedelta(days=EVALUATION_REMINDER_DAYS):
        ticket_rules.remind_evaluation(session, links, ticket, now)
        report.reminded.append(ticket.number)

