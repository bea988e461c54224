"""The service desk's front door: one transaction per call, plain dictionaries out.

The staff CLI, the Rasa actions and the web page all go through this class, so every rule is applied the
same way whoever asks. Methods named `staff_*` are for support staff (no visibility limits).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from backend import contacts as contact_rules
from backend import identity, numbering, outbox, scheduler
from backend import tickets as ticket_rules
from backend.catalogue import find_service, list_services
from backend.clock import now_utc
from backend.config import Settings, load_settings
from backend.db import Database
from backend.errors import DeskError, InvalidToken, InvalidTransition, PermissionDenied
from backend.links import Links
from backend.models import Company, Contact, SlaRule, Ticket
from backend.outbox import DeliveryReport, SmtpSettings
from backend.seed import seed
from backend.serialize import contact_to_dict, ticket_to_dict
from backend.vocabulary import CSS_EMAIL, CSS_PHONE

Json = dict[str, Any]


class ServiceDesk:
    def __init__(self, db: Database, secret: str, public_base_url: str) -> None:
        self.db = db
        self.secret = secret
        self.links = Links(secret, public_base_url)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> ServiceDesk:
        settings = settings or load_settings()
        return cls(Database(settings.database_url), settings.secret, settings.public_base_url)

    # --- set-up -------------------------------------------------------------------------------
    def is_empty(self) -> bool:
        with self.db.transaction() as s:
            return s.scalar(select(Company.id).limit(1)) is None

    def seed(self) -> dict[str, int]:
        with self.db.transaction() as s:
            return seed(s)

    # --- identity -----------------------------------------------------------------------------
    def issue_token(self, cpf: str, cnpj: str | None = None, ttl_minutes: int = 480) -> str:
        with self.db.transaction() as s:
            contact = contact_rules.find_contact_by_cpf(s, cpf, cnpj)
            return identity.issue_token(self.secret, contact.id, contact.cpf, contact.company.cnpj, ttl_minutes)

    def identify(self, token: str | None) -> Json:
        """The contact a token speaks for; InvalidToken if it is not valid or the contact was removed."""
        claims = identity.verify_token(self.secret, token)
        with self.db.transaction() as s:
            contact = s.get(Contact, claims.contact_id)
            if contact is None or not contact.active or contact.company.cnpj != claims.cnpj:
                raise InvalidToken("contato", "Seu cadastro não está ativo. Entre novamente na Área do Cliente.")
            return contact_to_dict(contact) | {"can_manage_contacts": contact_rules.can_manage_contacts(contact)}

    # --- catalogue and SLA --------------------------------------------------------------------
    def services(self) -> list[Json]:
        with self.db.transaction() as s:
            return [{"code": x.code, "name": x.name} for x in list_services(s)]

    def find_service(self, text: str) -> Json:
        """The catalogue service a user named (InvalidInput with the list of services if none)."""
        with self.db.transaction() as s:
            service = find_service(s, text)
            return {"code": service.code, "name": service.name}

    def sla_rules_for(self, contact_id: int) -> list[Json]:
        """The ANS rules that apply to the contact's company (its own and the general ones)."""
        with self.db.transaction() as s:
            contact = contact_rules.get_active_contact(s, contact_id)
            rules = s.scalars(select(SlaRule).where(
                (SlaRule.company_id.is_(None)) | (SlaRule.company_id == contact.company_id)
            ))
            return [{
                "service": r.service.name if r.service else None,
                "company_specific": r.company_id is not None,
                "priority": r.priority, "hours": r.hours, "calendar": r.calendar,
            } for r in rules]

    # --- tickets, as a user -------------------------------------------------------------------
    def open_ticket(self, contact_id: int, service: str, category: str, description: str,
                    impact: str | None = None, channel: str = "chat") -> Json:
        with self.db.transaction() as s:
            requester = contact_rules.get_active_contact(s, contact_id)
            ticket = ticket_rules.open_ticket(s, self.links, requester, service, category, description, impact, channel)
            return ticket_to_dict(ticket)

    def open_ticket_for_caller(self, cpf: str, cnpj: str | None, service: str, category: str,
                               description: str, impact: str | None = None) -> Json:
        """The 0800 channel: a clerk registers the ticket for the caller identified by CPF."""
        with self.db.transaction() as s:
            requester = contact_rules.find_contact_by_cpf(s, cpf, cnpj)
            ticket = ticket_rules.open_ticket(
                s, self.links, requester, service, category, description, impact, channel="telefone")
            return ticket_to_dict(ticket)

    def tickets_for(self, contact_id: int, status: str | None = None, limit: int | None = None,
                    open_only: bool = False) -> list[Json]:
        with self.db.transaction() as s:
            viewer = contact_rules.get_active_contact(s, contact_id)
            tickets = ticket_rules.list_tickets(s, viewer=viewer, status=status, limit=limit, open_only=open_only)
            return [ticket_to_dict(t) for t in tickets]

    def ticket_for(self, contact_id: int, number: str) -> Json:
        with self.db.transaction() as s:
            viewer = contact_rules.get_active_contact(s, contact_id)
            return ticket_to_dict(ticket_rules.get_visible_ticket(s, viewer, number))

    def check_ticket_for(self, contact_id: int, number: str, action: str) -> Json:
        """The ticket if the user may see it and `action` (complementar, avaliar, reabrir) applies to it now;
        otherwise NotFound or InvalidTransition with the reason."""
        with self.db.transaction() as s:
            viewer = contact_rules.get_active_contact(s, contact_id)
            ticket = ticket_rules.get_visible_ticket(s, viewer, number)
            ticket_rules.USER_ACTIONS[action](ticket)
            return ticket_to_dict(ticket)

    def eligible_tickets(self, contact_id: int, action: str, limit: int = 5) -> list[Json]:
        """The user's most recent tickets that `action` applies to now (for buttons)."""
        with self.db.transaction() as s:
            viewer = contact_rules.get_active_contact(s, contact_id)
            eligible = []
            for ticket in ticket_rules.list_tickets(s, viewer=viewer):
                try:
                    ticket_rules.USER_ACTIONS[action](ticket)
                except DeskError:
                    continue
                eligible.append(ticket_to_dict(ticket))
                if len(eligible) == limit:
                    break
            return eligible

    def complement(self, contact_id: int, number: str, text: str) -> Json:
        with self.db.transaction() as s:
            author = contact_rules.get_active_contact(s, contact_id)
            ticket = ticket_rules.get_visible_ticket(s, author, number)
            return ticket_to_dict(ticket_rules.complement(ticket, author.email, text))

    def evaluate(self, contact_id: int, number: str, score: int, comment: str | None = None) -> Json:
        with self.db.transaction() as s:
            author = contact_rules.get_active_contact(s, contact_id)
            ticket = ticket_rules.get_visible_ticket(s, author, number)
            return ticket_to_dict(ticket_rules.evaluate(ticket, author, score, comment))

    def accept_solution(self, contact_id: int, number: str) -> Json:
        """The user agrees with the solution: the ticket is closed."""
        with self.db.transaction() as s:
            author = contact_rules.get_active_contact(s, contact_id)
            ticket = ticket_rules.get_visible_ticket(s, author, number)
            return ticket_to_dict(ticket_rules.close(ticket, actor=author.email))

    def answer_evaluation(self, contact_id: int, number: str, score: int, comment: str | None, agrees: bool,
                          reason: str | None = None) -> Json:
        """The chat's quality control: the same single operation as the e-mail form (evaluate_by_link)."""
        with self.db.transaction() as s:
            author = contact_rules.get_active_contact(s, contact_id)
            ticket = ticket_rules.get_visible_ticket(s, author, number)
            return ticket_to_dict(
                ticket_rules.answer_evaluation(s, self.links, ticket, author, score, comment, agrees, reason))

    def reopen(self, contact_id: int, number: str, reason: str) -> Json:
        with self.db.transaction() as s:
            author = contact_rules.get_active_contact(s, contact_id)
            ticket = ticket_rules.get_visible_ticket(s, author, number)
            return ticket_to_dict(ticket_rules.reopen(s, self.links, ticket, author, reason))

    # --- tickets, through a signed e-mail link ------------------------------------------------
    # The link holder is whoever received the e-mail: the ticket's requester. The link opens only its own
    # ticket for its own purpose (identity.verify_link); everything else goes through the same rules as the chat.
    def ticket_by_link(self, number: str, token: str | None, purpose: str) -> Json:
        """The ticket a valid link opens; InvalidToken (reason and pt-BR message) otherwise."""
        canonical = self._verify_link(number, token, purpose)
        with self.db.transaction() as s:
            return ticket_to_dict(ticket_rules.get_ticket(s, canonical))

    def evaluation_by_link(self, number: str, token: str | None) -> tuple[Json, str | None]:
        """The ticket an evaluation link opens and, when it cannot be evaluated now (already evaluated, closed,
        reopened...), the pt-BR reason; InvalidToken for a link that is not valid for it."""
        canonical = self._verify_link(number, token, identity.PURPOSE_EVALUATE)
        with self.db.transaction() as s:
            ticket = ticket_rules.get_ticket(s, canonical)
            try:
                ticket_rules.ensure_evaluable(ticket)
            except DeskError as refusal:
                return ticket_to_dict(ticket), refusal.message
            return ticket_to_dict(ticket), None

    def evaluate_by_link(self, number: str, token: str | None, score: int, comment: str | None,
                         agrees: bool, reason: str | None = None) -> Json:
        """The quality-control form: score and comment as the requester, then close (agrees) or reopen with a
        mandatory reason. One transaction: a refusal at any step changes nothing."""
        canonical = self._verify_link(number, token, identity.PURPOSE_EVALUATE)
        with self.db.transaction() as s:
            ticket = ticket_rules.get_ticket(s, canonical)
            requester = _active_requester(ticket)
            return ticket_to_dict(
                ticket_rules.answer_evaluation(s, self.links, ticket, requester, score, comment, agrees, reason))

    def question_by_link(self, number: str, token: str | None) -> tuple[Json, str | None]:
        """The ticket an answer link opens and, when it is not waiting for the user any more, the pt-BR reason;
        InvalidToken for a link that is not valid for it."""
        canonical = self._verify_link(number, token, identity.PURPOSE_ANSWER)
        with self.db.transaction() as s:
            ticket = ticket_rules.get_ticket(s, canonical)
            return ticket_to_dict(ticket), ticket_rules.answer_unavailable(ticket)

    def answer_by_link(self, number: str, token: str | None, text: str) -> Json:
        """The answer form: stored as the requester's complement; the ticket goes back to work, its clock runs."""
        canonical = self._verify_link(number, token, identity.PURPOSE_ANSWER)
        with self.db.transaction() as s:
            ticket = ticket_rules.get_ticket(s, canonical)
            requester = _active_requester(ticket)
            unavailable = ticket_rules.answer_unavailable(ticket)
            if unavailable:
                raise InvalidTransition(unavailable)
            return ticket_to_dict(ticket_rules.complement(ticket, requester.email, text))

    def _verify_link(self, number: str, token: str | None, purpose: str) -> str:
        canonical = numbering.parse_number(number)
        if canonical is None:  # not a ticket number at all: the address was altered
            raise InvalidToken("destino", identity.LINK_MESSAGES["destino"])
        identity.verify_link(self.secret, token, purpose, canonical)
        return canonical

    # --- tickets, as staff --------------------------------------------------------------------
    def staff_list(self, cnpj: str | None = None, status: str | None = None) -> list[Json]:
        with self.db.transaction() as s:
            company_id = contact_rules.find_company(s, cnpj).id if cnpj else None
            return [ticket_to_dict(t) for t in ticket_rules.list_tickets(s, company_id=company_id, status=status)]

    def staff_show(self, number: str) -> Json:
        with self.db.transaction() as s:
            return ticket_to_dict(ticket_rules.get_ticket(s, number))

    def staff_start(self, number: str) -> Json:
        with self.db.transaction() as s:
            return ticket_to_dict(ticket_rules.start(ticket_rules.get_ticket(s, number)))

    def staff_forward(self, number: str, level: str) -> Json:
        with self.db.transaction() as s:
            return ticket_to_dict(ticket_rules.forward(ticket_rules.get_ticket(s, number), level))

    def staff_wait(self, number: str, question: str) -> Json:
        with self.db.transaction() as s:
            ticket = ticket_rules.get_ticket(s, number)
            return ticket_to_dict(ticket_rules.wait_for_user(s, self.links, ticket, question))

    def staff_complement(self, number: str, text: str) -> Json:
        """Information the requester gave by phone or e-mail, recorded by staff (same rules as the chat)."""
        with self.db.transaction() as s:
            return ticket_to_dict(ticket_rules.complement(ticket_rules.get_ticket(s, number), ticket_rules.STAFF, text))

    def staff_at_risk(self) -> list[Json]:
        """Open tickets whose ANS is em_risco or violado, nearest deadline first."""
        with self.db.transaction() as s:
            return [ticket_to_dict(t) for t in ticket_rules.list_at_risk(s)]

    # --- the ANS scheduler ----------------------------------------------------------------------
    def sla_run(self, now: datetime | None = None) -> scheduler.RoundReport:
        """One round of the ANS scheduler in one transaction, by one runner at a time (scheduler.run_round)."""
        with self.db.transaction() as s:
            if not scheduler.acquire_round_lock(s):
                return scheduler.RoundReport(skipped=True)
            return scheduler.run_round(s, self.links, now or now_utc())

    def staff_resolve(self, number: str, solution: str) -> Json:
        with self.db.transaction() as s:
            ticket = ticket_rules.get_ticket(s, number)
            return ticket_to_dict(ticket_rules.resolve(s, self.links, ticket, solution))

    def staff_close(self, number: str) -> Json:
        with self.db.transaction() as s:
            return ticket_to_dict(ticket_rules.close(ticket_rules.get_ticket(s, number)))

    def staff_cancel(self, number: str, reason: str) -> Json:
        with self.db.transaction() as s:
            return ticket_to_dict(ticket_rules.cancel(ticket_rules.get_ticket(s, number), reason))

    # --- contacts -----------------------------------------------------------------------------
    def contacts_of(self, contact_id: int) -> list[Json]:
        """The active contacts of the user's company (any contact may see the list)."""
        with self.db.transaction() as s:
            viewer = contact_rules.get_active_contact(s, contact_id)
            return [contact_to_dict(c) for c in contact_rules.list_contacts(s, viewer.company_id)]

    def staff_contacts(self, cnpj: str) -> list[Json]:
        with self.db.transaction() as s:
            company = contact_rules.find_company(s, cnpj)
            return [contact_to_dict(c) for c in contact_rules.list_contacts(s, company.id)]

    def check_contact_available(self, contact_id: int, email: str | None = None, cpf: str | None = None) -> None:
        """Conflict if the e-mail or CPF is already an active contact of the user's company."""
        with self.db.transaction() as s:
            actor = contact_rules.get_active_contact(s, contact_id)
            contact_rules.check_available(s, actor.company_id, email=email, cpf=cpf)

    def add_contact(self, contact_id: int, data: contact_rules.NewContact) -> Json:
        with self.db.transaction() as s:
            actor = contact_rules.get_active_contact(s, contact_id)
            return contact_to_dict(contact_rules.add_contact(s, actor, data))

    def remove_contact(self, contact_id: int, target_id: int) -> Json:
        with self.db.transaction() as s:
            actor = contact_rules.get_active_contact(s, contact_id)
            return contact_to_dict(contact_rules.remove_contact(s, actor, target_id))

    # --- outbox -------------------------------------------------------------------------------
    def outbox(self, pending_only: bool = False) -> list[Json]:
        with self.db.transaction() as s:
            return [outbox.message_to_dict(m) for m in outbox.list_messages(s, pending_only)]

    def deliver(self, smtp: SmtpSettings) -> DeliveryReport:
        return outbox.deliver_pending(self.db, smtp)


__all__ = ["ServiceDesk"]


def _active_requester(ticket: Ticket) -> Contact:
    """A link acts as the ticket's requester, who must still be an active contact of the company."""
    if not ticket.requester.active:
        raise PermissionDenied(
            "Quem abriu este acionamento não é mais contato ativo da empresa. "
            f"Fale com a CSS pelo {CSS_PHONE} ou pelo e-mail {CSS_EMAIL}.")
    return ticket.requester
