"""The stored conversations (Rasa's SQL tracker store): who they belong to, retention and erasure (LGPD).

The backend knows nothing of Rasa's events beyond the two columns it needs to delete them: the tracker store writes
`events` (one row per event: sender_id, timestamp as Unix seconds) and, beside it, `conversation_owners`, which
links a conversation to a person without keeping who that person is: only an HMAC of the CPF under
`ASSISTENTE_SECRET` (`person_key`), enough to find one person's conversations when they ask for erasure.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, Float, MetaData, String, Table, create_engine, delete, func, select
from sqlalchemy.engine import Engine

from backend.clock import now_utc
from backend.validation import normalize_cpf

metadata = MetaData()

# Rasa's own table (rasa.core.tracker_store.SQLTrackerStore.SQLEvent): only the columns used here.
events = Table(
    "events",
    metadata,
    Column("sender_id", String(255)),
    Column("timestamp", Float),
)

owners = Table(
    "conversation_owners",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("person_key", String(64), nullable=False, index=True),
)


@dataclass(frozen=True)
class Removed:
    """What a purge or an erasure deleted."""

    conversations: int
    events: int

    def as_dict(self) -> dict[str, int]:
        return {"conversations": self.conversations, "events": self.events}


def person_key(secret: str, cpf: str) -> str:
    """A stable pseudonym of a person for this deployment: HMAC-SHA256 of the CPF's digits under the secret."""
    digits = normalize_cpf(cpf)
    return hmac.new(secret.encode("utf-8"), f"cpf:{digits}".encode("ascii"), hashlib.sha256).hexdigest()


def conversations_engine(url: str) -> Engine:
    return create_engine(url, future=True)


def create_owner_table(engine: Engine) -> None:
    owners.create(engine, checkfirst=True)


def purge(engine: Engine, older_than_days: int, now: datetime | None = None) -> Removed:
    """Delete every conversation whose last event is older than `older_than_days` days."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = ((now or now_utc()) - timedelta(days=older_than_days)).timestamp()
    if not _has_events_table(engine):
        return Removed(0, 0)
    last_event = select(events.c.sender_id).group_by(events.c.sender_id).having(func.max(events.c.timestamp) < cutoff)
    with engine.begin() as connection:
        senders = list(connection.scalars(last_event))
    return _delete(engine, senders)


def erase_person(engine: Engine, secret: str, cpf: str) -> Removed:
    """Delete every conversation linked to the person with this CPF (an LGPD erasure request)."""
    key = person_key(secret, cpf)
    if not _has_events_table(engine):
        return Removed(0, 0)
    create_owner_table(engine)
    with engine.begin() as connection:
        senders = list(connection.scalars(select(owners.c.sender_id).where(owners.c.person_key == key)))
    return _delete(engine, senders)


def erase_conversation(engine: Engine, sender_id: str) -> Removed:
    """Delete one conversation (the page's "Apagar esta conversa")."""
    return _delete(engine, [sender_id]) if _has_events_table(engine) else Removed(0, 0)


def record_owner(engine: Engine, sender_id: str, key: str) -> None:
    """Link a conversation to a person's key (insert or replace)."""
    with engine.begin() as connection:
        current = connection.scalar(select(owners.c.person_key).where(owners.c.sender_id == sender_id))
        if current == key:
            return
        if current is not None:
            connection.execute(owners.update().where(owners.c.sender_id == sender_id).values(person_key=key))
        else:
            connection.execute(owners.insert().values(sender_id=sender_id, person_key=key))


def _delete(engine: Engine, senders: list[str]) -> Removed:
    removed_conversations = removed_events = 0
    create_owner_table(engine)
    with engine.begin() as connection:
        for start in range(0, len(senders), 500):  # keep IN lists short
            chunk = senders[start:start + 500]
            removed_conversations += connection.scalar(
                select(func.count(func.distinct(events.c.sender_id))).where(events.c.sender_id.in_(chunk)))
            removed_events += connection.execute(delete(events).where(events.c.sender_id.in_(chunk))).rowcount
            connection.execute(delete(owners).where(owners.c.sender_id.in_(chunk)))
    return Removed(removed_conversations, removed_events)


def _has_events_table(engine: Engine) -> bool:
    from sqlalchemy import inspect

    return inspect(engine).has_table("events")
