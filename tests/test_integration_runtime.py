"""The runtime a public service can put online (contract §8), against the real servers on loopback.

One launcher for the module, production mode, over a temporary database; tests run in file order: the HTTP API is
closed without the token, CORS and socket.io only for CORS_ORIGINS, bad input at the edges, nothing personal at
rest in the conversation store, purge and erase through the staff CLI, supervision (the action server killed), and
last a full restart in the middle of a form.
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.test_integration_conversations import ANA, BRUNO, NEW_CONTACT, Assistant, Chat
from tests.test_integration_http import descendants, free_port, is_running, until_stopped

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODEL = PROJECT_ROOT / "models" / "assistente.tar.gz"
SECRET = "runtime-test-secret-with-more-than-32-bytes"
API_TOKEN = "runtime-test-api-token"
ALLOWED_ORIGIN = "http://integrador.exemplo.gov.br"
FOREIGN_ORIGIN = "http://pagina-qualquer.example"
NO_ANSWER_TIMEOUT = 60.0


@dataclass
class Runtime:
    """The running launcher and how to reach it; `restart()` stops every process and starts them again."""

    tmp_path: Path
    env: dict[str, str]
    rasa_port: int
    actions_port: int
    web_port: int
    assistant: Assistant
    process: subprocess.Popen | None = None

    @property
    def rasa(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def conversations_db(self) -> Path:
        return self.tmp_path / "conversas.db"

    def start(self, log_name: str = "launcher.log") -> subprocess.Popen:
        log = (self.tmp_path / log_name).open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.launcher", "--model", str(MODEL), "--rasa-port", str(self.rasa_port),
             "--actions-port", str(self.actions_port), "--web-port", str(self.web_port)],
            cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        return self.process

    def chat(self, who: str, cpf: str | None) -> Chat:
        return self.assistant.chat(who, self.assistant.token(cpf) if cpf else None)

    def stored_text(self) -> str:
        """Every row of the conversation database, as text."""
        with sqlite3.connect(self.conversations_db) as db:
            tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            rows = {table: db.execute(f"SELECT * FROM {table}").fetchall() for table in tables}
        return json.dumps(rows, ensure_ascii=False)

    def senders(self) -> set[str]:
        with sqlite3.connect(self.conversations_db) as db:
            return {sender for (sender,) in db.execute("SELECT DISTINCT sender_id FROM events")}


def request(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
            raw: bytes | None = None) -> tuple[int, dict[str, str], str]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8", "replace")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    if not MODEL.is_file():
        pytest.fail(f"modelo não encontrado: {MODEL} — rode `make model` / no trained model", pytrace=False)
    tmp_path = tmp_path_factory.mktemp("runtime")
    env = dict(os.environ)
    for variable in ("ASSISTENTE_ENV", "ASSISTENTE_PERSONA", "SMTP_HOST"):
        env.pop(variable, None)  # production
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'assistente.db'}", ASSISTENTE_SECRET=SECRET,
               RASA_API_TOKEN=API_TOKEN, CORS_ORIGINS=ALLOWED_ORIGIN)
    ports = free_port(), free_port(), free_port()
    assistant = Assistant(tmp_path / "launcher.log", ports[0], env)
    assistant.cli_text("db", "upgrade")
    assistant.cli_text("seed")
    running = Runtime(tmp_path, env, *ports, assistant)
    try:
        with until_stopped(running.start(), assistant.log_path):
            yield running  # the restart test stops and starts its own second launcher
    finally:
        assistant.save_transcripts()


# ---------------------------------------------------------------- 1. Rasa's HTTP API is closed


API_CALLS = [
    ("GET", "/conversations/qualquer-um/tracker", None),
    ("POST", "/conversations/qualquer-um/execute", {"name": "utter_saudacao"}),
    ("PUT", "/model", {"model_file": "/tmp/nao-existe.tar.gz"}),
    ("POST", "/model/parse", {"text": "oi"}),
    ("GET", "/status", None),
]


@pytest.mark.parametrize("method,path,body", API_CALLS)
def test_the_api_refuses_without_the_token(runtime: Runtime, method: str, path: str, body: Any) -> None:
    status, _, text = request(method, runtime.rasa + path, body)
    assert status == 401, text
    status, _, _ = request(method, runtime.rasa + path + "?token=errado", body)
    assert status == 401


def test_the_api_serves_with_the_token(runtime: Runtime) -> None:
    chat = runtime.chat("api", ANA[0])
    chat.say("oi")
    status, _, text = request("GET", f"{runtime.rasa}/conversations/{chat.sender}/tracker?token={API_TOKEN}")
    assert status == 200, text
    assert json.loads(text)["sender_id"] == chat.sender
    assert chat.token not in text and "eyJ" not in text  # not even through the API
    status, _, text = request("POST", f"{runtime.rasa}/model/parse", {"text": "oi"},
                              headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert status == 200 and json.loads(text)["intent"]["name"] == "cumprimentar", text


def test_a_foreign_origin_gets_no_cors_grant(runtime: Runtime) -> None:
    for method in ("GET", "OPTIONS"):
        _, headers, _ = request(method, f"{runtime.rasa}/conversations/x/tracker?token={API_TOKEN}",
                                headers={"Origin": FOREIGN_ORIGIN, "Access-Control-Request-Method": "GET"})
        granted = {key.lower(): value for key, value in headers.items()}.get("access-control-allow-origin")
        assert granted in (None, ""), f"CORS concedido a {FOREIGN_ORIGIN}: {granted}"
    _, headers, _ = request("POST", f"{runtime.rasa}/webhooks/rest/webhook", {"sender": "cors-1", "message": "oi"},
                            headers={"Origin": ALLOWED_ORIGIN})
    granted = {key.lower(): value for key, value in headers.items()}.get("access-control-allow-origin")
    assert granted == ALLOWED_ORIGIN


def test_socketio_only_for_configured_origins(runtime: Runtime) -> None:
    handshake = f"{runtime.rasa}/socket.io/?EIO=4&transport=polling"
    status, _, text = request("GET", handshake, headers={"Origin": FOREIGN_ORIGIN})
    assert status == 400, text
    status, headers, text = request("GET", handshake, headers={"Origin": ALLOWED_ORIGIN})
    assert status == 200 and '"sid"' in text, text


def test_action_server_listens_on_loopback_only(runtime: Runtime) -> None:
    listening = Path("/proc/net/tcp").read_text().splitlines()[1:]
    port_hex = f"{runtime.actions_port:04X}"
    local = [line.split()[1] for line in listening if line.split()[1].endswith(":" + port_hex)
             and line.split()[3] == "0A"]
    assert local == ["0100007F:" + port_hex], local  # 127.0.0.1, not 0.0.0.0


# ---------------------------------------------------------------- 6. bad input at the edges


BAD_BODIES = [
    b"{not json",
    b"[1, 2, 3]",
    json.dumps({"sender": "s" * 10_000, "message": "oi"}).encode(),
    json.dumps({"sender": 42, "message": "oi"}).encode(),
    json.dumps({"sender": "bad-1", "message": {"text": "oi"}}).encode(),
    json.dumps({"sender": "bad-2", "message": "oi", "metadata": ["token"]}).encode(),
    json.dumps({"sender": "bad-3", "message": "oi", "metadata": {"token": {"cpf": ANA[0]}}}).encode(),
    json.dumps({"sender": "bad-4", "message": "x" * 6000}).encode(),
    b'{"sender": "bad-5", "message": "' + b"y" * (2 * 1024 * 1024) + b'"}',
]


@pytest.mark.parametrize("raw", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_bad_webhook_bodies_get_a_clear_refusal(runtime: Runtime, raw: bytes) -> None:
    status, _, text = request("POST", f"{runtime.rasa}/webhooks/rest/webhook", raw=raw)
    assert 400 <= status < 500, (status, text[:300])
    assert "Traceback" not in text


def test_unknown_metadata_and_a_token_in_the_wrong_place_are_never_stored(runtime: Runtime) -> None:
    token = runtime.assistant.token(ANA[0])
    status, _, text = request("POST", f"{runtime.rasa}/webhooks/rest/webhook",
                              {"sender": "edge-1", "message": "oi", "metadata": {"cor": "azul", "token": token}})
    assert status == 200 and "Olá" in json.loads(text)[0]["text"], text
    status, _, text = request("POST", f"{runtime.rasa}/webhooks/rest/webhook",
                              {"sender": "edge-1", "message": f"meu token {token}"})
    assert status == 200, text
    status, _, text = request("POST", f"{runtime.rasa}/webhooks/rest/webhook?token={token}",
                              {"sender": "edge-1", "message": "oi"})
    assert status == 200, text
    stored = runtime.stored_text()
    assert token not in stored and "azul" not in stored
    log = runtime.assistant.log_path.read_text(encoding="utf-8", errors="replace")
    assert token not in log and "Traceback" not in log


# ---------------------------------------------------------------- 3. nothing personal at rest


def test_conversations_leave_no_token_and_no_personal_data_at_rest(runtime: Runtime) -> None:
    # A contact started with everything in it, then cancelled midway.
    ana = runtime.chat("ana-cancela", ANA[0])
    ana.say("quero incluir um contato")
    ana.say(NEW_CONTACT["name"])
    ana.say(NEW_CONTACT["typed_email"])
    ana.say(NEW_CONTACT["typed_cpf"])
    assert runtime.stored_text().count("[[pii:") >= 1  # while the form runs, only sealed
    ana.say("cancelar")
    # A ticket whose description carries a CPF and a phone, confirmed.
    bruno = runtime.chat("bruno-cpf", BRUNO[0])
    bruno.say("quero abrir um acionamento")
    bruno.click("Consulta CPF")
    bruno.click("Problema")
    bruno.click("Alto")
    bruno.say(f"A consulta do CPF {NEW_CONTACT['typed_cpf']} dá erro 500; me liguem no {NEW_CONTACT['typed_phone2']}")
    reply = bruno.click("Sim")
    assert "SS-" in reply, bruno.log()

    stored = runtime.stored_text()
    for value in (ANA[0], ANA[1], BRUNO[0], BRUNO[1], NEW_CONTACT["typed_cpf"], NEW_CONTACT["cpf"],
                  NEW_CONTACT["typed_email"], NEW_CONTACT["email"], "99123-4567", NEW_CONTACT["phone2"]):
        assert value not in stored, f"{value!r} guardado na base de conversas"
    assert "eyJ" not in stored
    assert "[[pii:" not in stored, "dados lacrados ficaram depois do fim dos formulários"
    assert "xxx.426.305-xx" in stored  # masked, as in the lists


# ---------------------------------------------------------------- retention and erasure


def test_erase_deletes_one_persons_conversations_and_nothing_else(runtime: Runtime) -> None:
    diego = runtime.chat("diego-apagar", "567.891.234-82")
    diego.say("oi")
    before = runtime.senders()
    assert diego.sender in before and any(s.startswith("ana-") for s in before)
    result = runtime.assistant.cli("conversations", "erase", "--cpf", "567.891.234-82")
    assert result["conversations"] == 1 and result["events"] > 0
    assert runtime.senders() == before - {diego.sender}


def test_purge_deletes_what_is_older_than_retention_and_nothing_else(runtime: Runtime) -> None:
    old = runtime.chat("antiga", None)
    old.say("oi")
    with sqlite3.connect(runtime.conversations_db) as db:
        db.execute("UPDATE events SET timestamp = timestamp - 40 * 86400 WHERE sender_id = ?", (old.sender,))
    before = runtime.senders()
    result = runtime.assistant.cli("conversations", "purge")
    assert result["older_than_days"] == 30 and result["conversations"] == 1
    assert runtime.senders() == before - {old.sender}
    assert runtime.assistant.cli("conversations", "purge", "--older-than-days", "30")["conversations"] == 0


# ---------------------------------------------------------------- 4. supervision


def proxy(runtime: Runtime, sender: str, message: str, token: str) -> tuple[int, dict]:
    status, _, text = request("POST", f"{runtime.web}/api/mensagem",
                              {"sender": sender, "message": message, "token": token})
    return status, json.loads(text)


def test_a_dead_action_server_gives_the_no_answer_message_then_comes_back(runtime: Runtime) -> None:
    token = runtime.assistant.token(ANA[0])
    sender = "supervisao-0001"
    status, body = proxy(runtime, sender, "quero abrir um acionamento", token)
    assert status == 200 and "serviço" in json.dumps(body, ensure_ascii=False), body
    status, body = proxy(runtime, sender, "Datavalid", token)
    assert status == 200, body

    actions = [pid for pid in descendants(runtime.process.pid)
               if f"--port {runtime.actions_port}" in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
               .decode()]
    assert actions, "servidor de ações não encontrado"
    for pid in actions:
        os.kill(pid, signal.SIGKILL)

    status, body = proxy(runtime, sender, "Problema", token)
    text = json.dumps(body, ensure_ascii=False)
    assert status != 200 or not body.get("replies"), body
    assert "0800 728 2323" in text and "css.serpro@serpro.gov.br" in text, text

    deadline = time.monotonic() + NO_ANSWER_TIMEOUT
    while True:
        status, body = proxy(runtime, sender, "Problema", token)
        if status == 200 and body.get("replies"):
            break
        assert time.monotonic() < deadline, "o servidor de ações não voltou em 60 s"
        time.sleep(2)
    text = json.dumps(body, ensure_ascii=False)
    assert "impacto" in text, f"a conversa não continuou de onde estava: {text}"
    log = runtime.assistant.log_path.read_text(encoding="utf-8", errors="replace")
    assert "o servidor de ações terminou" in log and "reiniciando" in log
    assert runtime.process.poll() is None


# ---------------------------------------------------------------- 2. a form survives a full restart (last)


def test_a_form_interrupted_by_a_full_restart_continues_where_it_was(runtime: Runtime) -> None:
    chat = runtime.chat("ana-reinicio", ANA[0])
    chat.say("quero incluir um contato")
    chat.say("Joana Reinício Prado")
    chat.say("Joana.Reinicio@exemplo.gov.br")
    chat.say("529.982.247-25")
    chat.expect("tipo do contato")
    stored = runtime.stored_text()
    assert "529.982.247-25" not in stored and "joana.reinicio" not in stored.lower()

    old = runtime.process
    children = descendants(old.pid)
    old.send_signal(signal.SIGTERM)
    assert old.wait(timeout=60) == 0
    assert not [pid for pid in children if is_running(pid)], "processos ficaram após o SIGTERM"

    with until_stopped(runtime.start("launcher-2.log"), runtime.tmp_path / "launcher-2.log"):
        chat.click("Corporativo")
        chat.expect("acrescentar outro tipo")
        chat.click("Não")
        chat.expect("telefone principal")
        chat.say("(61) 3411-2299")
        chat.click("Não tenho")
        chat.expect("veracidade")
        chat.click("Sim")
        chat.expect("Joana Reinício Prado", "joana.reinicio@exemplo.gov.br", "CPF: xxx.982.247-xx", "Posso cadastrar?")
        chat.click("Sim")
        chat.expect("primeiro acesso")
        added = [c for c in runtime.assistant.cli("contacts", "list", "--cnpj", "11222333000181")
                 if c["email"] == "joana.reinicio@exemplo.gov.br"]
        assert len(added) == 1 and added[0]["cpf"] == "52998224725", chat.log()
        stored = runtime.stored_text()
        assert "529.982.247-25" not in stored and "52998224725" not in stored and "[[pii:" not in stored
