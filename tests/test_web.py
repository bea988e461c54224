"""The CSS page's server without a browser and without Rasa: static files, the widget's API (personas, sign-in,
the proxy to Rasa's REST channel and its failures), the e-mail link pages and the background mail delivery.

The server runs in a thread on a free loopback port over the in-memory service desk of conftest; a small fake
Rasa stands in for the REST channel where the proxy is tested.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlparse

import pytest
from aiosmtpd.controller import Controller

from backend import identity
from backend.clock import now_utc
from backend.db import Database
from backend.desk import ServiceDesk
from bot import web
from tests.conftest import TEST_SECRET
from tests.test_outbox import CollectingHandler, free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SOLUTION = "Cache do relatório limpo; o relatório abre normalmente."
REASON = "O relatório voltou a ficar em branco hoje de manhã."
SENDER = "web-0123456789abcdef"
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# The page's server only calls ServiceDesk, whose every rule runs on PostgreSQL in the backend and action suites.
pytestmark = pytest.mark.databases("sqlite")


# ---------------------------------------------------------------- helpers


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def call(method: str, url: str, data: bytes | None = None, content_type: str | None = None) -> Reply:
    request = urllib.request.Request(url, data=data, method=method)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with _DIRECT.open(request, timeout=30) as response:
            return Reply(response.status, dict(response.headers), response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read().decode("utf-8"))


def post_json(url: str, body: Any) -> Reply:
    return call("POST", url, json.dumps(body).encode("utf-8"), "application/json")


def post_form(url: str, fields: dict[str, str]) -> Reply:
    return call("POST", url, urlencode(fields).encode("utf-8"), "application/x-www-form-urlencoded")


@contextmanager
def serving(app: web.WebApp) -> Iterator[str]:
    server = web.make_server("127.0.0.1", 0, app, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class FakeRasa:
    """Rasa's REST webhook as the proxy sees it: records requests, answers what the test says."""

    url: str = ""
    requests: list[dict] = field(default_factory=list)
    status: int = 200
    body: bytes = b"[]"
    delay: float = 0.0
    script: Callable[[dict], Any] | None = None  # request body -> replies (overrides status/body)

    def answer(self, replies: Any) -> None:
        self.status, self.body = 200, json.dumps(replies).encode("utf-8")


@pytest.fixture
def rasa() -> Iterator[FakeRasa]:
    fake = FakeRasa()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers["Content-Length"])
            body = json.loads(self.rfile.read(length))
            fake.requests.append({"path": self.path, "body": body})
            time.sleep(fake.delay)
            status, payload = fake.status, fake.body
            if fake.script is not None:
                status, payload = 200, json.dumps(fake.script(body)).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/rest/webhook"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def site(desk: ServiceDesk, rasa: FakeRasa) -> Iterator[str]:
    """The page server in development mode (personas on)."""
    with serving(web.WebApp(desk, rasa.url, development=True, reply_timeout=5)) as base:
        yield base


@pytest.fixture
def production_site(desk: ServiceDesk, rasa: FakeRasa) -> Iterator[str]:
    with serving(web.WebApp(desk, rasa.url, development=False, reply_timeout=5)) as base:
        yield base


def link_path(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.path}?{parsed.query}"


def token_of(url: str) -> str:
    return unquote(parse_qs(urlparse(url).query)["t"][0])


@pytest.fixture
def resolved(desk: ServiceDesk, personas: dict[str, int]) -> str:
    number = desk.open_ticket(personas["ana"], "Área do Cliente", "problema",
                              "O relatório de consumo não abre.\nAparece uma tela em branco.", "medio")["number"]
    desk.staff_resolve(number, SOLUTION)
    return number


def state(desk: ServiceDesk, number: str) -> tuple:
    ticket = desk.staff_show(number)
    return ticket["status"], ticket["evaluation"], len(ticket["history"]), len(desk.outbox())


# ---------------------------------------------------------------- the page


def test_page_states_the_css_facts(site: str) -> None:
    page = call("GET", f"{site}/")
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    for fact in ("Central de Serviços Serpro", "24x7", "0800 728 2323", "css.serpro@serpro.gov.br",
                 "centraldeajuda.serpro.gov.br", "loja.serpro.gov.br"):
        assert fact in page.text
    assert 'lang="pt-BR"' in page.text


def test_page_has_an_accessible_chat_widget(site: str) -> None:
    page = call("GET", f"{site}/").text
    assert 'id="abrir-chat"' in page and 'aria-controls="painel-chat"' in page and 'aria-expanded="false"' in page
    assert 'role="log"' in page and 'aria-live="polite"' in page
    assert '<label for="entrada"' in page
    assert 'aria-label="Fechar o chat"' in page


def test_page_runs_no_inline_code_under_a_strict_policy(site: str) -> None:
    page = call("GET", f"{site}/")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    scripts = re.findall(r"<script[^>]*>", page.text)
    assert scripts and all("src=" in tag for tag in scripts), scripts
    assert " style=" not in page.text and "<style" not in page.text
    assert not re.search(r"\son[a-z]+=", page.text), "inline event handlers would be blocked by the policy"


def test_widget_never_writes_html(site: str) -> None:
    script = call("GET", f"{site}/chat.js")
    assert script.status == 200
    assert script.headers["Content-Type"].startswith("text/javascript")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script.text, sink


