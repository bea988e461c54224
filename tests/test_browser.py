"""The CSS page in a real browser: headless Debian Chromium driven by Selenium.

Two parts:
- the widget against a scripted stand-in for Rasa (fast, deterministic): text never becomes HTML, links, line
  breaks, buttons, the "digitando…" indicator, keyboard, the no-answer message, "entrar como", reload;
- the whole product (`python -m bot.launcher`, development mode, temporary database): ana signs in, opens a
  ticket by clicking and typing, reloads, sends markup, follows the e-mail links and reopens the ticket. It saves
  the screenshot `tests/artifacts/chat.png` and prints the time from page load to the greeting.

Chromium missing is a failure, not a skip (CI installs `chromium` and `chromium-driver`; see .ci/run).
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from backend.desk import ServiceDesk
from bot import web
from tests.test_integration_http import free_port, until_stopped
from tests.test_web import FakeRasa, rasa, serving  # noqa: F401 - `rasa` is a fixture used below

# One browser run is slow enough; the database behind the page is incidental here (see test_web.py).
pytestmark = [pytest.mark.browser, pytest.mark.databases("sqlite")]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
SCREENSHOT = ARTIFACTS / "chat.png"
MODEL = PROJECT_ROOT / "models" / "assistente.tar.gz"
CHROMIUM = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
SECRET = "browser-test-secret-with-more-than-32-bytes"
WAIT = 30.0  # the scripted widget tests
TURN = 150.0  # one turn of the real assistant; the machine may be training at the same time
NUMBER = re.compile(r"SS-\d{4}-\d{6}")
ATTACK = "<img src=x onerror=alert(1)>"
MISSING = """
############################################################################
#  TESTE DE NAVEGADOR NÃO PODE RODAR: Chromium ou chromedriver ausente.    #
#  BROWSER TEST CANNOT RUN: Chromium or chromedriver is missing.           #
#  Debian/Ubuntu:  sudo apt-get install chromium chromium-driver           #
#  (ou defina CHROMIUM_BIN e CHROMEDRIVER_BIN)                             #
############################################################################"""


# ---------------------------------------------------------------- the browser


def chromium_available() -> bool:
    return all(Path(p).is_file() and os.access(p, os.X_OK) for p in (CHROMIUM, CHROMEDRIVER))


@pytest.fixture(scope="module", autouse=True)
def chromium_required() -> None:
    if not chromium_available():
        pytest.fail(MISSING, pytrace=False)


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chromium-profile'}",
                     "--window-size=1280,1000", "--lang=pt-BR"):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


