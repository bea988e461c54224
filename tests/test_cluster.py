"""`make cluster` for real (contract §8): a throw-away PostgreSQL and Redis, two Rasa replicas and two action servers
behind the nginx configuration that deploy/ ships, the page and the scheduler — one cluster for the whole module.

Tests run in file order: one conversation across both replicas completes a ticket form; ten messages sent at once
to one conversation are all recorded, in order; a Redis outage gives the page's no-answer message and service
resumes; last, one Rasa replica is killed: conversations go on through the other and the supervisor brings it back.
A missing redis-server or nginx fails loudly (install hint), never skips.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests import pgserver, test_integration_http
from tests.test_integration_conversations import ANA, NUMBER, Assistant, Chat
from tests.test_integration_http import descendants, free_port, until_stopped

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODEL = PROJECT_ROOT / "models" / "assistente.tar.gz"
SECRET = "cluster-test-secret-with-more-than-32-bytes"
API_TOKEN = "cluster-test-api-token"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
NGINX = os.environ.get("NGINX_BIN", "/usr/sbin/nginx")
CLUSTER_READY_TIMEOUT = 600.0  # two Rasa replicas load TensorFlow and the model at once on 2 shared cores
REPLICA_BACK_TIMEOUT = 420.0
NO_ANSWER_TIMEOUT = 90.0
HUMAN_CHANNELS = ("0800 728 2323", "css.serpro@serpro.gov.br")


def fail_missing(what: str, package: str) -> None:
    pytest.fail(f"\n{'#' * 78}\n#  FALHA: {what} não encontrado — FAILED: {what} missing; the cluster tests cannot "
                f"run.\n#  Instale / install:  sudo apt-get install {package}\n{'#' * 78}", pytrace=False)


# ---------------------------------------------------------------- Redis, nginx's view, the cluster


@dataclass
class RedisServer:
    """A throw-away redis-server on a loopback port, no persistence; stop() and start() again for an outage."""

    port: int
    log_path: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with self.log_path.open("a", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + 20
        while not test_integration_http.port_open(self.port):
            assert self.process.poll() is None, self.log_path.read_text(encoding="utf-8", errors="replace")
            assert time.monotonic() < deadline, "redis-server não abriu a porta em 20 s"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if not os.access(REDIS_SERVER, os.X_OK):
        fail_missing("redis-server", "redis-server")
    server = RedisServer(free_port(), tmp_path_factory.mktemp("redis") / "redis.log")
    server.start()
    yield server
    server.stop()


@dataclass
class Cluster:
    assistant: Assistant
    process: subprocess.Popen
    redis: RedisServer
    rasa_port: int
    web_port: int
    rasa_replica_ports: tuple[int, int]

    @property
    def log(self) -> str:
        return self.assistant.log_path.read_text(encoding="utf-8", errors="replace")

    def chat(self, who: str, cpf: str | None) -> "ClusterChat":
        chat = ClusterChat(self.rasa_port, f"{who}-{uuid.uuid4().hex[:10]}", self.assistant.token(cpf) if cpf else None)
        self.assistant.chats.append(chat)
        return chat

    def tracker(self, sender: str) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.rasa_port}/conversations/{sender}/tracker?token={API_TOKEN}"
        with urllib.request.urlopen(url, timeout=60) as response:
            return json.loads(response.read())

    def access_log_with(self, text: str, seconds: float = 10.0) -> str:
        """nginx's access log once it records `text`: nginx writes a request's line when it finalizes the request,
        which can be just after the client has read the whole response."""
        path = self.nginx_dir() / "access.log"
        deadline = time.monotonic() + seconds
        while True:
            access = path.read_text(encoding="utf-8")
            if text in access or time.monotonic() > deadline:
                assert text in access, f"o nginx não registrou {text} em {seconds:.0f} s"
                return access
            time.sleep(0.1)

    def nginx_dir(self) -> Path:
        found = re.search(r"configuration and logs in (\S+)", self.log)
        assert found, "o launcher não disse onde estão os registros do nginx"
        return Path(found.group(1))

    def page(self, sender: str, message: str, token: str) -> tuple[int, dict[str, Any]]:
        """One message through the page's own endpoint, as the browser sends it."""
        body = json.dumps({"sender": sender, "message": message, "token": token}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.web_port}/api/mensagem", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=NO_ANSWER_TIMEOUT) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")


