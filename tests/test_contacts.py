"""Contacts of a client company (contract §3–§4): who may manage them, adding, listing and removing."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from backend import contacts as contact_rules
from backend.contacts import NewContact
from backend.errors import Conflict, InvalidInput, InvalidToken, NotFound, PermissionDenied
from backend.models import Contact, ContactProfile, OutboxMessage
from backend.outbox import list_messages
from backend.validation import mask_cpf

SECRETARIA = "11222333000181"
AUTARQUIA = "44555666000181"

# A valid CPF that no persona holds.
NEW_CPF = "529.982.247-25"
NEW_CPF_DIGITS = "52998224725"
ANOTHER_CPF = "111.444.777-35"

NEW = NewContact(
    name="  Elisa   Martins ",
    email="  Elisa.Martins@Exemplo.GOV.br ",
    cpf=NEW_CPF,
    foreign=False,
    profiles=["Corporativo", "financeiro"],
    phone_primary="(61) 99123-4567",
    phone_secondary="(61) 3411-2233",
    declaration_accepted=True,
)


def new(**changes) -> NewContact:
    return dataclasses.replace(NEW, **changes)


def snapshot(db) -> dict:
    """Everything a contact operation may write: rows (with removal stamps) and queued e-mails."""
    with db.transaction() as s:
        return {
            "contacts": [(c.id, c.email, c.cpf, c.removed_at, c.removed_by_id) for c in s.scalars(select(Contact))],
            "profiles": s.scalar(select(func.count()).select_from(ContactProfile)),
            "outbox": s.scalar(select(func.count()).select_from(OutboxMessage)),
        }


def outbox(db) -> list[OutboxMessage]:
    with db.transaction() as s:
        return list_messages(s)


def names(desk, contact_id: int) -> list[str]:
    return [c["name"] for c in desk.contacts_of(contact_id)]


# --- who may manage contacts --------------------------------------------------------------------


def test_only_tecnico_producao_lacks_contact_rights(desk, personas):
    rights = {p: desk.identify(desk.issue_token(cpf)).get("can_manage_contacts")
              for p, cpf in [("ana", "23456789173"), ("bruno", "34567891228"),
                             ("carla", "45678912364"), ("diego", "56789123482")]}
    assert rights == {"ana": True, "bruno": False, "carla": True, "diego": True}


def test_bruno_may_not_add_a_contact(db, desk, personas):
    before = snapshot(db)

    with pytest.raises(PermissionDenied, match="Técnico Produção"):
        desk.add_contact(personas["bruno"], NEW)

    assert snapshot(db) == before


def test_bruno_may_not_remove_a_contact(db, desk, personas):
    before = snapshot(db)

    with pytest.raises(PermissionDenied, match="Técnico Produção"):
        desk.remove_contact(personas["bruno"], personas["carla"])

    assert snapshot(db) == before
    assert "Carla Dias" in names(desk, personas["ana"])


def test_a_contact_with_tecnico_producao_and_another_profile_may_manage(desk, personas):
    added = desk.add_contact(personas["ana"], new(profiles=["tecnico_producao", "corporativo"]))

    again = desk.add_contact(added["id"], new(name="Fabio Nunes", email="fabio.nunes@exemplo.gov.br",
                                             cpf=ANOTHER_CPF, profiles=["financeiro"]))

    assert again["company_cnpj"] == SECRETARIA


# --- adding -------------------------------------------------------------------------------------


def test_add_stores_normalised_values(desk, personas):
    added = desk.add_contact(personas["ana"], NEW)

    assert added["name"] == "Elisa Martins"
    assert added["email"] == "elisa.martins@exemplo.gov.br"
    assert added["cpf"] == NEW_CPF_DIGITS
    assert added["foreign"] is False
    assert added["profiles"] == ["corporativo", "financeiro"]
    assert added["phone_primary"] == "+5561991234567"
    assert added["phone_secondary"] == "+556134112233"
    assert added["company_cnpj"] == SECRETARIA
    assert added["removed_at"] is None


def test_added_contact_is_stored_with_declaration_and_author(db, desk, personas):
    added = desk.add_contact(personas["carla"], NEW)

    with db.transaction() as s:
        row = s.get(Contact, added["id"])
        assert row.declaration_accepted_at is not None
        assert row.created_by_id == personas["carla"]
        assert row.company.cnpj == SECRETARIA
        assert sorted(p.profile for p in row.profile_rows) == ["corporativo", "financeiro"]


def test_add_queues_the_first_access_email_to_the_new_contact(db, desk, personas):
    before = len(outbox(db))

    desk.add_contact(personas["ana"], NEW)

    messages = outbox(db)
    assert len(messages) == before + 1
    welcome = messages[-1]
    assert welcome.to == "elisa.martins@exemplo.gov.br"
    assert welcome.sent_at is None
    assert "primeiro acesso" in welcome.subject
    assert "Secretaria Exemplo de Gestão" in welcome.body
    assert "Olá, Elisa Martins," in welcome.body
    assert "Ana Souza" in welcome.body  # who added them
    assert "Corporativo" in welcome.body and "Financeiro" in welcome.body
    assert "cliente.serpro.gov.br" in welcome.body


def test_welcome_names_the_company_of_the_actor(db, desk, personas):
    desk.add_contact(personas["diego"], NEW)

    welcome = outbox(db)[-1]
    assert "Autarquia Demonstração" in welcome.body
    assert "Secretaria Exemplo" not in welcome.body


def test_new_contact_is_listed_and_can_sign_in(desk, personas):
    desk.add_contact(personas["ana"], NEW)

    assert "Elisa Martins" in names(desk, personas["bruno"])
    me = desk.identify(desk.issue_token(NEW_CPF, SECRETARIA))
    assert me["email"] == "elisa.martins@exemplo.gov.br"
    assert me["can_manage_contacts"] is True


def test_secondary_phone_is_optional(desk, personas):
    for blank, email, cpf in [(None, "sem.fone@exemplo.gov.br", NEW_CPF), ("", "fone.vazio@exemplo.gov.br", ANOTHER_CPF)]:
        added = desk.add_contact(personas["ana"], new(phone_secondary=blank, email=email, cpf=cpf))
        assert added["phone_secondary"] is None


def test_foreign_contact_has_no_cpf(desk, personas):
    added = desk.add_contact(personas["ana"], new(cpf=None, foreign=True))

    assert added["foreign"] is True
    assert added["cpf"] is None
    listed = [c for c in desk.contacts_of(personas["ana"]) if c["name"] == "Elisa Martins"]
    assert mask_cpf(listed[0]["cpf"]) == "estrangeiro (sem CPF)"


def test_two_foreign_contacts_are_not_duplicates(desk, personas):
    desk.add_contact(personas["ana"], new(cpf=None, foreign=True))
    desk.add_contact(personas["ana"], new(cpf=None, foreign=True, name="Frank Miller", email="frank@exemplo.gov.br"))

    assert {"Elisa Martins", "Frank Miller"} <= set(names(desk, personas["ana"]))


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"foreign": True}, "estrangeiro não informe CPF"),  # CPF given with "sou estrangeiro"
        ({"cpf": None}, "Informe o CPF"),
        ({"cpf": ""}, "Informe o CPF"),
        ({"declaration_accepted": False}, "declarar a veracidade"),
        ({"cpf": "529.982.247-24"}, "CPF inválido"),
        ({"cpf": "111.111.111-11"}, "CPF inválido"),
        ({"email": "elisa.martins"}, "E-mail inválido"),
        ({"email": ""}, "E-mail inválido"),
        ({"name": "E"}, "Nome inválido"),
        ({"profiles": []}, "1 a 3"),
        ({"profiles": ["representante_legal", "financeiro", "corporativo", "tecnico_producao"]}, "1 a 3"),
        ({"profiles": ["gerente"]}, "desconhecido"),
        ({"phone_primary": "99123-4567"}, "Telefone inválido"),
        ({"phone_primary": ""}, "Telefone inválido"),
        ({"phone_secondary": "123"}, "Telefone inválido"),
    ],
)
def test_invalid_new_contact_is_refused_and_nothing_is_written(db, desk, personas, changes, message):
    before = snapshot(db)

    with pytest.raises(InvalidInput, match=message):
        desk.add_contact(personas["ana"], new(**changes))

    assert snapshot(db) == before


def test_duplicate_email_in_the_company_is_refused_ignoring_case(db, desk, personas):
    before = snapshot(db)

    with pytest.raises(Conflict, match="carla.dias@exemplo.gov.br"):
        desk.add_contact(personas["ana"], new(email="  Carla.DIAS@exemplo.gov.BR"))

    assert snapshot(db) == before


def test_duplicate_cpf_in_the_company_is_refused(db, desk, personas):
    before = snapshot(db)

    with pytest.raises(Conflict, match="CPF"):
        desk.add_contact(personas["ana"], new(cpf="456.789.123-64"))  # Carla's

    assert snapshot(db) == before


def test_same_email_and_cpf_are_allowed_in_another_company(desk, personas):
    carla_again = new(name="Carla Dias", email="carla.dias@exemplo.gov.br", cpf="45678912364")

    added = desk.add_contact(personas["diego"], carla_again)

    assert added["company_cnpj"] == AUTARQUIA
    assert added["cpf"] == "45678912364"
    # With the same CPF in two companies, signing in needs the CNPJ.
    with pytest.raises(InvalidInput, match="mais de uma empresa"):
        desk.issue_token("456.789.123-64")
    assert desk.identify(desk.issue_token("456.789.123-64", AUTARQUIA))["id"] == added["id"]
    assert desk.identify(desk.issue_token("456.789.123-64", SECRETARIA))["id"] == personas["carla"]


def test_a_second_addition_of_the_same_person_is_refused(db, desk, personas):
    desk.add_contact(personas["ana"], NEW)
    before = snapshot(db)

    with pytest.raises(Conflict):
        desk.add_contact(personas["carla"], new(email="outro.email@exemplo.gov.br"))  # same CPF
    with pytest.raises(Conflict):
        desk.add_contact(personas["carla"], new(cpf=ANOTHER_CPF))  # same e-mail

    assert snapshot(db) == before


def test_removed_actor_may_not_add(desk, personas):
    desk.remove_contact(personas["ana"], personas["carla"])

    with pytest.raises(NotFound):
        desk.add_contact(personas["carla"], NEW)


def test_module_add_contact_uses_the_given_time(db, personas, desk):
    moment = datetime(2026, 3, 2, 13, 0, tzinfo=timezone.utc)
    with db.transaction() as s:
        actor = contact_rules.get_active_contact(s, personas["ana"])
        contact = contact_rules.add_contact(s, actor, NEW, now=moment)
        contact_id = contact.id

    with db.transaction() as s:
        row = s.get(Contact, contact_id)
        assert row.created_at == moment
        assert row.declaration_accepted_at == moment
    assert outbox(db)[-1].created_at == moment


# --- listing ------------------------------------------------------------------------------------


def test_list_shows_active_contacts_of_the_own_company_by_name(desk, personas):
    assert names(desk, personas["bruno"]) == ["Ana Souza", "Bruno Lima", "Carla Dias"]
    assert names(desk, personas["diego"]) == ["Diego Rocha"]


def test_list_is_ordered_by_name_after_additions(desk, personas):
    desk.add_contact(personas["ana"], new(name="Zeca Alves", email="zeca@exemplo.gov.br"))
    desk.add_contact(personas["ana"], new(name="Beatriz Reis", email="bia@exemplo.gov.br", cpf=ANOTHER_CPF))

    assert names(desk, personas["ana"]) == ["Ana Souza", "Beatriz Reis", "Bruno Lima", "Carla Dias", "Zeca Alves"]


def test_masked_cpfs_of_the_list(desk, personas):
    masked = {c["name"]: mask_cpf(c["cpf"]) for c in desk.contacts_of(personas["ana"])}

    assert masked == {"Ana Souza": "xxx.567.891-xx", "Bruno Lima": "xxx.678.912-xx", "Carla Dias": "xxx.789.123-xx"}


def test_contact_json_keys(desk, personas):
    contact = {c["name"]: c for c in desk.contacts_of(personas["ana"])}["Ana Souza"]

    for key in ("name", "email", "cpf", "foreign", "profiles", "phone_primary", "phone_secondary", "company_cnpj"):
        assert key in contact
    assert contact["cpf"] == "23456789173"
    assert contact["profiles"] == ["financeiro", "representante_legal"]
    assert contact["phone_primary"] == "+5561998765432"
    assert contact["phone_secondary"] is None
    assert contact["company_cnpj"] == SECRETARIA


def test_staff_list_by_cnpj(desk):
    assert [c["name"] for c in desk.staff_contacts("44.555.666/0001-81")] == ["Diego Rocha"]
    with pytest.raises(NotFound):
        desk.staff_contacts("11.444.777/0001-61")  # valid CNPJ, not a client
    with pytest.raises(InvalidInput):
        desk.staff_contacts("11.222.333/0001-82")


# --- removing -----------------------------------------------------------------------------------


def test_remove_is_a_soft_delete(db, desk, personas):
    removed = desk.remove_contact(personas["ana"], personas["carla"])

    assert removed["removed_at"] is not None
    assert "Carla Dias" not in names(desk, personas["ana"])
    with db.transaction() as s:
        row = s.get(Contact, personas["carla"])
        assert row is not None  # history is kept
        assert row.removed_at is not None
        assert row.removed_by_id == personas["ana"]
        assert row.email == "carla.dias@exemplo.gov.br"
        assert [p.profile for p in row.profile_rows] == ["financeiro"]


def test_removal_queues_no_email(db, desk, personas):
    before = len(outbox(db))

    desk.remove_contact(personas["ana"], personas["carla"])

    assert len(outbox(db)) == before


def test_removed_contact_loses_access(desk, personas):
    token = desk.issue_token("456.789.123-64")

    desk.remove_contact(personas["ana"], personas["carla"])

    with pytest.raises(InvalidToken):
        desk.identify(token)
    with pytest.raises(NotFound):
        desk.issue_token("456.789.123-64")
    with pytest.raises(NotFound):
        desk.contacts_of(personas["carla"])


def test_email_and_cpf_are_reusable_after_removal(desk, personas):
    desk.remove_contact(personas["ana"], personas["carla"])

    again = desk.add_contact(personas["ana"], new(name="Carla Dias", email="Carla.Dias@exemplo.gov.br",
                                                  cpf="456.789.123-64"))

    assert again["id"] != personas["carla"]
    assert again["email"] == "carla.dias@exemplo.gov.br"
    assert names(desk, personas["ana"]) == ["Ana Souza", "Bruno Lima", "Carla Dias"]
    assert desk.identify(desk.issue_token("45678912364"))["id"] == again["id"]


def test_removing_twice_is_not_found(db, desk, personas):
    desk.remove_contact(personas["ana"], personas["carla"])
    before = snapshot(db)

    with pytest.raises(NotFound, match=contact_rules.NOT_FOUND):
        desk.remove_contact(personas["ana"], personas["carla"])

    assert snapshot(db) == before


def test_removing_yourself_is_refused(db, desk, personas):
    before = snapshot(db)

    with pytest.raises(PermissionDenied, match="próprio cadastro"):
        desk.remove_contact(personas["carla"], personas["carla"])
    with pytest.raises(PermissionDenied, match="próprio cadastro"):
        desk.remove_contact(personas["ana"], personas["ana"])

    assert snapshot(db) == before


def test_the_only_representante_legal_of_diegos_company_cannot_be_removed(db, desk, personas):
    colleague = desk.add_contact(personas["diego"], new(profiles=["financeiro"]))
    before = snapshot(db)

    with pytest.raises(Conflict, match="único Representante Legal"):
        desk.remove_contact(colleague["id"], personas["diego"])

    assert snapshot(db) == before
    assert "Diego Rocha" in names(desk, personas["diego"])


def test_the_only_representante_legal_of_anas_company_cannot_be_removed(db, desk, personas):
    before = snapshot(db)

    with pytest.raises(Conflict, match="Ana Souza é o único Representante Legal"):
        desk.remove_contact(personas["carla"], personas["ana"])

    assert snapshot(db) == before


def test_with_a_second_representante_ana_can_be_removed(desk, personas):
    second = desk.add_contact(personas["ana"], new(profiles=["Representante Legal"]))

    desk.remove_contact(second["id"], personas["ana"])

    assert names(desk, second["id"]) == ["Bruno Lima", "Carla Dias", "Elisa Martins"]
    # And now the new one is the last: it cannot be removed by Carla.
    with pytest.raises(Conflict):
        desk.remove_contact(personas["carla"], second["id"])


def test_a_removed_representante_does_not_count(desk, personas):
    second = desk.add_contact(personas["ana"], new(profiles=["representante_legal"]))
    desk.remove_contact(personas["ana"], second["id"])

    with pytest.raises(Conflict):
        desk.remove_contact(personas["carla"], personas["ana"])


def test_removing_a_contact_of_another_company_is_not_found(db, desk, personas):
    before = snapshot(db)

    with pytest.raises(NotFound) as other_company:
        desk.remove_contact(personas["ana"], personas["diego"])
    with pytest.raises(NotFound) as missing:
        desk.remove_contact(personas["ana"], 999_999)

    assert str(other_company.value) == str(missing.value) == contact_rules.NOT_FOUND
    assert snapshot(db) == before
    assert names(desk, personas["diego"]) == ["Diego Rocha"]


def test_module_remove_contact_uses_the_given_time(db, desk, personas):
    moment = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)
    with db.transaction() as s:
        actor = contact_rules.get_active_contact(s, personas["ana"])
        contact_rules.remove_contact(s, actor, personas["bruno"], now=moment)

    with db.transaction() as s:
        assert s.get(Contact, personas["bruno"]).removed_at == moment
