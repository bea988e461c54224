"""Whole conversations over HTTP against the real servers, checked against the backend with the staff CLI.

`python -m bot.launcher` runs once per test session on free ports (the `bot` fixture of conftest.py, shared with
test_integration_course.py and test_integration_hurried.py), in production mode (ASSISTENTE_ENV unset:
no personas), over a fresh PostgreSQL database (the tests' own server, tests/pgserver.py) migrated and seeded with
`python -m backend` — service desk and conversations alike; the other integration modules run on SQLite. Users are identified only
by the signed token in each message's metadata (contract §2). After every conversation the backend must hold
exactly what the user confirmed and nothing else.

Tests run in file order and share the database: later conversations use the ticket and contact the earlier
ones created (a fallback creates them through the CLI if an earlier conversation failed).
"""
from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest

from backend import cli, identity
from backend.clock import format_br, now_utc, to_local
from backend.contacts import NewContact
from backend.db import Database
from backend.desk import ServiceDesk
from backend.validation import format_cpf
from tests.test_integration_http import free_port, until_stopped

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FINAL_MODEL = PROJECT_ROOT / "models" / "assistente.tar.gz"  # `make test` trains it here
TRIAL_MODEL = Path("/tmp/trial_models/trial.tar.gz")
MODEL = FINAL_MODEL  # switch to TRIAL_MODEL to try a model trained elsewhere
SECRET = "conversations-test-secret-with-more-than-32-bytes"
TURN_TIMEOUT = 120.0  # one user turn; generous because the machine may be training at the same time
CLI_TIMEOUT = 120.0

SECRETARIA = "11222333000181"
AUTARQUIA = "44555666000181"
ANA = ("234.567.891-73", "ana.souza@exemplo.gov.br")
BRUNO = ("345.678.912-28", "bruno.lima@exemplo.gov.br")
DIEGO = ("567.891.234-82", "diego.rocha@demonstracao.gov.br")

# A contact of our own invention; the CPF's check digits are valid (checked with validate_docbr below).
NEW_CONTACT = {
    "name": "Mariana Teixeira Prado",
    "typed_email": "Mariana.Prado@Exemplo.GOV.br",
    "email": "mariana.prado@exemplo.gov.br",
    "typed_cpf": "718.426.305-71",
    "cpf": "71842630571",
    "typed_phone": "(61) 3411-2200",
    "phone": "+556134112200",
    "typed_phone2": "61 99123-4567",
    "phone2": "+5561991234567",
}

NUMBER = re.compile(r"SS-(\d{4})-(\d{6})")
DEADLINE = re.compile(r"\b\d{2}/\d{2}/\d{4} \d{2}:\d{2}\b")
SIGN_IN = "Entre na Área do Cliente"
# What the assistant says when it refuses an answer; a correct answer must never hear one of these.
COMPLAINTS = ("inválid", "Não entendi", "desconhecido", "Por favor, responda", "Sem a declaração", "muito curt",
              "problema técnico", "Não reconheci")


# ---------------------------------------------------------------- the servers and the staff CLI


@contextlib.contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """os.environ is exactly `env` inside (what the CLI reads, `.env` loading included), restored after."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass
class Assistant:
    log_path: Path
    rasa_port: int
    env: dict[str, str]
    process: subprocess.Popen | None = None
    chats: list["Chat"] = field(default_factory=list)

    def cli(self, *args: str) -> Any:
        """`python -m backend ARGS --json` as staff would run it; the parsed JSON."""
        return json.loads(self.cli_text(*args, "--json"))

    def cli_text(self, *args: str) -> str:
        """The staff CLI's own entry point (`backend.cli.main`, what `python -m backend` runs) in this process, with
        the launcher's environment: ~75 calls per run cost a Python start and the CLI's imports each as processes.
        Migrations stay a process (Alembic configures the logging of the process it runs in)."""
        if args[0] == "db":
            done = subprocess.run(
                [sys.executable, "-m", "backend", *args], cwd=PROJECT_ROOT, env=self.env,
                capture_output=True, text=True, timeout=CLI_TIMEOUT,
            )
            assert done.returncode == 0, f"`python -m backend {' '.join(args)}` falhou:\n{done.stderr}"
            return done.stdout.strip()
        out, err = io.StringIO(), io.StringIO()
        with environment(self.env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(list(args))
        gc.collect()  # the CLI's service desk and its database connections go with it, as with a process
        assert code == 0, f"`python -m backend {' '.join(args)}` falhou:\n{err.getvalue()}"
        return out.getvalue().strip()

    def token(self, cpf: str) -> str:
        return self.cli_text("token", "--cpf", cpf)

    def contact(self, cnpj: str, cpf: str) -> dict:
        digits = re.sub(r"\D", "", cpf)
        return next(c for c in self.cli("contacts", "list", "--cnpj", cnpj) if c["cpf"] == digits)

    def snapshot(self) -> dict[str, Any]:
        """Everything the assistant could write: tickets, contacts of both companies, e-mails."""
        return {
            "tickets": {t["number"]: t for t in self.cli("tickets", "list")},
            "contacts": {cnpj: {c["id"]: c for c in self.cli("contacts", "list", "--cnpj", cnpj)}
                         for cnpj in (SECRETARIA, AUTARQUIA)},
            "outbox": {m["id"]: m for m in self.cli("outbox", "list")},
        }

    def chat(self, who: str, token: str | None) -> "Chat":
        chat = Chat(self.rasa_port, f"{who}-{uuid.uuid4().hex[:10]}", token)
        self.chats.append(chat)
        return chat

    def save_transcripts(self) -> None:
        """Every conversation of the module, next to the launcher's log, for reading after a failure."""
        path = self.log_path.with_name("conversations.txt")
        path.write_text("\n\n".join(f"[{c.sender}]\n{c.log()}" for c in self.chats), encoding="utf-8")