@dataclass
class ClusterChat(Chat):
    """A Chat that also records which replica (nginx's X-Upstream header) answered each turn."""

    upstreams: list[str] = field(default_factory=list)

    def say(self, message: str) -> str:
        body: dict[str, Any] = {"sender": self.sender, "message": message}
        if self.token is not None:
            body["metadata"] = {"token": self.token}
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook",
            data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=NO_ANSWER_TIMEOUT) as response:
                self.upstreams.append(response.headers.get("X-Upstream", ""))
                self.replies = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            pytest.fail(f"o nginx respondeu {error.code} a {message!r}\n{self.log()}", pytrace=False)
        self.transcript.append(f"usuário: {message}")
        self.transcript += [f"assistente: {reply.get('text', '')}" for reply in self.replies]
        return self.text


def consecutive_free_ports(count: int) -> int:
    """The first of `count` consecutive free loopback ports (the launcher numbers replicas from a base port)."""
    for _ in range(50):
        base = free_port()
        if base + count < 65536 and all(_bindable(base + i) for i in range(count)):
            return base
    raise RuntimeError("sem portas livres consecutivas")


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, postgres_server: pgserver.PostgresServer,
            redis_server: RedisServer) -> Iterator[Cluster]:
    if not MODEL.is_file():
        pytest.fail(f"modelo não encontrado: {MODEL} — rode `make model` / no trained model", pytrace=False)
    if not os.access(NGINX, os.X_OK):
        fail_missing("nginx", "nginx")
    tmp_path = tmp_path_factory.mktemp("cluster")
    env = dict(os.environ)
    for variable in ("ASSISTENTE_ENV", "ASSISTENTE_PERSONA", "SMTP_HOST", "SANIC_WORKERS"):
        env.pop(variable, None)  # production
    database_url = postgres_server.create_database()  # empty: the launcher migrates and seeds it
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_server.url, ASSISTENTE_SECRET=SECRET,
               RASA_API_TOKEN=API_TOKEN, RASA_REPLICAS="2", ACTION_REPLICAS="2")
    rasa_port, actions_port, web_port = free_port(), free_port(), free_port()
    rasa_base, action_base = consecutive_free_ports(2), consecutive_free_ports(2)
    assistant = Assistant(tmp_path / "launcher.log", rasa_port, env)
    with assistant.log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.launcher", "--cluster", "--model", str(MODEL),
             "--rasa-port", str(rasa_port), "--actions-port", str(actions_port), "--web-port", str(web_port),
             "--rasa-replica-port", str(rasa_base), "--action-replica-port", str(action_base),
             "--ready-timeout", str(CLUSTER_READY_TIMEOUT)],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    ready_timeout = test_integration_http.READY_TIMEOUT
    test_integration_http.READY_TIMEOUT = CLUSTER_READY_TIMEOUT
    started = time.monotonic()
    try:
        with until_stopped(process, assistant.log_path):
            test_integration_http.READY_TIMEOUT = ready_timeout
            print(f"\ncluster pronto em {time.monotonic() - started:.0f} s / cluster ready")
            yield Cluster(assistant, process, redis_server, rasa_port, web_port, (rasa_base, rasa_base + 1))
    finally:
        test_integration_http.READY_TIMEOUT = ready_timeout
        assistant.save_transcripts()
        postgres_server.drop_database(database_url)


# ---------------------------------------------------------------- the shipped configuration, as nginx reads it


