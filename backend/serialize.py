"""Plain dictionaries (contract §7 JSON) of the models, shared by the staff CLI, actions and web page."""
from __future__ import annotations

from typing import Any

from backend import tickets as ticket_rules
from backend.clock import iso_local
from backend.models import Contact, Ticket, TicketEvent
from backend.validation import format_cnpj
from backend.vocabulary import CATEGORIES, PRIORITIES, PROFILES, SLA_STATUSES, STATUSES


def contact_to_dict(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "cpf": contact.cpf,
        "foreign": contact.foreign,
        "profiles": contact.profiles,
        "profile_labels": [PROFILES[p] for p in contact.profiles],
        "phone_primary": contact.phone_primary,
        "phone_secondary": contact.phone_secondary,
        "company_cnpj": contact.company.cnpj,
        "company_name": contact.company.name,
        "created_at": iso_local(contact.created_at),
        "removed_at": iso_local(contact.removed_at),
    }


def event_to_dict(event: TicketEvent) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "at": iso_local(event.at),
        "actor": event.actor,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "level": event.level,
        "text": event.text,
    }


def ticket_to_dict(ticket: Ticket) -> dict[str, Any]:
    evaluation = None
    if ticket.evaluated_at is not None:
        evaluation = {"score": ticket.evaluation_score, "comment": ticket.evaluation_comment}
    return {
        "number": ticket.number,
        "status": ticket.status,
        "status_label": STATUSES[ticket.status],
        "level": ticket.level,
        "service": ticket.service.name,
        "service_code": ticket.service.code,
        "category": ticket.category,
        "category_label": CATEGORIES[ticket.category],
        "impact": ticket.impact,
        "priority": ticket.priority,
        "priority_label": PRIORITIES[ticket.priority],
        "description": ticket.description,
        "channel": ticket.channel,
        "requester_name": ticket.requester.name,
        "requester_email": ticket.requester.email,
        "company_cnpj": ticket.company.cnpj,
        "company_cnpj_formatted": format_cnpj(ticket.company.cnpj),
        "created_at": iso_local(ticket.created_at),
        "updated_at": iso_local(ticket.updated_at),
        "due_at": iso_local(ticket.due_at),
        "sla": {"hours": ticket.sla_hours, "calendar": ticket.sla_calendar},
        "sla_status": ticket.sla_status,
        "sla_status_label": SLA_STATUSES[ticket.sla_status],
        "paused_at": iso_local(ticket.paused_at),
        "pending_question": ticket_rules.pending_question(ticket),
        "late": ticket_rules.is_late(ticket),
        "complements": [{"text": e.text, "at": iso_local(e.at)} for e in ticket_rules.complements(ticket)],
        "solution": ticket.solution,
        "resolved_at": iso_local(ticket.resolved_at),
        "closed_at": iso_local(ticket.closed_at),
        "evaluation": evaluation,
        "reopen_count": ticket.reopen_count,
        "history": [event_to_dict(e) for e in ticket.events],
    }
