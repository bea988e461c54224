"""The real servers over HTTP on loopback: `python -m bot.launcher` as `make run` starts it.

Needs a trained model in models/ (`make model`); without one these tests FAIL on purpose.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from contextlib import contextmanager
from typing import Iterator

import pytest

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_ROOT / "models"
READY_TIMEOUT = 600.0  # Rasa loads TensorFlow and the model: 1 min on 2 idle cores, 4-9 min when they are shared
STOP_TIMEOUT = 60.0
READY_LINE = "Assistente Serpro pronto"


# ---------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process from /proc, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name is in parentheses and may contain spaces: split after it.
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1])


def is_running(pid: int) -> bool:
    stat = _proc_stat(pid)
    return stat is not None and stat[0] != "Z"  # a zombie has already exited


def descendants(root: int) -> set[int]:
    """Every process below `root` (children, grandchildren...)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat is not None:
                children.setdefault(stat[1], []).append(int(entry.name))
    found: set[int] = set()
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def processes_mentioning(*needles: str) -> set[int]:
    """Live processes whose command line contains every needle."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if all(needle in cmdline for needle in needles) and is_running(int(entry.name)):
            found.add(int(entry.name))
    return found


def http(method: str, url: str, body: dict | None = None) -> tuple[int, str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def require_trained_model() -> None:
    if not any(MODELS_DIR.glob("*.tar.gz")):
        pytest.fail(
            "Nenhum modelo treinado em models/ — rode `make model` "
            "(ou `.venv/bin/rasa train --out models --fixed-model-name assistente`) antes "
            "dos testes de integração. / No trained model in models/.",
            pytrace=False,
        )


def log_tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def kill_leftovers(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@contextmanager
def until_stopped(process: subprocess.Popen, log_path: Path) -> Iterator[subprocess.Popen]:
    """Wait until a started launcher says it is ready (pytest.fail if it dies or takes too long), yield it, then stop
    it with SIGTERM and kill whatever it spawned that is still alive. Every launcher fixture goes through here."""
    seen: set[int] = set()
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while READY_LINE not in log_path.read_text(encoding="utf-8", errors="replace"):
            seen |= descendants(process.pid)
            if process.poll() is not None:
                pytest.fail(f"O launcher terminou antes de ficar pronto (código {process.returncode}):\n"
                            + log_tail(log_path), pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"O launcher não ficou pronto em {READY_TIMEOUT:.0f} s:\n" + log_tail(log_path),
                            pytrace=False)
            time.sleep(1)
        yield process
    finally:
        seen |= descendants(process.pid)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        kill_leftovers({process.pid} | seen)
        if process.poll() is None:
            process.wait(timeout=10)


def start_launcher(
    tmp_path: Path, rasa_port: int, actions_port: int, web_port: int, *extra: str
) -> tuple[subprocess.Popen, Path]:
    env = dict(os.environ)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'integration.db'}"
    env["ASSISTENTE_SECRET"] = "integration-test-secret-with-32-bytes-or-more"
    log_path = tmp_path / "launcher.log"
    log = log_path.open("w", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.launcher",
         "--rasa-port", str(rasa_port), "--actions-port", str(actions_port),
         "--web-port", str(web_port), *extra],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # our own Ctrl-C never reaches it by accident
    )
    log.close()
    return process, log_path


# ---------------------------------------------------------------- fixture


@dataclass
class Running:
    process: subprocess.Popen
    log_path: Path
    rasa_port: int
    actions_port: int
    web_port: int

    @property
    def ports(self) -> tuple[int, int, int]:
        return self.rasa_port, self.actions_port, self.web_port


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    require_trained_model()
    tmp_path = tmp_path_factory.mktemp("launcher")
    ports = free_port(), free_port(), free_port()
    process, log_path = start_launcher(tmp_path, *ports)
    with until_stopped(process, log_path):
        yield Running(process, log_path, *ports)


# ---------------------------------------------------------------- tests
# Module order matters: the shutdown test runs last and stops the servers.


def test_rest_webhook_greets_in_portuguese(assistant: Running) -> None:
    status, body = http(
        "POST",
        f"http://127.0.0.1:{assistant.rasa_port}/webhooks/rest/webhook",
        {"sender": "t1", "message": "oi"},
    )
    assert status == 200, body
    texts = [reply.get("text", "") for reply in json.loads(body)]
    assert texts, "o assistente não respondeu"
    greeting = " ".join(texts)
    assert "Olá" in greeting
    assert "Assistente Serpro" in greeting
    assert "Central de Serviços Serpro" in greeting


def test_help_states_the_css_facts_exactly(assistant: Running) -> None:
    status, body = http(
        "POST",
        f"http://127.0.0.1:{assistant.rasa_port}/webhooks/rest/webhook",
        {"sender": "t2", "message": "preciso de ajuda"},
    )
    assert status == 200, body
    text = " ".join(reply.get("text", "") for reply in json.loads(body))
    for fact in ("24x7", "0800 728 2323", "css.serpro@serpro.gov.br", "centraldeajuda.serpro.gov.br"):
        assert fact in text


def test_action_server_is_healthy(assistant: Running) -> None:
    status, body = http("GET", f"http://127.0.0.1:{assistant.actions_port}/health")
    assert status == 200
    assert json.loads(body) == {"status": "ok"}


def test_web_page_serves_the_css_page(assistant: Running) -> None:
    base = f"http://127.0.0.1:{assistant.web_port}"
    status, page = http("GET", f"{base}/")
    assert status == 200
    assert "Central de Serviços" in page
    assert "0800 728 2323" in page

    status, _ = http("GET", f"{base}/healthz")
    assert status == 200

    # The widget talks only to its own server, which forwards to the Rasa REST channel on --rasa-port.
    status, body = http("POST", f"{base}/api/mensagem", {"sender": "pagina-t1", "message": "oi"})
    assert status == 200, body
    replies = json.loads(body)["replies"]
    assert "Olá" in replies[0]["text"]
    assert any(button["payload"] == "/abrir_acionamento" for button in replies[0]["buttons"])


def test_socketio_channel_with_session_persistence_answers(assistant: Running) -> None:
    """credentials.yml keeps socket.io with `session_persistence: true` for integrators. Rasa 3.6 joins the
    session's room without awaiting it; with python-socketio >= 5.10 that never happens and every reply is lost.
    This conversation fails if the pin (python-socketio<5.10) is ever lost."""
    import threading

    import socketio

    replies: list[dict] = []
    answered = threading.Event()
    client = socketio.Client()

    @client.on("bot_uttered")
    def _on_reply(data: dict) -> None:
        replies.append(data)
        answered.set()

    confirmed = threading.Event()
    client.on("session_confirm", lambda _data: confirmed.set())
    client.connect(f"http://127.0.0.1:{assistant.rasa_port}", transports=["polling"], wait_timeout=30)
    try:
        client.emit("session_request", {"session_id": "socketio-t1"})
        assert confirmed.wait(30), "sem session_confirm do canal socket.io"
        client.emit("user_uttered", {"message": "oi", "session_id": "socketio-t1"})
        assert answered.wait(120), "o canal socket.io não entregou a resposta (bug da resposta perdida?)"
    finally:
        client.disconnect()
    assert "Olá" in replies[0]["text"]


def test_sigint_stops_launcher_and_all_children(assistant: Running) -> None:
    process = assistant.process
    assert process.poll() is None, "o launcher já tinha terminado:\n" + log_tail(assistant.log_path)
    children = descendants(process.pid)
    assert len(children) >= 3, f"esperava três processos filhos, achei {sorted(children)}"

    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail("o launcher não terminou após SIGINT:\n" + log_tail(assistant.log_path))
    assert code == 0, log_tail(assistant.log_path)

    deadline = time.monotonic() + 10
    while any(is_running(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    orphans = sorted(pid for pid in children if is_running(pid))
    assert not orphans, f"processos órfãos após SIGINT: {orphans}"
    for port in assistant.ports:
        assert not port_open(port), f"a porta {port} continua aberta"


def test_launcher_refuses_a_taken_port_in_one_line(tmp_path: Path) -> None:
    """The web port is taken (another `make run`?): one clear line, exit 1, nothing started or left behind."""
    require_trained_model()
    rasa_port, actions_port = free_port(), free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        web_port = blocker.getsockname()[1]
        process, log_path = start_launcher(tmp_path, rasa_port, actions_port, web_port)
        try:
            code = process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            kill_leftovers({process.pid} | descendants(process.pid))
            pytest.fail("o launcher não terminou com a porta ocupada:\n" + log_tail(log_path))
    output = log_path.read_text(encoding="utf-8", errors="replace")
    assert code == 1, output[-2000:]
    assert f"a porta {web_port} (a página da CSS) já está em uso" in output
    assert "Traceback" not in output
    leftovers = processes_mentioning("--port", str(rasa_port)) | processes_mentioning(
        "--port", str(actions_port)
    )
    kill_leftovers(leftovers)
    assert not leftovers, f"processos que ficaram rodando: {sorted(leftovers)}"


def test_launcher_fails_clearly_without_the_model(tmp_path: Path) -> None:
    missing = tmp_path / "nao-existe.tar.gz"
    process, log_path = start_launcher(
        tmp_path, free_port(), free_port(), free_port(), "--model", str(missing)
    )
    code = process.wait(timeout=STOP_TIMEOUT)
    output = log_path.read_text(encoding="utf-8")
    assert code == 1
    assert "modelo não encontrado" in output
    assert "Traceback" not in output


def test_endpoints_yml_points_rasa_at_the_launchers_action_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """endpoints.yml takes the URL from ${ACTION_ENDPOINT_URL}, which the launcher sets."""
    from bot.launcher import child_environment
    from rasa.utils.endpoints import read_endpoint_config

    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://stale.example:1/webhook")
    env = child_environment(actions_port=6123)
    assert env["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:6123/webhook"

    monkeypatch.setenv("ACTION_ENDPOINT_URL", env["ACTION_ENDPOINT_URL"])
    endpoint = read_endpoint_config(str(PROJECT_ROOT / "endpoints.yml"), "action_endpoint")
    assert endpoint is not None
    assert endpoint.url == "http://127.0.0.1:6123/webhook"

