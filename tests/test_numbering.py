"""Ticket numbers: format, loose reading, and uniqueness under concurrent creation (threads and processes),
on SQLite and on PostgreSQL (where the counter row is locked by the UPDATE)."""
from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import datetime, timezone

import pytest

from backend import migrate, numbering
from backend.db import Database
from backend.desk import ServiceDesk
from tests.conftest import BASE_URL, TEST_SECRET

THREADS = 20
# PostgreSQL: 50 at once (the issue's bar). SQLite queues writers by polling its file lock with growing sleeps,
# which makes 50 slow to no purpose for `make unit`; its 20 prove the same database-level lock.
PROCESSES = {"sqlite": 20, "postgresql": 50}


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


def _desk(url: str) -> ServiceDesk:
    return ServiceDesk(Database(url), TEST_SECRET, BASE_URL)


@pytest.fixture
def shared_url(database: str, tmp_path, request) -> str:  # type: ignore[no-untyped-def]
    """A migrated, seeded database shared by several threads or processes: a SQLite file or PostgreSQL."""
    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'concurrency.db'}"
        migrate.upgrade(url)
    else:
        url = request.getfixturevalue("postgres_url")
    desk = _desk(url)
    desk.seed()
    desk.db.dispose()
    return url


def _requester_id(desk: ServiceDesk) -> int:
    return desk.identify(desk.issue_token("345.678.912-28"))["id"]


def test_twenty_threads_get_twenty_distinct_numbers(shared_url: str) -> None:
    desk = _desk(shared_url)
    requester = _requester_id(desk)
    start = threading.Barrier(THREADS)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            start.wait()
            ticket = desk.open_ticket(requester, "Datavalid", "duvida", f"Dúvida número {i} sobre o serviço")
            numbers.append(ticket["number"])
        except BaseException as error:  # collected: a thread's exception would otherwise vanish
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    desk.db.dispose()
    assert errors == []
    year = datetime.now(timezone.utc).year
    assert sorted(numbers) == [f"SS-{year}-{i:06d}" for i in range(1, THREADS + 1)]
    assert len(_desk(shared_url).staff_list()) == THREADS


def _process_worker(url: str, ready, go, out) -> None:  # type: ignore[no-untyped-def]
    try:
        desk = _desk(url)
        requester = _requester_id(desk)  # connected and warmed up before the start signal
        ready.release()
        go.wait()
        out.put(desk.open_ticket(requester, "Consulta CPF", "duvida", "Dúvida aberta por outro processo")["number"])
    except BaseException as error:
        ready.release()
        out.put(f"error: {error!r}")


def test_processes_at_once_get_distinct_numbers(database: str, shared_url: str) -> None:
    workers = PROCESSES[database]
    # forkserver: each worker is its own process with its own connections, forked from a server that has already
    # imported SQLAlchemy and the backend, so fifty of them start in seconds rather than a minute.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    ready, go, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_process_worker, args=(shared_url, ready, go, out)) for _ in range(workers)]
    for p in procs:
        p.start()
    for _ in procs:
        assert ready.acquire(timeout=120)
    go.set()  # all of them are connected and waiting: they create at the same moment
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [r for r in results if r.startswith("error")] == []
    year = datetime.now(timezone.utc).year
    assert sorted(results) == [f"SS-{year}-{i:06d}" for i in range(1, workers + 1)]
    assert len(_desk(shared_url).staff_list()) == workers


@pytest.mark.databases("postgresql")  # SQLite takes a database lock at BEGIN: the second one never gets this far
def test_the_year_s_first_number_raced_by_two_transactions_is_retried_not_duplicated(db: Database, monkeypatch) -> None:
    """Both find no counter row for the year; both insert it; the loser's insert waits for the winner's commit,
    fails on the primary key, rolls back its savepoint and takes the next number through the row lock."""
    calls: list[int] = []
    original = numbering.next_number

    def counted(session, year):  # type: ignore[no-untyped-def]
        calls.append(year)
        return original(session, year)

    monkeypatch.setattr(numbering, "next_number", counted)  # the retry calls the module's name: counted too
    second: dict[str, object] = {}

    def later_transaction() -> None:
        try:
            with db.transaction() as session:
                second["number"] = numbering.next_number(session, 2031)
        except BaseException as error:
            second["error"] = error

    with db.transaction() as session:
        assert numbering.next_number(session, 2031) == "SS-2031-000001"  # counter row inserted, not committed
        thread = threading.Thread(target=later_transaction)
        thread.start()
        _wait_until_a_backend_waits_for_a_lock(db, thread)
    thread.join(timeout=30)
    assert second == {"number": "SS-2031-000002"}
    assert calls == [2031, 2031, 2031]  # first transaction, second one, and the second one's retry
    with db.transaction() as session:
        assert numbering.next_number(session, 2031) == "SS-2031-000003"


def _wait_until_a_backend_waits_for_a_lock(db: Database, thread: threading.Thread) -> None:
    with db.engine.connect() as connection:
        for _ in range(600):
            if not thread.is_alive():
                return  # it did not wait: the assertions below say what it got
            waiting = connection.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).scalar()
            connection.rollback()  # pg_stat_activity is a snapshot for the whole transaction: look afresh each time
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError("the second transaction never waited for the first one's counter row")
