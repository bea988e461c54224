"""The assistant against a bare Rasa 3.6 bot under the same load: latency, throughput, memory, start time.

usage: .venv/bin/python bench/bench.py [--quick] [--model models/assistente.tar.gz] [--only baseline|assistant]
       [--concurrency 1 20 50] [--duration 60] [--conversations 2000] [--out bench/results/bench.md] [--note "..."]

Not a test (`make bench`, never part of `make test`): it prints figures and writes them to --out.

- baseline: bench/baseline/, a bare Rasa bot (10 intents, two custom actions doing one SQLite write each, Rasa's SQL
  tracker store on SQLite). It is trained by this script into bench/.cache/ (ignored), once per content hash of its
  files. Started as `rasa run actions` + `rasa run --enable-api` on free loopback ports.
- assistant: `python -m bot.launcher` on free ports over a fresh, migrated and seeded SQLite database (production
  mode, the shipped endpoints.yml: SQL tracker store), started with bench/runtime_memory.py's Launcher.

Each system, one after the other: start → first answer (s) and the Rasa server's RSS; one warm-up conversation (not
counted); one long conversation (200 form turns of one sender: turns 1–10 against 191–200); closed-loop load at
each concurrency (N client threads, each a signed-in user — the token of a seeded contact in the metadata — going
through the three parts of a conversation: greeting + FAQ + consult, a whole ticket form, a whole contact form; a new
sender each round; client i starts at part i mod 3 so that every kind of turn is sampled at every concurrency); then
--conversations short conversations (greeting, FAQ, consult; 8 threads) and the Rasa RSS growth they caused.
The baseline goes through the same turns with its own phrases: its action turns stand for the form and consult
turns. Every turn is checked (the reply a form step needs); a wrong or missing reply is an error and ends that part.

--quick (development): 15 s per concurrency, 200 short conversations, 100 long-conversation turns; it took 14 to 30
minutes on the 2 shared cores at load averages of 6 to 13 (mostly the two starts). The full run (60 s per
concurrency, 2,000 conversations, 200 turns) is estimated at 25–35 minutes on an idle 2-core machine (not yet timed).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Protocol

ROOT = Path(__file__).resolve().parent.parent
# The script's own folder comes first on sys.path, where `bench` would be this file: the repository root instead.
sys.path[0] = str(ROOT)

from bench.cluster_load import NUMBER, SERVICES, percentile, text, payload  # noqa: E402
from bench.runtime_memory import (  # noqa: E402
    CPF, STOP_TIMEOUT, Launcher, backend_cli, bench_environment, machine, say_json, vm_rss_kb,
)
from tests.test_integration_http import descendants, free_port  # noqa: E402

BASELINE = ROOT / "bench" / "baseline"
CACHE = ROOT / "bench" / ".cache"
DEFAULT_MODEL = ROOT / "models" / "assistente.tar.gz"
DEFAULT_OUT = ROOT / "bench" / "results" / "bench.md"
TURN_TIMEOUT = 120.0
START_TIMEOUT = 900.0  # other work on 2 shared cores can make a start take minutes; a slow start is a figure
KINDS = ("greeting", "faq", "consult", "ticket_form", "contact_form")
GROWTH_WORKERS = 8


# ---------------------------------------------------------------- the two systems


class System(Protocol):
    name: str
    port: int
    token: str

    def start(self) -> float: ...

    def rss_mb(self) -> float: ...

    def stop(self) -> None: ...


def baseline_model() -> Path:
    """The baseline's model, trained once per content hash of its files."""
    files = sorted(p for p in BASELINE.rglob("*") if p.is_file() and p.suffix in (".yml", ".py"))
    digest = hashlib.sha256(b"".join(p.relative_to(BASELINE).as_posix().encode() + p.read_bytes()
                                     for p in files)).hexdigest()[:16]
    model = CACHE / f"baseline-{digest}.tar.gz"
    if not model.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        print(f"baseline: training {model.name} (once per change of bench/baseline/) ...", flush=True)
        with (CACHE / "train.log").open("w") as log:
            subprocess.run([sys.executable, "-m", "rasa", "train", "--config", "config.yml", "--domain", "domain.yml",
                            "--data", "data", "--out", str(CACHE), "--fixed-model-name", model.name[:-7]],
                           cwd=BASELINE, stdout=log, stderr=subprocess.STDOUT, check=True)
    return model