@pytest.mark.parametrize("path", ["/style.css", "/favicon.svg", "/healthz"])
def test_assets_are_served(site: str, path: str) -> None:
    assert call("GET", f"{site}{path}").status == 200


@pytest.mark.parametrize("path", ["/web.py", "/static/chat.js", "/../backend/config.py", "/%2e%2e/.env",
                                  "/.env", "/bot/", "/nada"])
def test_nothing_else_is_published(site: str, path: str) -> None:
    reply = call("GET", f"{site}{path}")
    assert reply.status == 404
    assert "Página não encontrada" in reply.text


# ---------------------------------------------------------------- "entrar como"


def test_personas_are_listed_in_development(site: str) -> None:
    reply = call("GET", f"{site}/api/personas")
    assert reply.status == 200
    personas = reply.json()["personas"]
    assert [p["persona"] for p in personas] == ["ana", "bruno", "carla", "diego"]
    assert personas[0] == {"persona": "ana", "name": "Ana Souza", "company": "Secretaria Exemplo de Gestão",
                           "profiles": ["Financeiro", "Representante Legal"]}


def test_sign_in_mints_a_token_for_the_persona(site: str, desk: ServiceDesk) -> None:
    reply = post_json(f"{site}/api/entrar", {"persona": "bruno"})
    assert reply.status == 200
    data = reply.json()
    assert (data["persona"], data["name"]) == ("bruno", "Bruno Lima")
    assert desk.identify(data["token"])["email"] == "bruno.lima@exemplo.gov.br"


@pytest.mark.parametrize("body", [{"persona": "mallory"}, {"persona": None}, {}])
def test_unknown_persona_is_refused(site: str, body: dict) -> None:
    reply = post_json(f"{site}/api/entrar", body)
    assert reply.status == 400
    assert reply.json()["error"]["code"] == "persona_desconhecida"


def test_sign_in_needs_json(site: str) -> None:
    reply = call("POST", f"{site}/api/entrar", b"persona=ana", "application/x-www-form-urlencoded")
    assert reply.status == 415
    reply = call("POST", f"{site}/api/entrar", b"{not json", "application/json")
    assert reply.status == 400


def test_production_has_no_personas_and_no_sign_in(production_site: str) -> None:
    assert call("GET", f"{production_site}/api/personas").status == 404
    reply = post_json(f"{production_site}/api/entrar", {"persona": "ana"})
    assert reply.status == 404
    assert "token" not in reply.text


# ---------------------------------------------------------------- the proxy to Rasa


def test_message_goes_to_rasa_with_the_token_as_metadata(site: str, rasa: FakeRasa) -> None:
    rasa.answer([
        {"recipient_id": SENDER, "text": "Olá!\nComo posso ajudar?",
         "buttons": [{"title": "Abrir acionamento", "payload": "/abrir_acionamento"}]},
        {"recipient_id": SENDER, "image": "http://exemplo/x.png"},
        {"recipient_id": SENDER, "text": "<b>negrito?</b>", "buttons": [{"title": 3, "payload": "x"}]},
    ])
    reply = post_json(f"{site}/api/mensagem", {"sender": SENDER, "message": "oi", "token": "T0K3N"})
    assert reply.status == 200
    assert reply.json() == {"replies": [
        {"text": "Olá!\nComo posso ajudar?", "buttons": [{"title": "Abrir acionamento", "payload": "/abrir_acionamento"}]},
        {"text": "<b>negrito?</b>"},  # passed on as text: the widget shows it, never renders it
    ]}
    assert rasa.requests == [{"path": "/webhooks/rest/webhook",
                              "body": {"sender": SENDER, "message": "oi", "metadata": {"token": "T0K3N"}}}]


def test_signed_out_message_carries_no_metadata(site: str, rasa: FakeRasa) -> None:
    rasa.answer([{"text": "Olá!"}])
    assert post_json(f"{site}/api/mensagem", {"sender": SENDER, "message": "oi"}).status == 200
    assert rasa.requests[0]["body"] == {"sender": SENDER, "message": "oi"}


def assert_no_reply(reply: Reply, status: int) -> None:
    assert reply.status == status
    error = reply.json()["error"]
    assert error["code"] == "sem_resposta"
    for channel in ("24x7", "0800 728 2323", "css.serpro@serpro.gov.br"):
        assert channel in error["message"]


def test_rasa_not_listening_is_told_in_portuguese(desk: ServiceDesk) -> None:
    app = web.WebApp(desk, f"http://127.0.0.1:{free_port()}/webhooks/rest/webhook", development=True)
    with serving(app) as base:
        reply = post_json(f"{base}/api/mensagem", {"sender": SENDER, "message": "oi"})
    assert_no_reply(reply, 502)
    assert reply.json()["error"]["message"].startswith("Não consegui responder agora.")


def test_empty_answer_is_no_answer(site: str, rasa: FakeRasa) -> None:
    # What Rasa sends when the action server is down: 200 and an empty list.
    rasa.answer([])
    assert_no_reply(post_json(f"{site}/api/mensagem", {"sender": SENDER, "message": "quero abrir um acionamento"}), 502)


