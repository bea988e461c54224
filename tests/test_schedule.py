"""The periodic jobs' loop (backend/schedule.py) with a hand-driven clock."""
from __future__ import annotations

import threading

import pytest

from backend.schedule import Job, run_forever


def test_jobs_run_when_due_survive_a_failing_round_and_speak_only_when_something_happened(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stop = threading.Event()
    # Each round reads the clock twice (due jobs, then the wait): the second reading is already the next due time,
    # so the loop never waits on the real clock.
    clock = iter([0.0, 60.0, 60.0, 120.0, 120.0, 180.0, 180.0])
    outcomes = iter([RuntimeError("database is locked"), None, "1 fechado(s) sem avaliação (X)."])
    daily: list[float] = []

    def minutely() -> str | None:
        outcome = next(outcomes, None)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def tick() -> float:
        now = next(clock, None)
        if now is None:
            stop.set()
            return 999.0
        return now

    def once_a_day() -> None:
        daily.append(1.0)

    run_forever([Job("sla run", 60, minutely), Job("purge", 86400, once_a_day)], stop, clock=tick)
    out, err = capsys.readouterr()
    assert err == "erro em sla run: RuntimeError: database is locked\n"
    assert out == "sla run: 1 fechado(s) sem avaliação (X).\n"
    assert daily == [1.0]
