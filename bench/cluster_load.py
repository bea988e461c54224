"""Ticket forms under load: `make run`'s topology against `make cluster` with 2 Rasa and 2 action replicas.

usage: .venv/bin/python bench/cluster_load.py [--model models/assistente.tar.gz] [--concurrency 20 50]
       [--duration 90] [--out bench/results/cluster_load.md] [--note "..."] [--only single|cluster]

Not a test (not part of `make test`): it prints figures. One throw-away PostgreSQL 15 (tests/pgserver.py) serves
both configurations, each on a fresh database migrated and seeded with `python -m backend`, so that the store is
the same on both sides and only the topology differs:
- single: `python -m bot.launcher` (`make run`: one action server, one Rasa server, in-memory lock store);
- cluster: `python -m bot.launcher --cluster` with RASA_REPLICAS=2 and ACTION_REPLICAS=2, a throw-away
  redis-server on a free port (lock store), nginx in front (round-robin).
The launcher is started and stopped with bench/runtime_memory.py's helpers. For each configuration, after one
warm-up form, closed-loop load at each concurrency: N client threads, each one signed-in user (one token of a
seeded contact, Ana) filling whole ticket forms — "quero abrir um acionamento", a service button, "Problema", an
impact button, a description, "Sim" — one new sender per form, every turn timed. Load runs for --duration seconds;
then every client finishes the form it is in (so forms and tickets can be compared), but msg/s counts the turns
answered inside the window and the percentiles are those of the turns started inside it. A turn is an error when
the HTTP call fails or the answer lacks what the form's next step needs (the form is then abandoned). Tickets
created are counted with `python -m backend tickets list --json` before and after each run.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.runtime_memory import (  # noqa: E402
    CPF, READY_TIMEOUT, Launcher, backend_cli, bench_environment, machine,
)
from tests import pgserver  # noqa: E402
from tests.test_cluster import REDIS_SERVER, RedisServer, consecutive_free_ports  # noqa: E402
from tests.test_integration_http import free_port  # noqa: E402

DEFAULT_MODEL = ROOT / "models" / "assistente.tar.gz"
DEFAULT_OUT = ROOT / "bench" / "results" / "cluster_load.md"
NGINX = os.environ.get("NGINX_BIN", "/usr/sbin/nginx")
REPLICAS = 2
CLUSTER_READY_TIMEOUT = 600.0  # two Rasa replicas load TensorFlow and the model at once on 2 cores (tests: 600 s)
TURN_TIMEOUT = 120.0
NUMBER = re.compile(r"SS-\d{4}-\d{6}")
SERVICES = ("Consulta CNPJ", "Datavalid", "Área do Cliente")  # services of Ana's company (as in the tests)
STEPS = ("abrir", "serviço", "tipo", "impacto", "descrição", "confirmar")


@dataclass
class Turn:
    step: str
    began: float  # monotonic
    seconds: float
    ok: bool
    upstream: str = ""


@dataclass
class Client:
    """One closed-loop user: forms one after the other, a new sender each, until told to stop."""

    port: int
    token: str
    name: str
    turns: list[Turn] = field(default_factory=list)
    forms_done: int = 0
    forms_failed: int = 0
    numbers: list[str] = field(default_factory=list)

    def say(self, sender: str, step: str, message: str) -> list[dict]:
        """One REST turn, timed and recorded; the replies, or an empty list on failure."""
        body = {"sender": sender, "message": message, "metadata": {"token": self.token}}
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/webhooks/rest/webhook", data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )
        began = time.monotonic()
        replies: list[dict] = []
        upstream = ""
        try:
            with urllib.request.urlopen(request, timeout=TURN_TIMEOUT) as response:
                upstream = response.headers.get("X-Upstream", "")
                replies = json.loads(response.read()) if response.status == 200 else []
        except (OSError, ValueError):  # refused, timeout, HTTP error (nginx 502/504), bad JSON
            replies = []
        self.turns.append(Turn(step, began, time.monotonic() - began, bool(replies), upstream))
        return replies

    def form(self, number: int) -> bool:
        """One whole ticket form; False (and the last turn marked failed) as soon as a step goes wrong."""
        sender = f"{self.name}-f{number:04d}"
        service = SERVICES[number % len(SERVICES)]
        description = (f"A {service} responde com erro 503 em todas as chamadas desde as oito horas; "
                       f"nenhum usuário do órgão consegue trabalhar (teste de carga {sender}).")
        replies = self.say(sender, "abrir", "quero abrir um acionamento")
        script = (("Para qual serviço", "serviço", service), ("tipo do acionamento", "tipo", "Problema"),
                  ("impacto", "impacto", "Alto"), ("Descreva", "descrição", None),
                  ("Posso registrar?", "confirmar", "Sim"))
        for expected, step, button in script:
            if expected not in text(replies):
                return self._failed()
            message = description if button is None else payload(replies, button)
            if message is None:
                return self._failed()
            replies = self.say(sender, step, message)
        found = NUMBER.search(text(replies))
        if not found:
            return self._failed()
        self.numbers.append(found.group())
        self.forms_done += 1
        return True

    def _failed(self) -> bool:
        if self.turns:
            self.turns[-1].ok = False
        self.forms_failed += 1
        return False

    def run(self, stop_at: float) -> None:
        number = 0
        while time.monotonic() < stop_at:
            self.form(number)
            number += 1


def text(replies: list[dict]) -> str:
    return "\n".join(reply.get("text") or "" for reply in replies)


def payload(replies: list[dict], title: str) -> str | None:
    """The payload of the first button whose title starts with `title` (as a click in the page sends it)."""
    for reply in replies:
        for button in reply.get("buttons") or []:
            if button.get("title", "").startswith(title):
                return button["payload"]
    return None


@dataclass
class Run:
    """One configuration at one concurrency."""

    config: str
    concurrency: int
    window_s: float
    answered: int  # turns answered correctly inside the window
    latencies: list[float]  # seconds of the correct turns started inside the window
    errors: int  # failed turns (HTTP failure, or not the answer the form needed), drain included
    forms_done: int
    forms_failed: int
    tickets_created: int  # `tickets list --json` after minus before
    distinct_numbers: int  # distinct ticket numbers the users were told
    step_p50: dict[str, float]
    upstreams: dict[str, int]  # nginx's X-Upstream → turns (cluster only)
    cpu_busy: float  # share of both cores busy during the window (/proc/stat)
    client_cpu_s: float  # CPU seconds the load generator (this process) used during the window
    load_after: float

    @property
    def rate(self) -> float:
        return self.answered / self.window_s

    def pct(self, q: float) -> float:
        return percentile(self.latencies, q)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def ticket_count(env: dict[str, str]) -> int:
    return len(json.loads(backend_cli(env, "tickets", "list", "--json")))


def load(config: str, port: int, token: str, env: dict[str, str], concurrency: int, duration: float) -> Run:
    """Closed-loop load: `concurrency` clients for `duration` seconds, then each finishes its form."""
    before = ticket_count(env)
    clients = [Client(port, token, f"bench-{config}-c{concurrency}-u{n:02d}") for n in range(concurrency)]
    busy0, total0 = cpu_times()
    client0 = own_cpu_s()
    started = time.monotonic()
    stop_at = started + duration
    threads = [threading.Thread(target=c.run, args=(stop_at,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    window_cpu: tuple[int, int, float] | None = None
    while any(thread.is_alive() for thread in threads):
        if window_cpu is None and time.monotonic() >= stop_at:
            busy1, total1 = cpu_times()
            window_cpu = (busy1 - busy0, total1 - total0, own_cpu_s() - client0)
        time.sleep(0.2)
    if window_cpu is None:  # every client stopped before the window closed (cannot happen unless all failed fast)
        busy1, total1 = cpu_times()
        window_cpu = (busy1 - busy0, total1 - total0, own_cpu_s() - client0)
    drained = time.monotonic() - started
    after = ticket_count(env)
    turns = [t for c in clients for t in c.turns]
    in_window = [t for t in turns if t.began < stop_at and t.ok]
    upstreams: dict[str, int] = {}
    for t in turns:
        if t.upstream:
            upstreams[t.upstream] = upstreams.get(t.upstream, 0) + 1
    run = Run(
        config, concurrency, duration,
        answered=sum(1 for t in turns if t.ok and t.began + t.seconds <= stop_at),
        latencies=[t.seconds for t in in_window], errors=sum(not t.ok for t in turns),
        forms_done=sum(c.forms_done for c in clients), forms_failed=sum(c.forms_failed for c in clients),
        tickets_created=after - before, distinct_numbers=len({n for c in clients for n in c.numbers}),
        step_p50={step: percentile([t.seconds for t in in_window if t.step == step], 50) for step in STEPS},
        upstreams=upstreams, cpu_busy=window_cpu[0] / window_cpu[1] if window_cpu[1] else 0.0,
        client_cpu_s=window_cpu[2], load_after=os.getloadavg()[0],
    )
    print(f"  {config} @ {concurrency}: {run.rate:.1f} msg/s, p50 {run.pct(50):.2f} s, p95 {run.pct(95):.2f} s, "
          f"p99 {run.pct(99):.2f} s, {run.errors} errors, {run.forms_done} forms, {run.tickets_created} tickets, "
          f"CPU {run.cpu_busy:.0%} busy, drained in {drained - duration:.0f} s", flush=True)
    return run


def warm_up(config: str, port: int, token: str) -> None:
    """One form, not counted: the first turns after a start pay for TensorFlow's first calls."""
    client = Client(port, token, f"bench-{config}-warmup")
    began = time.monotonic()
    client.form(0)
    print(f"  {config}: warm-up form {'done' if client.forms_done else 'FAILED'} in "
          f"{time.monotonic() - began:.1f} s", flush=True)


