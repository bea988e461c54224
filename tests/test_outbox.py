"""The outbox: queueing, listing, and delivery over a real SMTP exchange (aiosmtpd on loopback)."""
from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update

from backend import config, outbox
from backend.db import Database
from backend.emails import Email
from backend.models import OutboxMessage

T0 = datetime(2026, 3, 10, 13, 0, tzinfo=timezone.utc)  # 10:00 in Brasília
T1 = T0 + timedelta(minutes=5)
SENDER = "Assistente Serpro <nao-responda@serpro.gov.br>"
REFUSED = "recusado@exemplo.gov.br"


class CollectingHandler:
    """Keeps every envelope; refuses one mailbox so that per-message SMTP errors can be tested."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address == REFUSED:
            return "550 5.1.1 Caixa postal inexistente"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]  # type: ignore[misc]


def text(mail: EmailMessage) -> str:
    """The decoded body, with the wire's CRLF line ends back to newlines."""
    return mail.get_content().replace("\r\n", "\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


Server = tuple[CollectingHandler, outbox.SmtpSettings]


@pytest.fixture
def smtp_server() -> Iterator[Server]:
    handler = CollectingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, outbox.SmtpSettings("127.0.0.1", controller.port, SENDER, timeout=5.0)
    finally:
        controller.stop()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    # A file database: delivery opens several transactions, as it does in production.
    database = Database(f"sqlite:///{tmp_path / 'outbox.db'}")
    database.create_all()
    yield database
    database.dispose()


def nowhere() -> outbox.SmtpSettings:
    """A port on which nothing listens: the connection is refused."""
    return outbox.SmtpSettings("127.0.0.1", free_port(), SENDER, timeout=5.0)


def queue(db: Database, to: str, subject: str, body: str, at: datetime = T0) -> int:
    with db.transaction() as session:
        return outbox.queue_email(session, to, Email(subject, body), now=at).id


def stored(db: Database, message_id: int) -> OutboxMessage:
    with db.transaction() as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        return message


# --- queueing and listing (in-memory database) ----------------------------------------------


@pytest.fixture
def memory_db() -> Database:
    database = Database("sqlite://")
    database.create_all()
    return database


def test_queue_email_adds_a_pending_message(memory_db: Database) -> None:
    with memory_db.transaction() as session:
        message = outbox.queue_email(session, "ana.souza@exemplo.gov.br", Email("Assunto", "Corpo"), now=T0)
        assert message.id is not None  # flushed
    assert message.sent_at is None
    assert message.attempts == 0
    assert message.last_error is None
    assert message.created_at == T0


def test_queued_message_is_lost_with_the_transaction_that_caused_it(memory_db: Database) -> None:
    with pytest.raises(RuntimeError):
        with memory_db.transaction() as session:
            outbox.queue_email(session, "ana.souza@exemplo.gov.br", Email("Assunto", "Corpo"))
            raise RuntimeError("the change failed")
    with memory_db.transaction() as session:
        assert outbox.list_messages(session) == []


def test_list_messages_oldest_first_and_pending_only(memory_db: Database) -> None:
    with memory_db.transaction() as session:
        newer = outbox.queue_email(session, "b@exemplo.gov.br", Email("novo", "x"), now=T1)
        older = outbox.queue_email(session, "a@exemplo.gov.br", Email("antigo", "x"), now=T0)
        older.sent_at = T1
    with memory_db.transaction() as session:
        assert [m.subject for m in outbox.list_messages(session)] == ["antigo", "novo"]
        assert [m.id for m in outbox.list_messages(session, pending_only=True)] == [newer.id]


def test_message_to_dict_uses_brasilia_iso_times(memory_db: Database) -> None:
    with memory_db.transaction() as session:
        message = outbox.queue_email(session, "ana.souza@exemplo.gov.br", Email("Assunto", "Corpo"), now=T0)
        message.sent_at = T1
        message.attempts = 1
        data = outbox.message_to_dict(message)
    assert data == {
        "id": message.id,
        "to": "ana.souza@exemplo.gov.br",
        "subject": "Assunto",
        "body": "Corpo",
        "created_at": "2026-03-10T10:00:00-03:00",
        "sent_at": "2026-03-10T10:05:00-03:00",
        "attempts": 1,
        "last_error": None,
    }


def test_message_to_dict_of_a_pending_message_has_no_sent_at(memory_db: Database) -> None:
    with memory_db.transaction() as session:
        data = outbox.message_to_dict(outbox.queue_email(session, "a@exemplo.gov.br", Email("s", "b"), now=T0))
    assert data["sent_at"] is None


def settings(smtp_host: str | None) -> config.Settings:
    return config.Settings(
        database_url="sqlite://",
        secret="s",
        environment="development",
        smtp_host=smtp_host,
        smtp_port=2525,
        smtp_from=SENDER,
        public_base_url="http://localhost:8000",
    )


def test_smtp_settings_none_without_host() -> None:
    assert outbox.smtp_settings(settings(None)) is None


def test_smtp_settings_from_config() -> None:
    assert outbox.smtp_settings(settings("mail.exemplo.gov.br")) == outbox.SmtpSettings(
        "mail.exemplo.gov.br", 2525, SENDER
    )


# --- delivery over real SMTP ------------------------------------------------------------------


def test_delivers_pending_messages_over_smtp(db: Database, smtp_server: Server) -> None:
    handler, smtp = smtp_server
    first = queue(
        db, "ana.souza@exemplo.gov.br", "[CSS] Acionamento registrado — ação",
        "Olá, Ana!\nPrazo: 10/03/2026 às 15:00.\n",
    )
    second = queue(
        db, "bruno.lima@exemplo.gov.br", "Área do Cliente: primeiro acesso",
        "Você foi cadastrado. Técnico Produção.\n", at=T1,
    )

    report = outbox.deliver_pending(db, smtp, now=T1)

    assert report == outbox.DeliveryReport(sent=2, failed=0)
    assert [e.rcpt_tos for e in handler.envelopes] == [
        ["ana.souza@exemplo.gov.br"],
        ["bruno.lima@exemplo.gov.br"],
    ]
    assert [e.mail_from for e in handler.envelopes] == ["nao-responda@serpro.gov.br"] * 2
    mails = handler.messages()
    assert mails[0]["Subject"] == "[CSS] Acionamento registrado — ação"
    assert text(mails[0]) == "Olá, Ana!\nPrazo: 10/03/2026 às 15:00.\n"
    assert mails[0]["To"] == "ana.souza@exemplo.gov.br"
    assert mails[0]["From"] == SENDER
    assert mails[1]["Subject"] == "Área do Cliente: primeiro acesso"
    assert text(mails[1]) == "Você foi cadastrado. Técnico Produção.\n"
    assert mails[1].get_content_charset() == "utf-8"
    for mail in mails:
        assert mail["Date"] and mail["Message-ID"]
    assert mails[0]["Message-ID"] != mails[1]["Message-ID"]
    for message_id in (first, second):
        message = stored(db, message_id)
        assert message.sent_at == T1
        assert message.attempts == 1
        assert message.last_error is None


def test_already_sent_messages_are_not_sent_twice(db: Database, smtp_server: Server) -> None:
    handler, smtp = smtp_server
    queue(db, "ana.souza@exemplo.gov.br", "Um", "corpo")
    assert outbox.deliver_pending(db, smtp).sent == 1

    assert outbox.deliver_pending(db, smtp) == outbox.DeliveryReport(sent=0, failed=0)

    assert len(handler.envelopes) == 1


def test_failed_delivery_stays_queued_and_is_sent_later(db: Database, smtp_server: Server) -> None:
    handler, smtp = smtp_server
    message_id = queue(db, "ana.souza@exemplo.gov.br", "Acionamento", "Olá, Ana.")

    assert outbox.deliver_pending(db, nowhere(), now=T0) == outbox.DeliveryReport(sent=0, failed=1)

    message = stored(db, message_id)
    assert message.sent_at is None
    assert message.attempts == 1
    assert "ConnectionRefusedError" in (message.last_error or "")
    with db.transaction() as session:
        assert [m.id for m in outbox.list_messages(session, pending_only=True)] == [message_id]

    assert outbox.deliver_pending(db, smtp, now=T1) == outbox.DeliveryReport(sent=1, failed=0)

    message = stored(db, message_id)
    assert message.sent_at == T1
    assert message.attempts == 2
    assert message.last_error is None
    assert [e.rcpt_tos for e in handler.envelopes] == [["ana.souza@exemplo.gov.br"]]


def test_unreachable_server_fails_every_pending_message(db: Database) -> None:
    ids = [queue(db, f"c{i}@exemplo.gov.br", "s", "b") for i in range(3)]

    assert outbox.deliver_pending(db, nowhere()) == outbox.DeliveryReport(sent=0, failed=3)

    for message_id in ids:
        message = stored(db, message_id)
        assert (message.sent_at, message.attempts) == (None, 1)
        assert message.last_error


def test_server_that_never_answers_is_a_recorded_failure(db: Database) -> None:
    # A socket that accepts connections but never sends the SMTP greeting.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        smtp = outbox.SmtpSettings("127.0.0.1", silent.getsockname()[1], SENDER, timeout=0.3)
        message_id = queue(db, "ana.souza@exemplo.gov.br", "s", "b")

        assert outbox.deliver_pending(db, smtp) == outbox.DeliveryReport(sent=0, failed=1)

    message = stored(db, message_id)
    assert (message.sent_at, message.attempts) == (None, 1)
    assert "timed out" in (message.last_error or "")


def test_smtp_refusal_fails_only_that_message(db: Database, smtp_server: Server) -> None:
    handler, smtp = smtp_server
    refused = queue(db, REFUSED, "s", "b")
    accepted = queue(db, "ana.souza@exemplo.gov.br", "s", "b", at=T1)

    assert outbox.deliver_pending(db, smtp) == outbox.DeliveryReport(sent=1, failed=1)

    assert [e.rcpt_tos for e in handler.envelopes] == [["ana.souza@exemplo.gov.br"]]
    message = stored(db, refused)
    assert (message.sent_at, message.attempts) == (None, 1)
    assert "550" in (message.last_error or "")
    assert stored(db, accepted).sent_at is not None


def test_message_taken_by_another_deliverer_is_not_sent_again(
    db: Database, smtp_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, smtp = smtp_server
    message_id = queue(db, "ana.souza@exemplo.gov.br", "s", "b")
    read_pending = outbox._read_pending

    def read_then_lose_the_race(database: Database):  # type: ignore[no-untyped-def]
        pending = read_pending(database)
        # Meanwhile another process (e.g. `outbox send`) delivers the same message.
        with database.transaction() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(sent_at=T0, attempts=1)
            )
        return pending

    monkeypatch.setattr(outbox, "_read_pending", read_then_lose_the_race)

    assert outbox.deliver_pending(db, smtp) == outbox.DeliveryReport(sent=0, failed=0)
    assert handler.envelopes == []
    assert stored(db, message_id).attempts == 1


class OneRound(threading.Event):
    """A stop event that is set at the loop's first pause: the loop runs exactly one round."""

    def wait(self, timeout: float | None = None) -> bool:
        self.set()
        return True


def test_delivery_loop_delivers_until_stopped(db: Database, smtp_server: Server) -> None:
    handler, smtp = smtp_server
    queue(db, "ana.souza@exemplo.gov.br", "Loop", "corpo")

    outbox.run_delivery_loop(db, smtp, OneRound(), interval_s=0)

    assert [e.rcpt_tos for e in handler.envelopes] == [["ana.souza@exemplo.gov.br"]]


def test_delivery_loop_keeps_delivering_between_pauses(db: Database, smtp_server: Server) -> None:
    handler, smtp = smtp_server
    queue(db, "ana.souza@exemplo.gov.br", "Primeira rodada", "corpo")

    class QueueDuringFirstPause(threading.Event):
        def __init__(self) -> None:
            super().__init__()
            self.pauses = 0

        def wait(self, timeout: float | None = None) -> bool:
            self.pauses += 1
            if self.pauses == 1:
                queue(db, "bruno.lima@exemplo.gov.br", "Segunda rodada", "corpo", at=T1)
            else:
                self.set()
            return self.is_set()

    outbox.run_delivery_loop(db, smtp, QueueDuringFirstPause(), interval_s=0)

    assert [m["Subject"] for m in handler.messages()] == ["Primeira rodada", "Segunda rodada"]


def test_delivery_loop_logs_errors_and_never_raises(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    no_schema = Database(f"sqlite:///{tmp_path / 'empty.db'}")  # no outbox table: every query fails
    outbox.run_delivery_loop(no_schema, nowhere(), OneRound(), interval_s=0)
    assert any(r.levelname == "ERROR" and r.exc_info for r in caplog.records)
    no_schema.dispose()


def test_stopped_loop_does_not_deliver(db: Database, smtp_server: Server) -> None:
    handler, smtp = smtp_server
    queue(db, "ana.souza@exemplo.gov.br", "s", "b")
    stop = threading.Event()
    stop.set()

    outbox.run_delivery_loop(db, smtp, stop)

    assert handler.envelopes == []
