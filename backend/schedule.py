"""The service desk's periodic jobs, run by `python -m backend schedule` (a child of `make run`/`make cluster`):
the ANS round every minute (`sla run`) and the deletion of conversations past CONVERSATION_RETENTION_DAYS daily.

Each job runs at start and then every `interval` seconds. A failing round is one line on stderr and the loop goes
on; SIGTERM or SIGINT ends it between rounds. Jobs are safe to run from several processes at once (each one is
idempotent or takes its own database lock).
"""
from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from backend import conversations
from backend.clock import now_utc
from backend.config import Settings
from backend.desk import ServiceDesk

MINUTE = 60
DAY = 24 * 60 * 60


@dataclass
class Job:
    name: str
    interval: float
    run: Callable[[], str | None]  # returns a line worth logging, or None when nothing happened
    due: float = 0.0


def jobs_for(settings: Settings, desk: ServiceDesk) -> list[Job]:
    return [
        Job("sla run", MINUTE, lambda: _sla_round(desk)),
        Job("conversations purge", DAY, lambda: _purge_conversations(settings)),
    ]


def _sla_round(desk: ServiceDesk) -> str | None:
    """One round of the ANS scheduler (contract §9); it takes a database lock, so one runner acts at a time."""
    now = now_utc()
    report = desk.sla_run(now)
    return report.summary(now) if report.acted else None


def _purge_conversations(settings: Settings) -> str | None:
    engine = conversations.conversations_engine(settings.conversations_url)
    try:
        removed = conversations.purge(engine, settings.retention_days)
    finally:
        engine.dispose()
    if not removed.conversations:
        return None
    return (f"{removed.conversations} conversa(s) com mais de {settings.retention_days} dias apagada(s) "
            f"({removed.events} eventos).")


def run_forever(jobs: list[Job], stop: threading.Event, clock: Callable[[], float] = time.monotonic) -> None:
    """Run each job when due until `stop` is set."""
    while not stop.is_set():
        now = clock()
        for job in jobs:
            if now >= job.due:
                job.due = now + job.interval
                _run_once(job)
        next_due = min(job.due for job in jobs)
        stop.wait(max(0.0, next_due - clock()))


def _run_once(job: Job) -> None:
    try:
        line = job.run()
    except Exception as error:  # noqa: BLE001 — one failing round must not end the schedule
        print(f"erro em {job.name}: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        return
    if line:
        print(f"{job.name}: {line}", flush=True)


def main(settings: Settings) -> None:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    desk = ServiceDesk.from_settings(settings)
    try:
        run_forever(jobs_for(settings, desk), stop)
    finally:
        desk.db.dispose()