def bench_config(config: str, model: Path, concurrencies: list[int], duration: float,
                 workdir: Path) -> tuple[list[Run], float]:
    """Start one configuration over a fresh PostgreSQL database, load it at each concurrency, stop it."""
    env = bench_environment(workdir)
    env.pop("SANIC_WORKERS", None)
    env["DATABASE_URL"] = pgserver.fresh_database_url()
    backend_cli(env, "db", "upgrade")
    backend_cli(env, "seed")
    token = backend_cli(env, "token", "--cpf", CPF)
    redis: RedisServer | None = None
    extra: tuple[str, ...] = ()
    ready_timeout = READY_TIMEOUT
    if config == "cluster":
        redis = RedisServer(free_port(), workdir / "redis.log")
        redis.start()
        env.update(REDIS_URL=redis.url, RASA_REPLICAS=str(REPLICAS), ACTION_REPLICAS=str(REPLICAS))
        extra = ("--cluster", "--rasa-replica-port", str(consecutive_free_ports(REPLICAS)),
                 "--action-replica-port", str(consecutive_free_ports(REPLICAS)))
        ready_timeout = CLUSTER_READY_TIMEOUT
    launcher = Launcher(workdir, env, model, ROOT / "endpoints.yml", extra_args=extra, ready_timeout=ready_timeout)
    try:
        print(f"{config}: starting the launcher ...", flush=True)
        first = launcher.start()
        print(f"  {config}: first answer after {first:.1f} s", flush=True)
        warm_up(config, launcher.rasa_port, token)
        return [load(config, launcher.rasa_port, token, env, n, duration) for n in concurrencies], first
    finally:
        launcher.stop()
        if redis is not None:
            redis.stop()
        pgserver.drop_database(env["DATABASE_URL"])


