"""Demo data of contract §3: companies, personas, catalogue and SLA rules, loaded idempotently."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend import validation
from backend.desk import ServiceDesk
from backend.models import Company, Contact, ContactProfile, Service, SlaRule
from backend.seed import PERSONAS
from backend.vocabulary import CALENDARS, PRIORITIES, PROFILES

EXPECTED_PERSONAS = {
    # persona: (name, e-mail, CPF as in contract §3, CNPJ, profiles)
    "ana": ("Ana Souza", "ana.souza@exemplo.gov.br", "234.567.891-73", "11222333000181",
            ["financeiro", "representante_legal"]),
    "bruno": ("Bruno Lima", "bruno.lima@exemplo.gov.br", "345.678.912-28", "11222333000181",
              ["tecnico_producao"]),
    "carla": ("Carla Dias", "carla.dias@exemplo.gov.br", "456.789.123-64", "11222333000181", ["financeiro"]),
    "diego": ("Diego Rocha", "diego.rocha@demonstracao.gov.br", "567.891.234-82", "44555666000181",
              ["representante_legal"]),
}
CATALOGUE = ["Área do Cliente", "Consulta CPF", "Consulta CNPJ", "Datavalid", "Certificado Digital",
             "Compartilha RFB", "Financeiro/Faturamento"]


def counts(db) -> dict[str, int]:
    with db.transaction() as s:
        return {model.__tablename__: s.scalar(select(func.count()).select_from(model))
                for model in (Company, Contact, ContactProfile, Service, SlaRule)}


def test_first_load_adds_everything(db):
    desk = ServiceDesk(db, "seed-test-secret-with-at-least-32-bytes", "http://css.test")
    assert desk.is_empty()

    added = desk.seed()

    assert not desk.is_empty()
    assert added["companies"] == 2
    assert added["contacts"] == 4
    assert added["services"] >= 7
    assert added["sla_rules"] >= 2
    now = counts(db)
    assert (now["companies"], now["contacts"], now["services"], now["sla_rules"]) == \
        (added["companies"], added["contacts"], added["services"], added["sla_rules"])
    assert now["contact_profiles"] == 5


def test_loading_twice_adds_nothing(db, desk):
    before = counts(db)

    again = desk.seed()

    assert again == {"companies": 0, "contacts": 0, "services": 0, "sla_rules": 0}
    assert counts(db) == before


def test_seed_does_not_bring_back_a_removed_persona(db, desk, personas):
    desk.remove_contact(personas["ana"], personas["carla"])

    assert desk.seed()["contacts"] == 0
    assert [c["name"] for c in desk.contacts_of(personas["ana"])] == ["Ana Souza", "Bruno Lima"]


def test_companies(db, desk):
    with db.transaction() as s:
        companies = {c.cnpj: c.name for c in s.scalars(select(Company))}

    assert companies == {"11222333000181": "Secretaria Exemplo de Gestão",
                         "44555666000181": "Autarquia Demonstração"}


@pytest.mark.parametrize("persona", EXPECTED_PERSONAS)
def test_personas_with_their_profiles(desk, personas, persona):
    name, email, cpf, cnpj, profiles = EXPECTED_PERSONAS[persona]

    me = desk.identify(desk.issue_token(cpf, cnpj))

    assert me["id"] == personas[persona]
    assert (me["name"], me["email"], me["cpf"], me["company_cnpj"]) == \
        (name, email, validation.normalize_cpf(cpf), cnpj)
    assert me["profiles"] == profiles
    assert me["foreign"] is False
    assert me["can_manage_contacts"] is (persona != "bruno")


def test_persona_data_is_valid_by_our_own_rules():
    for name, email, cpf, cnpj, profiles, phone in PERSONAS.values():
        assert validation.normalize_name(name) == name
        assert validation.normalize_email(email) == email
        assert validation.normalize_cpf(cpf) == cpf
        assert validation.normalize_cnpj(cnpj) == cnpj
        assert validation.normalize_profiles(profiles) == sorted(profiles)
        assert validation.normalize_phone(phone) == phone


def test_seeded_contacts_are_active_and_declared(db, desk):
    with db.transaction() as s:
        for contact in s.scalars(select(Contact)):
            assert contact.active
            assert contact.declaration_accepted_at is not None
            assert contact.phone_primary.startswith("+55")


def test_catalogue_has_the_contract_services(desk):
    services = desk.services()

    names = [s["name"] for s in services]
    assert len(services) >= 7
    assert set(CATALOGUE) <= set(names)
    assert len({s["code"] for s in services}) == len(services)
    assert names == sorted(names)


def test_sla_rules_cover_both_calendars_and_every_priority(db, desk):
    with db.transaction() as s:
        rules = list(s.scalars(select(SlaRule)))
        general = {r.priority for r in rules if r.company_id is None and r.service_id is None}
        calendars = {r.calendar for r in rules}
        assert all(r.hours > 0 for r in rules)
        assert all(r.calendar in CALENDARS for r in rules)

    assert "24x7" in calendars
    assert "comercial" in calendars
    # Any service of any company finds a rule, whatever the priority.
    assert general == set(PRIORITIES)


def test_sla_rules_a_company_sees(desk, personas):
    secretaria = desk.sla_rules_for(personas["ana"])
    autarquia = desk.sla_rules_for(personas["diego"])

    assert {"service": "Área do Cliente", "company_specific": True, "priority": "media", "hours": 8,
            "calendar": "comercial"} in secretaria
    assert not any(r["company_specific"] for r in autarquia)
    assert len(secretaria) == len(autarquia) + 1


def test_profiles_in_seed_are_known_codes():
    for *_, profiles, _phone in PERSONAS.values():
        assert 1 <= len(profiles) <= 3
        assert set(profiles) <= set(PROFILES)
