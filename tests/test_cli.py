"""The staff command line (contract §7) on a fresh database, as a clerk would run it."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from backend import contacts as contact_rules
from backend import tickets as ticket_rules
from backend.clock import now_utc
from backend.db import Database
from backend.desk import ServiceDesk
from backend.identity import verify_token
from backend.models import TicketEvent
from tests.conftest import BASE_URL, TEST_SECRET

ROOT = Path(__file__).resolve().parent.parent
TICKET_KEYS = {"number", "status", "level", "service", "category", "priority", "description", "requester_email",
               "company_cnpj", "created_at", "due_at", "complements", "solution", "evaluation", "reopen_count", "history",
               "sla_status"}
CONTACT_KEYS = {"name", "email", "cpf", "foreign", "profiles", "phone_primary", "phone_secondary", "company_cnpj"}
OUTBOX_KEYS = {"to", "subject", "body", "created_at", "sent_at"}
# Each command is a fresh interpreter (about a second here): the rules behind the CLI run on PostgreSQL in the
# backend suite; on PostgreSQL this module runs the whole ticket life (Alembic, seed, JSON out) and the failures.
pytestmark = pytest.mark.databases("sqlite")


class Cli:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def desk(self) -> ServiceDesk:
        """The same database, in this process (to set up tickets in the past)."""
        return ServiceDesk(Database(self.env["DATABASE_URL"]), TEST_SECRET, BASE_URL)

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "backend", *args], cwd=ROOT, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "backend", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=60)

    def json(self, *args: str):  # type: ignore[no-untyped-def]
        done = self.run(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def fails(self, *args: str, message: str) -> None:
        done = self.run(*args)
        assert done.returncode != 0
        assert done.stdout == ""
        assert message in done.stderr


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMTP_")}
    return env | {"DATABASE_URL": url, "ASSISTENTE_SECRET": TEST_SECRET}


def _migrated_and_seeded(url: str) -> Cli:
    runner = Cli(_env(url))
    assert runner.run("db", "upgrade").returncode == 0
    assert runner.json("seed") == {"companies": 2, "contacts": 4, "services": 7, "sla_rules": 11}
    return runner


@pytest.fixture(scope="module")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated and seeded through the CLI; each test gets a copy (two processes less per test)."""
    path = tmp_path_factory.mktemp("cli-template") / "cli.db"
    _migrated_and_seeded(f"sqlite:///{path}")
    assert not path.with_name("cli.db-wal").exists() or path.with_name("cli.db-wal").stat().st_size == 0
    return path


@pytest.fixture
def cli(database: str, tmp_path, request) -> Cli:  # type: ignore[no-untyped-def]
    """A clerk's terminal on a fresh database: a copy of the seeded SQLite file, or a new PostgreSQL database."""
    if database == "sqlite":
        path = tmp_path / "cli.db"
        shutil.copyfile(request.getfixturevalue("seeded_sqlite"), path)
        return Cli(_env(f"sqlite:///{path}"))
    return _migrated_and_seeded(request.getfixturevalue("postgres_server").create_database())  # dropped with it


def test_seed_is_idempotent_and_if_empty_skips_a_used_database(cli: Cli) -> None:
    assert cli.json("seed") == {"companies": 0, "contacts": 0, "services": 0, "sla_rules": 0}
    assert "já tem dados" in cli.run("seed", "--if-empty").stdout


def test_token_is_signed_for_the_contact(cli: Cli) -> None:
    done = cli.run("token", "--cpf", "234.567.891-73", "--cnpj", "11.222.333/0001-81", "--ttl-minutes", "5")
    assert done.returncode == 0, done.stderr
    identity = verify_token(TEST_SECRET, done.stdout.strip())
    assert identity.cpf == "23456789173" and identity.cnpj == "11222333000181"
    cli.fails("token", "--cpf", "234.567.891-70", message="CPF inválido")
    cli.fails("token", "--cpf", "234.567.891-73", "--ttl-minutes", "0", message="maior que zero")
    cli.fails("token", "--cpf", "529.982.247-25", message="Não encontrei contato")


