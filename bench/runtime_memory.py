"""What the SQL tracker store costs at runtime: start time, the Rasa server's memory and throughput, in-memory vs SQL.

usage: .venv/bin/python bench/runtime_memory.py [--model models/assistente.tar.gz] [--conversations 2000]
       [--workers 8] [--out bench/results/runtime_memory.md] [--note "other work shared the CPU"]

Not a test (not part of `make test`): it prints figures. For each store it starts `python -m bot.launcher` on free
loopback ports over a fresh temporary SQLite database (migrated and seeded with `python -m backend`):
- in-memory: a temporary copy of endpoints.yml without `tracker_store:` (Rasa's InMemoryTrackerStore);
- SQL: the shipped endpoints.yml (bot.conversation_store.PrivateTrackerStore, conversas.db beside the database).
It times launcher start → first REST answer, reads the Rasa server's RSS (VmRSS of the `rasa run --enable-api`
process and its descendants) once ready, then drives short conversations (a new sender each, all signed in with
one token of a seeded contact: "oi", "qual o horário de atendimento?", "obrigado") from a pool of threads, reading the RSS at every quarter. For the SQL
store it then restarts the launcher over the same database, times the first answer again and checks that an
earlier conversation is still in Rasa's tracker. The table is printed and written to --out.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_integration_http import READY_LINE, descendants, free_port  # noqa: E402

DEFAULT_MODEL = ROOT / "models" / "assistente.tar.gz"
DEFAULT_OUT = ROOT / "bench" / "results" / "runtime_memory.md"
ENDPOINTS = ROOT / "endpoints.yml"
RASA_SERVER_MARK = "rasa run --enable-api"  # in the Rasa server's command line (bot/launcher.py)
CPF = "234.567.891-73"  # a seeded contact (Ana)
MESSAGES = ("oi", "qual o horário de atendimento?", "obrigado")
READY_TIMEOUT = 300.0  # TensorFlow and the model load slowly on 2 shared cores
TURN_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0
QUARTERS = 4


@dataclass
class StoreFigures:
    """What one launcher run measured."""

    store: str
    first_answer_s: float
    rss_ready_mb: float
    rss_mb: dict[int, float] = field(default_factory=dict)  # conversations done → RSS
    drive_s: float = 0.0
    messages: int = 0
    errors: int = 0
    restart_first_answer_s: float | None = None
    survived_restart: bool | None = None

    @property
    def rss_end_mb(self) -> float:
        return self.rss_mb[max(self.rss_mb)]

    @property
    def rate(self) -> float:
        return self.messages / self.drive_s if self.drive_s else 0.0


@dataclass
class Launcher:
    """One `python -m bot.launcher` over a given database and endpoints file; its log is in `workdir`."""

    workdir: Path
    env: dict[str, str]
    model: Path
    endpoints: Path
    rasa_port: int = 0
    process: subprocess.Popen | None = None
    starts: int = 0
    extra_args: tuple[str, ...] = ()  # more launcher options, e.g. --cluster and replica ports (bench/cluster_load.py)
    ready_timeout: float = READY_TIMEOUT

    def start(self) -> float:
        """Start on fresh ports; seconds until the first REST answer (the launcher's ready line awaited too)."""
        self.rasa_port, actions_port, web_port = free_port(), free_port(), free_port()
        self.starts += 1
        log_path = self.workdir / f"launcher-{self.starts}.log"
        began = time.monotonic()
        with log_path.open("w", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.launcher", "--model", str(self.model), "--endpoints", str(self.endpoints),
                 "--rasa-port", str(self.rasa_port), "--actions-port", str(actions_port),
                 "--web-port", str(web_port), "--ready-timeout", str(self.ready_timeout), *self.extra_args],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = began + self.ready_timeout
        attempt = 0
        while True:
            self._check_running(log_path, deadline)
            attempt += 1
            if say(self.rasa_port, f"bench-first-{self.starts}-{attempt}", "oi", timeout=10):
                break
            time.sleep(0.5)
        first_answer = time.monotonic() - began
        while READY_LINE not in log_path.read_text(encoding="utf-8", errors="replace"):
            self._check_running(log_path, deadline)
            time.sleep(0.5)
        return first_answer

    def _check_running(self, log_path: Path, deadline: float) -> None:
        assert self.process is not None
        if self.process.poll() is not None or time.monotonic() > deadline:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise RuntimeError(f"the launcher did not answer (exit {self.process.poll()}):\n{tail}")

    def stop(self) -> None:
        """SIGTERM (the launcher stops its children), SIGKILL to its group after STOP_TIMEOUT."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def rasa_rss_mb(self) -> float:
        """VmRSS of the Rasa server process and its descendants, in MB (2^20 bytes)."""
        assert self.process is not None
        server = next((pid for pid in descendants(self.process.pid) if RASA_SERVER_MARK in cmdline(pid)), None)
        if server is None:
            raise RuntimeError("Rasa server process not found")
        return sum(vm_rss_kb(pid) for pid in {server, *descendants(server)}) / 1024


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def vm_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0  # gone, or a kernel thread


def say_json(port: int, sender: str, message: str, token: str | None, timeout: float = TURN_TIMEOUT) -> list[dict]:
    """One REST turn; the replies (empty on any failure: refused while starting, timeout, HTTP error, bad JSON)."""
    body: dict[str, Any] = {"sender": sender, "message": message}
    if token:
        body["metadata"] = {"token": token}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhooks/rest/webhook", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read()) if response.status == 200 else []
    except (OSError, ValueError):
        return []


def say(port: int, sender: str, message: str, token: str | None = None, timeout: float = TURN_TIMEOUT) -> bool:
    """One REST turn; True when Rasa answered with at least one message."""
    return bool(say_json(port, sender, message, token, timeout))


def conversation(port: int, sender: str, token: str) -> int:
    """The three turns of one conversation; how many failed."""
    return sum(not say(port, sender, message, token) for message in MESSAGES)


def sender_name(store: str, number: int) -> str:
    return f"bench-{store}-{number:05d}"


def drive(launcher: Launcher, figures: StoreFigures, token: str, total: int, workers: int) -> None:
    """`total` conversations in quarters; RSS read between quarters (outside the timed part)."""
    done = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for quarter in range(1, QUARTERS + 1):
            upto = total * quarter // QUARTERS
            began = time.monotonic()
            failed = pool.map(lambda n: conversation(launcher.rasa_port, sender_name(figures.store, n), token),
                              range(done, upto))
            figures.errors += sum(failed)
            figures.drive_s += time.monotonic() - began
            figures.messages += (upto - done) * len(MESSAGES)
            done = upto
            figures.rss_mb[done] = launcher.rasa_rss_mb()
            print(f"  {figures.store}: {done} conversations, {figures.rss_mb[done]:.0f} MB, "
                  f"{figures.errors} errors, {figures.rate:.1f} msg/s", flush=True)


def tracker_has(port: int, api_token: str, sender: str, text: str) -> bool:
    """Rasa's tracker for `sender` holds a user message `text` (a new sender gets only session-start events)."""
    url = f"http://127.0.0.1:{port}/conversations/{sender}/tracker?token={api_token}"
    with urllib.request.urlopen(url, timeout=TURN_TIMEOUT) as response:
        events = json.loads(response.read()).get("events") or []
    return any(event.get("event") == "user" and event.get("text") == text for event in events)


def bench_environment(workdir: Path) -> dict[str, str]:
    """Production mode over a fresh SQLite file, with this run's own secret and API token."""
    env = dict(os.environ)
    for variable in ("ASSISTENTE_ENV", "ASSISTENTE_PERSONA", "SMTP_HOST"):
        env.pop(variable, None)
    env.update(DATABASE_URL=f"sqlite:///{workdir / 'assistente.db'}",
               ASSISTENTE_SECRET=secrets.token_urlsafe(48), RASA_API_TOKEN=secrets.token_urlsafe(24))
    return env


def backend_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "backend", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=TURN_TIMEOUT, check=True)
    return done.stdout.strip()


