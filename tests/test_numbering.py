"""Ticket numbers: format, loose reading, and uniqueness under concurrent creation (threads and processes)."""
from __future__ import annotations

import multiprocessing
import threading
from datetime import datetime, timezone

import pytest

from backend import migrate, numbering
from backend.db import Database
from backend.desk import ServiceDesk
from tests.conftest import BASE_URL, TEST_SECRET

WORKERS = 20


@pytest.mark.parametrize(
    "typed, canonical",
    [
        ("SS-2026-000123", "SS-2026-000123"),
        ("ss2026000123", "SS-2026-000123"),
        ("SS 2026 000123", "SS-2026-000123"),
        ("2026/000123", "SS-2026-000123"),
        ("o meu é o ss-2026-123, pode ver?", "SS-2026-000123"),
        ("protocolo 2026000045", "SS-2026-000045"),
        ("SS#2027-7", "SS-2027-000007"),
    ],
)
def test_loose_numbers_are_read_as_the_canonical_one(typed: str, canonical: str) -> None:
    assert numbering.parse_number(typed) == canonical


@pytest.mark.parametrize("typed", ["", None, "12345", "2026", "em 2026 12 tickets", "data 2026-11-21", "234.567.891-73"])
def test_text_without_a_ticket_number_gives_none(typed: str | None) -> None:
    assert numbering.parse_number(typed) is None


def test_sequence_counts_per_year_and_restarts_each_year(db: Database) -> None:
    with db.transaction() as s:
        got = [numbering.next_number(s, 2026) for _ in range(3)] + [numbering.next_number(s, 2027)]
    assert got == ["SS-2026-000001", "SS-2026-000002", "SS-2026-000003", "SS-2027-000001"]


def _file_desk(path: str) -> ServiceDesk:
    return ServiceDesk(Database(f"sqlite:///{path}"), TEST_SECRET, BASE_URL)


@pytest.fixture
def file_db(tmp_path) -> str:
    """A migrated, seeded SQLite file shared by several threads or processes."""
    path = str(tmp_path / "concurrency.db")
    migrate.upgrade(f"sqlite:///{path}")
    desk = _file_desk(path)
    desk.seed()
    desk.db.dispose()
    return path


def _requester_id(desk: ServiceDesk) -> int:
    return desk.identify(desk.issue_token("345.678.912-28"))["id"]


def test_twenty_threads_get_twenty_distinct_numbers(file_db: str) -> None:
    desk = _file_desk(file_db)
    requester = _requester_id(desk)
    start = threading.Barrier(WORKERS)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            start.wait()
            ticket = desk.open_ticket(requester, "Datavalid", "duvida", f"Dúvida número {i} sobre o serviço")
            numbers.append(ticket["number"])
        except BaseException as error:  # collected: a thread's exception would otherwise vanish
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    year = datetime.now(timezone.utc).year
    assert sorted(numbers) == [f"SS-{year}-{i:06d}" for i in range(1, WORKERS + 1)]
    assert len(desk.staff_list()) == WORKERS


def _process_worker(path: str, go, out) -> None:  # type: ignore[no-untyped-def]
    desk = _file_desk(path)
    requester = _requester_id(desk)
    go.wait()
    try:
        out.put(desk.open_ticket(requester, "Consulta CPF", "duvida", "Dúvida aberta por outro processo")["number"])
    except BaseException as error:
        out.put(f"error: {error!r}")


def test_twenty_processes_get_twenty_distinct_numbers(file_db: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_process_worker, args=(file_db, go, out)) for _ in range(WORKERS)]
    for p in procs:
        p.start()
    go.set()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [r for r in results if r.startswith("error")] == []
    assert len(set(results)) == WORKERS
    year = datetime.now(timezone.utc).year
    assert sorted(results) == [f"SS-{year}-{i:06d}" for i in range(1, WORKERS + 1)]
