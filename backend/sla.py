"""Service level (ANS): which rule applies to a ticket and when its deadline falls.

Business hours are Monday to Friday, 08:00–18:00 Brasília time, except Brazilian national holidays.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

import holidays
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.clock import BRASILIA
from backend.errors import NotFound
from backend.models import SlaRule
from backend.vocabulary import CALENDAR_24X7, CALENDAR_BUSINESS, PRIORITIES

OPENING = time(8, 0)
CLOSING = time(18, 0)
SATURDAY = 5


def compute_due(start: datetime, hours: int, calendar: str) -> datetime:
    """The deadline (aware UTC) for `hours` of service counted from `start` on `calendar`."""
    _require_aware(start)
    if isinstance(hours, bool) or not isinstance(hours, int) or hours <= 0:
        raise ValueError(f"hours must be a positive integer, got {hours!r}")
    if calendar == CALENDAR_24X7:
        return start.astimezone(timezone.utc) + timedelta(hours=hours)
    if calendar == CALENDAR_BUSINESS:
        return _add_business_time(start, timedelta(hours=hours))
    raise ValueError(f"unknown SLA calendar {calendar!r}")


def is_business_time(moment: datetime) -> bool:
    """True inside business hours; the window is [08:00, 18:00) so 18:00 itself is already closed."""
    _require_aware(moment)
    local = moment.astimezone(BRASILIA)
    return is_business_day(local.date()) and OPENING <= local.time() < CLOSING


def is_business_day(day: date) -> bool:
    return day.weekday() < SATURDAY and day not in _national_holidays(day.year)


def find_rule(session: Session, company_id: int, service_id: int, priority: str) -> SlaRule:
    """The most specific rule for this company, service and priority.

    Specificity: (company, service) > (any company, service) > (company, any service) > (any, any).
    """
    candidates = session.scalars(
        select(SlaRule).where(
            SlaRule.priority == priority,
            or_(SlaRule.company_id == company_id, SlaRule.company_id.is_(None)),
            or_(SlaRule.service_id == service_id, SlaRule.service_id.is_(None)),
        )
    ).all()
    if not candidates:
        label = PRIORITIES.get(priority, priority)
        raise NotFound(
            f"Não encontrei um prazo de atendimento (ANS) para este serviço com prioridade {label}. "
            "Por favor, fale com a Central de Serviços pelo 0800 728 2323."
        )
    # False sorts before True: a rule naming the service wins, then one naming the company; id breaks ties.
    return min(candidates, key=lambda rule: (rule.service_id is None, rule.company_id is None, rule.id))


def _add_business_time(start: datetime, remaining: timedelta) -> datetime:
    cursor = start.astimezone(BRASILIA)
    day = cursor.date()
    while True:
        if is_business_day(day):
            opening = datetime.combine(day, OPENING, tzinfo=BRASILIA)
            closing = datetime.combine(day, CLOSING, tzinfo=BRASILIA)
            begin = max(cursor, opening)
            if begin < closing:
                # Durations in UTC so that a future DST rule could not stretch or shrink the day.
                available = closing.astimezone(timezone.utc) - begin.astimezone(timezone.utc)
                if remaining <= available:
                    # `<=`: a deadline landing exactly at closing stays that day at 18:00.
                    return begin.astimezone(timezone.utc) + remaining
                remaining -= available
        day += timedelta(days=1)


@lru_cache(maxsize=None)
def _national_holidays(year: int) -> frozenset[date]:
    # Default category of holidays.Brazil = national public holidays only (no state or municipal ones).
    return frozenset(holidays.Brazil(years=year).keys())


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: give a timezone-aware datetime")
