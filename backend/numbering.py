"""Ticket numbers SS-AAAA-NNNNNN: handed out from a per-year counter (the text forms live in backend.ticket_numbers)."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.models import TicketSequence
from backend.ticket_numbers import format_number, parse_number, search_number  # noqa: F401 — one front door


def next_number(session: Session, year: int) -> str:
    """Increment the year's counter inside the caller's transaction.

    The UPDATE comes first so the row (PostgreSQL) or database (SQLite, BEGIN IMMEDIATE) is write-locked
    before the value is read: concurrent callers queue and each gets its own number.
    """
    bumped = session.execute(
        update(TicketSequence).where(TicketSequence.year == year).values(last_value=TicketSequence.last_value + 1)
    )
    if bumped.rowcount == 0:
        try:
            with session.begin_nested():
                session.add(TicketSequence(year=year, last_value=1))
        except IntegrityError:  # another process created the year's row first
            return next_number(session, year)
        return format_number(year, 1)
    value = session.scalar(select(TicketSequence.last_value).where(TicketSequence.year == year))
    return format_number(year, int(value))
