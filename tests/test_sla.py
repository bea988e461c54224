"""SLA deadlines on both calendars and the choice of the SLA rule."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from backend.clock import BRASILIA
from backend.db import Database
from backend.errors import NotFound
from backend.models import Company, Service, SlaRule
from backend.sla import compute_due, find_rule, is_business_time
from backend.vocabulary import CALENDAR_24X7, CALENDAR_BUSINESS


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BRASILIA)


def business_due(start: datetime, hours: int) -> datetime:
    due = compute_due(start, hours, CALENDAR_BUSINESS)
    assert due.utcoffset().total_seconds() == 0, "deadline must be UTC"
    return due.astimezone(BRASILIA)


# --- 24x7 ---------------------------------------------------------------------------------------


def test_24x7_runs_through_the_weekend():
    due = compute_due(local(2026, 4, 24, 17), 48, CALENDAR_24X7)  # Friday 17:00

    assert due == local(2026, 4, 26, 17)  # Sunday 17:00
    assert due.tzinfo == timezone.utc


def test_24x7_ignores_holidays_and_night():
    # Christmas Eve 23:00 plus 2h: in the small hours of Christmas Day, holiday and all.
    assert compute_due(local(2026, 12, 24, 23), 2, CALENDAR_24X7) == local(2026, 12, 25, 1)


# --- business hours ---------------------------------------------------------------------------


def test_friday_afternoon_continues_on_monday():
    assert business_due(local(2026, 4, 24, 17), 8) == local(2026, 4, 27, 15)


def test_skips_tiradentes():
    # Monday 20/04/2026 17:00; Tuesday 21/04 is Tiradentes.
    assert business_due(local(2026, 4, 20, 17), 8) == local(2026, 4, 22, 15)


def test_skips_christmas_and_the_weekend_after_it():
    # Thursday 24/12/2026 17:00; Friday 25/12 is Christmas.
    assert business_due(local(2026, 12, 24, 17), 4) == local(2026, 12, 28, 11)


def test_start_on_saturday_counts_from_monday_opening():
    assert business_due(local(2026, 4, 25, 10), 3) == local(2026, 4, 27, 11)


def test_start_before_opening_counts_from_eight():
    assert business_due(local(2026, 4, 22, 6, 30), 2) == local(2026, 4, 22, 10)


def test_start_after_closing_counts_from_next_opening():
    assert business_due(local(2026, 4, 22, 19), 1) == local(2026, 4, 23, 9)


def test_deadline_exactly_at_closing_stays_that_day():
    assert business_due(local(2026, 4, 22, 8), 10) == local(2026, 4, 22, 18)
    assert business_due(local(2026, 4, 22, 14), 4) == local(2026, 4, 22, 18)


def test_start_exactly_at_closing_is_already_closed():
    assert business_due(local(2026, 4, 22, 18), 1) == local(2026, 4, 23, 9)


def test_multi_day_span_over_a_weekend():
    # Wednesday 10:30 + 24 business hours: 7.5 Wed, 10 Thu, 6.5 Fri -> Friday 14:30.
    assert business_due(local(2026, 4, 22, 10, 30), 24) == local(2026, 4, 24, 14, 30)
    # Thursday 09:00 + 24h: 9 Thu, 10 Fri, 5 Mon -> Monday 13:00.
    assert business_due(local(2026, 4, 23, 9), 24) == local(2026, 4, 27, 13)


def test_start_in_utc_gives_the_same_deadline():
    start_local = local(2026, 4, 24, 17)
    start_utc = datetime(2026, 4, 24, 20, tzinfo=timezone.utc)  # the same instant (UTC-3)
    assert start_utc == start_local

    assert compute_due(start_utc, 8, CALENDAR_BUSINESS) == compute_due(start_local, 8, CALENDAR_BUSINESS)
    assert compute_due(start_utc, 8, CALENDAR_BUSINESS) == datetime(2026, 4, 27, 18, tzinfo=timezone.utc)


def test_utc_start_on_the_next_utc_day_is_read_in_brasilia_time():
    # 02:00 UTC on Saturday is still Friday 23:00 in Brasília: closed, so it counts from Monday.
    start = datetime(2026, 4, 25, 2, tzinfo=timezone.utc)
    assert business_due(start, 1) == local(2026, 4, 27, 9)


@pytest.mark.parametrize("calendar", [CALENDAR_24X7, CALENDAR_BUSINESS])
def test_naive_start_is_refused(calendar):
    with pytest.raises(ValueError):
        compute_due(datetime(2026, 4, 22, 10), 4, calendar)


@pytest.mark.parametrize("hours", [0, -1, True])
def test_hours_must_be_positive(hours):
    with pytest.raises(ValueError):
        compute_due(local(2026, 4, 22, 10), hours, CALENDAR_24X7)


def test_unknown_calendar_is_refused():
    with pytest.raises(ValueError):
        compute_due(local(2026, 4, 22, 10), 4, "8x5")


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(2026, 4, 22, 8), True),
        (local(2026, 4, 22, 17, 59), True),
        (local(2026, 4, 22, 18), False),
        (local(2026, 4, 22, 7, 59), False),
        (local(2026, 4, 25, 10), False),  # Saturday
        (local(2026, 4, 21, 10), False),  # Tiradentes
        (datetime(2026, 4, 22, 13, tzinfo=timezone.utc), True),  # 10:00 in Brasília
        (datetime(2026, 4, 22, 22, tzinfo=timezone.utc), False),  # 19:00 in Brasília
    ],
)
def test_is_business_time(moment, expected):
    assert is_business_time(moment) is expected


def test_is_business_time_refuses_naive():
    with pytest.raises(ValueError):
        is_business_time(datetime(2026, 4, 22, 10))


# --- find_rule --------------------------------------------------------------------------------


@pytest.fixture()
def session():
    db = Database("sqlite://")
    db.create_all()
    with db.transaction() as session:
        yield session
    db.dispose()


@pytest.fixture()
def catalogue(session):
    companies = [Company(cnpj="11222333000181", name="Secretaria"), Company(cnpj="44555666000181", name="Autarquia")]
    services = [Service(code="datavalid", name="Datavalid"), Service(code="consulta_cpf", name="Consulta CPF")]
    session.add_all(companies + services)
    session.flush()
    return companies, services


def add_rule(session, company, service, hours, priority="alta"):
    rule = SlaRule(
        company_id=company.id if company else None,
        service_id=service.id if service else None,
        priority=priority,
        hours=hours,
        calendar=CALENDAR_BUSINESS,
    )
    session.add(rule)
    session.flush()
    return rule


def test_find_rule_prefers_the_most_specific(session, catalogue):
    (secretaria, autarquia), (datavalid, consulta_cpf) = catalogue
    generic = add_rule(session, None, None, 40)
    for_company = add_rule(session, secretaria, None, 30)
    for_service = add_rule(session, None, datavalid, 20)
    exact = add_rule(session, secretaria, datavalid, 10)
    add_rule(session, secretaria, datavalid, 2, priority="critica")  # another priority never matches

    assert find_rule(session, secretaria.id, datavalid.id, "alta") == exact
    # Another company: the service rule beats the generic one.
    assert find_rule(session, autarquia.id, datavalid.id, "alta") == for_service
    # Another service: the company rule beats the generic one.
    assert find_rule(session, secretaria.id, consulta_cpf.id, "alta") == for_company
    assert find_rule(session, autarquia.id, consulta_cpf.id, "alta") == generic


def test_find_rule_service_specific_beats_company_specific(session, catalogue):
    (secretaria, _), (datavalid, _) = catalogue
    add_rule(session, secretaria, None, 30)
    for_service = add_rule(session, None, datavalid, 20)

    assert find_rule(session, secretaria.id, datavalid.id, "alta") == for_service


def test_find_rule_ignores_rules_of_other_companies_and_services(session, catalogue):
    (secretaria, autarquia), (datavalid, consulta_cpf) = catalogue
    add_rule(session, autarquia, datavalid, 10)
    add_rule(session, secretaria, consulta_cpf, 10)

    with pytest.raises(NotFound) as refused:
        find_rule(session, secretaria.id, datavalid.id, "alta")
    assert "prazo" in refused.value.message


def test_find_rule_without_any_rule_is_not_found(session, catalogue):
    (secretaria, _), (datavalid, _) = catalogue

    with pytest.raises(NotFound):
        find_rule(session, secretaria.id, datavalid.id, "media")