class Chat:
    """The page as a user sees it; waits are explicit (WebDriverWait), never sleeps."""

    def __init__(self, browser: Any, base: str, turn_timeout: float) -> None:
        self.browser = browser
        self.base = base
        self.turn_timeout = turn_timeout

    # --- looking ---
    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.browser.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.browser.find_elements(By.CSS_SELECTOR, css)

    def wait(self, condition: Callable[[Any], Any], timeout: float | None = None, message: str = "") -> Any:
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.browser, timeout or self.turn_timeout, poll_frequency=0.2).until(
            condition, message or self.transcript())

    def bubbles(self) -> list[dict[str, str]]:
        """Every bubble: kind (usuario, bot, erro), the text as written and as rendered (innerText)."""
        return self.browser.execute_script("""
            return Array.from(document.querySelectorAll('#mensagens .mensagem')).map(function (b) {
              var text = b.querySelector('.texto');
              return {kind: b.classList[1], text: text.textContent, rendered: text.innerText};
            });""")

    def transcript(self) -> str:
        try:
            return "conversa na página:\n  " + "\n  ".join(f"{b['kind']}: {b['text']}" for b in self.bubbles())
        except Exception:  # noqa: BLE001 - only for failure messages
            return "(conversa indisponível)"

    def idle(self) -> bool:
        return not self.find("#enviar").get_attribute("disabled")

    # --- acting ---
    def load(self, path: str = "/") -> None:
        self.browser.get(self.base + path)

    def open_panel(self) -> None:
        self.find("#abrir-chat").click()
        self.wait(lambda _: self.find("#painel-chat").is_displayed(), WAIT)

    def answer_after(self, action: Callable[[], None], expect: str | None = None) -> list[dict[str, str]]:
        """Run `action` and wait until the assistant answered it; the new bubbles from the assistant."""
        before = len(self.bubbles())
        action()

        def answered(_: Any) -> bool:
            new = [b for b in self.bubbles()[before:] if b["kind"] != "usuario"]
            return bool(new) and self.idle()

        self.wait(answered)
        new = [b for b in self.bubbles()[before:] if b["kind"] != "usuario"]
        if expect is not None:
            assert any(expect in b["text"] for b in new), f"esperava {expect!r}\n{self.transcript()}"
        return new

    def click(self, title: str) -> Callable[[], None]:
        def do() -> None:
            enabled = [b for b in self.all("#mensagens .botoes button")
                       if b.is_enabled() and b.text.strip().startswith(title)]
            assert enabled, f"sem botão ativo {title!r}\n{self.transcript()}"
            enabled[-1].click()
        return do

    def type(self, text: str) -> Callable[[], None]:
        from selenium.webdriver.common.keys import Keys

        def do() -> None:
            box = self.find("#entrada")
            box.send_keys(text)
            box.send_keys(Keys.ENTER)
        return do

    def sign_in_as(self, persona_value: str, name: str) -> str:
        """Choose a persona: the conversation starts over, greeted with the new identity. The greeting's text."""
        from selenium.webdriver.support.ui import Select

        self.wait(lambda _: self.find("#identificacao").is_displayed(), WAIT, "seletor 'entrar como' não apareceu")
        Select(self.find("#persona")).select_by_value(persona_value)

        def greeted(_: Any) -> bool:
            bubbles = self.bubbles()
            return name in self.find("#quem").text and len(bubbles) == 1 and self.idle()

        self.wait(greeted)
        return self.bubbles()[0]["text"]


# ---------------------------------------------------------------- the widget, against a scripted assistant

GREETING = ("Olá! Sou o assistente de teste.\nSegunda linha <b>sem negrito</b> "
            "<img src=x onerror=\"document.title='invadido'\"> — veja centraldeajuda.serpro.gov.br, "
            "https://loja.serpro.gov.br/produtos. Escreva para css.serpro@serpro.gov.br ou ligue 0800 728 2323. "
            "Acionamento SS-2026-000123.")


def scripted(body: dict) -> list[dict]:
    message = body["message"]
    if message == "/cumprimentar":
        return [{"recipient_id": body["sender"], "text": GREETING,
                 "buttons": [{"title": "Abrir acionamento", "payload": "/abrir_acionamento"},
                             {"title": "<i>Ajuda</i>", "payload": "/ajuda"}]}]
    if message == "devagar":
        time.sleep(2)
    if message == "silencio":
        return []
    return [{"recipient_id": body["sender"], "text": f"Recebi: {message}"}]


@pytest.fixture
def page_site(desk: ServiceDesk, rasa: FakeRasa) -> Iterator[str]:  # noqa: F811 - pytest fixture by name
    rasa.script = scripted
    with serving(web.WebApp(desk, rasa.url, development=True, reply_timeout=10)) as base:
        yield base


def test_widget_shows_text_as_text_with_links_line_breaks_and_buttons(driver: Any, page_site: str,
                                                                      rasa: FakeRasa) -> None:  # noqa: F811
    chat = Chat(driver, page_site, WAIT)
    chat.load()
    launcher = chat.find("#abrir-chat")
    assert launcher.get_attribute("aria-expanded") == "false"
    chat.answer_after(chat.open_panel, expect="Olá! Sou o assistente de teste.")
    assert launcher.get_attribute("aria-expanded") == "true"
    assert driver.switch_to.active_element.get_attribute("id") == "entrada"  # focus goes to the input

    greeting = chat.bubbles()[0]
    assert greeting["text"] == GREETING  # markup shown literally
    assert "\n" in greeting["rendered"]  # the line break is kept on screen
    log = chat.find("#mensagens")
    assert log.find_elements("css selector", "b, img, i, script") == []
    assert driver.title != "invadido"
    links = {a.text: a.get_attribute("href") for a in log.find_elements("css selector", "a")}
    assert links == {
        "centraldeajuda.serpro.gov.br": "https://centraldeajuda.serpro.gov.br/",
        "https://loja.serpro.gov.br/produtos": "https://loja.serpro.gov.br/produtos",
        "css.serpro@serpro.gov.br": "mailto:css.serpro@serpro.gov.br",
        "0800 728 2323": "tel:08007282323",
    }
    assert [n.text for n in log.find_elements("css selector", ".numero")] == ["SS-2026-000123"]  # never split
    titles = [b.text for b in chat.all("#mensagens .botoes button")]
    assert titles == ["Abrir acionamento", "<i>Ajuda</i>"]

    chat.answer_after(chat.click("Abrir acionamento"), expect="Recebi: /abrir_acionamento")
    assert chat.bubbles()[1] == {"kind": "usuario", "text": "Abrir acionamento", "rendered": "Abrir acionamento"}
    old = chat.all("#mensagens .botoes button")
    assert all(not b.is_enabled() for b in old), "botões antigos devem ficar desativados"
    assert old[0].get_attribute("aria-pressed") == "true"
    assert rasa.requests[-1]["body"]["message"] == "/abrir_acionamento"


