"""SQLAlchemy models (2.0 declarative style, running on 1.4 with future=True)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import declarative_base, relationship

Base: Any = declarative_base()  # Any: SQLAlchemy 1.4 declarative classes are opaque to mypy without a plugin


class UTCDateTime(TypeDecorator):
    """Stores naive UTC (portable to SQLite) and always hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Company(Base):
    __tablename__ = "companies"

    id = Column(Integer, primary_key=True)
    cnpj = Column(String(14), nullable=False, unique=True)
    name = Column(String(200), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    contacts = relationship("Contact", back_populates="company", foreign_keys="Contact.company_id")


class Contact(Base):
    """A person linked to a client company. Removal keeps the row (history), stamping removed_at."""

    __tablename__ = "contacts"

    id = Column(Integer, primary_key=True)
    company_id = Column(ForeignKey("companies.id"), nullable=False, index=True)
    name = Column(String(200), nullable=False)
    email = Column(String(254), nullable=False)
    cpf = Column(String(11), nullable=True)
    foreign = Column(Boolean, nullable=False, default=False)
    phone_primary = Column(String(20), nullable=False)
    phone_secondary = Column(String(20), nullable=True)
    declaration_accepted_at = Column(UTCDateTime, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id = Column(ForeignKey("contacts.id"), nullable=True)
    removed_at = Column(UTCDateTime, nullable=True)
    removed_by_id = Column(ForeignKey("contacts.id"), nullable=True)

    company = relationship("Company", back_populates="contacts", foreign_keys=[company_id])
    profile_rows = relationship(
        "ContactProfile", cascade="all, delete-orphan", order_by="ContactProfile.profile"
    )

    @property
    def profiles(self) -> list[str]:
        return [row.profile for row in self.profile_rows]

    @property
    def active(self) -> bool:
        return self.removed_at is None


class ContactProfile(Base):
    __tablename__ = "contact_profiles"

    contact_id = Column(ForeignKey("contacts.id"), primary_key=True)
    profile = Column(String(30), primary_key=True)


class Service(Base):
    __tablename__ = "services"

    id = Column(Integer, primary_key=True)
    code = Column(String(50), nullable=False, unique=True)
    name = Column(String(120), nullable=False)
    active = Column(Boolean, nullable=False, default=True)


class SlaRule(Base):
    """Resolution time (ANS) for a priority, optionally narrowed to a service and/or a company."""

    __tablename__ = "sla_rules"

    id = Column(Integer, primary_key=True)
    company_id = Column(ForeignKey("companies.id"), nullable=True)
    service_id = Column(ForeignKey("services.id"), nullable=True)
    priority = Column(String(10), nullable=False)
    hours = Column(Integer, nullable=False)
    calendar = Column(String(10), nullable=False)

    service = relationship("Service")
    company = relationship("Company")


class TicketSequence(Base):
    """Last number handed out per year; incremented under a row/database write lock."""

    __tablename__ = "ticket_sequences"

    year = Column(Integer, primary_key=True, autoincrement=False)
    last_value = Column(Integer, nullable=False)


class Ticket(Base):
    __tablename__ = "tickets"

    id = Column(Integer, primary_key=True)
    number = Column(String(20), nullable=False, unique=True)
    company_id = Column(ForeignKey("companies.id"), nullable=False, index=True)
    requester_id = Column(ForeignKey("contacts.id"), nullable=False, index=True)
    service_id = Column(ForeignKey("services.id"), nullable=False)
    category = Column(String(20), nullable=False)
    impact = Column(String(10), nullable=True)
    priority = Column(String(10), nullable=False)
    description = Column(Text, nullable=False)
    channel = Column(String(20), nullable=False, default="chat")
    status = Column(String(20), nullable=False, index=True)
    level = Column(String(2), nullable=False, default="N1")
    sla_hours = Column(Integer, nullable=False)
    sla_calendar = Column(String(10), nullable=False)
    created_at = Column(UTCDateTime, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)
    due_at = Column(UTCDateTime, nullable=False)
    solution = Column(Text, nullable=True)
    resolved_at = Column(UTCDateTime, nullable=True)
    closed_at = Column(UTCDateTime, nullable=True)
    evaluation_score = Column(Integer, nullable=True)
    evaluation_comment = Column(Text, nullable=True)
    evaluated_at = Column(UTCDateTime, nullable=True)
    reopen_count = Column(Integer, nullable=False, default=0)
    # The ANS clock (contract §9): its state as last settled by a transition or the scheduler, the start of the
    # current pause (waiting for the user), when the deadline was missed (escalated once per ANS period), and
    # what the scheduler already sent, so that a round repeated at the same instant does nothing twice.
    sla_status = Column(String(10), nullable=False, default="no_prazo", server_default="no_prazo", index=True)
    paused_at = Column(UTCDateTime, nullable=True)
    breached_at = Column(UTCDateTime, nullable=True)
    waiting_reminded_at = Column(UTCDateTime, nullable=True)
    evaluation_reminded_at = Column(UTCDateTime, nullable=True)

    company = relationship("Company")
    requester = relationship("Contact")
    service = relationship("Service")
    events = relationship(
        "TicketEvent", cascade="all, delete-orphan", order_by="TicketEvent.id", back_populates="ticket"
    )


class TicketEvent(Base):
    """One step of a ticket's life; complements are events with their text."""

    __tablename__ = "ticket_events"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(ForeignKey("tickets.id"), nullable=False, index=True)
    kind = Column(String(20), nullable=False)
    at = Column(UTCDateTime, nullable=False)
    actor = Column(String(254), nullable=False)
    from_status = Column(String(20), nullable=True)
    to_status = Column(String(20), nullable=True)
    level = Column(String(2), nullable=True)
    text = Column(Text, nullable=True)

    ticket = relationship("Ticket", back_populates="events")


class OutboxMessage(Base):
    """An e-mail waiting to be (or already) delivered. Never deleted: sent_at marks delivery."""

    __tablename__ = "outbox"

    id = Column(Integer, primary_key=True)
    to = Column(String(254), nullable=False)
    subject = Column(String(255), nullable=False)
    body = Column(Text, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    sent_at = Column(UTCDateTime, nullable=True)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text, nullable=True)


__all__ = [
    "Base",
    "Company",
    "Contact",
    "ContactProfile",
    "OutboxMessage",
    "Service",
    "SlaRule",
    "Ticket",
    "TicketEvent",
    "TicketSequence",
    "utcnow",
]