@pytest.mark.databases("sqlite", "postgresql")
def test_ticket_life_cycle_through_the_cli(cli: Cli) -> None:
    opened = cli.json("tickets", "open", "--cpf", "34567891228", "--service", "Datavalid",
                      "--description", "Datavalid fora do ar desde cedo", "--category", "problema", "--impact", "alto")
    assert TICKET_KEYS <= opened.keys()
    number = opened["number"]
    assert number.startswith("SS-") and opened["status"] == "registrado" and opened["priority"] == "critica"
    assert opened["due_at"].endswith("-03:00") and opened["requester_email"] == "bruno.lima@exemplo.gov.br"

    assert cli.json("tickets", "start", number)["status"] == "em_atendimento"
    forwarded = cli.json("tickets", "forward", number, "--level", "N2")
    assert (forwarded["status"], forwarded["level"]) == ("encaminhado", "N2")
    resolved = cli.json("tickets", "resolve", number, "--solution", "Reiniciamos o serviço.")
    assert resolved["status"] == "resolvido" and resolved["solution"] == "Reiniciamos o serviço."
    closed = cli.json("tickets", "close", number)
    assert closed["status"] == "fechado"

    shown = cli.json("tickets", "show", number.lower().replace("-", ""))
    assert [e["kind"] for e in shown["history"]] == ["registered", "started", "forwarded", "resolved", "closed"]
    listed = cli.json("tickets", "list", "--cnpj", "11.222.333/0001-81", "--status", "fechado")
    assert [t["number"] for t in listed] == [number]
    assert cli.json("tickets", "list", "--cnpj", "44555666000181") == []

    cli.fails("tickets", "start", number, message="Não é possível passar")
    cli.fails("tickets", "show", "SS-2026-999999", message="Não encontrei esse acionamento")
    cli.fails("tickets", "forward", "SS-2026-999999", "--level", "N3", message="Não encontrei")


def test_tickets_list_is_newest_first(cli: Cli) -> None:
    first = cli.json("tickets", "open", "--cpf", "23456789173", "--service", "consulta_cpf",
                     "--description", "Dúvida sobre o limite de consultas", "--category", "duvida")
    second = cli.json("tickets", "open", "--cpf", "56789123482", "--service", "Certificado Digital",
                      "--description", "Preciso renovar o certificado", "--category", "solicitacao")
    assert [t["number"] for t in cli.json("tickets", "list")] == [second["number"], first["number"]]


def test_bad_input_is_refused_on_stderr_and_changes_nothing(cli: Cli) -> None:
    cli.fails("tickets", "open", "--cpf", "123", "--service", "Datavalid", "--description", "texto qualquer",
              message="CPF inválido")
    cli.fails("tickets", "open", "--cpf", "34567891228", "--service", "Serviço Que Não Existe",
              "--description", "texto qualquer", "--category", "duvida", message="Não encontrei o serviço")
    cli.fails("tickets", "open", "--cpf", "34567891228", "--service", "Datavalid", "--description", "texto",
              "--category", "problema", message="impacto")
    cli.fails("contacts", "list", "--cnpj", "11.222.333/0001-00", message="CNPJ inválido")
    assert cli.json("tickets", "list") == []
    assert cli.json("outbox", "list") == []


