"""The e-mail outbox: messages are queued in the same transaction as the change that causes them,
and delivered later over SMTP. A failed delivery is recorded and retried; nothing is lost."""
from __future__ import annotations

import logging
import smtplib
import threading
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend import clock, config
from backend.db import Database
from backend.emails import Email
from backend.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 500
# What a failed delivery can raise: network errors and timeouts (OSError), SMTP replies
# (SMTPException) and an address or header the e-mail library refuses (ValueError).
DELIVERY_ERRORS = (OSError, smtplib.SMTPException, ValueError)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    timeout: float = 10.0


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int


@dataclass(frozen=True)
class _Pending:
    """A snapshot of a queued message, so that no ORM object outlives its transaction."""

    id: int
    to: str
    subject: str
    body: str
    created_at: datetime
    attempts: int


def queue_email(
    session: Session, to: str, email: Email, now: datetime | None = None
) -> OutboxMessage:
    """Queue an e-mail in the caller's transaction (so it exists only if the change commits)."""
    message = OutboxMessage(
        to=to,
        subject=email.subject,
        body=email.body,
        created_at=now or clock.now_utc(),
        attempts=0,
    )
    session.add(message)
    session.flush()
    return message


def smtp_settings(settings: config.Settings) -> SmtpSettings | None:
    """SMTP settings, or None when SMTP_HOST is unset (mail then stays in the outbox)."""
    if not settings.smtp_host:
        return None
    return SmtpSettings(host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from)


def list_messages(session: Session, pending_only: bool = False) -> list[OutboxMessage]:
    """Queued messages, oldest first; only the undelivered ones if asked."""
    query = select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.id)
    if pending_only:
        query = query.where(OutboxMessage.sent_at.is_(None))
    return list(session.scalars(query))


def message_to_dict(msg: OutboxMessage) -> dict[str, Any]:
    return {
        "id": msg.id,
        "to": msg.to,
        "subject": msg.subject,
        "body": msg.body,
        "created_at": clock.iso_local(msg.created_at),
        "sent_at": clock.iso_local(msg.sent_at),
        "attempts": msg.attempts,
        "last_error": msg.last_error,
    }


def deliver_pending(
    db: Database, smtp: SmtpSettings, now: datetime | None = None
) -> DeliveryReport:
    """Send every undelivered message. SMTP is never spoken inside a transaction: SQLite
    transactions hold the write lock from BEGIN, and a slow mail server must not block the desk."""
    sent = failed = 0
    connection: smtplib.SMTP | None = None
    unreachable: str | None = None
    try:
        for item in _read_pending(db):
            if not _claim(db, item):
                continue  # another deliverer took it since we read it
            error = unreachable
            if error is None:
                try:
                    if connection is None:
                        connection = _connect(smtp)
                    _send(connection, smtp, item)
                except DELIVERY_ERRORS as exc:
                    error = _describe(exc)
                    if connection is None:
                        # Server unreachable: record it for the rest instead of waiting on each.
                        unreachable = error
                    elif isinstance(exc, (OSError, smtplib.SMTPServerDisconnected)):
                        _close_quietly(connection)
                        connection = None  # reconnect for the next message
            _finish(db, item.id, now or clock.now_utc(), error)
            if error is None:
                sent += 1
            else:
                failed += 1
                log.warning("e-mail %s para %s não entregue: %s", item.id, item.to, error)
    finally:
        if connection is not None:
            _close_quietly(connection)
    return DeliveryReport(sent=sent, failed=failed)


def run_delivery_loop(
    db: Database, smtp: SmtpSettings, stop: threading.Event, interval_s: float = 15.0
) -> None:
    """Deliver pending mail every `interval_s` until `stop` is set. Logs errors, never raises."""
    while not stop.is_set():
        try:
            report = deliver_pending(db, smtp)
            if report.sent or report.failed:
                log.info("outbox: %s enviado(s), %s com falha", report.sent, report.failed)
        except Exception:  # noqa: BLE001 - a background loop must survive anything
            log.exception("outbox: falha ao entregar e-mails")
        stop.wait(interval_s)


def _read_pending(db: Database) -> list[_Pending]:
    with db.transaction() as session:
        return [
            _Pending(m.id, m.to, m.subject, m.body, m.created_at, m.attempts)
            for m in list_messages(session, pending_only=True)
        ]


def _claim(db: Database, item: _Pending) -> bool:
    """Count the attempt before sending, only if nobody else did since we read the message:
    two deliverers (the run loop and `outbox send`) then don't both send what they both read."""
    with db.transaction() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == item.id,
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.attempts == item.attempts,
            )
            .values(attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


def _finish(db: Database, message_id: int, now: datetime, error: str | None) -> None:
    with db.transaction() as session:
        message = session.get(OutboxMessage, message_id)
        if message is None:
            return
        if error is None:
            message.sent_at = now
        message.last_error = error


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    return smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)


def _send(connection: smtplib.SMTP, smtp: SmtpSettings, item: _Pending) -> None:
    message = _compose(item, smtp.sender)
    connection.send_message(message, from_addr=parseaddr(smtp.sender)[1], to_addrs=[item.to])


def _compose(item: _Pending, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = item.to
    message["Subject"] = item.subject
    # Date and Message-ID are fixed per outbox row: a retry is the same message, not a new one.
    message["Date"] = format_datetime(clock.to_local(item.created_at))
    message["Message-ID"] = f"<outbox-{item.id}.{int(item.created_at.timestamp())}@{_domain(sender)}>"
    message.set_content(item.body, charset="utf-8", cte="quoted-printable")
    return message


def _domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rsplit("@", 1)[1] if "@" in address else "localhost"


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]


def _close_quietly(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except DELIVERY_ERRORS:
        connection.close()
