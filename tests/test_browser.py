"""The CSS page in a real browser: headless Debian Chromium driven by Selenium.

Three parts:
- the widget against a scripted stand-in for Rasa (fast, deterministic): text never becomes HTML, links, line
  breaks, buttons, the "digitando…" indicator, keyboard, the no-answer message, "entrar como", reload;
- the accessibility gate: axe-core (pinned in tests/npm, injected from disk) with the WCAG 2.0/2.1 A and AA rules
  finds no violation in any state of the page, the widget, the information pages and the e-mail link forms, and does
  find the ones a deliberately broken widget has; the eMAG bar's access keys, high contrast kept across reloads,
  200 % zoom and 320 px width; "Apagar esta conversa" with its confirmation;
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
    browser.set_script_timeout(120)
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


# ---------------------------------------------------------------- the accessibility gate (axe-core)

AXE = PROJECT_ROOT / "tests" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]  # WCAG 2.0 and 2.1, levels A and AA
RUN_AXE = """
var tags = arguments[0], done = arguments[arguments.length - 1];
window.axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]}).then(function (r) {
  done(r.violations.map(function (v) {
    return {id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(function (n) { return n.target.join(" ") + ": " + n.failureSummary; })};
  }));
}).catch(function (error) { done([{id: "axe-falhou", impact: "critical", help: String(error), nodes: []}]); });
"""


def axe_violations(browser: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0/2.1 A+AA violations on the page as it is now (the script comes from the npm lock on
    disk; DevTools evaluation is not subject to the page's Content-Security-Policy)."""
    if not AXE.is_file():
        pytest.fail(f"axe-core não instalado em {AXE} — rode `npm ci --prefix tests/npm`", pytrace=False)
    if not browser.execute_script("return !!window.axe"):
        browser.execute_script(AXE.read_text(encoding="utf-8"))
    return browser.execute_async_script(RUN_AXE, AXE_TAGS)


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(f"- {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"][:5])
                     for v in violations)


def assert_accessible(browser: Any, where: str) -> None:
    violations = axe_violations(browser)
    assert violations == [], f"axe-core encontrou violações WCAG A/AA em: {where}\n{describe(violations)}"


# ---------------------------------------------------------------- the widget, against a scripted assistant

GREETING = ("Olá! Sou o assistente de teste.\nSegunda linha <b>sem negrito</b> "
            "<img src=x onerror=\"document.title='invadido'\"> — veja centraldeajuda.serpro.gov.br, "
            "https://loja.serpro.gov.br/produtos. Escreva para css.serpro@serpro.gov.br ou ligue 0800 728 2323. "
            "Acionamento SS-2026-000123.")


LONG_REPLY = "\n".join(
    f"• SS-2026-{n:06d} — Datavalid — Em atendimento — prazo 21/11/2026 21:53 (horário de Brasília). "
    "Consulte os detalhes em centraldeajuda.serpro.gov.br ou pelo telefone 0800 728 2323."
    for n in range(1, 16))


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
    if message == "longa":
        return [{"recipient_id": body["sender"], "text": LONG_REPLY}]
    return [{"recipient_id": body["sender"], "text": f"Recebi: {message}"}]


@pytest.fixture
def page_site(desk: ServiceDesk, rasa: FakeRasa, tmp_path: Path) -> Iterator[str]:  # noqa: F811 - fixture by name
    rasa.script = scripted
    app = web.WebApp(desk, rasa.url, development=True, reply_timeout=10,
                     conversations_url=f"sqlite:///{tmp_path / 'conversas.db'}")
    with serving(app) as base:
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


# ---------------------------------------------------------------- the accessibility gate, state by state