def test_answer_without_text_or_buttons_is_no_answer(site: str, rasa: FakeRasa) -> None:
    rasa.answer([{"recipient_id": SENDER, "custom": {"x": 1}}])
    assert_no_reply(post_json(f"{site}/api/mensagem", {"sender": SENDER, "message": "oi"}), 502)


@pytest.mark.parametrize("status, body", [(500, b'{"error": "boom"}'), (200, b"<html>not json"), (200, b'{"a": 1}')])
def test_broken_answer_is_no_answer(site: str, rasa: FakeRasa, status: int, body: bytes) -> None:
    rasa.status, rasa.body = status, body
    assert_no_reply(post_json(f"{site}/api/mensagem", {"sender": SENDER, "message": "oi"}), 502)


def test_slow_answer_is_cut_off(desk: ServiceDesk, rasa: FakeRasa) -> None:
    rasa.answer([{"text": "tarde demais"}])
    rasa.delay = 3
    with serving(web.WebApp(desk, rasa.url, development=True, reply_timeout=0.5)) as base:
        reply = post_json(f"{base}/api/mensagem", {"sender": SENDER, "message": "oi"})
    assert_no_reply(reply, 504)


@pytest.mark.parametrize("body, status, code", [
    ({"sender": "x", "message": "oi"}, 400, "remetente_invalido"),
    ({"sender": "web-<script>alert(1)</script>", "message": "oi"}, 400, "remetente_invalido"),
    ({"message": "oi"}, 400, "remetente_invalido"),
    ({"sender": SENDER, "message": "   "}, 400, "mensagem_vazia"),
    ({"sender": SENDER, "message": 42}, 400, "mensagem_vazia"),
    ({"sender": SENDER, "message": "a" * 5001}, 413, "mensagem_longa"),
    ({"sender": SENDER, "message": "oi", "token": {"forged": True}}, 400, "token_invalido"),
])
def test_malformed_messages_never_reach_rasa(site: str, rasa: FakeRasa, body: dict, status: int, code: str) -> None:
    reply = post_json(f"{site}/api/mensagem", body)
    assert (reply.status, reply.json()["error"]["code"]) == (status, code)
    assert rasa.requests == []


def test_oversized_body_is_refused_unread(site: str, rasa: FakeRasa) -> None:
    reply = call("POST", f"{site}/api/mensagem", b"{" + b" " * (web.MAX_BODY + 1) + b"}", "application/json")
    assert reply.status == 413
    assert rasa.requests == []


def test_api_answers_only_its_methods(site: str) -> None:
    assert call("GET", f"{site}/api/mensagem").status == 405
    assert post_json(f"{site}/api/outra", {}).status == 404


# ---------------------------------------------------------------- the server itself


def test_server_names_no_versions_and_every_answer_has_the_headers(site: str) -> None:
    for path in ("/", "/nada", "/api/nada", "/acessibilidade"):
        reply = call("GET", f"{site}{path}")
        assert reply.headers["Server"] == web.SERVER_NAME, path
        assert "Python" not in reply.headers["Server"] and "aiohttp" not in reply.headers["Server"]
        assert reply.headers["Content-Security-Policy"] == web.SECURITY_HEADERS["Content-Security-Policy"], path
        assert reply.headers["X-Frame-Options"] == "DENY"


def test_head_answers_without_a_body(site: str) -> None:
    reply = call("HEAD", f"{site}/")
    assert (reply.status, reply.text) == (200, "")
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"


