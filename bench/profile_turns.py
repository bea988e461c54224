"""Where a form turn's CPU goes: the Rasa server and the action server under cProfile while ticket forms run.

usage: .venv/bin/python bench/profile_turns.py [--model models/assistente.tar.gz] [--forms 20] [--top 25] [--long N]

Not a test. Starts `rasa run actions` and `rasa run --enable-api` (as bot/launcher.py would, the shipped
endpoints.yml and its SQL tracker store) each under `python -m cProfile`, over a fresh migrated and seeded SQLite
database; after one warm-up form, switches profiling on in both (SIGUSR1: start-up and model loading are not in the
profile), drives --forms whole ticket forms of one signed-in user (bench/bench.py's turns), one after the other,
has both write their profiles (SIGUSR2) and prints the functions with the most own and cumulative time of each. cProfile sees the main thread only: the Rasa server's work (NLU, policies, tracker store,
HTTP) all runs there; in the action server, the action bodies run in worker threads (actions/common.py), so its
profile shows the request handling on the event loop, not the database calls.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import runpy
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # the script's folder would make `bench` this folder's bench.py

from bench.bench import Client, assistant_parts, say_json  # noqa: E402
from bench.runtime_memory import CPF, backend_cli, bench_environment  # noqa: E402
from tests.test_integration_http import free_port  # noqa: E402


class Profiled:
    """The assistant's two servers, each under cProfile."""

    def __init__(self, workdir: Path, model: Path) -> None:
        self.workdir = workdir
        self.model = model
        self.env = bench_environment(workdir)
        self.port = free_port()
        self.actions_port = free_port()
        self.token = ""
        self.name = "assistant"
        self.processes: list[subprocess.Popen] = []

    def start(self) -> None:
        backend_cli(self.env, "db", "upgrade")
        backend_cli(self.env, "seed")
        self.token = backend_cli(self.env, "token", "--cpf", CPF)
        env = dict(self.env, ACTION_ENDPOINT_URL=f"http://127.0.0.1:{self.actions_port}/webhook",
                   SANIC_HOST="127.0.0.1")
        log = (self.workdir / "servers.log").open("w")
        profile = [sys.executable, __file__, "--serve"]
        self.processes = [
            subprocess.Popen([*profile, str(self.workdir / "actions.prof"), "rasa_sdk", "--actions", "actions",
                              "--port", str(self.actions_port)], cwd=ROOT, env=env, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True),
            subprocess.Popen([*profile, str(self.workdir / "rasa.prof"), "rasa", "run", "--enable-api",
                              "--auth-token", env["RASA_API_TOKEN"], "--interface", "127.0.0.1", "--port",
                              str(self.port), "--model", str(self.model), "--endpoints", "endpoints.yml",
                              "--credentials", "credentials.yml"], cwd=ROOT, env=env, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True),
        ]
        began = time.monotonic()
        while not say_json(self.port, "profile-first", "oi", None, timeout=10):
            if time.monotonic() - began > 900 or any(p.poll() is not None for p in self.processes):
                raise RuntimeError(f"the servers did not answer; see {self.workdir / 'servers.log'}")
            time.sleep(1)

    def signal(self, number: int) -> None:
        for process in self.processes:
            process.send_signal(number)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            process.wait(timeout=120)


def serve(out: str, module: str, args: list[str]) -> None:
    """Run `python -m module args` with a profiler that SIGUSR1 switches on and SIGUSR2 writes to `out`."""
    profiler = cProfile.Profile()
    signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
    signal.signal(signal.SIGUSR2, lambda *_: (profiler.disable(), profiler.dump_stats(out)))
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


def show(path: Path, title: str, top: int, calls: int) -> None:
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.strip_dirs()
    for key in ("tottime", "cumulative"):
        out.write(f"\n=== {title}: top {top} by {key} (per turn: divide by {calls}) ===\n")
        stats.sort_stats(key).print_stats(top)
    print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "assistente.tar.gz")
    parser.add_argument("--forms", type=int, default=20)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--long", type=int, default=0, metavar="N",
                        help="one sender throughout, N forms before profiling: the profile of a long conversation")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="profile-"))  # kept on failure, for the servers' log
    servers = Profiled(workdir, args.model.resolve())
    client = Client(servers, assistant_parts, "profile")  # type: ignore[arg-type]
    try:
        print("starting both servers under cProfile ...", flush=True)
        servers.start()
        client.run_part("profile-warm", assistant_parts(0, "")[1])
        for number in range(args.long):  # the tracker grows before the profile starts
            client.run_part("profile-long", assistant_parts(number, "")[1])
        client.turns.clear()
        servers.signal(signal.SIGUSR1)
        began = time.monotonic()
        for number in range(args.forms):
            client.run_part("profile-long" if args.long else f"profile-{number}", assistant_parts(number, "")[1])
        took = time.monotonic() - began
        servers.signal(signal.SIGUSR2)
        time.sleep(3)  # both write their profile
        print(f"{sum(t.ok for t in client.turns)} of {len(client.turns)} turns right in {took:.1f} s "
              f"({took / max(1, len(client.turns)) * 1000:.0f} ms a turn, one user)", flush=True)
    except BaseException:
        print(f"(servers' log kept in {workdir})", file=sys.stderr)
        raise
    finally:
        servers.stop()
    for name in ("rasa", "actions"):
        show(workdir / f"{name}.prof", f"{name} server", args.top, len(client.turns) or 1)
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit(main())