CONFIG_LABELS = {
    "single": "`make run` (1 Rasa, 1 action server)",
    "cluster": f"`make cluster` ({REPLICAS} Rasa + {REPLICAS} action replicas, nginx, Redis)",
}


def table(runs: list[Run]) -> str:
    lines = ["| configuration | concurrent conversations | msg/s | turn p50 (s) | turn p95 (s) | turn p99 (s) | "
             "errors | forms completed | tickets created (CLI) | distinct numbers told | CPU busy |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        lines.append(f"| {CONFIG_LABELS[r.config]} | {r.concurrency} | {r.rate:.1f} | {r.pct(50):.2f} | "
                     f"{r.pct(95):.2f} | {r.pct(99):.2f} | {r.errors} | {r.forms_done} | {r.tickets_created} | "
                     f"{r.distinct_numbers} | {r.cpu_busy:.0%} |")
    lines += ["", "Turn p50 (s) by step of the form (" + ", ".join(STEPS) + "):"]
    for r in runs:
        lines.append(f"- {r.config} @ {r.concurrency}: " + ", ".join(f"{r.step_p50[s]:.2f}" for s in STEPS))
    spread = [r for r in runs if r.upstreams]
    if spread:
        lines += ["", "Turns per Rasa replica (nginx's X-Upstream header):"]
        for r in spread:
            lines.append(f"- cluster @ {r.concurrency}: " + ", ".join(
                f"{upstream}: {count}" for upstream, count in sorted(r.upstreams.items())))
    lines += ["", "CPU used by the load generator itself (this process) during each window: " + "; ".join(
        f"{r.config} @ {r.concurrency}: {r.client_cpu_s:.1f} s of {r.window_s * (os.cpu_count() or 1):.0f} "
        f"core-seconds" for r in runs)]
    return "\n".join(lines)