def test_body_without_a_length_is_refused(site: str, rasa: FakeRasa) -> None:
    def chunks() -> Iterator[bytes]:
        yield json.dumps({"sender": SENDER, "message": "oi"}).encode("utf-8")

    request = urllib.request.Request(f"{site}/api/mensagem", data=chunks(), method="POST",
                                     headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    with pytest.raises(urllib.error.HTTPError) as refused_request:
        _DIRECT.open(request, timeout=30)
    assert refused_request.value.code == 411
    assert rasa.requests == []


# ---------------------------------------------------------------- eMAG and LGPD on the page


def test_page_has_the_emag_bar_with_access_keys(site: str) -> None:
    page = call("GET", f"{site}/").text
    keys = dict((key, target) for target, key in re.findall(r'<a href="#([a-z]+)" accesskey="(\d)"', page))
    assert keys == {"1": "conteudo", "2": "menu", "4": "rodape"}  # no search on the site, so no Alt+3
    for target in ("conteudo", "menu", "rodape"):
        assert re.search(rf'id="{target}"[^>]*tabindex="-1"', page), f"#{target} must take the focus"
    assert 'id="alto-contraste"' in page and 'aria-pressed="false"' in page
    assert '<script src="/acessibilidade.js"></script>' in page  # in <head>, before the page is painted
    assert 'href="/acessibilidade"' in page and 'href="/privacidade"' in page


def test_chat_states_what_it_keeps_before_the_first_message(desk: ServiceDesk, rasa: FakeRasa) -> None:
    with serving(web.WebApp(desk, rasa.url, development=False, retention_days=12)) as base:
        page = call("GET", f"{base}/").text
    notice = re.search(r'<p id="aviso-lgpd"[^>]*>(.*?)</p>', page, re.S).group(1)
    assert "12 dias" in notice and "mascarados" in notice and 'href="/privacidade"' in notice
    assert page.index('id="aviso-lgpd"') < page.index('id="mensagens"')
    assert "{{" not in page
    assert 'id="apagar-conversa"' in page and 'id="confirmar-apagar" ' in page and "Sim, apagar" in page


def test_accessibility_page_states_conformance_shortcuts_and_how_to_report(site: str) -> None:
    reply = call("GET", f"{site}/acessibilidade")
    assert reply.status == 200
    for text in ("eMAG 3.1", "WCAG 2.1, nível AA", "<kbd>Alt</kbd> + <kbd>1</kbd>", "<kbd>Alt</kbd> + <kbd>2</kbd>",
                 "<kbd>Alt</kbd> + <kbd>4</kbd>", "Alto contraste", "Relatar uma barreira", "0800 728 2323",
                 "css.serpro@serpro.gov.br", "axe-core"):
        assert text in reply.text, text


def test_privacy_page_states_what_how_long_and_why(desk: ServiceDesk, rasa: FakeRasa) -> None:
    with serving(web.WebApp(desk, rasa.url, development=False, retention_days=45)) as base:
        reply = call("GET", f"{base}/privacidade")
    assert reply.status == 200
    for text in ("LGPD", "<strong>45 dias</strong>", "Para quê", "xxx.456.789-xx", "Apagar esta conversa",
                 "nunca é guardada", "0800 728 2323"):
        assert text in reply.text, text


def test_link_forms_carry_the_bar_but_no_script(site: str, desk: ServiceDesk, resolved: str) -> None:
    page = call("GET", site + link_path(desk.links.follow(resolved))).text
    assert 'accesskey="1"' in page and 'id="rodape"' in page and 'id="menu"' in page
    assert "<script" not in page and 'id="alto-contraste"' not in page


# ---------------------------------------------------------------- "Apagar esta conversa"


@pytest.fixture
def tracker_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The real conversation store (Rasa's SQL tracker store, ours) over a SQLite file, as the Rasa server runs it."""
    from rasa.shared.core.domain import Domain

    from bot.conversation_store import PrivateTrackerStore

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'assistente.db'}")
    monkeypatch.setenv("ASSISTENTE_SECRET", TEST_SECRET)
    monkeypatch.delenv("ASSISTENTE_PERSONA", raising=False)
    store = PrivateTrackerStore(domain=Domain.load(str(PROJECT_ROOT / "domain.yml")))
    yield store
    store.engine.dispose()


def converse(store: Any, sender: str, token: str) -> None:
    """Two turns of a signed-in conversation, stored as the Rasa server stores them."""
    import asyncio

    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker(sender, store.domain.slots)
    for text in ("oi", "quero ver meus acionamentos"):
        tracker.update(UserUttered(text, {"name": "cumprimentar", "confidence": 0.9}, metadata={"token": token}))
        tracker.update(ActionExecuted("utter_saudacao"))
        tracker.update(BotUttered("Olá!"))
        asyncio.run(store.save(tracker))


def stored(store: Any, sender: str) -> tuple[int, int]:
    """(events, owner rows) the tracker database holds for a conversation."""
    from sqlalchemy import text

    with store.engine.connect() as connection:
        events = connection.scalar(text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender})
        owners = connection.scalar(text("SELECT count(*) FROM conversation_owners WHERE sender_id = :s"), {"s": sender})
    return events, owners


@pytest.fixture
def erasing_site(desk: ServiceDesk, rasa: FakeRasa, tracker_store: Any) -> Iterator[str]:
    from backend.config import load_settings

    app = web.WebApp(desk, rasa.url, development=False, conversations_url=load_settings().conversations_url)
    with serving(app) as base:
        yield base


def test_erasing_leaves_nothing_of_that_conversation(erasing_site: str, desk: ServiceDesk, tracker_store: Any) -> None:
    mine, other = "web-" + "a" * 32, "web-" + "b" * 32
    converse(tracker_store, mine, desk.issue_token("23456789173"))
    converse(tracker_store, other, desk.issue_token("34567891228"))
    assert stored(tracker_store, mine)[0] > 0 and stored(tracker_store, mine)[1] == 1
    before_other = stored(tracker_store, other)

    reply = post_json(f"{erasing_site}/api/apagar", {"sender": mine})

    assert reply.status == 200
    assert reply.json()["apagada"] is True and reply.json()["eventos"] > 0
    assert stored(tracker_store, mine) == (0, 0)
    assert stored(tracker_store, other) == before_other  # only the conversation the browser names
    again = post_json(f"{erasing_site}/api/apagar", {"sender": mine})  # nothing left: still a calm answer
    assert (again.status, again.json()["eventos"]) == (200, 0)


@pytest.mark.parametrize("body, status, code", [
    ({}, 400, "remetente_invalido"),
    ({"sender": "x"}, 400, "remetente_invalido"),
    ({"sender": "web-%' OR 1=1 --"}, 400, "remetente_invalido"),
    ({"sender": ["web-" + "a" * 32]}, 400, "remetente_invalido"),
])
def test_erasing_needs_a_conversation_id(erasing_site: str, desk: ServiceDesk, tracker_store: Any,
                                         body: dict, status: int, code: str) -> None:
    sender = "web-" + "c" * 32
    converse(tracker_store, sender, desk.issue_token("23456789173"))
    before = stored(tracker_store, sender)
    reply = post_json(f"{erasing_site}/api/apagar", body)
    assert (reply.status, reply.json()["error"]["code"]) == (status, code)
    assert stored(tracker_store, sender) == before


