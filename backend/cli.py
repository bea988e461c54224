"""Staff command line (contract §7): `python -m backend ...`. JSON on stdout with --json; errors on stderr."""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.exc import DBAPIError

from backend import conversations, migrate, outbox, schedule
from backend.clock import now_utc
from backend.config import Settings, ensure_env_file, load_settings
from backend.db import check_database, connection_failure, is_connection_failure
from backend.desk import ServiceDesk
from backend.errors import DeskError
from backend.vocabulary import CATEGORIES, IMPACTS, LEVELS, STATUSES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m backend", description="Central de Serviços Serpro — staff tools")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("init-env", help="create .env with a development secret if it has none")
    db = sub.add_parser("db", help="database schema").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="create or migrate the schema (Alembic)")
    seed = _json(sub.add_parser("seed", help="load the demo data if absent (idempotent)"))
    seed.add_argument("--if-empty", action="store_true", help="only when the database has no company yet")

    token = sub.add_parser("token", help="print a signed identity token for a contact")
    token.add_argument("--cpf", required=True)
    token.add_argument("--cnpj")
    token.add_argument("--ttl-minutes", type=_positive_int, default=480)

    tickets = sub.add_parser("tickets", help="tickets (acionamentos)").add_subparsers(dest="action", required=True)
    t_open = _json(tickets.add_parser("open", help="register a ticket for a caller (0800 channel)"))
    t_open.add_argument("--cpf", required=True)
    t_open.add_argument("--cnpj")
    t_open.add_argument("--service", required=True)
    t_open.add_argument("--description", required=True)
    t_open.add_argument("--category", default="problema", choices=sorted(CATEGORIES))
    t_open.add_argument("--impact", choices=sorted(IMPACTS))
    t_list = _json(tickets.add_parser("list", help="tickets, newest first"))
    t_list.add_argument("--cnpj")
    t_list.add_argument("--status", choices=sorted(STATUSES))
    t_list.add_argument("--at-risk", action="store_true",
                        help="only open tickets whose ANS is em_risco or violado, nearest deadline first")
    _json(tickets.add_parser("show", help="one ticket with its history")).add_argument("number")
    t_fwd = _json(tickets.add_parser("forward", help="escalate to another support level"))
    t_fwd.add_argument("number")
    t_fwd.add_argument("--level", required=True, choices=LEVELS[1:])
    _json(tickets.add_parser("start", help="start working on a ticket")).add_argument("number")
    t_wait = _json(tickets.add_parser("wait", help="ask the requester for information"))
    t_wait.add_argument("number")
    t_wait.add_argument("--question", required=True)
    t_comp = _json(tickets.add_parser("complement", help="record information the requester gave by phone or e-mail"))
    t_comp.add_argument("number")
    t_comp.add_argument("--text", required=True)
    t_res = _json(tickets.add_parser("resolve", help="record the solution and e-mail it"))
    t_res.add_argument("number")
    t_res.add_argument("--solution", required=True)
    _json(tickets.add_parser("close", help="close a resolved ticket")).add_argument("number")
    t_cancel = _json(tickets.add_parser("cancel", help="cancel an open ticket"))
    t_cancel.add_argument("number")
    t_cancel.add_argument("--reason", required=True)

    sla_cmd = sub.add_parser("sla", help="the ANS scheduler").add_subparsers(dest="action", required=True)
    _json(sla_cmd.add_parser("run", help="one round of the ANS scheduler as of now (idempotent)"))

    contacts = sub.add_parser("contacts", help="company contacts").add_subparsers(dest="action", required=True)
    _json(contacts.add_parser("list", help="active contacts of a company")).add_argument("--cnpj", required=True)

    talks = sub.add_parser("conversations", help="stored conversations (retention, LGPD erasure)").add_subparsers(
        dest="action", required=True)
    purge = _json(talks.add_parser("purge", help="delete conversations older than the retention period"))
    purge.add_argument("--older-than-days", type=_positive_int, help="default: CONVERSATION_RETENTION_DAYS (30)")
    erase = _json(talks.add_parser("erase", help="delete every conversation of one person"))
    erase.add_argument("--cpf", required=True)

    sub.add_parser("schedule", help="run the periodic jobs (ANS round every minute, conversation retention daily)")

    box = sub.add_parser("outbox", help="queued e-mails").add_subparsers(dest="action", required=True)
    b_list = _json(box.add_parser("list", help="queued and sent e-mails"))
    b_list.add_argument("--pending", action="store_true", help="only messages not yet delivered")
    _json(box.add_parser("send", help="deliver queued e-mails over SMTP"))
    return parser


def _positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1 (argparse prints the error and exits 2)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError("use um número inteiro maior que zero")
    return value


