"""The e-mails' wording: each carries the facts the user needs, all from the source documents."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from backend import emails

# 18:00 UTC is 15:00 in Brasília (UTC-3, no daylight saving since 2019).
DUE = datetime(2026, 11, 23, 18, 0, tzinfo=timezone.utc)
FOOTER = (
    "Central de Serviços Serpro (CSS) — atendimento 24x7 · 0800 728 2323 · "
    "css.serpro@serpro.gov.br · centraldeajuda.serpro.gov.br"
)


def registered(**overrides: object) -> emails.Email:
    args: dict[str, object] = dict(
        name="Ana Souza",
        number="SS-2026-000123",
        service="Datavalid",
        category_label="Problema",
        priority_label="alta",
        description="A API do Datavalid responde erro 500.\nDesde as 9h.",
        due_at=DUE,
        follow_url="http://localhost:8000/acionamentos/SS-2026-000123",
    )
    args.update(overrides)
    return emails.ticket_registered(**args)  # type: ignore[arg-type]


def resolved() -> emails.Email:
    return emails.ticket_resolved(
        name="Ana Souza",
        number="SS-2026-000123",
        service="Datavalid",
        solution="Certificado do cliente renovado; a API voltou a responder.",
        evaluation_url="http://localhost:8000/avaliar/abc123",
    )


def reopened() -> emails.Email:
    return emails.ticket_reopened(
        name="Ana Souza",
        number="SS-2026-000123",
        reason="O erro voltou a acontecer hoje.",
        due_at=DUE,
        follow_url="http://localhost:8000/acionamentos/SS-2026-000123",
    )


def welcome(labels: list[str] | None = None) -> emails.Email:
    return emails.contact_welcome(
        name="Bruno Lima",
        company_name="Secretaria Exemplo de Gestão",
        profile_labels=["Técnico Produção"] if labels is None else labels,
        added_by="Ana Souza",
    )


ALL = [registered, resolved, reopened, welcome]


def test_registered_subject_names_the_number() -> None:
    assert registered().subject == "[CSS] Acionamento SS-2026-000123 registrado"


def test_registered_body_has_the_ticket_facts() -> None:
    body = registered().body
    assert body.startswith("Olá, Ana Souza,\n")
    assert "Número: SS-2026-000123" in body
    assert "Serviço: Datavalid" in body
    assert "Categoria: Problema" in body
    assert "Prioridade: alta" in body
    assert "Prazo de atendimento: 23/11/2026 15:00 (horário de Brasília)" in body
    assert "acordo de nível de serviço (ANS)" in body
    assert "contrato" in body
    assert "http://localhost:8000/acionamentos/SS-2026-000123" in body


def test_registered_says_it_is_forwarded_when_not_solved_at_first_contact() -> None:
    body = registered().body
    assert "não seja concluído no primeiro contato" in body
    assert "encaminhado para as demais equipes de suporte" in body


def test_registered_quotes_the_description_line_by_line_as_given() -> None:
    body = registered(description="Linha um: {name} <b>\n\nLinha três").body
    assert "> Linha um: {name} <b>\n>\n> Linha três\n" in body


def test_deadline_is_in_brasilia_time_whatever_the_given_zone() -> None:
    # The same instant given in another zone still reads as Brasília time.
    from zoneinfo import ZoneInfo

    same_instant = DUE.astimezone(ZoneInfo("Asia/Tokyo"))
    assert "23/11/2026 15:00 (horário de Brasília)" in registered(due_at=same_instant).body


def test_resolved_has_solution_and_evaluation_link_with_reopening() -> None:
    email = resolved()
    assert email.subject == "[CSS] Acionamento SS-2026-000123 resolvido"
    assert "SS-2026-000123 (Datavalid) foi atendido" in email.body
    assert "> Certificado do cliente renovado; a API voltou a responder." in email.body
    assert "formulário de controle de qualidade:\nhttp://localhost:8000/avaliar/abc123\n" in email.body
    assert "caso discorde da solução, você pode reabrir o acionamento" in email.body


def test_reopened_has_reason_deadline_and_what_comes_next() -> None:
    email = reopened()
    assert email.subject == "[CSS] Acionamento SS-2026-000123 reaberto"
    assert "SS-2026-000123 foi reaberto" in email.body
    assert "> O erro voltou a acontecer hoje." in email.body
    assert "Prazo de atendimento: 23/11/2026 15:00 (horário de Brasília)" in email.body
    assert "(ANS)" in email.body
    assert "você receberá por e-mail a solução aplicada" in email.body
    assert "http://localhost:8000/acionamentos/SS-2026-000123" in email.body


def test_welcome_has_company_profiles_who_added_and_first_access() -> None:
    body = welcome().body
    assert "Ana Souza cadastrou você como contato da empresa Secretaria Exemplo de Gestão" in body
    assert "Área do Cliente Serpro (cliente.serpro.gov.br)" in body
    assert "com o perfil Técnico Produção." in body
    assert "1. Acesse cliente.serpro.gov.br." in body
    assert '"primeiro acesso"' in body
    assert "endereço de e-mail" in body


@pytest.mark.parametrize(
    ("labels", "phrase"),
    [
        (["Financeiro", "Corporativo"], "com os perfis Financeiro e Corporativo."),
        (
            ["Representante Legal", "Financeiro", "Corporativo"],
            "com os perfis Representante Legal, Financeiro e Corporativo.",
        ),
    ],
)
def test_welcome_lists_several_profiles_in_plain_portuguese(labels: list[str], phrase: str) -> None:
    assert phrase in welcome(labels).body


@pytest.mark.parametrize("compose", ALL)
def test_every_message_ends_with_the_css_channels_and_automatic_notice(compose) -> None:  # type: ignore[no-untyped-def]
    lines = compose().body.rstrip("\n").split("\n")
    assert lines[-2] == FOOTER
    assert "mensagem automática" in lines[-1]
    assert "0800 728 2323" in compose().body


@pytest.mark.parametrize("compose", ALL)
def test_subjects_are_one_short_line(compose) -> None:  # type: ignore[no-untyped-def]
    subject = compose().subject
    assert "\n" not in subject and "\r" not in subject
    assert len(subject) <= 120


def test_blank_name_still_greets() -> None:
    assert registered(name="  ").body.startswith("Olá,\n")