def test_widget_keyboard_typing_indicator_and_escape(driver: Any, page_site: str) -> None:
    from selenium.webdriver.common.keys import Keys

    chat = Chat(driver, page_site, WAIT)
    chat.load()
    chat.answer_after(chat.open_panel)
    box = chat.find("#entrada")
    box.send_keys("primeira linha")
    box.send_keys(Keys.SHIFT, Keys.ENTER)
    box.send_keys("segunda linha")
    chat.answer_after(lambda: box.send_keys(Keys.ENTER), expect="Recebi: primeira linha\nsegunda linha")
    mine = [b for b in chat.bubbles() if b["kind"] == "usuario"][-1]
    assert mine["rendered"] == "primeira linha\nsegunda linha"

    box.send_keys("devagar", Keys.ENTER)
    chat.wait(lambda _: "digitando" in chat.find("#digitando").text, WAIT, "sem indicador 'digitando…'")
    chat.wait(lambda _: chat.idle() and chat.bubbles()[-1]["text"] == "Recebi: devagar")
    assert chat.find("#digitando").text == ""

    box.send_keys(Keys.ESCAPE)
    chat.wait(lambda _: not chat.find("#painel-chat").is_displayed(), WAIT, "Esc não fechou o painel")
    assert driver.switch_to.active_element.get_attribute("id") == "abrir-chat"
    assert chat.find("#abrir-chat").get_attribute("aria-expanded") == "false"


def test_widget_says_when_the_assistant_does_not_answer(driver: Any, page_site: str, rasa: FakeRasa) -> None:  # noqa: F811
    chat = Chat(driver, page_site, WAIT)
    chat.load()
    chat.answer_after(chat.open_panel)
    error = chat.answer_after(chat.type("silencio"))[-1]
    assert error["kind"] == "erro"
    for channel in ("24x7", "0800 728 2323", "css.serpro@serpro.gov.br"):
        assert channel in error["text"]
    sent = len(rasa.requests)
    rasa.script = lambda body: [{"text": "Agora sim."}]
    chat.answer_after(chat.click("Tentar de novo"), expect="Agora sim.")
    assert rasa.requests[sent]["body"]["message"] == "silencio"
    assert [b["kind"] for b in chat.bubbles()] == ["bot", "usuario", "erro", "bot"], "no repeated bubble on retry"


def test_widget_says_so_when_the_page_server_is_gone(driver: Any, desk: ServiceDesk, rasa: FakeRasa) -> None:  # noqa: F811
    rasa.script = scripted
    server = web.make_server("127.0.0.1", 0, web.WebApp(desk, rasa.url, development=True), quiet=True)
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    chat = Chat(driver, f"http://127.0.0.1:{server.server_address[1]}", WAIT)
    try:
        chat.load()
        chat.answer_after(chat.open_panel)
    finally:
        server.shutdown()
        server.server_close()
    error = chat.answer_after(chat.type("alguém aí?"))[-1]
    assert error["kind"] == "erro"
    assert "0800 728 2323" in error["text"] and "css.serpro@serpro.gov.br" in error["text"]