def in_memory_endpoints(path: Path) -> Path:
    """endpoints.yml without its `tracker_store:` section."""
    endpoints = yaml.safe_load(ENDPOINTS.read_text(encoding="utf-8"))
    endpoints.pop("tracker_store", None)
    path.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    return path


def bench_store(store: str, model: Path, conversations: int, workers: int) -> StoreFigures:
    """One store, from a fresh database: start, drive, and for SQL a restart."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{store}-") as tmp:
        workdir = Path(tmp)
        env = bench_environment(workdir)
        backend_cli(env, "db", "upgrade")
        backend_cli(env, "seed")
        token = backend_cli(env, "token", "--cpf", CPF)
        endpoints = ENDPOINTS if store == "SQL" else in_memory_endpoints(workdir / "endpoints.yml")
        launcher = Launcher(workdir, env, model, endpoints)
        try:
            print(f"{store}: starting the launcher ...", flush=True)
            figures = StoreFigures(store, launcher.start(), 0.0)
            figures.rss_ready_mb = launcher.rasa_rss_mb()
            print(f"  {store}: first answer after {figures.first_answer_s:.1f} s, "
                  f"{figures.rss_ready_mb:.0f} MB when ready", flush=True)
            drive(launcher, figures, token, conversations, workers)
            if store == "SQL":
                launcher.stop()
                figures.restart_first_answer_s = launcher.start()
                figures.survived_restart = tracker_has(launcher.rasa_port, env["RASA_API_TOKEN"],
                                                       sender_name(store, 0), MESSAGES[-1])
                print(f"  {store}: restarted, first answer after {figures.restart_first_answer_s:.1f} s, "
                      f"earlier conversation kept: {figures.survived_restart}", flush=True)
            return figures
        finally:
            launcher.stop()


def table(results: list[StoreFigures], conversations: int) -> str:
    lines = [f"| store | start → first answer (s) | RSS after ready (MB) | RSS after {conversations:,} "
             f"conversations (MB) | growth (MB) | msg/s | errors |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.store} | {r.first_answer_s:.1f} | {r.rss_ready_mb:.0f} | {r.rss_end_mb:.0f} | "
                     f"{r.rss_end_mb - r.rss_ready_mb:+.0f} | {r.rate:.1f} | {r.errors} |")
    lines += ["", "RSS (MB) by conversations done: " + "; ".join(
        f"{r.store}: " + ", ".join(f"{n}: {mb:.0f}" for n, mb in r.rss_mb.items()) for r in results)]
    for r in results:
        if r.restart_first_answer_s is not None:
            lines.append(f"\n{r.store} restart (SIGTERM, start again over the same database): first answer after "
                         f"{r.restart_first_answer_s:.1f} s; an earlier conversation's tracker "
                         f"{'was still there' if r.survived_restart else 'was LOST'}.")
    return "\n".join(lines)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return f"{os.cpu_count()} cores ({cpu}), {memory_kb / 1024 / 1024:.1f} GB RAM, Python {platform.python_version()}"


def report(results: list[StoreFigures], args: argparse.Namespace, started: datetime,
           loads: tuple[float, float]) -> str:
    notes = [f"- date: {started:%Y-%m-%d %H:%M} UTC", f"- machine: {machine()}",
             f"- load average (1 min) before / after: {loads[0]:.2f} / {loads[1]:.2f}",
             f"- {args.conversations:,} conversations of {len(MESSAGES)} messages, a new signed-in sender each, "
             f"{args.workers} client threads; MB = 2^20 bytes (VmRSS of the Rasa server process)",
             f"- command: `{shlex.join(['python', 'bench/runtime_memory.py', *sys.argv[1:]])}`"]
    if args.note:
        notes.append(f"- note: {args.note}")
    return "# Runtime: in-memory vs SQL tracker store\n\n" + "\n".join(notes) + "\n\n" + table(
        results, args.conversations) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--note", default="", help="written into the result file (e.g. other load on the machine)")
    args = parser.parse_args(argv)
    if not args.model.is_file():
        print(f"model not found: {args.model} (run `make model`)", file=sys.stderr)
        return 1
    started, load_before = datetime.now(timezone.utc), os.getloadavg()[0]
    results = [bench_store(store, args.model.resolve(), args.conversations, args.workers)
               for store in ("in-memory", "SQL")]
    text = report(results, args, started, (load_before, os.getloadavg()[0]))
    print("\n" + text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