def test_no_wcag_violation_in_any_state_of_the_widget(driver: Any, page_site: str) -> None:
    chat = Chat(driver, page_site, WAIT)
    chat.load()
    chat.wait(lambda _: chat.find("#identificacao").is_displayed(), WAIT, "seletor 'entrar como' não apareceu")
    assert_accessible(driver, "página com o chat fechado e o seletor 'entrar como'")

    chat.answer_after(chat.open_panel, expect="Olá! Sou o assistente de teste.")
    assert chat.all("#mensagens .botoes button"), "a saudação traz botões"
    assert_accessible(driver, "chat aberto: aviso LGPD, saudação com botões")

    chat.answer_after(chat.type("longa"), expect="SS-2026-000015")
    assert_accessible(driver, "resposta longa, botões antigos desativados")

    error = chat.answer_after(chat.type("silencio"))[-1]
    assert error["kind"] == "erro"
    assert_accessible(driver, "mensagem de falta de resposta com 'Tentar de novo'")

    chat.sign_in_as("ana", "Ana Souza")
    assert_accessible(driver, "'entrar como': identificado como Ana Souza")

    chat.find("#apagar-conversa").click()
    chat.wait(lambda _: chat.find("#confirmar-apagar").is_displayed(), WAIT)
    assert_accessible(driver, "confirmação de 'Apagar esta conversa'")
    chat.find("#confirmar-apagar-nao").click()

    chat.find("#alto-contraste").click()
    chat.wait(lambda _: "contraste" in chat.find("html").get_attribute("class"), WAIT)
    assert_accessible(driver, "alto contraste com o chat aberto")

    chat.find("#fechar-chat").click()
    assert_accessible(driver, "alto contraste com o chat fechado")


@pytest.fixture
def link_pages(desk: ServiceDesk, personas: dict[str, int]) -> dict[str, str]:
    """Paths of every kind of e-mail link page: follow-up, evaluation, answer, and their refusals."""
    from urllib.parse import urlsplit

    def path(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.path}?{parts.query}"

    resolved = desk.open_ticket(personas["ana"], "Área do Cliente", "problema",
                                "O relatório de consumo não abre.\nAparece uma tela em branco.", "medio")["number"]
    desk.complement(personas["ana"], resolved, "Acontece também no Firefox.")
    desk.staff_resolve(resolved, "Cache do relatório limpo; o relatório abre normalmente.")
    waiting = desk.open_ticket(personas["ana"], "Datavalid", "duvida", "Como valido uma CNH?")["number"]
    desk.staff_wait(waiting, "Qual mensagem de erro aparece na tela?")
    [answer] = [m for m in desk.outbox() if waiting in m["subject"] and "precisamos" in m["subject"]]
    follow = path(desk.links.follow(resolved))
    return {
        "acompanhamento": follow,
        "avaliação": path(desk.links.evaluate(resolved)),
        "resposta": path(re.search(r"http://css\.test/resposta/\S+", answer["body"]).group()),
        "link adulterado (403)": follow[:-4] + ("AAAA" if not follow.endswith("AAAA") else "BBBB"),
        "link sem token (403)": follow.split("?")[0],
        "página inexistente (404)": "/nada",
        "Acessibilidade": "/acessibilidade",
        "Privacidade": "/privacidade",
    }


def test_no_wcag_violation_on_the_information_pages_and_the_email_forms(driver: Any, page_site: str,
                                                                         link_pages: dict[str, str]) -> None:
    from selenium.webdriver.common.by import By

    for name, path in link_pages.items():
        driver.get(page_site + path)
        assert_accessible(driver, name)

    # The forms re-shown with their errors (the browser's own `required` check taken off to reach the server),
    # then sent.
    driver.get(page_site + link_pages["avaliação"])
    driver.execute_script("document.querySelectorAll('[required]').forEach(function (e) { e.required = false; });")
    driver.find_element(By.CSS_SELECTOR, "form.formulario-avaliacao button[type=submit]").click()
    Chat(driver, page_site, WAIT).wait(lambda d: d.find_elements(By.ID, "erros"), WAIT)
    assert_accessible(driver, "avaliação com erros")
    driver.find_element(By.CSS_SELECTOR, "input[name=nota][value='5']").click()
    driver.find_element(By.CSS_SELECTOR, "input[name=decisao][value=concordo]").click()
    driver.find_element(By.CSS_SELECTOR, "form.formulario-avaliacao button[type=submit]").click()
    Chat(driver, page_site, WAIT).wait(lambda d: d.find_elements(By.CSS_SELECTOR, "p.sucesso"), WAIT)
    assert_accessible(driver, "avaliação registrada")

    driver.get(page_site + link_pages["resposta"])
    driver.execute_script("document.getElementById('resposta').required = false;")
    driver.find_element(By.CSS_SELECTOR, "form.formulario-resposta button[type=submit]").click()
    Chat(driver, page_site, WAIT).wait(lambda d: d.find_elements(By.ID, "erros"), WAIT)
    assert_accessible(driver, "resposta em branco")
    driver.find_element(By.ID, "resposta").send_keys("Aparece 'acesso negado'.")
    driver.find_element(By.CSS_SELECTOR, "form.formulario-resposta button[type=submit]").click()
    Chat(driver, page_site, WAIT).wait(lambda d: d.find_elements(By.CSS_SELECTOR, "p.sucesso"), WAIT)
    assert_accessible(driver, "resposta registrada")