def test_sign_in_starts_a_new_conversation_with_the_token(driver: Any, page_site: str, rasa: FakeRasa,  # noqa: F811
                                                          desk: ServiceDesk) -> None:
    chat = Chat(driver, page_site, WAIT)
    chat.load()
    chat.answer_after(chat.open_panel)
    signed_out = rasa.requests[-1]["body"]
    assert "token" not in json.dumps(signed_out)
    options = [o.text for o in chat.all("#persona option")]
    assert len(options) == 5 and options[1].startswith("Ana Souza")

    chat.sign_in_as("ana", "Ana Souza")
    signed_in = rasa.requests[-1]["body"]
    assert signed_in["message"] == "/cumprimentar"
    assert desk.identify(signed_in["metadata"]["token"])["email"] == "ana.souza@exemplo.gov.br"
    assert signed_in["sender"] != signed_out["sender"], "a new identity must be a new conversation"
    assert [b["kind"] for b in chat.bubbles()] == ["bot"]

    chat.answer_after(chat.type("oi de novo"))
    driver.refresh()
    chat.wait(lambda _: chat.find("#painel-chat").is_displayed(), WAIT)
    assert [b["text"] for b in chat.bubbles()][-2:] == ["oi de novo", "Recebi: oi de novo"]
    assert "Ana Souza" in chat.find("#quem").text
    chat.answer_after(chat.type("depois do reload"))
    assert rasa.requests[-1]["body"]["metadata"]["token"] == signed_in["metadata"]["token"]
    assert rasa.requests[-1]["body"]["sender"] == signed_in["sender"]


def test_production_page_has_no_sign_in_selector(driver: Any, desk: ServiceDesk, rasa: FakeRasa) -> None:  # noqa: F811
    rasa.script = scripted
    with serving(web.WebApp(desk, rasa.url, development=False)) as base:
        chat = Chat(driver, base, WAIT)
        chat.load()
        chat.answer_after(chat.open_panel)
        assert not chat.find("#identificacao").is_displayed()
        assert "Sem identificação" in chat.find("#quem").text


# ---------------------------------------------------------------- the whole product


@dataclass
class Product:
    base: str
    env: dict[str, str]
    log_path: Path
    rasa_port: int = 0
    integrator_port: int = 0  # an integrator's page on another origin, listed in CORS_ORIGINS

    def cli(self, *args: str) -> Any:
        done = subprocess.run([sys.executable, "-m", "backend", *args, "--json"], cwd=PROJECT_ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"`python -m backend {' '.join(args)}` falhou:\n{done.stderr}"
        return json.loads(done.stdout)

    def token(self, cpf: str) -> str:
        done = subprocess.run([sys.executable, "-m", "backend", "token", "--cpf", cpf], cwd=PROJECT_ROOT,
                              env=self.env, capture_output=True, text=True, timeout=120, check=True)
        return done.stdout.strip()


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Product]:
    if not MODEL.is_file():
        pytest.fail(f"modelo não encontrado: {MODEL} — rode `make model` / no trained model", pytrace=False)
    tmp_path = tmp_path_factory.mktemp("browser")
    web_port, rasa_port, integrator_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("ASSISTENTE_PERSONA", "SMTP_HOST")}
    env |= {
        "ASSISTENTE_ENV": "development",  # the page's "entrar como"
        "DATABASE_URL": f"sqlite:///{tmp_path / 'browser.db'}",
        "ASSISTENTE_SECRET": SECRET,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}",
        "CORS_ORIGINS": f"http://127.0.0.1:{integrator_port}",
    }
    for step in (["db", "upgrade"], ["seed"]):
        subprocess.run([sys.executable, "-m", "backend", *step], cwd=PROJECT_ROOT, env=env, check=True,
                       capture_output=True, timeout=120)
    log_path = tmp_path / "launcher.log"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.launcher", "--model", str(MODEL), "--rasa-port", str(rasa_port),
             "--actions-port", str(free_port()), "--web-port", str(web_port)],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    with until_stopped(process, log_path):
        yield Product(f"http://127.0.0.1:{web_port}", env, log_path, rasa_port, integrator_port)


def mail_link(product: Product, subject: str, path: str) -> str:
    mails = [m for m in product.cli("outbox", "list") if m["subject"] == subject]
    assert mails, f"sem e-mail {subject!r} na fila"
    found = re.search(rf"{re.escape(product.base)}/{path}/\S+", mails[-1]["body"])
    assert found, f"sem link /{path}/ no e-mail:\n{mails[-1]['body']}"
    return found.group()