def test_erasing_answers_only_json_posts(erasing_site: str) -> None:
    assert call("GET", f"{erasing_site}/api/apagar").status == 405
    form = call("POST", f"{erasing_site}/api/apagar", b"sender=web-aaaaaaaaaaaa", "application/x-www-form-urlencoded")
    assert form.status == 415  # a cross-site form cannot erase a conversation


def test_erasing_with_the_store_unreachable_is_told_in_portuguese(desk: ServiceDesk, rasa: FakeRasa,
                                                                   tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nao-existe' / 'conversas.db'}"
    with serving(web.WebApp(desk, rasa.url, development=False, conversations_url=url)) as base:
        reply = post_json(f"{base}/api/apagar", {"sender": "web-" + "d" * 32})
    assert reply.status == 503
    assert reply.json()["error"]["code"] == "indisponivel"
    assert "0800 728 2323" in reply.json()["error"]["message"]


# ---------------------------------------------------------------- the follow-up link


def test_follow_up_page_shows_state_level_deadline_and_history(site: str, desk: ServiceDesk, resolved: str) -> None:
    reply = call("GET", site + link_path(desk.links.follow(resolved)))
    assert reply.status == 200
    page = reply.text
    ticket = desk.staff_show(resolved)
    assert f"Acionamento <span class=\"numero\">{resolved}</span>" in page
    assert 'data-situacao="resolvido"' in page
    assert "Nível de suporte</dt><dd>N1" in page
    assert "(horário de Brasília)" in page
    assert ticket["due_at"] is not None
    for label in ("Acionamento registrado", "Solução registrada"):
        assert label in page
    assert SOLUTION in page
    assert "O relatório de consumo não abre.\nAparece uma tela em branco." in page  # line break kept (pre-wrap)
    assert "0800 728 2323" in page and "css.serpro@serpro.gov.br" in page


def test_follow_up_page_escapes_what_users_wrote(site: str, desk: ServiceDesk, personas: dict[str, int]) -> None:
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)> & "aspas"'
    number = desk.open_ticket(personas["ana"], "Datavalid", "duvida", attack)["number"]
    desk.complement(personas["ana"], number, "<b>complemento</b>")
    page = call("GET", site + link_path(desk.links.follow(number))).text
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>complemento" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &quot;aspas&quot;" in page
    assert "&lt;b&gt;complemento&lt;/b&gt;" in page


def refused(reply: Reply, message: str) -> None:
    assert reply.status == 403
    assert "Não foi possível abrir este link" in reply.text
    assert message in reply.text
    assert "0800 728 2323" in reply.text and "css.serpro@serpro.gov.br" in reply.text


def test_tampered_follow_link_is_refused(site: str, desk: ServiceDesk, resolved: str) -> None:
    token = token_of(desk.links.follow(resolved))
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    refused(call("GET", f"{site}/acionamentos/{resolved}?t={forged}"), identity.LINK_MESSAGES["assinatura"])


def test_follow_link_without_token_is_refused(site: str, resolved: str) -> None:
    refused(call("GET", f"{site}/acionamentos/{resolved}"), identity.LINK_MESSAGES["ausente"])


def test_expired_follow_link_is_refused(site: str, resolved: str) -> None:
    old = identity.sign_link(TEST_SECRET, identity.PURPOSE_TRACK, resolved, ttl_days=1,
                             now=now_utc() - timedelta(days=2))
    refused(call("GET", f"{site}/acionamentos/{resolved}?t={old}"), identity.LINK_MESSAGES["expirado"])


def test_follow_link_opens_only_its_own_ticket(site: str, desk: ServiceDesk, personas: dict[str, int],
                                               resolved: str) -> None:
    other = desk.open_ticket(personas["diego"], "Consulta CPF", "duvida", "Qual o limite de consultas?")["number"]
    token = token_of(desk.links.follow(resolved))
    reply = call("GET", f"{site}/acionamentos/{other}?t={token}")
    refused(reply, identity.LINK_MESSAGES["destino"])
    assert "Qual o limite" not in reply.text


def test_evaluation_link_is_not_a_follow_link(site: str, desk: ServiceDesk, resolved: str) -> None:
    token = token_of(desk.links.evaluate(resolved))
    refused(call("GET", f"{site}/acionamentos/{resolved}?t={token}"), identity.LINK_MESSAGES["destino"])


def test_identity_token_is_not_a_link(site: str, desk: ServiceDesk, resolved: str) -> None:
    token = desk.issue_token("23456789173")
    refused(call("GET", f"{site}/acionamentos/{resolved}?t={token}"), identity.LINK_MESSAGES["tipo"])


def test_links_work_in_production_too(production_site: str, desk: ServiceDesk, resolved: str) -> None:
    assert call("GET", production_site + link_path(desk.links.follow(resolved))).status == 200