@dataclass
class Baseline:
    """The bare bot: its action server and its Rasa server, in one process group."""

    workdir: Path
    model: Path
    name: str = "baseline"
    port: int = 0
    token: str = field(default_factory=lambda: secrets.token_urlsafe(16))  # sent as metadata, ignored
    processes: list[subprocess.Popen] = field(default_factory=list)

    def start(self) -> float:
        self.port, actions_port = free_port(), free_port()
        env = dict(os.environ, ACTION_ENDPOINT_URL=f"http://127.0.0.1:{actions_port}/webhook",
                   BASELINE_DB=str(self.workdir / "baseline.db"),
                   BASELINE_TRACKER_DB=str(self.workdir / "baseline-tracker.db"))
        log = (self.workdir / "baseline.log").open("w")
        began = time.monotonic()
        self.processes = [
            subprocess.Popen([sys.executable, "-m", "rasa", "run", "actions", "--port", str(actions_port),
                              "--actions", "actions"], cwd=BASELINE, env=env, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True),
            subprocess.Popen([sys.executable, "-m", "rasa", "run", "--enable-api", "--auth-token",
                              secrets.token_urlsafe(16), "--interface", "127.0.0.1", "--port", str(self.port),
                              "--model", str(self.model), "--endpoints", "endpoints.yml"],
                             cwd=BASELINE, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True),
        ]
        attempt = 0
        while not replies_ok(say_json(self.port, f"bench-first-{attempt}", "oi", None, timeout=10)):
            attempt += 1
            if any(p.poll() is not None for p in self.processes) or time.monotonic() - began > START_TIMEOUT:
                raise RuntimeError(f"the baseline did not answer; see {self.workdir / 'baseline.log'}")
            time.sleep(0.5)
        return time.monotonic() - began

    def rss_mb(self) -> float:
        server = self.processes[1].pid
        return sum(vm_rss_kb(pid) for pid in {server, *descendants(server)}) / 1024

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@dataclass
class Assistant:
    """The assistant as `make run` starts it, over a fresh SQLite database."""

    workdir: Path
    model: Path
    name: str = "assistant"
    port: int = 0
    token: str = ""
    launcher: Launcher | None = None

    def start(self) -> float:
        env = bench_environment(self.workdir)
        backend_cli(env, "db", "upgrade")
        backend_cli(env, "seed")
        self.token = backend_cli(env, "token", "--cpf", CPF)  # valid 8 hours: longer than a full run
        self.launcher = Launcher(self.workdir, env, self.model, ROOT / "endpoints.yml", ready_timeout=START_TIMEOUT)
        first = self.launcher.start()
        self.port = self.launcher.rasa_port
        return first

    def rss_mb(self) -> float:
        assert self.launcher is not None
        return self.launcher.rasa_rss_mb()

    def stop(self) -> None:
        if self.launcher is not None:
            self.launcher.stop()


# ---------------------------------------------------------------- turns and conversations


def replies_ok(replies: list[dict]) -> bool:
    return bool(replies)


@dataclass
class Turn:
    kind: str
    began: float  # monotonic
    seconds: float
    ok: bool


# A step: (kind, what to send given the previous replies — None means the conversation went wrong, the fragment the
# reply must contain). The assistant's buttons are clicked by payload, as the page does.
Step = tuple[str, Callable[[list[dict]], str | None], str]


def typed(message: str) -> Callable[[list[dict]], str | None]:
    return lambda _replies: message


def click(title: str) -> Callable[[list[dict]], str | None]:
    return lambda replies: payload(replies, title)


def valid_cpf(number: int) -> str:
    """A CPF with valid check digits, distinct for each number below 10^8 (formatted as users type it)."""
    base = [int(d) for d in f"{300000000 + number:09d}"]
    for length in (9, 10):
        total = sum(d * w for d, w in zip(base, range(length + 1, 1, -1)))
        base.append(0 if total % 11 < 2 else 11 - total % 11)
    digits = "".join(map(str, base))
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"