def test_the_gate_catches_a_broken_widget(driver: Any, page_site: str) -> None:
    """The gate is only worth something if it fails: break the widget on purpose and axe-core must say how."""
    chat = Chat(driver, page_site, WAIT)
    chat.load()
    chat.answer_after(chat.open_panel)
    assert_accessible(driver, "o widget intacto")
    driver.execute_script("""
        var box = document.getElementById('entrada');
        document.querySelector('label[for=entrada]').remove();   // the message box loses its label
        box.removeAttribute('placeholder');
        var send = document.getElementById('enviar');            // pale grey on white
        send.style.setProperty('background', '#ffffff', 'important');
        send.style.setProperty('color', '#b8b8b8', 'important');
    """)
    violations = axe_violations(driver)
    found = {v["id"]: v for v in violations}
    assert {"label", "color-contrast"} <= set(found), describe(violations)
    assert any("#entrada" in node for node in found["label"]["nodes"]), describe(violations)
    assert any("#enviar" in node for node in found["color-contrast"]["nodes"]), describe(violations)
    print("\n[gate] widget quebrado de propósito:\n" + describe([found["label"], found["color-contrast"]]))


# ---------------------------------------------------------------- eMAG: access keys, high contrast, zoom


def press(browser: Any, *keys: str, modifier: str | None = None) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    actions = ActionChains(browser)
    if modifier:
        actions.key_down(modifier)
    actions.send_keys(*keys)
    if modifier:
        actions.key_up(modifier)
    actions.perform()


def focused(browser: Any) -> dict[str, str]:
    return browser.execute_script("""
        var e = document.activeElement;
        return {id: e.id || "", tag: e.tagName.toLowerCase(), text: (e.innerText || e.value || "").trim()};""")


def test_access_keys_jump_to_content_menu_and_footer(driver: Any, page_site: str) -> None:
    from selenium.webdriver.common.keys import Keys

    chat = Chat(driver, page_site, WAIT)
    chat.load()
    shortcuts = chat.all(".barra-acessibilidade a[accesskey]")
    assert [(a.get_attribute("accesskey"), a.text) for a in shortcuts] == [
        ("1", "Ir para o conteúdo 1"), ("2", "Ir para o menu 2"), ("4", "Ir para o rodapé 4")]
    assert all(a.is_displayed() and a.size["width"] > 0 for a in shortcuts), "atalhos visíveis, não escondidos"
    press(driver, Keys.TAB)
    assert focused(driver)["text"] == "Ir para o conteúdo 1", "o primeiro Tab vai ao atalho para o conteúdo"
    for key, target in (("1", "conteudo"), ("2", "menu"), ("4", "rodape"), ("1", "conteudo")):
        press(driver, key, modifier=Keys.ALT)
        chat.wait(lambda _: focused(driver)["id"] == target, WAIT, f"Alt+{key} não levou a #{target}: {focused(driver)}")


def colours(browser: Any, css: str) -> tuple[str, str]:
    return tuple(browser.execute_script(
        "var s = getComputedStyle(document.querySelector(arguments[0])); return [s.color, s.backgroundColor];", css))