def test_ana_opens_follows_and_reopens_a_ticket_in_the_browser(driver: Any, product: Product) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    started = time.monotonic()
    chat = Chat(driver, product.base, TURN)

    # Page load -> greeting: open the page and the chat at once, as a visitor would.
    chat.load()
    chat.answer_after(chat.open_panel, expect="Olá! Eu sou o Assistente Serpro")
    greeting_ms = int(driver.find_element(By.TAG_NAME, "html").get_attribute("data-saudacao-ms"))
    print(f"\n[benchmark] carregamento da página → saudação na tela: {greeting_ms} ms")

    # Sign in as ana: a new conversation, greeted again, with her identity.
    greeting = chat.sign_in_as("ana", "Ana Souza")
    assert "Olá! Eu sou o Assistente Serpro" in greeting, chat.transcript()

    chat.answer_after(chat.click("Abrir acionamento"), expect="Para qual serviço")
    chat.answer_after(chat.click("Consulta CNPJ"), expect="tipo do acionamento")
    chat.answer_after(chat.click("Problema"), expect="impacto")
    chat.answer_after(chat.click("Alto"), expect="Descreva")
    description = "A Consulta CNPJ responde com erro 503 desde as 8h; ninguém do órgão consegue consultar."
    chat.answer_after(chat.type(description), expect="Posso registrar?")
    done = chat.answer_after(chat.click("Sim"))
    number_match = NUMBER.search(" ".join(b["text"] for b in done))
    assert number_match, f"sem número de acionamento\n{chat.transcript()}"
    number = number_match.group()
    ticket = product.cli("tickets", "show", number)
    assert (ticket["requester_email"], ticket["service"], ticket["status"]) == (
        "ana.souza@exemplo.gov.br", "Consulta CNPJ", "registrado")
    assert ticket["description"] == description

    # Reload: the conversation, the identity and the open panel survive.
    before_reload = [(b["kind"], b["text"]) for b in chat.bubbles()]
    driver.refresh()
    chat.wait(lambda _: chat.find("#painel-chat").is_displayed(), WAIT, "o painel não reabriu após recarregar")
    assert [(b["kind"], b["text"]) for b in chat.bubbles()] == before_reload
    assert any(number in b["text"] for b in chat.bubbles())
    assert Select(chat.find("#persona")).first_selected_option.get_attribute("value") == "ana"

    # Markup typed by the user is shown as text and never runs.
    chat.answer_after(chat.type(ATTACK))
    mine = [b for b in chat.bubbles() if b["kind"] == "usuario"][-1]
    assert mine["text"] == ATTACK
    assert chat.all("#mensagens img") == []
    try:
        driver.switch_to.alert
        pytest.fail("o texto do usuário foi executado como HTML (alert aberto)")
    except NoAlertPresentException:
        pass

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOT))
    print(f"[artefato] captura da conversa: {SCREENSHOT}")

    # The follow-up link of the registration e-mail.
    follow = mail_link(product, f"[CSS] Acionamento {number} registrado", "acionamentos")
    driver.get(follow)
    chat.wait(lambda _: number in driver.find_element(By.TAG_NAME, "h1").text, WAIT)
    page = driver.find_element(By.TAG_NAME, "main").text
    assert "registrado" in page and "N1" in page and "Acionamento registrado" in page
    driver.get(follow[:-3] + ("xyz" if not follow.endswith("xyz") else "abc"))
    assert "Não foi possível abrir este link" in driver.find_element(By.TAG_NAME, "h1").text

    # Staff solves it; ana disagrees on the quality-control form and reopens it.
    subprocess.run([sys.executable, "-m", "backend", "tickets", "resolve", number, "--solution",
                    "Instância da Consulta CNPJ reiniciada."], cwd=PROJECT_ROOT, env=product.env, check=True,
                   capture_output=True, timeout=120)
    evaluation = mail_link(product, f"[CSS] Acionamento {number} resolvido", "avaliacao")
    driver.get(evaluation)
    chat.wait(lambda _: driver.find_elements(By.CSS_SELECTOR, "form.formulario-avaliacao"), WAIT)
    driver.find_element(By.CSS_SELECTOR, "input[name=nota][value='2']").click()
    driver.find_element(By.CSS_SELECTOR, "input[name=decisao][value=discordo]").click()
    reason = "O erro 503 voltou às 14h, a consulta continua fora do ar."
    driver.find_element(By.ID, "motivo").send_keys(reason)
    driver.find_element(By.CSS_SELECTOR, "form.formulario-avaliacao button[type=submit]").click()
    chat.wait(lambda _: driver.find_elements(By.CSS_SELECTOR, "p.sucesso"), WAIT)
    assert "foi reaberto" in driver.find_element(By.CSS_SELECTOR, "p.sucesso").text

    ticket = product.cli("tickets", "show", number)
    assert (ticket["status"], ticket["reopen_count"]) == ("reaberto", 1)
    assert ticket["history"][-1]["text"] == reason
    print(f"[benchmark] teste completo no navegador: {time.monotonic() - started:.1f} s")


