"""Service level (ANS): which rule applies to a ticket, when its deadline falls, how much of it is spent and how
a pause (waiting for the user) moves it.

Business hours are Monday to Friday, 08:00–18:00 Brasília time, except Brazilian national holidays.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import cache

import holidays
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.clock import BRASILIA
from backend.errors import NotFound
from backend.models import SlaRule
from backend.vocabulary import CALENDAR_24X7, CALENDAR_BUSINESS, CSS_PHONE, PRIORITIES

OPENING = time(8, 0)
CLOSING = time(18, 0)
SATURDAY = 5
BUSINESS_DAY = timedelta(hours=10)  # CLOSING - OPENING
# A ticket is "em risco" once this share of its ANS time is spent (contract §9).
AT_RISK_FRACTION = 0.75


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


def elapsed(start: datetime, end: datetime, calendar: str) -> timedelta:
    """Service time between two moments on `calendar` (zero when `end` is not after `start`)."""
    _require_aware(start)
    _require_aware(end)
    if end <= start:
        return timedelta(0)
    if calendar == CALENDAR_24X7:
        return end - start
    if calendar == CALENDAR_BUSINESS:
        return _business_time_between(start, end)
    raise ValueError(f"unknown SLA calendar {calendar!r}")


def shift_due(due_at: datetime, paused_from: datetime, paused_until: datetime, calendar: str) -> datetime:
    """The deadline after a pause: moved by the paused time counted on the rule's own calendar, so that a pause
    over a night, a weekend or a holiday of a business-hours rule costs the user nothing and moves nothing."""
    paused = elapsed(paused_from, paused_until, calendar)
    if not paused:
        return due_at.astimezone(timezone.utc)
    if calendar == CALENDAR_24X7:
        return due_at.astimezone(timezone.utc) + paused
    return _add_business_time(due_at, paused)


def spent_fraction(due_at: datetime, hours: int, calendar: str, now: datetime) -> float:
    """Share of the ANS time already spent at `now` (1.0 or more once the deadline is reached).

    Measured backwards from the deadline, so pauses (which moved `due_at`) and reopenings are accounted for."""
    if now >= due_at:
        return 1.0
    return 1.0 - elapsed(now, due_at, calendar) / timedelta(hours=hours)


def is_at_risk(due_at: datetime, hours: int, calendar: str, now: datetime) -> bool:
    """Before the deadline, with at least AT_RISK_FRACTION of the ANS time spent."""
    return now < due_at and spent_fraction(due_at, hours, calendar, now) >= AT_RISK_FRACTION


def business_days_later(start: datetime, days: int) -> datetime:
    """`days` business days after `start` (each 10 business hours): Monday 11:00 + 2 → Wednesday 11:00."""
    _require_aware(start)
    return _add_business_time(start, BUSINESS_DAY * days)


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
            f"Por favor, fale com a Central de Serviços pelo {CSS_PHONE}."
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


def _business_time_between(start: datetime, end: datetime) -> timedelta:
    total = timedelta(0)
    day = start.astimezone(BRASILIA).date()
    last = end.astimezone(BRASILIA).date()
    while day <= last:
        if is_business_day(day):
            opening = datetime.combine(day, OPENING, tzinfo=BRASILIA)
            closing = datetime.combine(day, CLOSING, tzinfo=BRASILIA)
            begin, finish = max(start, opening), min(end, closing)
            if begin < finish:
                total += finish.astimezone(timezone.utc) - begin.astimezone(timezone.utc)
        day += timedelta(days=1)
    return total


@cache
def _national_holidays(year: int) -> frozenset[date]:
    # Without a subdivision: national public holidays only (no state or municipal ones).
    return frozenset(holidays.country_holidays("BR", years=year).keys())


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: give a timezone-aware datetime")