def test_nginx_accepts_the_rendered_configuration(tmp_path: Path) -> None:
    if not os.access(NGINX, os.X_OK):
        fail_missing("nginx", "nginx")
    from bot import cluster as cluster_module

    ports = cluster_module.Ports(free_port(), free_port(), free_port(), (free_port(), free_port()), (free_port(),))
    config = cluster_module.render_nginx(tmp_path, "127.0.0.1", ports)
    done = subprocess.run([*cluster_module.nginx_command(config), "-t"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------- (a) one conversation across both replicas


def test_a_ticket_form_completes_with_turns_on_both_replicas(cluster: Cluster) -> None:
    chat = cluster.chat("ana-cluster", ANA[0])
    chat.say("bom dia")
    chat.click("Abrir acionamento")
    chat.click("Consulta CNPJ")
    chat.click("Problema")
    chat.click("Alto")
    chat.say("A Consulta CNPJ responde com erro 503 em todas as chamadas desde as oito horas da manhã.")
    chat.expect("Posso registrar?")
    number = NUMBER.search(chat.click("Sim"))
    assert number, f"sem número do acionamento\n{chat.log()}"

    replicas = {f"127.0.0.1:{port}" for port in cluster.rasa_replica_ports}
    assert set(chat.upstreams) == replicas, f"turnos por réplica: {chat.upstreams}"
    tickets = cluster.assistant.cli("tickets", "list")
    assert [t["number"] for t in tickets if t["number"] == number.group()] == [number.group()]


# ---------------------------------------------------------------- (b) ten messages at once, one conversation


def test_ten_messages_at_once_are_all_recorded_in_order_of_arrival(cluster: Cluster) -> None:
    sender = f"rajada-{uuid.uuid4().hex[:10]}"
    messages = [f"mensagem de teste número {i}" for i in range(10)]
    answered: dict[int, int] = {}

    def send(index: int) -> None:
        time.sleep(index * 0.25)  # arrival order fixed, every turn still in flight together with the others
        body = json.dumps({"sender": sender, "message": messages[index]}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{cluster.rasa_port}/webhooks/rest/webhook", data=body,
                                         method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=NO_ANSWER_TIMEOUT * 2) as response:
            answered[index] = response.status

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(messages))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=NO_ANSWER_TIMEOUT * 3)
    assert answered == {i: 200 for i in range(len(messages))}, answered

    events = cluster.tracker(sender)["events"]
    recorded = [event["text"] for event in events if event["event"] == "user"]
    assert recorded == messages, recorded
    kinds = [event["event"] if event["event"] == "user" else event.get("name") for event in events
             if event["event"] == "user" or (event["event"] == "action" and event.get("name") == "action_listen")]
    for position, kind in enumerate(kinds[:-1]):  # no turn began before the previous one ended
        if kind == "user":
            assert kinds[position + 1] == "action_listen", f"turnos intercalados: {kinds}"

    access = cluster.access_log_with("/conversations/")
    assert "token=" not in access and API_TOKEN not in access


# ---------------------------------------------------------------- (d) Redis down, then back


def test_a_redis_outage_gives_the_no_answer_message_then_service_resumes(cluster: Cluster) -> None:
    token = cluster.assistant.token(ANA[0])
    sender = f"redis-{uuid.uuid4().hex[:10]}"
    status, body = cluster.page(sender, "oi", token)
    assert status == 200 and body.get("replies"), body

    cluster.redis.stop()
    try:
        status, body = cluster.page(sender, "quero abrir um acionamento", token)
        text = json.dumps(body, ensure_ascii=False)
        assert status != 200 or not body.get("replies"), body
        assert all(channel in text for channel in HUMAN_CHANNELS), text
    finally:
        cluster.redis.start()

    deadline = time.monotonic() + NO_ANSWER_TIMEOUT
    while True:
        status, body = cluster.page(sender, "quero abrir um acionamento", token)
        if status == 200 and body.get("replies"):
            break
        assert time.monotonic() < deadline, f"o serviço não voltou com o Redis: {body}"
        time.sleep(2)
    assert "serviço" in json.dumps(body, ensure_ascii=False), body


# ---------------------------------------------------------------- (c) one replica killed (last: it reloads slowly)


def replica_pids(cluster: Cluster, port: int) -> list[int]:
    found = []
    for pid in descendants(cluster.process.pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if " run " in cmdline and "actions" not in cmdline.split(" run ")[1][:10] and f"--port {port} " in cmdline:
            found.append(pid)
    return found


def test_a_killed_replica_leaves_the_other_serving_and_comes_back(cluster: Cluster) -> None:
    killed, survivor = cluster.rasa_replica_ports
    pids = replica_pids(cluster, killed)
    assert pids, "réplica Rasa não encontrada"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)

    chat = cluster.chat("ana-sobrevive", ANA[0])
    chat.say("quero abrir um acionamento")
    chat.click("Consulta CNPJ")
    chat.click("Problema")
    chat.expect("impacto")
    assert set(chat.upstreams) <= {f"127.0.0.1:{survivor}", f"127.0.0.1:{killed}, 127.0.0.1:{survivor}"}, \
        chat.upstreams

    deadline = time.monotonic() + REPLICA_BACK_TIMEOUT
    while "o servidor Rasa 1 voltou a responder" not in cluster.log:
        assert time.monotonic() < deadline, "a réplica não voltou:\n" + cluster.log[-3000:]
        assert cluster.process.poll() is None, "o launcher terminou"
        time.sleep(2)
    assert "o servidor Rasa 1 terminou" in cluster.log and "reiniciando" in cluster.log
    chat.click("Alto")
    chat.say("Depois da queda de uma réplica, a Consulta CNPJ continua lenta para todos os usuários.")
    chat.click("Sim")
    assert NUMBER.search(chat.text), chat.log()
    assert f"127.0.0.1:{killed}" in chat.upstreams[-3:], chat.upstreams