# ---------------------------------------------------------------- an integrator's page with the standard widget

WEBCHAT = PROJECT_ROOT / "tests" / "npm" / "node_modules" / "rasa-webchat" / "lib" / "index.js"
INTEGRATOR_PAGE = """<!doctype html>
<html lang="pt-BR"><head><meta charset="utf-8"><title>Portal do integrador</title></head>
<body><h1>Portal de um órgão cliente</h1><div id="webchat"></div>
<script src="/webchat.js"></script>
<script>
  window.WebChat.default({
    selector: "#webchat", embedded: true, initPayload: "oi", title: "Assistente Serpro",
    socketUrl: "http://127.0.0.1:RASA_PORT", socketPath: "/socket.io/",
    customData: {"token": "TOKEN"}, params: {storage: "session"}
  }, null);
</script></body></html>"""


@contextlib.contextmanager
def static_site(directory: Path, port: int) -> Iterator[str]:
    """A plain static web server for `directory` on loopback: an integrator's own page on its own origin."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


def widget_replies(driver: Any) -> list[str]:
    from selenium.webdriver.common.by import By

    return [element.text for element in driver.find_elements(By.CSS_SELECTOR, ".rw-from-response")]


def integrator_site(tmp_path: Path, product: Product, token: str) -> Path:
    if not WEBCHAT.is_file():
        pytest.fail(f"rasa-webchat não instalado em {WEBCHAT} — rode `npm ci --prefix tests/npm`", pytrace=False)
    site = tmp_path / "integrador"
    site.mkdir()
    (site / "webchat.js").write_bytes(WEBCHAT.read_bytes())
    page = INTEGRATOR_PAGE.replace("RASA_PORT", str(product.rasa_port)).replace("TOKEN", token)
    (site / "index.html").write_text(page, encoding="utf-8")
    return site


def test_the_standard_widget_signs_in_over_socketio_from_an_allowed_origin(
    driver: Any, product: Product, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    number = product.cli("tickets", "open", "--cpf", "234.567.891-73", "--service", "Datavalid", "--impact", "medio",
                         "--description", "Aberto pela equipe para o teste do widget de integradores.")["number"]
    site = integrator_site(tmp_path, product, product.token("234.567.891-73"))
    with static_site(site, product.integrator_port) as origin:
        driver.get(f"{origin}/index.html")
        wait = WebDriverWait(driver, TURN, poll_frequency=0.3)
        wait.until(lambda d: any("Assistente Serpro" in text for text in widget_replies(d)))
        before = len(widget_replies(driver))
        driver.find_element(By.CSS_SELECTOR, ".rw-new-message").send_keys("quero ver meus acionamentos", Keys.ENTER)
        wait.until(lambda d: number in " ".join(widget_replies(d)[before:]))
        answer = " ".join(widget_replies(driver)[before:])
    assert "Entre na Área do Cliente" not in answer and "quem é você" not in answer, answer


def test_the_standard_widget_is_refused_from_another_origin(driver: Any, product: Product, tmp_path: Path) -> None:
    site = integrator_site(tmp_path, product, product.token("234.567.891-73"))
    with static_site(site, free_port()) as origin:  # not in CORS_ORIGINS
        driver.get(f"{origin}/index.html")
        time.sleep(15)  # the allowed page's greeting arrives within a few seconds
        assert widget_replies(driver) == []