def report(runs: list[Run], firsts: dict[str, float], args: argparse.Namespace, started: datetime,
           loads: tuple[float, float]) -> str:
    notes = [
        f"- date: {started:%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        f"- load average (1 min) before / after: {loads[0]:.2f} / {loads[1]:.2f}; per run after: " + ", ".join(
            f"{r.config} @ {r.concurrency}: {r.load_after:.2f}" for r in runs),
        "- store: the same throw-away PostgreSQL 15 (tests/pgserver.py: fsync off) for both configurations, a fresh "
        "database each; tracker store bot.conversation_store.PrivateTrackerStore on it. Lock store: in-memory for "
        "`make run`, Redis (throw-away redis-server) for the cluster",
        "- start → first answer: " + ", ".join(f"{c}: {s:.0f} s" for c, s in firsts.items()),
        f"- load: closed loop, N client threads in this process, each one signed-in user filling whole ticket forms "
        f"(6 turns, a new sender per form) for {args.duration:.0f} s, then finishing its form; msg/s = turns answered "
        f"inside the window / {args.duration:.0f} s; percentiles over every turn started inside the window "
        f"(nearest rank); CPU busy = both cores, from /proc/stat, during the window",
        f"- command: `{shlex.join(['python', 'bench/cluster_load.py', *sys.argv[1:]])}`",
    ]
    if args.note:
        notes.append(f"- note: {args.note}")
    return ("# Ticket forms under load: `make run` vs `make cluster` (2 replicas)\n\n" + "\n".join(notes) + "\n\n"
            + table(runs) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--duration", type=float, default=90.0, help="seconds of load per concurrency")
    parser.add_argument("--only", choices=("single", "cluster"), help="one configuration only")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--note", default="", help="written into the result file (e.g. other load on the machine)")
    args = parser.parse_args(argv)
    if not args.model.is_file():
        print(f"model not found: {args.model} (run `make model`)", file=sys.stderr)
        return 1
    configs = [args.only] if args.only else ["single", "cluster"]
    for tool, package in ((REDIS_SERVER, "redis-server"), (NGINX, "nginx")):
        if "cluster" in configs and not os.access(tool, os.X_OK):
            print(f"{tool} missing: sudo apt-get install {package}", file=sys.stderr)
            return 1
    started, load_before = datetime.now(timezone.utc), os.getloadavg()[0]
    runs: list[Run] = []
    firsts: dict[str, float] = {}
    try:
        for config in configs:
            workdir = Path(tempfile.mkdtemp(prefix=f"bench-load-{config}-"))
            try:
                config_runs, firsts[config] = bench_config(config, args.model.resolve(), args.concurrency,
                                                           args.duration, workdir)
                runs += config_runs
            except BaseException:
                print(f"(launcher log kept in {workdir})", file=sys.stderr)
                raise
            shutil.rmtree(workdir, ignore_errors=True)
    finally:
        pgserver.stop_shared_server()
    text_out = report(runs, firsts, args, started, (load_before, os.getloadavg()[0]))
    print("\n" + text_out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text_out, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
