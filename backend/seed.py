"""Demo data of contract §3: two companies, four personas, the service catalogue and SLA rules.

Idempotent: each row is looked up by its natural key and added only when missing.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.clock import now_utc
from backend.models import Company, Contact, ContactProfile, Service, SlaRule
from backend.vocabulary import CALENDAR_24X7, CALENDAR_BUSINESS

COMPANIES = [
    ("11222333000181", "Secretaria Exemplo de Gestão"),
    ("44555666000181", "Autarquia Demonstração"),
]

# persona -> (name, e-mail, CPF, company CNPJ, profiles, primary phone)
PERSONAS: dict[str, tuple[str, str, str, str, list[str], str]] = {
    "ana": ("Ana Souza", "ana.souza@exemplo.gov.br", "23456789173", "11222333000181",
            ["financeiro", "representante_legal"], "+5561998765432"),
    "bruno": ("Bruno Lima", "bruno.lima@exemplo.gov.br", "34567891228", "11222333000181",
              ["tecnico_producao"], "+5561987654321"),
    "carla": ("Carla Dias", "carla.dias@exemplo.gov.br", "45678912364", "11222333000181",
              ["financeiro"], "+5561976543210"),
    "diego": ("Diego Rocha", "diego.rocha@demonstracao.gov.br", "56789123482", "44555666000181",
              ["representante_legal"], "+5561965432109"),
}

SERVICES = [
    ("area_cliente", "Área do Cliente"),
    ("consulta_cpf", "Consulta CPF"),
    ("consulta_cnpj", "Consulta CNPJ"),
    ("datavalid", "Datavalid"),
    ("certificado_digital", "Certificado Digital"),
    ("compartilha_rfb", "Compartilha RFB"),
    ("financeiro", "Financeiro/Faturamento"),
]

# (company CNPJ or None, service code or None, priority, hours, calendar). None = any.
SLA_RULES = [
    (None, None, "critica", 4, CALENDAR_24X7),
    (None, None, "alta", 8, CALENDAR_BUSINESS),
    (None, None, "media", 16, CALENDAR_BUSINESS),
    (None, None, "baixa", 24, CALENDAR_BUSINESS),
    # Online APIs that clients call around the clock get round-the-clock deadlines when they break.
    (None, "datavalid", "critica", 2, CALENDAR_24X7),
    (None, "datavalid", "alta", 4, CALENDAR_24X7),
    (None, "consulta_cpf", "critica", 2, CALENDAR_24X7),
    (None, "consulta_cpf", "alta", 4, CALENDAR_24X7),
    (None, "consulta_cnpj", "critica", 2, CALENDAR_24X7),
    (None, "consulta_cnpj", "alta", 4, CALENDAR_24X7),
    # A contract-specific ANS: this client negotiated faster answers for the Área do Cliente.
    ("11222333000181", "area_cliente", "media", 8, CALENDAR_BUSINESS),
]


def seed(session: Session) -> dict[str, int]:
    """Add whatever demo rows are missing; returns how many of each kind were added."""
    added = {"companies": 0, "contacts": 0, "services": 0, "sla_rules": 0}
    companies = {}
    for cnpj, name in COMPANIES:
        company = session.scalar(select(Company).where(Company.cnpj == cnpj))
        if company is None:
            company = Company(cnpj=cnpj, name=name, created_at=now_utc())
            session.add(company)
            added["companies"] += 1
        companies[cnpj] = company
    session.flush()

    for name, email, cpf, cnpj, profiles, phone in PERSONAS.values():
        company = companies[cnpj]
        exists = session.scalar(select(Contact).where(Contact.company_id == company.id, Contact.cpf == cpf))
        if exists is None:
            session.add(Contact(
                company_id=company.id, name=name, email=email, cpf=cpf, foreign=False,
                phone_primary=phone, declaration_accepted_at=now_utc(), created_at=now_utc(),
                profile_rows=[ContactProfile(profile=p) for p in profiles],
            ))
            added["contacts"] += 1

    services = {}
    for code, name in SERVICES:
        service = session.scalar(select(Service).where(Service.code == code))
        if service is None:
            service = Service(code=code, name=name, active=True)
            session.add(service)
            added["services"] += 1
        services[code] = service
    session.flush()

    for rule_cnpj, service_code, priority, hours, calendar in SLA_RULES:
        company_id = companies[rule_cnpj].id if rule_cnpj else None
        service_id = services[service_code].id if service_code else None
        exists = session.scalar(select(SlaRule).where(
            SlaRule.company_id.is_(None) if company_id is None else SlaRule.company_id == company_id,
            SlaRule.service_id.is_(None) if service_id is None else SlaRule.service_id == service_id,
            SlaRule.priority == priority,
        ))
        if exists is None:
            session.add(SlaRule(company_id=company_id, service_id=service_id, priority=priority,
                                hours=hours, calendar=calendar))
            added["sla_rules"] += 1
    session.flush()
    return added