def test_contacts_list(cli: Cli) -> None:
    contacts = cli.json("contacts", "list", "--cnpj", "11.222.333/0001-81")
    assert [c["name"] for c in contacts] == ["Ana Souza", "Bruno Lima", "Carla Dias"]
    assert all(CONTACT_KEYS <= c.keys() for c in contacts)
    assert contacts[0]["cpf"] == "23456789173" and contacts[0]["profiles"] == ["financeiro", "representante_legal"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Inbox:
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.envelopes.append(envelope)
        return "250 OK"


def test_outbox_list_and_send_over_smtp(cli: Cli) -> None:
    cli.json("tickets", "open", "--cpf", "23456789173", "--service", "Datavalid",
             "--description", "Dúvida sobre o Datavalid", "--category", "duvida")
    queued = cli.json("outbox", "list")
    assert len(queued) == 1 and OUTBOX_KEYS <= queued[0].keys() and queued[0]["sent_at"] is None
    cli.fails("outbox", "send", message="SMTP_HOST não definido")

    port = _free_port()
    cli.env |= {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_FROM": "css@teste.gov.br"}
    failed = cli.run("outbox", "send", "--json")
    assert failed.returncode == 1 and json.loads(failed.stdout) == {"sent": 0, "failed": 1}
    assert cli.json("outbox", "list", "--pending")[0]["to"] == "ana.souza@exemplo.gov.br"

    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert cli.json("outbox", "send") == {"sent": 1, "failed": 0}
    finally:
        controller.stop()
    assert [e.rcpt_tos for e in inbox.envelopes] == [["ana.souza@exemplo.gov.br"]]
    assert cli.json("outbox", "list", "--pending") == []


# --- the ticket's life after registration (contract §7, §9) ------------------------------------------


def opened_ago(desk: ServiceDesk, days: float, cpf: str = "45678912364", impact: str = "medio") -> str:
    """A ticket (Área do Cliente, 8 business hours unless `impact` says otherwise) opened `days` ago."""
    with desk.db.transaction() as s:
        requester = contact_rules.find_contact_by_cpf(s, cpf)
        return ticket_rules.open_ticket(s, desk.links, requester, "Área do Cliente", "problema",
                                        "O relatório de consumo não abre.", impact,
                                        now=now_utc() - timedelta(days=days)).number


def resolved_ago(desk: ServiceDesk, days: float) -> str:
    number = opened_ago(desk, days + 1)
    with desk.db.transaction() as s:
        ticket_rules.resolve(s, desk.links, ticket_rules.get_ticket(s, number), "Acesso restabelecido.",
                             now=now_utc() - timedelta(days=days))
    return number


def waiting_since(desk: ServiceDesk, days: float) -> str:
    number = opened_ago(desk, days + 1)
    with desk.db.transaction() as s:
        ticket_rules.wait_for_user(s, desk.links, ticket_rules.get_ticket(s, number), "Qual o erro?",
                                   now=now_utc() - timedelta(days=days))
    return number


def test_complement_waiting_and_sla_status_through_the_cli(cli: Cli) -> None:
    number = cli.json("tickets", "open", "--cpf", "45678912364", "--service", "Área do Cliente",
                      "--description", "Relatório de consumo em branco", "--impact", "medio")["number"]
    assert cli.json("tickets", "show", number)["sla_status"] == "no_prazo"

    waiting = cli.json("tickets", "wait", number, "--question", "Qual navegador você usa?")
    assert (waiting["status"], waiting["sla_status"], waiting["pending_question"]) == (
        "aguardando_usuario", "pausado", "Qual navegador você usa?")
    human = cli.run("tickets", "show", number).stdout
    assert "sla_status: pausado" in human and "pergunta pendente" in human and "Qual navegador você usa?" in human

    answered = cli.json("tickets", "complement", number, "--text", "Firefox 128, disse por telefone.")
    assert (answered["status"], answered["sla_status"]) == ("em_atendimento", "no_prazo")
    assert answered["complements"][-1]["text"] == "Firefox 128, disse por telefone."
    assert answered["history"][-2]["actor"] == "equipe CSS"
    assert "sla_status: no_prazo" in cli.run("tickets", "show", number).stdout

    before = cli.json("tickets", "show", number)
    cli.fails("tickets", "complement", number, "--text", "   ", message="não pode ficar em branco")
    cli.fails("tickets", "complement", "SS-2026-999999", "--text", "algo", message="Não encontrei")
    assert cli.json("tickets", "show", number) == before
    mails = [m["subject"] for m in cli.json("outbox", "list")]
    assert f"[CSS] Acionamento {number}: precisamos de uma informação sua" in mails


def test_sla_run_and_the_at_risk_list(cli: Cli) -> None:
    desk = cli.desk()
    later = opened_ago(desk, 10)
    # Ten days apart, so that the two deadlines differ whatever today is: two days apart, both tickets' ANS clocks
    # could start at the same next business hour (Thursday evening before a Friday holiday, and Saturday).
    sooner = opened_ago(desk, 20, cpf="34567891228")
    fresh = cli.json("tickets", "open", "--cpf", "23456789173", "--service", "Área do Cliente",
                     "--description", "Relatório de consumo em branco", "--impact", "medio")["number"]
    closing = resolved_ago(desk, 8)
    desk.db.dispose()
    assert cli.json("tickets", "list", "--at-risk") == []

    report = cli.json("sla", "run")

    assert report == {"at_risk": [], "escalated": [sooner, later], "reminded": [], "closed": [closing]}
    at_risk = cli.json("tickets", "list", "--at-risk")
    assert [t["number"] for t in at_risk] == [sooner, later]  # nearest (most overdue) deadline first
    assert {(t["sla_status"], t["level"]) for t in at_risk} == {("violado", "N2")}
    assert fresh not in [t["number"] for t in at_risk]
    assert cli.json("sla", "run") == {"at_risk": [], "escalated": [], "reminded": [], "closed": []}
    assert cli.run("sla", "run").stdout.strip().endswith("nada a fazer.")
    cli.fails("tickets", "list", "--at-risk", "--status", "registrado", message="Use --at-risk sozinho")


def test_sla_run_prints_a_morning_summary(cli: Cli) -> None:
    desk = cli.desk()
    late = opened_ago(desk, 10)
    desk.db.dispose()
    done = cli.run("sla", "run")
    assert done.returncode == 0, done.stderr
    assert f"1 vencido(s) e escalado(s) ({late})" in done.stdout


@pytest.mark.databases("sqlite", "postgresql")
def test_sla_run_by_two_processes_at_once_acts_once(cli: Cli) -> None:
    desk = cli.desk()
    late = [opened_ago(desk, 10 + i) for i in range(5)]
    waiting = [waiting_since(desk, 5 + i) for i in range(3)]
    closing = [resolved_ago(desk, 8 + i) for i in range(3)]
    mails_before = len(desk.outbox())

    runners = [cli.popen("sla", "run", "--json") for _ in range(2)]
    outputs = []
    for runner in runners:
        out, err = runner.communicate(timeout=120)
        assert runner.returncode == 0, err
        outputs.append(json.loads(out))

    for key, expected in [("escalated", late), ("reminded", waiting), ("closed", closing)]:
        acted = outputs[0][key] + outputs[1][key]
        assert sorted(acted) == sorted(expected), key  # each ticket once, by one of the two
    assert [o["at_risk"] for o in outputs] == [[], []]
    with desk.db.transaction() as s:
        breaches = [e.ticket.number for e in s.scalars(select(TicketEvent).where(TicketEvent.kind == "sla_breached"))]
    assert sorted(breaches) == sorted(late)
    assert len(desk.outbox()) == mails_before + len(waiting) + len(closing)
    levels = {desk.staff_show(n)["level"] for n in late}
    assert levels == {"N2"}
    desk.db.dispose()


def test_schedule_runs_the_ans_round_and_stops_on_sigterm(cli: Cli) -> None:
    desk = cli.desk()
    late = opened_ago(desk, 10)
    desk.db.dispose()
    loop = cli.popen("schedule")
    try:
        first = loop.stdout.readline()
        assert first.startswith("sla run:") and late in first, first
        time.sleep(2)  # the next round is a minute away: nothing more is printed
    finally:
        loop.send_signal(signal.SIGTERM)
        rest, err = loop.communicate(timeout=30)
    assert loop.returncode == 0
    assert rest.strip() == "Tarefas agendadas encerradas." and err == ""
    assert cli.desk().staff_show(late)["level"] == "N2"


# --- a database that cannot be used: one Portuguese line on stderr, no traceback, no password ------------

PASSWORD = "s3nha-que-nao-pode-aparecer"


def _refused(url: str, *command: str) -> str:
    done = Cli(_env(url)).run(*command)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "Traceback" not in done.stderr and PASSWORD not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("erro: ")
    return lines[0]


def test_a_database_that_is_down_is_one_line(postgres_server) -> None:  # type: ignore[no-untyped-def]
    url = f"postgresql+psycopg2://assistente:{PASSWORD}@127.0.0.1:{_free_port()}/assistente"
    for command in (("db", "upgrade"), ("tickets", "list", "--json"), ("seed",)):
        line = _refused(url, *command)
        assert "não foi possível conectar ao banco de dados" in line and "o servidor não responde" in line
        assert f"postgresql+psycopg2://assistente:***@127.0.0.1:" in line


def test_a_wrong_password_is_one_line(postgres_server) -> None:  # type: ignore[no-untyped-def]
    url = postgres_server.url("postgres").replace(postgres_server.password, PASSWORD)
    line = _refused(url, "db", "upgrade")
    assert "usuário ou senha recusados" in line and "assistente:***@127.0.0.1" in line
    assert postgres_server.password not in line


def test_an_unknown_host_is_one_line() -> None:
    line = _refused(f"postgresql+psycopg2://assistente:{PASSWORD}@servidor-que-nao-existe.invalid/assistente",
                    "db", "upgrade")
    assert "servidor desconhecido" in line and "servidor-que-nao-existe.invalid" in line


def test_a_database_missing_on_the_server_is_one_line(postgres_server) -> None:  # type: ignore[no-untyped-def]
    line = _refused(postgres_server.url("banco_que_nao_existe"), "tickets", "list")
    assert "o banco de dados não existe nesse servidor" in line and postgres_server.password not in line


@pytest.mark.parametrize("url, expected", [
    (f"postgres://assistente:{PASSWORD}@127.0.0.1/assistente", "DATABASE_URL inválido (postgres://assistente:***@"),
    ("isto não é um endereço de banco", "DATABASE_URL inválido (isto não é um endereço de banco)"),
    (f"postgresql://assistente:{PASSWORD}@127.0.0.1:porta/assistente", "DATABASE_URL inválido"),
    (f"mysql://assistente:{PASSWORD}@127.0.0.1/assistente", "driver que não está instalado (MySQLdb)"),
], ids=["postgres-alias", "not-a-url", "bad-port", "missing-driver"])
def test_a_malformed_url_is_one_line(url: str, expected: str) -> None:
    line = _refused(url, "db", "upgrade")
    assert expected in line and "postgresql+psycopg2://usuario:senha@servidor:5432/banco" in line


def test_make_db_reports_a_database_that_is_down_in_one_line() -> None:
    """`make run` starts with `make db` (db upgrade): the same single line, then make's own one."""
    url = f"postgresql+psycopg2://assistente:{PASSWORD}@127.0.0.1:{_free_port()}/assistente"
    done = subprocess.run(["make", "--no-print-directory", "-s", "db"], cwd=ROOT, env=_env(url),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and PASSWORD not in done.stderr + done.stdout
    ours = [line for line in done.stderr.splitlines() if not line.startswith("make")]
    assert len(ours) == 1 and "o servidor não responde" in ours[0], done.stderr


def test_a_database_lost_after_the_first_check_is_one_line_too(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """The server goes away between the check and the command: caught where the command fails."""
    from backend import cli as cli_module

    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg2://assistente:{PASSWORD}@127.0.0.1:{_free_port()}/x")
    monkeypatch.setenv("ASSISTENTE_SECRET", TEST_SECRET)
    monkeypatch.setattr(cli_module, "check_database", lambda url: None)  # it was up a moment ago
    assert cli_module.main(["tickets", "list"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and PASSWORD not in err
    assert err.startswith("erro: não foi possível conectar ao banco de dados postgresql+psycopg2://assistente:***@")
