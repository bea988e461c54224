"""Ticket numbers SS-AAAA-NNNNNN: handed out from a per-year counter, and read back from loose typing."""
from __future__ import annotations

import re

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.models import TicketSequence

# With the "SS" prefix any separator and a short sequence are fine ("ss2026000123", "SS 2026 123");
# without it, only "2026/000123"-like forms count, so a stray year next to a number is not a ticket.
_WITH_PREFIX = re.compile(r"\bss[\s\-_/.#:]*((?:19|20)\d{2})[\s\-_/.]*(\d{1,6})(?!\d)", re.IGNORECASE)
_BARE = re.compile(r"(?<![\d.\-/])((?:19|20)\d{2})(?:[/\-]\s*(\d{1,6})|\s*(\d{6}))(?![\d.\-/])")


def format_number(year: int, sequence: int) -> str:
    return f"SS-{year:04d}-{sequence:06d}"


def search_number(text: str | None) -> tuple[str, int, int] | None:
    """The first ticket number in the text: (canonical, start, end), or None."""
    text = text or ""
    match = _WITH_PREFIX.search(text)
    if match:
        return format_number(int(match.group(1)), int(match.group(2))), match.start(), match.end()
    match = _BARE.search(text)
    if match:
        canonical = format_number(int(match.group(1)), int(match.group(2) or match.group(3)))
        return canonical, match.start(), match.end()
    return None


def parse_number(text: str | None) -> str | None:
    """The canonical number found in what the user typed, or None."""
    found = search_number(text)
    return found[0] if found else None


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