def test_server_log_never_shows_link_tokens(desk: ServiceDesk, rasa: FakeRasa, resolved: str,
                                            capfd: pytest.CaptureFixture[str]) -> None:
    url = desk.links.follow(resolved)
    app = web.WebApp(desk, rasa.url, development=True)
    server = web.make_server("127.0.0.1", 0, app, quiet=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert call("GET", base + link_path(url)).status == 200
    finally:
        server.shutdown()
        server.server_close()
    logged = capfd.readouterr().err
    assert f"GET /acionamentos/{resolved} 200" in logged
    assert token_of(url) not in logged and "t=" not in logged


# ---------------------------------------------------------------- the quality-control link


def evaluation_url(site: str, desk: ServiceDesk, number: str) -> str:
    return site + link_path(desk.links.evaluate(number))


def test_evaluation_form_shows_the_solution_and_asks_score_and_agreement(site: str, desk: ServiceDesk,
                                                                          resolved: str) -> None:
    reply = call("GET", evaluation_url(site, desk, resolved))
    assert reply.status == 200
    page = reply.text
    assert SOLUTION in page
    assert f'<form method="post" action="/avaliacao/{resolved}"' in page
    assert f'name="t" value="{token_of(desk.links.evaluate(resolved))}"' in page
    assert page.count('name="nota"') == 5
    assert 'value="concordo"' in page and 'value="discordo"' in page
    assert 'name="motivo"' in page


def test_agreeing_closes_the_ticket(site: str, desk: ServiceDesk, resolved: str) -> None:
    token = token_of(desk.links.evaluate(resolved))
    reply = post_form(f"{site}/avaliacao/{resolved}",
                      {"t": token, "nota": "5", "comentario": "Resolvido rápido.", "decisao": "concordo", "motivo": ""})
    assert reply.status == 200
    assert "foi fechado" in reply.text
    ticket = desk.staff_show(resolved)
    assert ticket["status"] == "fechado"
    assert ticket["evaluation"] == {"score": 5, "comment": "Resolvido rápido."}
    assert ticket["history"][-1]["actor"] == "ana.souza@exemplo.gov.br"
    follow = re.search(r'href="(/acionamentos/[^"]+)"', reply.text)
    assert follow, "the result page links to the follow-up form"
    assert call("GET", site + follow.group(1).replace("&amp;", "&")).status == 200


def test_disagreeing_reopens_with_the_reason(site: str, desk: ServiceDesk, resolved: str) -> None:
    token = token_of(desk.links.evaluate(resolved))
    mails = len(desk.outbox())
    reply = post_form(f"{site}/avaliacao/{resolved}",
                      {"t": token, "nota": "2", "comentario": "", "decisao": "discordo", "motivo": REASON})
    assert reply.status == 200
    assert "foi reaberto" in reply.text and "Novo prazo" in reply.text
    ticket = desk.staff_show(resolved)
    assert (ticket["status"], ticket["reopen_count"]) == ("reaberto", 1)
    assert ticket["history"][-1]["text"] == REASON
    assert [m["subject"] for m in desk.outbox()[mails:]] == [f"[CSS] Acionamento {resolved} reaberto"]


@pytest.mark.parametrize("fields, message", [
    ({"nota": "2", "decisao": "discordo", "motivo": ""}, "informe o motivo da reabertura"),
    ({"nota": "2", "decisao": "discordo", "motivo": "ruim"}, "escreva pelo menos 5 caracteres"),
    ({"nota": "9", "decisao": "concordo"}, "Escolha uma nota de 1 a 5."),
    ({"decisao": "concordo"}, "Escolha uma nota de 1 a 5."),
    ({"nota": "4"}, "Diga se você concorda ou discorda da solução."),
    ({"nota": "4", "decisao": "talvez"}, "Diga se você concorda ou discorda da solução."),
])
def test_invalid_answers_re_render_the_form_and_change_nothing(site: str, desk: ServiceDesk, resolved: str,
                                                               fields: dict, message: str) -> None:
    before = state(desk, resolved)
    token = token_of(desk.links.evaluate(resolved))
    reply = post_form(f"{site}/avaliacao/{resolved}", {"t": token, "comentario": "<i>meu</i> comentário", **fields})
    assert reply.status == 400
    assert message in reply.text
    assert "nada foi alterado" in reply.text
    assert f'name="t" value="{token}"' in reply.text  # the form can be sent again
    assert "&lt;i&gt;meu&lt;/i&gt; comentário</textarea>" in reply.text  # kept, escaped
    if fields.get("nota") == "2":
        assert 'value="2" required checked' in reply.text
    assert state(desk, resolved) == before


def test_post_without_the_token_in_the_body_is_refused(site: str, desk: ServiceDesk, resolved: str) -> None:
    before = state(desk, resolved)
    token = token_of(desk.links.evaluate(resolved))
    # The token only in the address (as a cross-site form could copy it from a leaked referrer) is not enough.
    reply = post_form(f"{site}/avaliacao/{resolved}?t={token}", {"nota": "1", "decisao": "discordo", "motivo": REASON})
    refused(reply, identity.LINK_MESSAGES["ausente"])
    assert state(desk, resolved) == before


def test_tampered_evaluation_post_is_refused(site: str, desk: ServiceDesk, resolved: str) -> None:
    before = state(desk, resolved)
    follow_token = token_of(desk.links.follow(resolved))
    reply = post_form(f"{site}/avaliacao/{resolved}", {"t": follow_token, "nota": "5", "decisao": "concordo"})
    refused(reply, identity.LINK_MESSAGES["destino"])
    assert state(desk, resolved) == before


def test_evaluation_post_for_another_ticket_is_refused(site: str, desk: ServiceDesk, personas: dict[str, int],
                                                      resolved: str) -> None:
    other = desk.open_ticket(personas["carla"], "Financeiro/Faturamento", "duvida", "Onde está o boleto?")["number"]
    desk.staff_resolve(other, "Boleto reenviado por e-mail.")
    before = state(desk, other)
    token = token_of(desk.links.evaluate(resolved))
    refused(post_form(f"{site}/avaliacao/{other}", {"t": token, "nota": "1", "decisao": "discordo", "motivo": REASON}),
            identity.LINK_MESSAGES["destino"])
    assert state(desk, other) == before


def test_a_ticket_is_evaluated_once(site: str, desk: ServiceDesk, resolved: str) -> None:
    token = token_of(desk.links.evaluate(resolved))
    assert post_form(f"{site}/avaliacao/{resolved}", {"t": token, "nota": "5", "decisao": "concordo"}).status == 200
    before = state(desk, resolved)
    again = post_form(f"{site}/avaliacao/{resolved}", {"t": token, "nota": "1", "decisao": "discordo", "motivo": REASON})
    assert again.status == 409
    assert "Só é possível avaliar acionamentos resolvidos" in again.text
    assert state(desk, resolved) == before
    page = call("GET", evaluation_url(site, desk, resolved))
    assert page.status == 200 and "<form" not in page.text and "fechado" in page.text


def test_unresolved_ticket_has_no_evaluation_form(site: str, desk: ServiceDesk, personas: dict[str, int]) -> None:
    number = desk.open_ticket(personas["ana"], "Datavalid", "duvida", "Como valido uma CNH?")["number"]
    page = call("GET", evaluation_url(site, desk, number))
    assert page.status == 200
    assert "<form" not in page.text
    assert "Só é possível avaliar acionamentos resolvidos" in page.text


def test_evaluation_needs_a_form_post(site: str, desk: ServiceDesk, resolved: str) -> None:
    token = token_of(desk.links.evaluate(resolved))
    reply = call("POST", f"{site}/avaliacao/{resolved}", json.dumps({"t": token}).encode(), "application/json")
    assert reply.status == 415
    assert call("POST", f"{site}/acionamentos/{resolved}", b"", "application/x-www-form-urlencoded").status == 405


# ---------------------------------------------------------------- mail delivery while running


@pytest.fixture
def smtp() -> Iterator[tuple[CollectingHandler, int]]:
    handler = CollectingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


def file_desk(tmp_path: Path) -> tuple[Database, ServiceDesk]:
    database = Database(f"sqlite:///{tmp_path / 'web.db'}")
    database.create_all()
    desk = ServiceDesk(database, TEST_SECRET, "http://css.test")
    desk.seed()
    return database, desk


def run_web(tmp_path: Path, extra_env: dict[str, str]) -> tuple[subprocess.Popen, Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMTP_")}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'web.db'}", "ASSISTENTE_SECRET": TEST_SECRET,
            "PYTHONUNBUFFERED": "1", **extra_env}
    log_path = tmp_path / "web.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.web", "--port", str(free_port()), "--outbox-interval", "0.2", "--quiet"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    return process, log_path


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def wait_for(condition, seconds: float = 60.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_page_server_delivers_the_outbox_when_smtp_is_set(tmp_path: Path, smtp) -> None:  # noqa: ANN001
    handler, port = smtp
    database, desk = file_desk(tmp_path)
    ana = desk.identify(desk.issue_token("23456789173"))["id"]
    number = desk.open_ticket(ana, "Datavalid", "duvida", "Como valido uma CNH pelo Datavalid?")["number"]
    process, log_path = run_web(tmp_path, {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port)})
    try:
        assert wait_for(lambda: handler.envelopes), "nothing delivered:\n" + log_path.read_text()
        # queued while running: delivered on a later round
        desk.staff_resolve(number, SOLUTION)
        # Delivered and recorded: the SMTP server has it before the deliverer writes sent_at.
        assert wait_for(lambda: len(handler.envelopes) == 2 and all(m["sent_at"] for m in desk.outbox())), (
            "second mail not delivered:\n" + log_path.read_text())
    finally:
        stop(process)
    subjects = [m["Subject"] for m in handler.messages()]
    assert subjects == [f"[CSS] Acionamento {number} registrado", f"[CSS] Acionamento {number} resolvido"]
    assert "E-mails: entregues via SMTP 127.0.0.1" in log_path.read_text()
    database.dispose()


def test_without_smtp_mail_stays_queued_and_the_server_says_where(tmp_path: Path) -> None:
    database, desk = file_desk(tmp_path)
    ana = desk.identify(desk.issue_token("23456789173"))["id"]
    desk.open_ticket(ana, "Datavalid", "duvida", "Como valido uma CNH pelo Datavalid?")
    process, log_path = run_web(tmp_path, {})
    try:
        assert wait_for(lambda: "E-mails:" in log_path.read_text()), log_path.read_text()
        time.sleep(1)  # several delivery intervals, had a loop been started
    finally:
        stop(process)
    assert "SMTP_HOST não definido" in log_path.read_text()
    assert "python -m backend outbox list" in log_path.read_text()
    assert [m["sent_at"] for m in desk.outbox()] == [None]
    database.dispose()


# ---------------------------------------------------------------- the answer to support's question


QUESTION = "Qual mensagem de erro aparece na tela?"


@pytest.fixture
def waiting(desk: ServiceDesk, personas: dict[str, int]) -> str:
    number = desk.open_ticket(personas["ana"], "Área do Cliente", "problema",
                              "O relatório de consumo não abre.", "medio")["number"]
    desk.staff_wait(number, QUESTION)
    return number


def answer_url(desk: ServiceDesk, number: str) -> str:
    [mail] = [m for m in desk.outbox() if number in m["subject"] and "precisamos" in m["subject"]]
    [url] = re.findall(r"http://css\.test/resposta/\S+", mail["body"])
    return url


def test_answer_link_shows_the_question_and_a_form(site: str, desk: ServiceDesk, waiting: str) -> None:
    url = answer_url(desk, waiting)
    reply = call("GET", site + link_path(url))

    assert reply.status == 200
    assert QUESTION in reply.text
    assert f'action="/resposta/{waiting}"' in reply.text
    assert f'name="t" value="{token_of(url)}"' in reply.text
    assert "<script" not in reply.text


def test_answering_by_link_stores_a_complement_and_resumes_the_clock(site: str, desk: ServiceDesk,
                                                                     waiting: str) -> None:
    token = token_of(answer_url(desk, waiting))

    reply = post_form(f"{site}/resposta/{waiting}", {"t": token, "resposta": "Aparece <b>acesso negado</b>."})

    assert reply.status == 200
    assert "Sua resposta foi registrada" in reply.text
    ticket = desk.staff_show(waiting)
    assert (ticket["status"], ticket["sla_status"]) == ("em_atendimento", "no_prazo")
    assert ticket["complements"][-1]["text"] == "Aparece <b>acesso negado</b>."
    assert ticket["history"][-2]["actor"] == "ana.souza@exemplo.gov.br"
    assert ticket["history"][-1]["kind"] == "sla_resumed"

    again = post_form(f"{site}/resposta/{waiting}", {"t": token, "resposta": "De novo."})
    assert again.status == 409
    assert "não está aguardando uma resposta sua" in again.text
    assert len(desk.staff_show(waiting)["complements"]) == 1


def test_an_empty_answer_re_shows_the_form_and_changes_nothing(site: str, desk: ServiceDesk, waiting: str) -> None:
    token = token_of(answer_url(desk, waiting))
    before = state(desk, waiting)

    reply = post_form(f"{site}/resposta/{waiting}", {"t": token, "resposta": "   "})

    assert reply.status == 400
    assert "não pode ficar em branco" in reply.text
    assert state(desk, waiting) == before
    assert desk.staff_show(waiting)["status"] == "aguardando_usuario"


@pytest.mark.parametrize("which", ["no token in the body", "tampered", "follow-up link", "another ticket"])
def test_answer_posts_that_are_not_the_links_own_are_refused(site: str, desk: ServiceDesk, personas: dict[str, int],
                                                             waiting: str, which: str) -> None:
    token = token_of(answer_url(desk, waiting))
    other = desk.open_ticket(personas["ana"], "Área do Cliente", "duvida", "Como emito a segunda via?")["number"]
    desk.staff_wait(other, "Qual fatura?")
    before = state(desk, waiting)
    url, fields = f"{site}/resposta/{waiting}", {"resposta": "Aparece 'acesso negado'."}
    if which == "tampered":
        fields["t"] = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    elif which == "follow-up link":
        fields["t"] = token_of(desk.links.follow(waiting))
    elif which == "another ticket":
        fields["t"] = token_of(answer_url(desk, other))
    elif which == "no token in the body":
        url += f"?t={token}"

    reply = post_form(url, fields)

    assert reply.status == 403
    assert "Não foi possível abrir este link" in reply.text
    assert state(desk, waiting) == before


def test_expired_answer_link_is_refused(site: str, desk: ServiceDesk, waiting: str) -> None:
    old = identity.sign_link(TEST_SECRET, identity.PURPOSE_ANSWER, waiting, ttl_days=30,
                             now=now_utc() - timedelta(days=31))
    reply = call("GET", f"{site}/resposta/{waiting}?t={old}")
    assert reply.status == 403
    assert "Este link expirou" in reply.text


def test_evaluation_through_the_email_form_after_a_reminder(site: str, desk: ServiceDesk, resolved: str) -> None:
    report = desk.sla_run(now_utc() + timedelta(days=5, minutes=1))
    assert report.reminded == [resolved]
    [reminder] = [m for m in desk.outbox() if m["subject"] == f"[CSS] Lembrete: avalie o acionamento {resolved}"]
    [url] = re.findall(r"http://css\.test/avaliacao/\S+", reminder["body"])

    reply = post_form(f"{site}/avaliacao/{resolved}", {"t": token_of(url), "nota": "5", "decisao": "concordo"})

    assert reply.status == 200
    ticket = desk.staff_show(resolved)
    assert (ticket["status"], ticket["evaluation"], ticket["sla_status"]) == (
        "fechado", {"score": 5, "comment": None}, "encerrado")
    assert desk.sla_run(now_utc() + timedelta(days=8)).to_json() == {
        "at_risk": [], "escalated": [], "reminded": [], "closed": []}