@dataclass
class Chat:
    """One conversation: a unique sender, the same token on every message, the transcript for failures."""

    rasa_port: int
    sender: str
    token: str | None
    transcript: list[str] = field(default_factory=list)
    replies: list[dict] = field(default_factory=list)

    def say(self, message: str) -> str:
        body: dict[str, Any] = {"sender": self.sender, "message": message}
        if self.token is not None:
            body["metadata"] = {"token": self.token}
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook",
            data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TURN_TIMEOUT) as response:
                self.replies = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            pytest.fail(f"o webhook respondeu {error.code} a {message!r}\n{self.log()}", pytrace=False)
        self.transcript.append(f"usuário: {message}")
        for reply in self.replies:
            line = f"assistente: {reply.get('text', '')}"
            if reply.get("buttons"):
                line += "  [" + " | ".join(f"{b['title']} -> {b['payload']}" for b in reply["buttons"]) + "]"
            self.transcript.append(line)
        return self.text

    @property
    def text(self) -> str:
        return "\n".join(reply.get("text", "") for reply in self.replies)

    @property
    def buttons(self) -> list[dict]:
        return [button for reply in self.replies for button in reply.get("buttons") or []]

    def click(self, title: str) -> str:
        """Send the payload of the last turn's button whose title starts with `title`."""
        found = [b for b in self.buttons if b["title"].startswith(title)]
        assert found, f"sem botão {title!r} na última resposta\n{self.log()}"
        return self.say(found[0]["payload"])

    def expect(self, *fragments: str) -> None:
        """The last answer says all of `fragments` and complains about nothing the user did not do."""
        for fragment in fragments:
            assert fragment in self.text, f"esperava {fragment!r} na resposta\n{self.log()}"
        for complaint in COMPLAINTS:
            assert complaint not in self.text, f"reclamação fora de hora: {complaint!r}\n{self.log()}"

    def log(self) -> str:
        return "conversa:\n  " + "\n  ".join(self.transcript)


@contextlib.contextmanager
def running_assistant(tmp_path_factory: pytest.TempPathFactory, postgres_server: Any) -> Iterator[Assistant]:
    """The launcher in production mode over a fresh PostgreSQL database: the session fixture `bot` (conftest.py)
    starts it once for every REST conversation module, since a start is mostly the model's load."""
    if not MODEL.is_file():
        pytest.fail(f"modelo não encontrado: {MODEL} — rode `make model` / no trained model", pytrace=False)
    tmp_path = tmp_path_factory.mktemp("conversations")
    env = dict(os.environ)
    for variable in ("ASSISTENTE_ENV", "ASSISTENTE_PERSONA", "SMTP_HOST"):
        env.pop(variable, None)  # production: no personas; mail stays in the outbox
    env["DATABASE_URL"] = postgres_server.create_database()
    env["ASSISTENTE_SECRET"] = SECRET
    rasa_port = free_port()
    setup = Assistant(tmp_path / "launcher.log", rasa_port, env)
    setup.cli_text("db", "upgrade")
    setup.cli_text("seed")

    log = setup.log_path.open("w", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.launcher", "--model", str(MODEL),
         "--rasa-port", str(rasa_port), "--actions-port", str(free_port()), "--web-port", str(free_port())],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    log.close()
    setup.process = process
    try:
        with until_stopped(process, setup.log_path):
            yield setup
    finally:
        setup.save_transcripts()


@pytest.fixture(scope="module")
def shared() -> dict[str, Any]:
    """What one conversation leaves for the next (ticket numbers...)."""
    return {}


@pytest.fixture
def ana_ticket(bot: Assistant, shared: dict[str, Any]) -> str:
    """Ana's ticket from the first conversation, or one registered by staff if that conversation failed."""
    if "ana_ticket" not in shared:
        shared["ana_ticket"] = bot.cli(
            "tickets", "open", "--cpf", ANA[0], "--service", "Consulta CNPJ", "--category", "problema",
            "--impact", "alto", "--description", "Consulta CNPJ fora do ar (aberto pelo teste como reserva).",
        )["number"]
    return shared["ana_ticket"]