def _json(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def run(args: argparse.Namespace) -> Any:
    """Execute one command; returns what to print."""
    if args.command == "init-env":
        return "`.env` criado com um segredo de desenvolvimento." if ensure_env_file() else "`.env` já tem segredo."
    settings = load_settings()
    check_database(settings.database_url)  # unreachable or malformed: one line, not a driver's traceback
    if args.command == "db":
        migrate.upgrade(settings.database_url)
        return "Esquema do banco atualizado."
    if args.command == "conversations":
        return _conversations(args, settings)
    if args.command == "schedule":
        schedule.main(settings)
        return "Tarefas agendadas encerradas."
    desk = ServiceDesk.from_settings(settings)
    if args.command == "seed":
        if args.if_empty and not desk.is_empty():
            return "Banco já tem dados: demonstração não carregada."
        return desk.seed()
    if args.command == "token":
        return desk.issue_token(args.cpf, args.cnpj, args.ttl_minutes)
    if args.command == "contacts":
        return desk.staff_contacts(args.cnpj)
    if args.command == "outbox":
        return _outbox(desk, args, settings)
    if args.command == "sla":
        return _sla(desk, args)
    return _tickets(desk, args)


def _tickets(desk: ServiceDesk, args: argparse.Namespace) -> Any:
    actions: dict[str, Callable[[], Any]] = {
        "open": lambda: desk.open_ticket_for_caller(
            args.cpf, args.cnpj, args.service, args.category, args.description, args.impact),
        "list": lambda: _list(desk, args),
        "show": lambda: desk.staff_show(args.number),
        "forward": lambda: desk.staff_forward(args.number, args.level),
        "start": lambda: desk.staff_start(args.number),
        "wait": lambda: desk.staff_wait(args.number, args.question),
        "complement": lambda: desk.staff_complement(args.number, args.text),
        "resolve": lambda: desk.staff_resolve(args.number, args.solution),
        "close": lambda: desk.staff_close(args.number),
        "cancel": lambda: desk.staff_cancel(args.number, args.reason),
    }
    return actions[args.action]()


def _conversations(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    engine = conversations.conversations_engine(settings.conversations_url)
    try:
        if args.action == "purge":
            days = args.older_than_days or settings.retention_days
            return {"older_than_days": days, **conversations.purge(engine, days).as_dict()}
        return conversations.erase_person(engine, settings.secret, args.cpf).as_dict()
    finally:
        engine.dispose()


def _list(desk: ServiceDesk, args: argparse.Namespace) -> Any:
    if args.at_risk:
        if args.cnpj or args.status:
            raise DeskError("Use --at-risk sozinho: ele já escolhe os acionamentos abertos em risco ou vencidos.")
        return desk.staff_at_risk()
    return desk.staff_list(args.cnpj, args.status)


def _sla(desk: ServiceDesk, args: argparse.Namespace) -> Any:
    now = now_utc()
    report = desk.sla_run(now)
    return report.to_json() if args.json else report.summary(now)


def _outbox(desk: ServiceDesk, args: argparse.Namespace, settings: Any) -> Any:
    if args.action == "list":
        return desk.outbox(pending_only=args.pending)
    smtp = outbox.smtp_settings(settings)
    if smtp is None:
        raise DeskError("SMTP_HOST não definido: as mensagens continuam na fila (veja `outbox list`).")
    report = desk.deliver(smtp)
    result = {"sent": report.sent, "failed": report.failed}
    if report.failed:
        print(f"{report.failed} mensagem(ns) não entregue(s); continuam na fila.", file=sys.stderr)
    return result


def render(result: Any) -> str:
    """Human-readable output for people at a terminal."""
    if isinstance(result, str):
        return result
    if isinstance(result, list):
        return "\n".join(render(item) for item in result) or "(nada)"
    if isinstance(result, dict) and "number" in result and "status" in result:
        return (f"{result['number']}  {result['status']:<18} {result['level']}  {result['service']}  "
                f"prazo {result['due_at']}  ANS {result['sla_status']}  {result['requester_email']}")
    if isinstance(result, dict) and "profiles" in result:
        return f"{result['name']} <{result['email']}>  {', '.join(result['profiles'])}  {result['phone_primary']}"
    if isinstance(result, dict) and "conversations" in result:
        return f"{result['conversations']} conversa(s) apagada(s) ({result['events']} eventos)."
    if isinstance(result, dict) and "subject" in result:
        state = "enviada" if result["sent_at"] else "na fila"
        return f"[{state}] {result['to']}: {result['subject']}"
    return json.dumps(result, ensure_ascii=False)


def render_detail(ticket: dict[str, Any]) -> str:
    """`tickets show` for people: the ticket, its ANS clock and its history."""
    lines = [
        f"{ticket['number']}  {ticket['service']}  ({ticket['category_label']}, prioridade {ticket['priority_label']})",
        f"  situação: {ticket['status']}  nível: {ticket['level']}  solicitante: {ticket['requester_email']}",
        f"  prazo (ANS): {ticket['due_at']}  sla_status: {ticket['sla_status']} ({ticket['sla_status_label']})",
    ]
    if ticket["pending_question"]:
        lines.append(f"  pergunta pendente (desde {ticket['paused_at']}): {ticket['pending_question']}")
    lines.append("  histórico:")
    for event in ticket["history"]:
        moved = event["from_status"] != event["to_status"]
        change = f" {event['from_status'] or '-'} → {event['to_status']}" if moved else ""
        note = f": {' '.join((event['text'] or '').split())}" if event["text"] else ""
        lines.append(f"    {event['at']}  {event['kind']}{change} [{event['level']}] {event['actor']}{note}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = run(args)
    except DBAPIError as error:  # the database went away after the first check
        if not is_connection_failure(error):
            raise
        print(f"erro: {connection_failure(error, os.environ.get('DATABASE_URL', ''))}", file=sys.stderr)
        return 1
    except DeskError as error:
        print(f"erro: {error.message}", file=sys.stderr)
        return 1
    except RuntimeError as error:  # configuration problems (missing secret, ...)
        print(f"erro: {error}", file=sys.stderr)
        return 1
    if args.command == "tickets" and args.action == "show" and not args.json:
        print(render_detail(result))
    elif getattr(args, "json", False):
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(render(result))
    if args.command == "outbox" and args.action == "send" and result.get("failed"):
        return 1
    return 0


__all__ = ["main"]