def assistant_parts(number: int, ticket: str) -> list[list[Step]]:
    """The assistant's three parts of a conversation; `number` makes the new contact unique."""
    service = SERVICES[number % len(SERVICES)]
    description = (f"A {service} responde com erro 503 em todas as chamadas desde as oito horas; nenhum usuário do "
                   f"órgão consegue trabalhar (teste de desempenho {number}).")
    chat = [("greeting", typed("oi"), ""), ("faq", typed("qual o horário de atendimento?"), ""),
            ("consult", typed(f"qual é a situação do acionamento {ticket}?"), ticket)]
    ticket_form = [("ticket_form", typed("quero abrir um acionamento"), "Para qual serviço"),
                   ("ticket_form", click(service), "tipo do acionamento"),
                   ("ticket_form", click("Problema"), "impacto"),
                   ("ticket_form", click("Alto"), "Descreva"),
                   ("ticket_form", typed(description), "Posso registrar?"),
                   ("ticket_form", click("Sim"), "SS-")]
    contact_form = [("contact_form", typed("preciso cadastrar uma nova pessoa como contato da empresa"), "nome completo"),
                    ("contact_form", typed("Mariana Teixeira Prado"), "e-mail"),
                    ("contact_form", typed(f"mariana.prado.{number}@exemplo.gov.br"), "CPF"),
                    ("contact_form", typed(valid_cpf(number)), "tipo do contato"),
                    ("contact_form", click("Financeiro"), "acrescentar outro tipo"),
                    ("contact_form", click("Não"), "telefone principal"),
                    ("contact_form", typed("(61) 3411-2200"), "telefone secundário"),
                    ("contact_form", typed("61 99123-4567"), "veracidade"),
                    ("contact_form", click("Sim"), "Posso cadastrar?"),
                    ("contact_form", click("Sim"), "primeiro acesso")]
    return [chat, ticket_form, contact_form]


def baseline_parts(_number: int, _ticket: str) -> list[list[Step]]:
    """The same shape for the bare bot: its action turns stand for the consult and the forms' turns."""
    chat = [("greeting", typed("oi"), "Olá"), ("faq", typed("qual o horário de atendimento?"), "24 horas"),
            ("consult", typed("qual a situação do acionamento SS-2026-000001?"), "Consulta registrada")]
    return [chat, [("ticket_form", typed("quero registrar"), "Registrado")] * 6,
            [("contact_form", typed("registrar resposta"), "Registrado")] * 10]


@dataclass
class Client:
    """One signed-in user; every turn timed and checked."""

    system: System
    parts: Callable[[int, str], list[list[Step]]]
    name: str
    ticket: str = ""  # a ticket number of this user's company, for the consult turn
    turns: list[Turn] = field(default_factory=list)
    stop_at: float = float("inf")

    def run_part(self, sender: str, steps: list[Step]) -> bool:
        replies: list[dict] = []
        for kind, message_for, expected in steps:
            if time.monotonic() >= self.stop_at:
                return False
            message = message_for(replies)
            began = time.monotonic()
            replies = say_json(self.system.port, sender, message, self.system.token) if message else []
            ok = bool(replies) and expected in text(replies)
            self.turns.append(Turn(kind, began, time.monotonic() - began, ok))
            if not ok:
                return False
            found = NUMBER.search(text(replies))
            if kind == "ticket_form" and found:
                self.ticket = found.group()
        return True

    def run(self, first_part: int, numbers: Callable[[], int]) -> None:
        """Parts in turn from `first_part`, a new sender each round, until stop_at."""
        part = first_part
        sender = f"{self.name}-{numbers()}"
        while time.monotonic() < self.stop_at:
            number = numbers()
            self.run_part(sender, self.parts(number, self.ticket)[part])
            part = (part + 1) % 3
            if part == first_part:
                sender = f"{self.name}-{numbers()}"


class Counter:
    """Thread-safe unique numbers (contacts' CPFs and e-mails, senders)."""

    def __init__(self, start: int) -> None:
        self._next = start
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            self._next += 1
            return self._next


# ---------------------------------------------------------------- measurements


