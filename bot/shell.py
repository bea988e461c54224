"""`make shell`: `rasa shell` on the trained model, with its own action server on a free port
(so it can run beside `make run`) sharing the same database."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


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


def main() -> int:
    port = _free_port()
    env = os.environ | {"ACTION_ENDPOINT_URL": f"http://127.0.0.1:{port}/webhook"}
    actions = subprocess.Popen(
        [str(BIN / "rasa"), "run", "actions", "--port", str(port), "--actions", "actions"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_health(f"http://127.0.0.1:{port}/health")
        persona = os.environ.get("ASSISTENTE_PERSONA", "")
        print(f"Assistente Serpro no terminal{' como ' + persona if persona else ''}. Digite /stop para sair.")
        return subprocess.call(
            [str(BIN / "rasa"), "shell", "--model", "models/assistente.tar.gz", "--endpoints", "endpoints.yml"],
            cwd=ROOT, env=env,
        )
    finally:
        actions.terminate()
        actions.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