@pytest.fixture
def new_contact(bot: Assistant) -> dict:
    """The contact ana adds in conversation 5, or the same one written straight to the backend if that
    conversation failed (there is no staff command to add contacts)."""
    listed = [c for c in bot.cli("contacts", "list", "--cnpj", SECRETARIA) if c["email"] == NEW_CONTACT["email"]]
    if listed:
        return listed[0]
    database = Database(bot.env["DATABASE_URL"])
    try:
        desk = ServiceDesk(database, SECRET, "http://localhost:8000")
        return desk.add_contact(bot.contact(SECRETARIA, ANA[0])["id"], NewContact(
            name=NEW_CONTACT["name"], email=NEW_CONTACT["email"], cpf=NEW_CONTACT["cpf"], foreign=False,
            profiles=["corporativo", "financeiro"], phone_primary=NEW_CONTACT["phone"],
            phone_secondary=NEW_CONTACT["phone2"], declaration_accepted=True,
        ))
    finally:
        database.dispose()


# ---------------------------------------------------------------- checks on the backend state


def assert_unchanged(bot: Assistant, before: dict[str, Any], chat: Chat) -> None:
    after = bot.snapshot()
    assert after == before, f"o backend mudou sem confirmação do usuário\n{chat.log()}"


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What differs between two snapshots, by kind."""
    def diff(old: dict, new: dict) -> dict[str, Any]:
        return {
            "added": [new[k] for k in new if k not in old],
            "removed": [old[k] for k in old if k not in new],
            "changed": [new[k] for k in new if k in old and new[k] != old[k]],
        }

    contacts_old = {(cnpj, cid): c for cnpj, cs in before["contacts"].items() for cid, c in cs.items()}
    contacts_new = {(cnpj, cid): c for cnpj, cs in after["contacts"].items() for cid, c in cs.items()}
    return {
        "tickets": diff(before["tickets"], after["tickets"]),
        "contacts": diff(contacts_old, contacts_new),
        "outbox": diff(before["outbox"], after["outbox"]),
    }


NOTHING = {"added": [], "removed": [], "changed": []}


def local_year() -> int:
    return to_local(now_utc()).year


# ---------------------------------------------------------------- 1. open a ticket step by step


def test_ana_opens_a_ticket_step_by_step(bot: Assistant, shared: dict[str, Any]) -> None:
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    chat.say("bom dia")
    chat.expect("Assistente Serpro")
    chat.click("Abrir acionamento")
    chat.expect("Para qual serviço")
    chat.click("Consulta CNPJ")
    chat.expect("tipo do acionamento")
    chat.click("Problema")
    chat.expect("impacto")
    chat.click("Alto")
    chat.expect("Descreva")
    description = ("A Consulta CNPJ responde com erro 503 em todas as chamadas desde as oito horas; "
                   "nenhum usuário do órgão consegue consultar empresas.")
    chat.say(description)
    chat.expect("Consulta CNPJ", "Problema", description, "Posso registrar?")
    reply = chat.click("Sim")

    number = NUMBER.search(reply)
    deadline = DEADLINE.search(reply)
    assert number and deadline, f"sem número ou prazo na resposta\n{chat.log()}"
    assert int(number.group(1)) == local_year()
    assert ANA[1] in reply, chat.log()

    after = bot.snapshot()
    diff = changes(before, after)
    assert [t["number"] for t in diff["tickets"]["added"]] == [number.group()], chat.log()
    assert diff["tickets"]["changed"] == diff["tickets"]["removed"] == [], chat.log()
    assert diff["contacts"] == NOTHING
    ticket = bot.cli("tickets", "show", number.group())
    assert ticket["service"] == "Consulta CNPJ"
    assert ticket["category"] == "problema"
    assert ticket["impact"] == "alto"
    assert ticket["description"] == description
    assert ticket["requester_email"] == ANA[1]
    assert ticket["company_cnpj"] == SECRETARIA
    assert (ticket["status"], ticket["level"], ticket["channel"]) == ("registrado", "N1", "chat")
    assert format_br(datetime.fromisoformat(ticket["due_at"])) == deadline.group()
    mails = diff["outbox"]["added"]
    assert [(m["to"], m["subject"]) for m in mails] == [(ANA[1], f"[CSS] Acionamento {number.group()} registrado")]
    assert diff["outbox"]["changed"] == diff["outbox"]["removed"] == []
    shared["ana_ticket"] = number.group()


# ---------------------------------------------------------------- 2. consult it, typed loosely


def test_ana_consults_her_ticket_typed_loosely(bot: Assistant, ana_ticket: str) -> None:
    before = bot.snapshot()
    ticket = before["tickets"][ana_ticket]
    _, year, sequence = ana_ticket.split("-")
    chat = bot.chat("ana", bot.token(ANA[0]))
    reply = chat.say(f"qual é a situação do acionamento ss{year}{sequence}?")
    assert ana_ticket in reply, chat.log()
    chat.expect(f"Situação: {ticket['status_label']}", "Nível de suporte: N1",
                f"Prazo (ANS): {format_br(datetime.fromisoformat(ticket['due_at']))}")
    assert_unchanged(bot, before, chat)


# ---------------------------------------------------------------- 3. one informative message


def test_bruno_opens_a_ticket_from_one_informative_message(
    bot: Assistant, shared: dict[str, Any]
) -> None:
    before = bot.snapshot()
    chat = bot.chat("bruno", bot.token(BRUNO[0]))
    first = "o Datavalid está fora do ar desde cedo, todas as validações retornam erro de conexão"
    answers = [first]
    reply = chat.say(first)
    asked_again = []
    while not NUMBER.search(reply) and len(answers) < 8:
        chat.expect()
        if "Posso registrar?" in reply:
            answer = "sim"
        elif "Para qual serviço" in reply:
            asked_again.append("serviço")
            answer = "Datavalid"
        elif "tipo do acionamento" in reply:
            asked_again.append("tipo")
            answer = "Problema"
        elif "Descreva" in reply:
            asked_again.append("descrição")
            answer = first
        elif "impacto" in reply:
            answer = "Alto"
        else:
            pytest.fail(f"o assistente não seguiu o formulário\n{chat.log()}", pytrace=False)
        answers.append(answer)
        reply = chat.say(answer)
    shared["bruno_turns"] = len(answers)
    print(f"\nbruno: {len(answers)} turnos do usuário até o número\n{chat.log()}")
    number = NUMBER.search(reply)
    assert number, f"nenhum acionamento registrado\n{chat.log()}"
    assert asked_again == [], f"perguntou de novo o que a primeira mensagem já dizia: {asked_again}\n{chat.log()}"

    diff = changes(before, bot.snapshot())
    assert [t["number"] for t in diff["tickets"]["added"]] == [number.group()]
    assert diff["tickets"]["changed"] == [] and diff["contacts"] == NOTHING
    ticket = bot.cli("tickets", "show", number.group())
    assert ticket["service"] == "Datavalid"
    assert ticket["category"] == "problema"
    assert ticket["description"] == first
    assert ticket["requester_email"] == BRUNO[1]
    assert [m["to"] for m in diff["outbox"]["added"]] == [BRUNO[1]]


# ---------------------------------------------------------------- 4. another company's ticket


def test_diego_cannot_see_anas_ticket(bot: Assistant, ana_ticket: str) -> None:
    before = bot.snapshot()
    chat = bot.chat("diego", bot.token(DIEGO[0]))
    other_company = chat.say(f"qual é a situação do acionamento {ana_ticket}?")
    missing = f"SS-{ana_ticket.split('-')[1]}-999999"
    nonexistent = chat.say(f"e o acionamento {missing}, em que pé está?")
    assert "Não encontrei" in other_company, chat.log()
    assert other_company == nonexistent, chat.log()
    ticket = before["tickets"][ana_ticket]
    for secret in (ticket["service"], ticket["status_label"], ticket["description"], ANA[1]):
        assert secret not in other_company, chat.log()
    assert_unchanged(bot, before, chat)


# ---------------------------------------------------------------- 5-7. contacts


def test_new_contact_cpf_is_valid() -> None:
    from validate_docbr import CPF

    assert CPF().validate(NEW_CONTACT["cpf"])
    assert format_cpf(NEW_CONTACT["cpf"]) == NEW_CONTACT["typed_cpf"]


def test_ana_adds_a_contact(bot: Assistant) -> None:
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    chat.say("preciso cadastrar uma nova pessoa como contato da empresa")
    chat.expect("nome completo")
    chat.say(NEW_CONTACT["name"])
    chat.expect("e-mail")
    chat.say(NEW_CONTACT["typed_email"])
    chat.expect("CPF")
    chat.say(NEW_CONTACT["typed_cpf"])
    chat.expect("tipo do contato")
    chat.click("Financeiro")
    chat.expect("acrescentar outro tipo")
    chat.click("Corporativo")
    chat.expect("acrescentar outro tipo")
    chat.click("Não")
    chat.expect("telefone principal")
    chat.say(NEW_CONTACT["typed_phone"])
    chat.expect("telefone secundário")
    chat.say(NEW_CONTACT["typed_phone2"])
    chat.expect("veracidade")
    chat.click("Sim")
    cpf = NEW_CONTACT["cpf"]
    chat.expect(NEW_CONTACT["name"], NEW_CONTACT["email"], f"CPF: xxx.{cpf[3:6]}.{cpf[6:9]}-xx", "Corporativo",
                "Financeiro", "(61) 3411-2200", "(61) 99123-4567", "Posso cadastrar?")
    assert NEW_CONTACT["typed_cpf"] not in chat.text, chat.log()
    chat.click("Sim")
    chat.expect(NEW_CONTACT["name"], "primeiro acesso")

    diff = changes(before, bot.snapshot())
    added = diff["contacts"]["added"]
    assert len(added) == 1 and diff["contacts"]["removed"] == diff["contacts"]["changed"] == [], chat.log()
    contact = added[0]
    assert {key: contact[key] for key in ("name", "email", "cpf", "foreign", "profiles", "phone_primary",
                                          "phone_secondary", "company_cnpj")} == {
        "name": NEW_CONTACT["name"], "email": NEW_CONTACT["email"], "cpf": NEW_CONTACT["cpf"], "foreign": False,
        "profiles": ["corporativo", "financeiro"], "phone_primary": NEW_CONTACT["phone"],
        "phone_secondary": NEW_CONTACT["phone2"], "company_cnpj": SECRETARIA,
    }
    assert diff["tickets"] == NOTHING
    mails = diff["outbox"]["added"]
    assert [m["to"] for m in mails] == [NEW_CONTACT["email"]], chat.log()
    assert "primeiro acesso" in mails[0]["subject"]


def test_ana_lists_contacts_with_masked_cpfs(bot: Assistant, new_contact: dict) -> None:
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    reply = chat.say("quais são os contatos cadastrados da minha empresa?")
    contacts = before["contacts"][SECRETARIA].values()
    assert new_contact["id"] in before["contacts"][SECRETARIA]
    for contact in contacts:
        assert contact["name"] in reply, chat.log()
        cpf = contact["cpf"]
        assert f"xxx.{cpf[3:6]}.{cpf[6:9]}-xx" in reply, chat.log()
        assert format_cpf(cpf) not in reply, chat.log()
    assert not re.search(r"(?<!\d)\d{11}(?!\d)", reply), chat.log()
    assert_unchanged(bot, before, chat)


def test_ana_removes_the_contact_she_added(bot: Assistant, new_contact: dict) -> None:
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    chat.say("quero remover um contato da empresa")
    chat.expect("Qual contato")
    chat.say(NEW_CONTACT["name"])
    chat.expect(f"Confirma a remoção de {NEW_CONTACT['name']}")
    chat.click("Sim")
    chat.expect(f"{NEW_CONTACT['name']} não é mais contato")

    diff = changes(before, bot.snapshot())
    assert [c["email"] for c in diff["contacts"]["removed"]] == [NEW_CONTACT["email"]], chat.log()
    assert diff["contacts"]["added"] == diff["contacts"]["changed"] == []
    assert diff["tickets"] == NOTHING


def test_bruno_may_not_add_contacts(bot: Assistant) -> None:
    before = bot.snapshot()
    chat = bot.chat("bruno", bot.token(BRUNO[0]))
    chat.say("quero incluir um novo contato na Área do Cliente")
    chat.expect("não permite incluir")
    reply = chat.say("Rafael Antunes Moreira")  # a name: must not be taken as the start of a form
    assert reply.strip(), f"o assistente ficou calado\n{chat.log()}"
    assert "e-mail" not in reply, chat.log()
    assert_unchanged(bot, before, chat)


# ---------------------------------------------------------------- 9. no, forged or expired token


def _bad_token(kind: str, bot: Assistant) -> str | None:
    if kind == "sem token":
        return None
    ana = bot.contact(SECRETARIA, ANA[0])
    if kind == "forjado":
        return identity.issue_token("um-outro-segredo-qualquer-com-mais-de-32-bytes", ana["id"], ana["cpf"],
                                    SECRETARIA)
    return identity.issue_token(SECRET, ana["id"], ana["cpf"], SECRETARIA, ttl_minutes=5,
                                now=now_utc() - timedelta(hours=1))


@pytest.mark.parametrize("kind", ["sem token", "forjado", "expirado"])
def test_without_a_valid_token_only_public_help(bot: Assistant, ana_ticket: str, kind: str) -> None:
    before = bot.snapshot()
    chat = bot.chat(kind.replace(" ", "-"), _bad_token(kind, bot))
    chat.say("olá")
    chat.expect("Assistente Serpro")
    for protected in (
        "quero abrir um chamado",
        f"qual é a situação do acionamento {ana_ticket}?",
        "quero incluir um novo contato da empresa",
        "quais são os contatos da minha empresa?",
    ):
        reply = chat.say(protected)
        assert SIGN_IN in reply, f"{kind}: {protected!r} não pediu para entrar\n{chat.log()}"
        for leaked in (ana_ticket, "Situação:", "xxx.", ANA[1], "Qual é o nome"):
            assert leaked not in reply, f"{kind}: vazou {leaked!r}\n{chat.log()}"
    chat.say("preciso de ajuda")
    chat.expect("0800 728 2323", "css.serpro@serpro.gov.br", "24x7")
    assert_unchanged(bot, before, chat)


# ---------------------------------------------------------------- 10. cancel and deny


def test_cancel_in_the_middle_of_a_ticket_writes_nothing(bot: Assistant) -> None:
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    chat.say("quero abrir um acionamento")
    chat.expect("Para qual serviço")
    chat.click("Datavalid")
    chat.expect("tipo do acionamento")
    chat.say("cancelar")
    chat.expect("Nada foi registrado")
    assert_unchanged(bot, before, chat)


def test_deny_at_the_confirmation_writes_nothing(bot: Assistant) -> None:
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    chat.say("quero abrir um acionamento")
    chat.expect("Para qual serviço")
    chat.click("Área do Cliente")
    chat.expect("tipo do acionamento")
    chat.click("Dúvida")
    chat.expect("Descreva")
    chat.say("Gostaria de entender como emitir a segunda via do boleto pela Área do Cliente.")
    chat.expect("Posso registrar?")
    chat.click("Não")
    chat.expect("não registrei")
    assert_unchanged(bot, before, chat)


# ---------------------------------------------------------------- 11. complement, evaluate, reopen


def test_ana_complements_and_then_accepts_the_solution(bot: Assistant, ana_ticket: str) -> None:
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    complement = "Desde as dez horas o erro mudou para 504 e afeta também o ambiente de homologação."
    chat.say(f"quero acrescentar uma informação ao acionamento {ana_ticket}")
    chat.expect(f"O que você quer acrescentar ao acionamento {ana_ticket}")
    chat.say(complement)
    chat.expect(complement, "Posso confirmar?")
    chat.click("Sim")
    chat.expect("complemento foi registrado")

    diff = changes(before, bot.snapshot())
    assert [t["number"] for t in diff["tickets"]["changed"]] == [ana_ticket], chat.log()
    assert diff["tickets"]["added"] == [] and diff["contacts"] == NOTHING and diff["outbox"] == NOTHING
    ticket = bot.cli("tickets", "show", ana_ticket)
    assert [c["text"] for c in ticket["complements"]] == [complement]
    assert ticket["status"] == before["tickets"][ana_ticket]["status"]

    solution = "Reiniciamos o balanceador da Consulta CNPJ; as consultas voltaram a responder."
    bot.cli("tickets", "resolve", ana_ticket, "--solution", solution)
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    chat.say(f"quero avaliar o atendimento do acionamento {ana_ticket}")
    chat.expect(solution, "Que nota")
    chat.click("5")
    chat.expect("comentário")
    chat.click("Sem comentário")
    chat.expect("concorda com a solução")
    chat.click("Sim")
    chat.expect("Nota: 5", "Posso confirmar?")
    chat.click("Sim")
    chat.expect(f"O acionamento {ana_ticket} foi fechado")

    diff = changes(before, bot.snapshot())
    assert [t["number"] for t in diff["tickets"]["changed"]] == [ana_ticket], chat.log()
    assert diff["tickets"]["added"] == [] and diff["contacts"] == NOTHING and diff["outbox"] == NOTHING
    ticket = bot.cli("tickets", "show", ana_ticket)
    assert ticket["status"] == "fechado"
    assert ticket["evaluation"] == {"score": 5, "comment": None}
    assert ticket["reopen_count"] == 0


def test_ana_disagrees_with_a_solution_and_the_ticket_reopens(bot: Assistant) -> None:
    number = bot.cli("tickets", "open", "--cpf", ANA[0], "--service", "Certificado Digital",
                     "--category", "solicitacao",
                     "--description", "Solicito a liberação da emissão do certificado digital do servidor.")["number"]
    bot.cli("tickets", "resolve", number, "--solution", "Liberamos a emissão no portal do certificado.")
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    comment = "A resposta demorou bastante."
    reason = "O portal ainda não mostra a opção de emitir o certificado."
    chat.say(f"quero avaliar o atendimento do acionamento {number}")
    chat.expect("Que nota")
    chat.click("2")
    chat.expect("comentário")
    chat.say(comment)
    chat.expect("concorda com a solução")
    chat.click("Não")
    chat.expect("Conte por que")
    chat.say(reason)
    chat.expect("Nota: 2", comment, reason, "Posso confirmar?")
    chat.click("Sim")
    chat.expect("Obrigado pela avaliação", f"O acionamento {number} foi reaberto")

    diff = changes(before, bot.snapshot())
    assert [t["number"] for t in diff["tickets"]["changed"]] == [number], chat.log()
    assert diff["tickets"]["added"] == [] and diff["contacts"] == NOTHING
    assert [(m["to"], m["subject"]) for m in diff["outbox"]["added"]] == [
        (ANA[1], f"[CSS] Acionamento {number} reaberto")]
    ticket = bot.cli("tickets", "show", number)
    assert ticket["status"] == "reaberto"
    assert ticket["reopen_count"] == 1
    # Reopening clears the evaluation (a new solution gets its own); the one given stays in the history.
    events = [(e["kind"], e["text"]) for e in ticket["history"]]
    assert ("evaluated", f"nota 2: {comment}") in events
    assert ("reopened", reason) in events


# ---------------------------------------------------------------- 14. a question in the middle of a form


def test_faq_in_the_middle_of_a_ticket_form_then_it_resumes(bot: Assistant) -> None:
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    chat.say("quero abrir um acionamento")
    chat.expect("Para qual serviço")
    chat.say("antes disso: qual é o prazo de atendimento?")
    # the FAQ answer, the deadlines of ana's company (seed: its own agreement for the Área do Cliente)...
    chat.expect("acordo de nível de serviço", "Para a sua empresa", "Área do Cliente (acordo da sua empresa)",
                "Datavalid — crítica: 2 horas corridas (24x7)")
    # ...and the form asks its question again
    assert "Para qual serviço" in chat.text, chat.log()
    chat.click("Datavalid")
    chat.expect("tipo do acionamento")
    chat.click("Dúvida")
    chat.expect("Descreva")
    chat.say("a central atende no fim de semana?")
    chat.expect("24x7")
    assert "Descreva" in chat.text, chat.log()
    description = "Como envio o token de acesso no cabeçalho da chamada de teste ao Datavalid?"
    chat.say(description)
    chat.expect(description, "Posso registrar?")
    number = NUMBER.search(chat.click("Sim"))
    assert number, chat.log()
    diff = changes(before, bot.snapshot())
    assert [t["number"] for t in diff["tickets"]["added"]] == [number.group()]
    ticket = bot.cli("tickets", "show", number.group())
    assert (ticket["service"], ticket["category"], ticket["description"]) == ("Datavalid", "duvida", description)


def test_signed_out_deadline_question_gets_the_general_answer(bot: Assistant) -> None:
    before = bot.snapshot()
    chat = bot.chat("anonimo", None)
    chat.say("em quanto tempo vocês resolvem um chamado?")
    chat.expect("acordo de nível de serviço", "Se você entrar na Área do Cliente")
    assert "Para a sua empresa" not in chat.text, chat.log()
    assert_unchanged(bot, before, chat)


def test_ana_asks_her_tickets_deadline_in_a_hurry(bot: Assistant) -> None:
    """Issue 11, point 4: the ticket's own deadline, by number, then "dele", then all open ones; the general
    question keeps the general answer. Her first ticket is closed by now: staff registers an open one."""
    ana_ticket = bot.cli("tickets", "open", "--cpf", ANA[0], "--service", "Datavalid", "--category", "problema",
                         "--impact", "medio", "--description", "Datavalid lento nas consultas em lote.")["number"]
    before = bot.snapshot()
    ticket = before["tickets"][ana_ticket]
    due = format_br(datetime.fromisoformat(ticket["due_at"]))
    chat = bot.chat("ana", bot.token(ANA[0]))
    chat.say(f"ate quando vcs tem pra atender o {ana_ticket}?")
    chat.expect(f"O prazo (ANS) do acionamento {ana_ticket}", due, f"Situação: {ticket['status_label']}")
    chat.say("e quando vence o prazo dele?")
    chat.expect(f"O prazo (ANS) do acionamento {ana_ticket}", due)
    chat.say("quais os prazos dos meus chamados em aberto?")
    chat.expect("Seus acionamentos em aberto", f"{ana_ticket} · ")
    chat.say("qual o prazo de atendimento da CSS em geral?")
    chat.expect("acordo de nível de serviço", "Para a sua empresa")
    assert_unchanged(bot, before, chat)


# ---------------------------------------------------------------- 15. help, handoff, out of scope, misunderstanding


def test_help_offers_every_skill_as_buttons(bot: Assistant) -> None:
    chat = bot.chat("anonimo", None)
    chat.say("o que você sabe fazer?")
    payloads = {b["payload"] for b in chat.buttons}
    assert {"/abrir_acionamento", "/consultar_acionamento", "/complementar_acionamento", "/avaliar_acionamento",
            "/reabrir_acionamento", "/incluir_contato", "/listar_contatos", "/remover_contato"} <= payloads, chat.log()


def test_asking_for_a_person_is_answered_honestly(bot: Assistant) -> None:
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    chat.say("quero falar com um atendente humano")
    chat.expect("0800 728 2323", "css.serpro@serpro.gov.br", "24x7", "não consigo transferir")
    assert "/abrir_acionamento" in [b["payload"] for b in chat.buttons], chat.log()
    chat.say("sim, quero")  # typed instead of clicking: the offered ticket form starts
    chat.expect("Para qual serviço")
    chat.say("cancelar")
    chat.expect("Nada foi registrado")
    assert_unchanged(bot, before, chat)


def test_out_of_scope_is_a_polite_no_with_the_menu(bot: Assistant) -> None:
    chat = bot.chat("anonimo", None)
    chat.say("quem ganhou o jogo do flamengo ontem?")
    chat.expect("não consigo ajudar com esse assunto")
    assert "/abrir_acionamento" in [b["payload"] for b in chat.buttons], chat.log()


def test_two_misunderstandings_in_a_row_bring_the_menu_and_the_human_channels(bot: Assistant) -> None:
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    chat.say("/nlu_fallback")  # what the FallbackClassifier predicts below the threshold
    assert "Você quis dizer" in chat.text or "Ainda não consegui entender" in chat.text, chat.log()
    chat.say("/nlu_fallback")
    chat.expect("Ainda não consegui entender", "0800 728 2323", "css.serpro@serpro.gov.br")
    assert "/abrir_acionamento" in [b["payload"] for b in chat.buttons], chat.log()
    chat.click("Consultar acionamento")  # the menu works: the conversation goes on
    assert "Ainda não consegui" not in chat.text, chat.log()
    assert_unchanged(bot, before, chat)


# ---------------------------------------------------------------- 16. hostile and odd input


HOSTILE = [
    "",
    "   ",
    "x" * 5000,
    "😀😀🙏",
    "<script>alert('css')</script>",
    "<img src=x onerror=alert(1)>",
    "'; DROP TABLE tickets; --",
    "SELECT * FROM contacts WHERE 1=1",
    "/intencao_que_nao_existe",
    '/abrir_acionamento{"servico": ',
    "{{ config }} ${7*7} %s %n",
    "\u202e\u0000\ufeff",
]


def test_hostile_input_never_breaks_the_conversation(bot: Assistant, ana_ticket: str) -> None:
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    for message in HOSTILE:
        chat.say(message)
        assert chat.replies, f"nenhuma resposta a {message[:40]!r}\n{chat.log()}"
        assert "problema técnico" not in chat.text, chat.log()
        assert "<script>" not in chat.text and "onerror" not in chat.text, chat.log()
        # whatever the message started (a malformed button payload may open a form), the way out still works
        chat.say("cancelar")
        assert "cancel" in chat.text, chat.log()
    # a CPF out of context is not repeated back, outside or inside a form
    chat.say("234.567.891-73")
    assert chat.replies and "234.567.891-73" not in chat.text, chat.log()
    chat.say("quero abrir um acionamento")
    chat.expect("Para qual serviço")
    chat.say("234.567.891-73")
    assert "Para qual serviço" in chat.text and "234.567.891-73" not in chat.text, chat.log()
    chat.say("cancelar")
    # the conversation goes on
    chat.say("oi")
    chat.expect("Assistente Serpro")
    assert_unchanged(bot, before, chat)


def test_a_bare_ticket_number_is_looked_up_and_another_companys_is_not_found(bot: Assistant, ana_ticket: str) -> None:
    before = bot.snapshot()
    ana = bot.chat("ana", bot.token(ANA[0]))
    ana.say(ana_ticket)
    ana.expect(f"Acionamento {ana_ticket}", "Situação:")
    diego = bot.chat("diego", bot.token(DIEGO[0]))
    diego.say(ana_ticket)
    assert "Não encontrei" in diego.text and "Situação" not in diego.text, diego.log()
    assert_unchanged(bot, before, diego)


def test_hostile_text_in_a_form_is_stored_as_given(bot: Assistant) -> None:
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    chat.say("quero abrir um acionamento")
    chat.say("SS-2026-000001")  # a ticket number where the service is asked: refused, asked again
    assert "Para qual serviço" in chat.text or "serviço" in chat.text, chat.log()
    chat.click("Área do Cliente")
    chat.click("Problema")
    chat.click("Baixo")
    description = ("<script>alert('x')</script> ' OR 1=1; -- a tela de login da Área do Cliente mostra este "
                   "texto 😀 & <b>não</b> carrega " + "detalhe " * 600).strip()
    chat.say(description)
    assert "Posso registrar?" in chat.text, chat.log()
    number = NUMBER.search(chat.click("Sim"))
    assert number, chat.log()
    ticket = bot.cli("tickets", "show", number.group())
    assert ticket["description"] == description
    assert len(description) > 4000
    diff = changes(before, bot.snapshot())
    assert [t["number"] for t in diff["tickets"]["added"]] == [number.group()]


def test_the_conversation_store_keeps_no_token_and_no_personal_data(bot: Assistant) -> None:
    """After every conversation of this module (contacts added, listed and removed, tickets with descriptions, forms
    cancelled, CPFs typed on their own...), the stored conversations hold no token and no full CPF, e-mail or phone
    (contract §8); a form some test left open holds its values only sealed."""
    from sqlalchemy import create_engine, text

    engine = create_engine(bot.env["DATABASE_URL"], future=True)  # conversations live beside the desk's tables
    try:
        with engine.connect() as connection:
            stored = json.dumps([list(row) for row in connection.execute(text("SELECT sender_id, data FROM events"))],
                                ensure_ascii=False)
    finally:
        engine.dispose()
    assert len(stored) > 10_000 and any(chat.sender in stored for chat in bot.chats)
    assert "eyJ" not in stored
    people = [ANA, BRUNO, DIEGO]
    values = [v for cpf, email in people for v in (cpf, re.sub(r"\D", "", cpf), email)]
    values += [NEW_CONTACT[key] for key in ("typed_email", "email", "typed_cpf", "cpf", "typed_phone", "phone",
                                            "typed_phone2", "phone2")]
    for value in values:
        assert value not in stored, f"{value!r} guardado na base de conversas"


def test_a_database_outage_gets_the_channels_and_service_comes_back(bot: Assistant, postgres_server: Any) -> None:
    """The database refuses every connection (desk and conversations): the user hears the 0800 and the e-mail
    instead of silence; when it is back, the assistant serves again."""
    import time

    chat = bot.chat("ana", bot.token(ANA[0]))
    postgres_server.refuse_connections(bot.env["DATABASE_URL"], refused=True)
    try:
        chat.say("quero ver meus acionamentos")
        assert "0800 728 2323" in chat.text and "css.serpro@serpro.gov.br" in chat.text, chat.log()
    finally:
        postgres_server.refuse_connections(bot.env["DATABASE_URL"], refused=False)
    deadline = time.monotonic() + 60
    while True:  # a pool may hold a connection the outage cut: it is discarded on first use
        chat.say("quero ver meus acionamentos")
        if "Qual deles" in chat.text or "Não encontrei acionamentos seus" in chat.text:  # read from the database
            break
        assert time.monotonic() < deadline, f"o serviço não voltou depois da queda do banco\n{chat.log()}"
        time.sleep(2)
