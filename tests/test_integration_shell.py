"""`make shell` (python -m bot.shell) in a real pseudo-terminal: whatever it started stops when the terminal closes
(SIGHUP) or when it is killed outright."""
from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.test_integration_http import descendants, is_running, require_trained_model

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 600.0  # the model load; the server stages load two at once on two workers
GONE_TIMEOUT = 30.0


def start_shell(tmp_path: Path) -> tuple[subprocess.Popen, int]:
    """bot.shell as the leader of a new session whose controlling terminal is a fresh pty; returns the master."""
    master, slave = pty.openpty()

    def become_terminal_owner() -> None:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    env = dict(os.environ, ASSISTENTE_ENV="development", ASSISTENTE_PERSONA="ana", TERM="xterm",
               DATABASE_URL=f"sqlite:///{tmp_path / 'shell.db'}", ASSISTENTE_SECRET="shell-test-secret-32-bytes-long!")
    process = subprocess.Popen([sys.executable, "-m", "bot.shell"], cwd=PROJECT_ROOT, env=env,
                               stdin=slave, stdout=slave, stderr=slave, preexec_fn=become_terminal_owner)
    os.close(slave)
    return process, master


def read_until(master: int, process: subprocess.Popen, needle: str, timeout: float = READY_TIMEOUT) -> str:
    seen, deadline = "", time.monotonic() + timeout
    family: set[int] = set()
    while needle not in seen:
        family |= descendants(process.pid)
        if time.monotonic() > deadline or process.poll() is not None:
            pytest.fail(f"o shell não mostrou {needle!r} (código {process.poll()}):\n{seen[-3000:]}", pytrace=False)
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                seen += os.read(master, 65536).decode("utf-8", "replace")
            except OSError:
                break
    return seen


def assert_all_gone(pids: set[int]) -> None:
    deadline = time.monotonic() + GONE_TIMEOUT
    while any(is_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = sorted(pid for pid in pids if is_running(pid))
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processos deixados pelo make shell: {left}"


def test_killing_the_shell_stops_what_it_started(tmp_path: Path) -> None:
    require_trained_model()
    process, master = start_shell(tmp_path)
    try:
        read_until(master, process, "Digite /stop")  # the action server is up, rasa shell is being started
        deadline = time.monotonic() + 30
        while len(family := descendants(process.pid)) < 2:  # the action server and rasa shell
            assert time.monotonic() < deadline, f"rasa shell não começou: {family}"
            time.sleep(0.2)
        process.kill()
        process.wait(timeout=10)
        assert_all_gone(family)
    finally:
        os.close(master)


def test_closing_the_terminal_stops_everything(tmp_path: Path) -> None:
    require_trained_model()
    process, master = start_shell(tmp_path)
    try:
        read_until(master, process, "Bot loaded")
        family = descendants(process.pid)
    finally:
        os.close(master)  # the terminal window closes: SIGHUP
    process.wait(timeout=GONE_TIMEOUT)
    assert_all_gone(family | {process.pid})
