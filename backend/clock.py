"""Time in one place: the service desk stores UTC and speaks Brasília time."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

BRASILIA = ZoneInfo("America/Sao_Paulo")


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def to_local(moment: datetime) -> datetime:
    """An aware datetime in Brasília time."""
    return moment.astimezone(BRASILIA)


def format_br(moment: datetime) -> str:
    """`dd/mm/aaaa hh:mm` in Brasília time, as users read deadlines."""
    return to_local(moment).strftime("%d/%m/%Y %H:%M")


def iso_local(moment: datetime | None) -> str | None:
    """ISO 8601 with the Brasília offset (e.g. 2026-11-23T15:00:00-03:00), or None."""
    return None if moment is None else to_local(moment).replace(microsecond=0).isoformat()
