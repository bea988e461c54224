"""`make shell`: `rasa shell` on the trained model, with its own action server, both on free loopback ports (so it
runs beside `make run`), sharing the same database and conversation store.

Whatever it started stops with it: on /stop, Ctrl-C, SIGTERM or SIGHUP (the terminal closed) it stops both
children's process groups; if this wrapper is killed outright, the kernel sends them SIGTERM (PR_SET_PDEATHSIG).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bot.launcher import _die_with_parent, child_environment

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STOP_TIMEOUT = 15.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_health(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"Servidor de ações não respondeu em {url}.")


def _spawn(command: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env, preexec_fn=_die_with_parent, **kwargs)


def _stop(children: list[subprocess.Popen]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for child in children:
            if child.poll() is None:
                try:
                    if os.getpgid(child.pid) == child.pid:  # a group of its own: everything it spawned
                        os.killpg(child.pid, sig)
                    else:
                        os.kill(child.pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
        deadline = time.monotonic() + STOP_TIMEOUT
        while any(child.poll() is None for child in children) and time.monotonic() < deadline:
            time.sleep(0.1)


class _Hangup(Exception):
    pass


def _raise_hangup(signum: int, _frame: object) -> None:
    raise _Hangup(signal.Signals(signum).name)


def main() -> int:
    actions_port, rasa_port = _free_port(), _free_port()
    env = child_environment(actions_port)
    children: list[subprocess.Popen] = []
    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, _raise_hangup)
    try:
        # Own process groups: a stop reaches everything each one spawned. The action server's output would
        # scribble over the conversation, so it goes nowhere.
        children.append(_spawn(
            [str(BIN / "rasa"), "run", "actions", "--port", str(actions_port), "--actions", "actions"],
            dict(env, SANIC_HOST="127.0.0.1"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        ))
        _wait_health(f"http://127.0.0.1:{actions_port}/health")
        persona = os.environ.get("ASSISTENTE_PERSONA", "")
        print(f"Assistente Serpro no terminal{' como ' + persona if persona else ''}. Digite /stop para sair.")
        # rasa shell reads the terminal, so it stays in the foreground process group (it gets Ctrl-C itself).
        shell = _spawn(
            [str(BIN / "rasa"), "shell", "--model", "models/assistente.tar.gz", "--endpoints", "endpoints.yml",
             "--port", str(rasa_port), "--interface", "127.0.0.1"],
            env,
        )
        children.append(shell)
        while True:
            try:
                return shell.wait()
            except KeyboardInterrupt:
                continue  # rasa shell handles its own Ctrl-C and exits; wait for it
    except (_Hangup, KeyboardInterrupt):
        return 0
    finally:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _stop(children)


if __name__ == "__main__":
    sys.exit(main())