def test_high_contrast_persists_and_reaches_the_chat(driver: Any, page_site: str) -> None:
    chat = Chat(driver, page_site, WAIT)
    chat.load()
    normal = colours(driver, "body")
    chat.find("#alto-contraste").click()
    assert chat.find("#alto-contraste").get_attribute("aria-pressed") == "true"
    chat.answer_after(chat.open_panel)
    white_on_black = ("rgb(255, 255, 255)", "rgb(0, 0, 0)")
    for part in ("body", ".painel", ".painel-topo", ".mensagem.bot", "#entrada", "#enviar", ".botoes button"):
        assert colours(driver, part) == white_on_black, (part, driver.execute_script("return document.querySelector(arguments[0]).outerHTML", part))
    assert colours(driver, ".aviso-lgpd a")[0] == "rgb(255, 255, 0)"

    driver.refresh()  # kept across reloads, on every page
    chat.wait(lambda _: chat.find("#painel-chat").is_displayed(), WAIT)
    assert "contraste" in chat.find("html").get_attribute("class")
    assert colours(driver, ".mensagem.bot") == white_on_black
    assert chat.find("#alto-contraste").get_attribute("aria-pressed") == "true"
    chat.load("/privacidade")
    assert colours(driver, "main") == white_on_black

    chat.find("#alto-contraste").click()  # and off again, also kept
    chat.load("/")
    assert "contraste" not in (chat.find("html").get_attribute("class") or "")
    assert colours(driver, "body") == normal


VIEWPORTS = {
    # Browser zoom at 200 % on a 1280×1000 window lays the page out in 640×500 CSS pixels at twice the pixel size.
    "zoom de 200 %": {"width": 640, "height": 500, "deviceScaleFactor": 2, "mobile": False},
    "320 px de largura": {"width": 320, "height": 640, "deviceScaleFactor": 1, "mobile": False},
}


def horizontal_overflow(browser: Any) -> int:
    return browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;")


def inside_viewport(browser: Any, css: str) -> bool:
    return browser.execute_script("""
        var r = document.querySelector(arguments[0]).getBoundingClientRect();
        return r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0 &&
               r.right <= window.innerWidth + 0.5 && r.bottom <= window.innerHeight + 0.5;""", css)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_page_and_chat_work_zoomed_and_narrow(driver: Any, page_site: str, link_pages: dict[str, str],
                                             viewport: str) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", VIEWPORTS[viewport])
    chat = Chat(driver, page_site, WAIT)
    for name, path in {"página": "/", **link_pages}.items():
        chat.load(path)
        assert horizontal_overflow(driver) <= 0, f"rolagem horizontal em {name} ({viewport})"
    chat.load()
    chat.answer_after(chat.open_panel, expect="Olá! Sou o assistente de teste.")
    for part in ("#painel-chat", "#entrada", "#enviar", "#fechar-chat", "#apagar-conversa"):
        assert inside_viewport(driver, part), f"{part} fora da tela ({viewport})"
    chat.answer_after(chat.click("Abrir acionamento"), expect="Recebi: /abrir_acionamento")
    chat.answer_after(chat.type("longa"), expect="SS-2026-000015")
    assert horizontal_overflow(driver) <= 0, f"rolagem horizontal com o chat aberto ({viewport})"
    assert driver.execute_script(
        "var log = document.getElementById('mensagens'); return log.scrollWidth <= log.clientWidth;"), viewport
    assert inside_viewport(driver, "#enviar"), viewport
    assert_accessible(driver, f"chat aberto, {viewport}")


# ---------------------------------------------------------------- "Apagar esta conversa" in the page


