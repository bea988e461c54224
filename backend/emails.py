"""The e-mails the service desk sends, composed in pt-BR plain text.

Pure functions: no database, no clock, no I/O. Every fact comes from the source documents
(/work/shared/seeds): 000 (Área do Cliente, contacts) and 003 (CSS FAQ, ticket flow).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend import clock

CSS_CHANNELS = (
    "Central de Serviços Serpro (CSS) — atendimento 24x7 · 0800 728 2323 · "
    "css.serpro@serpro.gov.br · centraldeajuda.serpro.gov.br"
)
AUTOMATIC_NOTICE = "Esta é uma mensagem automática. Para falar com a CSS, use os canais acima."
CLIENT_AREA = "cliente.serpro.gov.br"


@dataclass(frozen=True)
class Email:
    subject: str
    body: str


def ticket_registered(
    name: str,
    number: str,
    service: str,
    category_label: str,
    priority_label: str,
    description: str,
    due_at: datetime,
    follow_url: str,
) -> Email:
    """Sent when a ticket is registered (seed 003: number, e-mail, escalation, ANS)."""
    lines = [
        _greeting(name),
        "",
        "Seu acionamento foi registrado na Central de Serviços Serpro (CSS).",
        "",
        f"Número: {number}",
        f"Serviço: {service}",
        f"Categoria: {category_label}",
        f"Prioridade: {priority_label}",
        f"Prazo de atendimento: {_deadline(due_at)}",
        "",
        "Descrição informada:",
        *_quoted(description),
        "",
        "O prazo segue o acordo de nível de serviço (ANS) do contrato firmado entre sua "
        "organização e o Serpro para este atendimento.",
        "Caso o atendimento não seja concluído no primeiro contato, o acionamento é encaminhado "
        "para as demais equipes de suporte.",
        "",
        "Consulte o andamento no formulário de consulta de acionamentos:",
        follow_url,
        "Você também pode consultar pelo Assistente Serpro, na página da CSS, ou pelo telefone e "
        f"pelo e-mail abaixo, informando o número {number}.",
    ]
    return Email(subject=f"[CSS] Acionamento {number} registrado", body=_with_footer(lines))


def ticket_resolved(
    name: str, number: str, service: str, solution: str, evaluation_url: str
) -> Email:
    """Sent when a ticket is solved: the solution and the quality-control form (seed 003)."""
    lines = [
        _greeting(name),
        "",
        f"Seu acionamento {number} ({service}) foi atendido.",
        "",
        "Solução aplicada:",
        *_quoted(solution),
        "",
        "Avalie o atendimento recebido no formulário de controle de qualidade:",
        evaluation_url,
        "No mesmo formulário, caso discorde da solução, você pode reabrir o acionamento.",
    ]
    return Email(subject=f"[CSS] Acionamento {number} resolvido", body=_with_footer(lines))


def ticket_reopened(
    name: str, number: str, reason: str, due_at: datetime, follow_url: str
) -> Email:
    """Sent when the user disagrees with the solution and reopens the ticket."""
    lines = [
        _greeting(name),
        "",
        f"Seu acionamento {number} foi reaberto.",
        "",
        "Motivo informado:",
        *_quoted(reason),
        "",
        "O atendimento volta a ser tratado pela Central de Serviços Serpro (CSS).",
        f"Prazo de atendimento: {_deadline(due_at)}, conforme o acordo de nível de serviço (ANS) "
        "do contrato firmado entre sua organização e o Serpro.",
        "Assim que o acionamento for atendido, você receberá por e-mail a solução aplicada.",
        "",
        "Consulte o andamento no formulário de consulta de acionamentos:",
        follow_url,
    ]
    return Email(subject=f"[CSS] Acionamento {number} reaberto", body=_with_footer(lines))


def contact_welcome(
    name: str, company_name: str, profile_labels: list[str], added_by: str
) -> Email:
    """Sent to a new contact with first-access orientation (seed 000)."""
    lines = [
        _greeting(name),
        "",
        f"{added_by} cadastrou você como contato da empresa {company_name} na Área do Cliente "
        f"Serpro ({CLIENT_AREA}){_profiles_phrase(profile_labels)}.",
        "Cada perfil dá acesso a funcionalidades diferentes dentro da Área do Cliente.",
        "",
        "Para o primeiro acesso:",
        f"1. Acesse {CLIENT_AREA}.",
        '2. Siga a opção "primeiro acesso" e informe o endereço de e-mail em que você '
        "recebeu esta mensagem.",
        "",
        "Para qualquer alteração no seu cadastro, como e-mail ou CPF, é necessário registrar um "
        "ticket para o Suporte, pelo menu SUPORTE da Área do Cliente.",
        "Se você não reconhece este cadastro ou tem dúvidas, fale com a CSS pelos canais abaixo.",
    ]
    return Email(
        subject="[Área do Cliente Serpro] Seu cadastro como contato e o primeiro acesso",
        body=_with_footer(lines),
    )


def _greeting(name: str) -> str:
    return f"Olá, {name.strip()}," if name.strip() else "Olá,"


def _deadline(due_at: datetime) -> str:
    return f"{clock.format_br(due_at)} (horário de Brasília)"


def _quoted(text: str) -> list[str]:
    # The user's own words, marked as a quotation and never rephrased.
    return [f"> {line}".rstrip() for line in (text.splitlines() or [""])]


def _profiles_phrase(labels: list[str]) -> str:
    if not labels:
        return ""
    if len(labels) == 1:
        return f", com o perfil {labels[0]}"
    return f", com os perfis {', '.join(labels[:-1])} e {labels[-1]}"


def _with_footer(lines: list[str]) -> str:
    # "-- " is the plain-text signature delimiter mail clients recognise.
    return "\n".join([*lines, "", "-- ", CSS_CHANNELS, AUTOMATIC_NOTICE]) + "\n"