@dataclass
class Load:
    concurrency: int
    window_s: float
    turns: list[Turn]

    def in_window(self, kind: str | None = None) -> list[float]:
        return [t.seconds for t in self.turns if t.ok and (kind is None or t.kind == kind)]

    @property
    def rate(self) -> float:
        return sum(1 for t in self.turns if t.ok) / self.window_s

    @property
    def errors(self) -> int:
        return sum(not t.ok for t in self.turns)


@dataclass
class Figures:
    system: str
    first_answer_s: float = 0.0
    rss_ready_mb: float = 0.0
    loads: list[Load] = field(default_factory=list)
    long_first_s: float = 0.0  # median of turns 1-10 of the long conversation
    long_last_s: float = 0.0  # median of its last 10 turns
    long_errors: int = 0
    growth_conversations: int = 0
    rss_before_growth_mb: float = 0.0
    rss_after_growth_mb: float = 0.0
    growth_errors: int = 0
    load_avg: list[str] = field(default_factory=list)

    def note_load(self, label: str) -> None:
        self.load_avg.append(f"{label} {os.getloadavg()[0]:.2f}")


def closed_loop(system: System, parts: Callable[[int, str], list[list[Step]]], ticket: str, concurrency: int,
                duration: float, numbers: Counter) -> Load:
    """`concurrency` users for `duration` seconds; turns started after the window are not made."""
    started = time.monotonic()
    stop_at = started + duration
    clients = [Client(system, parts, f"bench-{system.name}-c{concurrency}-u{n:02d}", ticket, stop_at=stop_at)
               for n in range(concurrency)]
    threads = [threading.Thread(target=c.run, args=(n % 3, numbers), daemon=True) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Turns running at the window's end are finished and counted (their latency is real); none start after it.
    return Load(concurrency, time.monotonic() - started, [t for c in clients for t in c.turns])


def long_conversation(system: System, parts: Callable[[int, str], list[list[Step]]], turns: int,
                      numbers: Counter) -> tuple[float, float, int]:
    """One sender, `turns` ticket-form turns in a row: median of the first 10 against the last 10."""
    client = Client(system, parts, f"bench-{system.name}-long")
    sender = f"bench-{system.name}-long-{numbers()}"
    while len(client.turns) < turns:
        if not client.run_part(sender, parts(numbers(), "")[1][: turns - len(client.turns)]):
            break
    done = [t.seconds for t in client.turns]
    errors = sum(not t.ok for t in client.turns) + (turns - len(done))
    return percentile(done[:10], 50), percentile(done[-10:], 50), errors


def growth(system: System, parts: Callable[[int, str], list[list[Step]]], ticket: str, conversations: int,
           numbers: Counter) -> int:
    """`conversations` short conversations (greeting, FAQ, consult), a new sender each; how many turns failed."""
    def one(n: int) -> int:
        client = Client(system, parts, f"bench-{system.name}-g")
        client.run_part(f"bench-{system.name}-g{n:05d}-{numbers()}", parts(0, ticket)[0])
        return sum(not t.ok for t in client.turns) + 3 - len(client.turns)

    with ThreadPoolExecutor(max_workers=GROWTH_WORKERS) as pool:
        return sum(pool.map(one, range(conversations)))


def bench_system(system: System, parts: Callable[[int, str], list[list[Step]]], args: argparse.Namespace,
                 numbers: Counter) -> Figures:
    figures = Figures(system.name)
    figures.note_load("before start")
    print(f"{system.name}: starting ...", flush=True)
    try:
        figures.first_answer_s = system.start()
        figures.rss_ready_mb = system.rss_mb()
        print(f"  first answer after {figures.first_answer_s:.1f} s, Rasa RSS {figures.rss_ready_mb:.0f} MB",
              flush=True)
        warm = Client(system, parts, f"bench-{system.name}-warm")
        sender = f"bench-{system.name}-warm-{numbers()}"
        for part in (1, 2, 0):  # the ticket form first: the consult turn needs a number
            if not warm.run_part(sender, parts(numbers(), warm.ticket)[part]):
                raise RuntimeError(f"{system.name}: the warm-up conversation failed at turn {len(warm.turns)}: "
                                   f"{warm.turns[-1]}")
        ticket = warm.ticket
        first, last, errors = long_conversation(system, parts, args.long_turns, numbers)
        figures.long_first_s, figures.long_last_s, figures.long_errors = first, last, errors
        print(f"  long conversation: turns 1-10 p50 {first * 1000:.0f} ms, last 10 p50 {last * 1000:.0f} ms, "
              f"{errors} errors", flush=True)
        for concurrency in args.concurrency:
            load = closed_loop(system, parts, ticket, concurrency, args.duration, numbers)
            figures.loads.append(load)
            figures.note_load(f"after {concurrency}")
            print(f"  {concurrency} conversations: {load.rate:.1f} msg/s, {load.errors} errors; p50 (ms) " + ", ".join(
                f"{k} {percentile(load.in_window(k), 50) * 1000:.0f}" for k in KINDS), flush=True)
        figures.rss_before_growth_mb = system.rss_mb()
        figures.growth_errors = growth(system, parts, ticket, args.conversations, numbers)
        figures.growth_conversations = args.conversations
        figures.rss_after_growth_mb = system.rss_mb()
        figures.note_load("after growth")
        print(f"  {args.conversations} conversations: RSS {figures.rss_before_growth_mb:.0f} → "
              f"{figures.rss_after_growth_mb:.0f} MB, {figures.growth_errors} errors", flush=True)
    finally:
        system.stop()
    return figures


# ---------------------------------------------------------------- the report


def ms(seconds: float) -> str:
    return "–" if seconds != seconds else f"{seconds * 1000:.0f}"


def ratio(ours: float, theirs: float) -> str:
    return "–" if not theirs or ours != ours or theirs != theirs else f"{ours / theirs:.2f}×"


def tables(results: dict[str, Figures]) -> str:
    lines = ["| system | conversations | turn kind | p50 (ms) | p95 (ms) | p99 (ms) | turns | errors | msg/s |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for figures in results.values():
        for load in figures.loads:
            for kind in KINDS:
                values = load.in_window(kind)
                errors = sum(not t.ok for t in load.turns if t.kind == kind)
                lines.append(f"| {figures.system} | {load.concurrency} | {kind} | {ms(percentile(values, 50))} | "
                             f"{ms(percentile(values, 95))} | {ms(percentile(values, 99))} | {len(values)} | "
                             f"{errors} | |")
            lines.append(f"| {figures.system} | {load.concurrency} | **all** | {ms(percentile(load.in_window(), 50))} "
                         f"| {ms(percentile(load.in_window(), 95))} | {ms(percentile(load.in_window(), 99))} | "
                         f"{len(load.in_window())} | {load.errors} | {load.rate:.1f} |")
    if set(results) == {"baseline", "assistant"}:
        lines += ["", ratios(results["assistant"], results["baseline"])]
    lines += ["", "| system | start → first answer (s) | Rasa RSS ready (MB) | long conversation: turns 1–10 / last "
              "10, p50 (ms) | RSS before / after the short conversations (MB) | growth (MB) | errors |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for f in results.values():
        lines.append(f"| {f.system} | {f.first_answer_s:.1f} | {f.rss_ready_mb:.0f} | {ms(f.long_first_s)} / "
                     f"{ms(f.long_last_s)} ({f.long_errors} errors) | {f.rss_before_growth_mb:.0f} / "
                     f"{f.rss_after_growth_mb:.0f} ({f.growth_conversations:,} conversations) | "
                     f"{f.rss_after_growth_mb - f.rss_before_growth_mb:+.0f} | {f.growth_errors} |")
    lines += ["", "Load average (1 min): " + "; ".join(f"{f.system}: " + ", ".join(f.load_avg)
                                                        for f in results.values())]
    return "\n".join(lines)


def ratios(ours: Figures, base: Figures) -> str:
    """The issue's targets, as ratios to the baseline in this run."""
    rows = ["| target | assistant | baseline | ratio | goal |", "|---|---:|---:|---:|---|"]
    base_loads = {load.concurrency: load for load in base.loads}
    for load in ours.loads:
        other = base_loads.get(load.concurrency)
        if other is None:
            continue
        for kind in ("ticket_form", "contact_form", "consult", "greeting"):
            a, b = percentile(load.in_window(kind), 50), percentile(other.in_window("ticket_form"), 50)
            rows.append(f"| {kind} turn p50 @ {load.concurrency} (vs baseline action turn) | {ms(a)} ms | {ms(b)} ms "
                        f"| {ratio(a, b)} | {'≤ 1.3×' if kind.endswith('form') else ''} |")
        rows.append(f"| msg/s @ {load.concurrency} | {load.rate:.1f} | {other.rate:.1f} | "
                    f"{ratio(load.rate, other.rate)} | {'≥ 0.8×' if load.concurrency == 20 else ''} |")
    rows.append(f"| Rasa RSS when ready | {ours.rss_ready_mb:.0f} MB | {base.rss_ready_mb:.0f} MB | "
                f"{ratio(ours.rss_ready_mb, base.rss_ready_mb)} | ≤ 1.15× |")
    rows.append(f"| start → first answer | {ours.first_answer_s:.1f} s | {base.first_answer_s:.1f} s | "
                f"{ratio(ours.first_answer_s, base.first_answer_s)} | ≤ 1.15× |")
    rows.append(f"| long conversation, last 10 / first 10 turns | {ratio(ours.long_last_s, ours.long_first_s)} | "
                f"{ratio(base.long_last_s, base.long_first_s)} | | ≤ 1.5× |")
    rows.append(f"| Rasa RSS growth over {ours.growth_conversations:,} conversations | "
                f"{ours.rss_after_growth_mb - ours.rss_before_growth_mb:+.0f} MB | "
                f"{base.rss_after_growth_mb - base.rss_before_growth_mb:+.0f} MB | | < 50 MB |")
    return "\n".join(rows)


def report(results: dict[str, Figures], args: argparse.Namespace, started: datetime) -> str:
    notes = [f"- date: {started:%Y-%m-%d %H:%M} UTC; machine: {machine()}",
             f"- {'quick' if args.quick else 'full'} run: {args.duration:.0f} s per concurrency "
             f"({', '.join(map(str, args.concurrency))}), long conversation of {args.long_turns} turns, "
             f"{args.conversations:,} short conversations; p50/p95/p99 over the correct turns (nearest rank)",
             f"- command: `{shlex.join(['python', 'bench/bench.py', *sys.argv[1:]])}`"]
    if args.note:
        notes.append(f"- note: {args.note}")
    return f"## Run of {started:%Y-%m-%d %H:%M} UTC\n\n" + "\n".join(notes) + "\n\n" + tables(results) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer conversations, shorter windows (development)")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--only", choices=("baseline", "assistant"))
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 20, 50])
    parser.add_argument("--duration", type=float, default=None, help="seconds of load per concurrency")
    parser.add_argument("--conversations", type=int, default=None, help="short conversations for RSS growth")
    parser.add_argument("--long-turns", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="append the run's section here (default: print only "
                                                                 "with --quick, bench/results/bench.md otherwise)")
    parser.add_argument("--note", default="", help="written into the result (e.g. other load on the machine)")
    args = parser.parse_args(argv)
    args.duration = args.duration or (15.0 if args.quick else 60.0)
    args.conversations = args.conversations or (200 if args.quick else 2000)
    args.long_turns = args.long_turns or (100 if args.quick else 200)
    if args.out is None and not args.quick:
        args.out = DEFAULT_OUT
    if not args.model.is_file():
        print(f"model not found: {args.model} (run `make model`)", file=sys.stderr)
        return 1
    started = datetime.now(timezone.utc)
    numbers = Counter(int(time.time()) % 100000 * 100)  # distinct contacts across runs over fresh databases
    results: dict[str, Figures] = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        systems: list[tuple[System, Callable[[int, str], list[list[Step]]]]] = []
        if args.only in (None, "baseline"):
            systems.append((Baseline(Path(tmp), baseline_model()), baseline_parts))
        if args.only in (None, "assistant"):
            systems.append((Assistant(Path(tmp), args.model.resolve()), assistant_parts))
        for system, parts in systems:
            results[system.name] = bench_system(system, parts, args, numbers)
    section = report(results, args, started)
    print("\n" + section)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        previous = args.out.read_text(encoding="utf-8") if args.out.is_file() else "# `make bench`\n"
        args.out.write_text(previous.rstrip("\n") + "\n\n" + section, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