def test_erasing_asks_first_and_starts_a_new_conversation(driver: Any, page_site: str, rasa: FakeRasa) -> None:  # noqa: F811
    chat = Chat(driver, page_site, WAIT)
    chat.load()
    chat.answer_after(chat.open_panel)
    chat.answer_after(chat.type("meu CPF é 718.426.305-71"))
    first = rasa.requests[-1]["body"]["sender"]
    assert rasa.requests[-1]["body"]["message"] == "meu CPF é 718.426.305-71"  # the assistant gets it in full
    mine = [b for b in chat.bubbles() if b["kind"] == "usuario"][-1]
    assert mine["text"] == "meu CPF é xxx.426.305-xx"  # the page never shows it back in full...
    answer = chat.bubbles()[-1]["text"]
    assert answer == "Recebi: meu CPF é xxx.426.305-xx", answer  # ...not even when an answer repeats it
    assert "718.426.305-71" not in driver.execute_script("return JSON.stringify(sessionStorage);")

    chat.find("#apagar-conversa").click()
    chat.wait(lambda _: chat.find("#confirmar-apagar").is_displayed(), WAIT, "sem confirmação")
    assert focused(driver)["id"] == "confirmar-apagar-nao", "o foco vai para a escolha segura"
    chat.find("#confirmar-apagar-nao").click()
    assert not chat.find("#confirmar-apagar").is_displayed()
    assert len(chat.bubbles()) == 3, "cancelar não apaga nada"

    chat.find("#apagar-conversa").click()
    chat.find("#confirmar-apagar-sim").click()
    chat.wait(lambda _: "apagada" in chat.find("#situacao-apagar").text, WAIT)
    chat.wait(lambda _: [b["kind"] for b in chat.bubbles()] == ["bot"] and chat.idle(), WAIT, "só a nova saudação")
    assert rasa.requests[-1]["body"]["sender"] != first, "depois de apagar, uma conversa nova"
    assert first not in driver.execute_script("return JSON.stringify(sessionStorage);")


def test_erasing_says_so_when_the_server_cannot(driver: Any, desk: ServiceDesk, rasa: FakeRasa,  # noqa: F811
                                                tmp_path: Path) -> None:
    rasa.script = scripted
    app = web.WebApp(desk, rasa.url, development=False,
                     conversations_url=f"sqlite:///{tmp_path / 'nao-existe' / 'conversas.db'}")
    with serving(app) as base:
        chat = Chat(driver, base, WAIT)
        chat.load()
        chat.answer_after(chat.open_panel)
        chat.answer_after(chat.type("oi"))
        before = chat.bubbles()
        chat.find("#apagar-conversa").click()
        chat.find("#confirmar-apagar-sim").click()
        chat.wait(lambda _: "0800 728 2323" in chat.find("#situacao-apagar").text, WAIT)
        assert chat.bubbles() == before, "nada muda na página se o servidor não apagou"


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


def tab_until(browser: Any, wanted: Callable[[dict[str, str]], bool], backwards: bool = False,
              limit: int = 80) -> dict[str, str]:
    """Press Tab (Shift+Tab) until the focused element is the wanted one; fails if the keyboard cannot reach it."""
    from selenium.webdriver.common.keys import Keys

    for _ in range(limit):
        press(browser, Keys.TAB, modifier=Keys.SHIFT if backwards else None)
        now = focused(browser)
        if wanted(now):
            return now
    pytest.fail(f"o teclado não alcançou o elemento procurado em {limit} Tabs (foco em {focused(browser)})")


def choose_by_keyboard(browser: Any, title: str) -> Callable[[], None]:
    """From the message box, Shift+Tab back to the newest enabled answer button titled `title`, then Enter."""
    from selenium.webdriver.common.keys import Keys

    def do() -> None:
        tab_until(browser, lambda f: f["tag"] == "button" and f["text"].startswith(title), backwards=True, limit=30)
        press(browser, Keys.ENTER)
    return do


