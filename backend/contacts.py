"""Contacts of a client company (seed 000): who may manage them, adding, listing, removing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import emails, validation
from backend.clock import now_utc
from backend.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from backend.models import Company, Contact, ContactProfile
from backend.outbox import queue_email
from backend.vocabulary import PROFILE_WITHOUT_CONTACT_RIGHTS, PROFILES

NOT_FOUND = "Não encontrei esse contato entre os contatos ativos da sua empresa."


@dataclass(frozen=True)
class NewContact:
    """What the Área do Cliente form asks for a new contact."""

    name: str
    email: str
    cpf: str | None
    foreign: bool
    profiles: list[str]
    phone_primary: str
    phone_secondary: str | None
    declaration_accepted: bool


def can_manage_contacts(contact: Contact) -> bool:
    """Any profile other than Técnico Produção grants the right to add and remove contacts."""
    return any(p != PROFILE_WITHOUT_CONTACT_RIGHTS for p in contact.profiles)


def require_contact_rights(actor: Contact) -> None:
    if not can_manage_contacts(actor):
        raise PermissionDenied(
            "Seu perfil (Técnico Produção) não permite incluir ou excluir contatos. "
            "Peça a um contato com perfil Representante Legal, Financeiro ou Corporativo da sua empresa."
        )


def find_company(session: Session, cnpj: str) -> Company:
    company = session.scalar(select(Company).where(Company.cnpj == validation.normalize_cnpj(cnpj)))
    if company is None:
        raise NotFound("Não encontrei empresa cliente com esse CNPJ.")
    return company


def get_active_contact(session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or not contact.active:
        raise NotFound(NOT_FOUND)
    return contact


def find_contact_by_cpf(session: Session, cpf: str, cnpj: str | None = None) -> Contact:
    """The active contact with that CPF; the CNPJ is needed when the person is a contact of several companies."""
    query = select(Contact).where(Contact.cpf == validation.normalize_cpf(cpf), Contact.removed_at.is_(None))
    if cnpj is not None:
        query = query.where(Contact.company_id == find_company(session, cnpj).id)
    found = list(session.scalars(query))
    if not found:
        raise NotFound("Não encontrei contato ativo com esse CPF.")
    if len(found) > 1:
        raise InvalidInput("Esse CPF é contato de mais de uma empresa: informe também o CNPJ.")
    return found[0]


def list_contacts(session: Session, company_id: int) -> list[Contact]:
    """Active contacts of a company, by name."""
    return list(
        session.scalars(
            select(Contact)
            .where(Contact.company_id == company_id, Contact.removed_at.is_(None))
            .order_by(Contact.name, Contact.id)
        )
    )


def validate_new_contact(data: NewContact) -> NewContact:
    """The same data, normalised; InvalidInput on the first field that breaks a rule."""
    if data.foreign and data.cpf:
        raise InvalidInput("Para contato estrangeiro não informe CPF.")
    if not data.foreign and not data.cpf:
        raise InvalidInput("Informe o CPF do contato ou indique que é estrangeiro sem CPF.")
    if not data.declaration_accepted:
        raise InvalidInput("É preciso declarar a veracidade das informações para cadastrar o contato.")
    return NewContact(
        name=validation.normalize_name(data.name),
        email=validation.normalize_email(data.email),
        cpf=None if data.foreign else validation.normalize_cpf(data.cpf),
        foreign=data.foreign,
        profiles=validation.normalize_profiles(data.profiles),
        phone_primary=validation.normalize_phone(data.phone_primary),
        phone_secondary=validation.normalize_phone(data.phone_secondary) if data.phone_secondary else None,
        declaration_accepted=True,
    )


def add_contact(session: Session, actor: Contact, data: NewContact, now: datetime | None = None) -> Contact:
    """Add a contact to the actor's company and queue the first-access e-mail."""
    require_contact_rights(actor)
    clean = validate_new_contact(data)
    _refuse_duplicates(session, actor.company_id, clean)
    now = now or now_utc()
    contact = Contact(
        company_id=actor.company_id,
        name=clean.name,
        email=clean.email,
        cpf=clean.cpf,
        foreign=clean.foreign,
        phone_primary=clean.phone_primary,
        phone_secondary=clean.phone_secondary,
        declaration_accepted_at=now,
        created_at=now,
        created_by_id=actor.id,
        profile_rows=[ContactProfile(profile=p) for p in clean.profiles],
    )
    session.add(contact)
    session.flush()
    message = emails.contact_welcome(
        name=contact.name,
        company_name=actor.company.name,
        profile_labels=[PROFILES[p] for p in clean.profiles],
        added_by=actor.name,
    )
    queue_email(session, contact.email, message, now=now)
    return contact


def _refuse_duplicates(session: Session, company_id: int, data: NewContact) -> None:
    check_available(session, company_id, email=data.email, cpf=data.cpf)


def check_available(session: Session, company_id: int, email: str | None = None, cpf: str | None = None) -> None:
    """Conflict if an active contact of the company already has this (normalised) e-mail or CPF."""
    for contact in list_contacts(session, company_id):
        if email and contact.email == email:
            raise Conflict(f"Já existe um contato ativo com o e-mail {email} nesta empresa.")
        if cpf and contact.cpf == cpf:
            raise Conflict("Já existe um contato ativo com esse CPF nesta empresa.")


def remove_contact(session: Session, actor: Contact, contact_id: int, now: datetime | None = None) -> Contact:
    """Mark a contact of the actor's company as removed (the row stays as history)."""
    require_contact_rights(actor)
    contact = session.get(Contact, contact_id)
    if contact is None or not contact.active or contact.company_id != actor.company_id:
        raise NotFound(NOT_FOUND)
    if contact.id == actor.id:
        raise PermissionDenied(
            "Você não pode remover o seu próprio cadastro. Peça a outro contato autorizado da sua empresa."
        )
    if "representante_legal" in contact.profiles and _legal_representatives(session, actor.company_id) <= 1:
        raise Conflict(
            f"{contact.name} é o único Representante Legal da empresa e não pode ser removido. "
            "Inclua outro Representante Legal antes."
        )
    contact.removed_at = now or now_utc()
    contact.removed_by_id = actor.id
    return contact


def _legal_representatives(session: Session, company_id: int) -> int:
    return sum("representante_legal" in c.profiles for c in list_contacts(session, company_id))