def test_keyboard_only_opens_a_ticket(driver: Any, product: Product) -> None:
    """No mouse at all: from the first Tab of the page to the ticket's number."""
    from selenium.webdriver.common.keys import Keys

    chat = Chat(driver, product.base, TURN)
    chat.load()
    chat.wait(lambda _: chat.find("#identificacao").is_displayed(), WAIT, "seletor 'entrar como' não apareceu")
    press(driver, Keys.TAB)
    assert focused(driver)["text"] == "Ir para o conteúdo 1", "o primeiro Tab vai ao atalho para o conteúdo"
    tab_until(driver, lambda f: f["id"] == "persona")
    press(driver, Keys.ARROW_DOWN)  # the first persona: Ana Souza
    # The panel is still closed: read the text content (Selenium's .text is only what is on screen).
    chat.wait(lambda _: "Ana Souza" in chat.find("#quem").get_attribute("textContent"), WAIT,
              "o teclado não trocou a persona")
    tab_until(driver, lambda f: f["id"] == "abrir-chat-texto")
    chat.answer_after(lambda: press(driver, Keys.ENTER), expect="Olá! Eu sou o Assistente Serpro")
    assert focused(driver)["id"] == "entrada", "ao abrir, o foco vai para a caixa de mensagem"

    chat.answer_after(lambda: press(driver, "quero abrir um acionamento", Keys.ENTER), expect="Para qual serviço")
    chat.answer_after(choose_by_keyboard(driver, "Datavalid"), expect="tipo do acionamento")
    chat.answer_after(choose_by_keyboard(driver, "Problema"), expect="impacto")
    chat.answer_after(choose_by_keyboard(driver, "Médio"), expect="Descreva")
    description = "O Datavalid devolve tempo esgotado em metade das consultas desde as 10h, só pelo teclado."
    chat.answer_after(lambda: press(driver, description, Keys.ENTER), expect="Posso registrar?")
    done = chat.answer_after(choose_by_keyboard(driver, "Sim"))
    number = NUMBER.search(" ".join(b["text"] for b in done))
    assert number, f"sem número de acionamento\n{chat.transcript()}"
    ticket = product.cli("tickets", "show", number.group())
    assert (ticket["requester_email"], ticket["service"], ticket["description"]) == (
        "ana.souza@exemplo.gov.br", "Datavalid", description)


def tracker_rows(product: Product, sender: str) -> tuple[int, int]:
    """(events, owner rows) the real tracker database holds for one conversation."""
    from sqlalchemy import text

    from backend.config import conversations_url
    from backend.conversations import conversations_engine

    engine = conversations_engine(conversations_url(product.env["DATABASE_URL"]))
    try:
        with engine.connect() as connection:
            events = connection.scalar(text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender})
            owners = connection.scalar(
                text("SELECT count(*) FROM conversation_owners WHERE sender_id = :s"), {"s": sender})
    finally:
        engine.dispose()
    return events, owners


def test_erasing_a_conversation_leaves_nothing_of_it_in_the_tracker_database(driver: Any, product: Product) -> None:
    chat = Chat(driver, product.base, TURN)
    chat.load()
    chat.answer_after(chat.open_panel, expect="Olá! Eu sou o Assistente Serpro")
    chat.sign_in_as("ana", "Ana Souza")
    chat.answer_after(chat.type("718.426.305-71"))  # a CPF typed on its own
    chat.answer_after(chat.type("quero abrir um acionamento"), expect="Para qual serviço")
    shown = " ".join(b["text"] for b in chat.bubbles())
    assert "xxx.426.305-xx" in shown and "718.426.305-71" not in shown, chat.transcript()
    sender = driver.execute_script("return JSON.parse(sessionStorage.getItem('assistente-serpro-conversa')).sender")
    events, owners = tracker_rows(product, sender)
    assert events > 0 and owners == 1, (events, owners)

    chat.find("#apagar-conversa").click()
    chat.wait(lambda _: chat.find("#confirmar-apagar").is_displayed(), WAIT, "sem confirmação")
    chat.find("#confirmar-apagar-sim").click()
    chat.wait(lambda _: "apagada" in chat.find("#situacao-apagar").text, WAIT, "a conversa não foi apagada")

    assert tracker_rows(product, sender) == (0, 0), "sobrou algo da conversa apagada no banco de conversas"
    chat.wait(lambda _: [b["kind"] for b in chat.bubbles()] == ["bot"] and chat.idle(), TURN, "sem nova saudação")
    assert "Olá! Eu sou o Assistente Serpro" in chat.bubbles()[0]["text"]
    new_sender = driver.execute_script(
        "return JSON.parse(sessionStorage.getItem('assistente-serpro-conversa')).sender")
    assert new_sender != sender and tracker_rows(product, sender) == (0, 0)


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
