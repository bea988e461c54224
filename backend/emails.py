"""The e-mails the service desk sends, composed in pt-BR plain text.

Pure functions: no database, no clock, no I/O. Every fact comes from the source documents
(/work/shared/seeds): 000 (Área do Cliente, contacts) and 003 (CSS FAQ, ticket flow).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend import clock
from backend.vocabulary import CSS_EMAIL, CSS_HELP_SITE, CSS_PHONE

CSS_CHANNELS = f"Central de Serviços Serpro (CSS) — atendimento 24x7 · {CSS_PHONE} · {CSS_EMAIL} · {CSS_HELP_SITE}"
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


def question_asked(name: str, number: str, question: str, answer_url: str, follow_url: str) -> Email:
    """Sent when support needs information from the requester: the question and the link to answer it."""
    lines = [
        _greeting(name),
        "",
        f"Para continuar o atendimento do acionamento {number}, a equipe de suporte precisa de uma informação sua:",
        "",
        *_quoted(question),
        "",
        "Responda pelo formulário abaixo ou pelo Assistente Serpro, na página da CSS:",
        answer_url,
        "Enquanto aguardamos sua resposta, o prazo de atendimento (ANS) fica suspenso; ele volta a contar "
        "quando você responder.",
        "",
        "Consulte o andamento no formulário de consulta de acionamentos:",
        follow_url,
    ]
    return Email(subject=f"[CSS] Acionamento {number}: precisamos de uma informação sua", body=_with_footer(lines))


def waiting_reminder(name: str, number: str, question: str, answer_url: str) -> Email:
    """Sent once when a question has had no answer for a while."""
    lines = [
        _greeting(name),
        "",
        f"O acionamento {number} continua aguardando uma informação sua para seguir:",
        "",
        *_quoted(question),
        "",
        "Responda pelo formulário abaixo ou pelo Assistente Serpro, na página da CSS:",
        answer_url,
    ]
    return Email(subject=f"[CSS] Lembrete: o acionamento {number} aguarda sua resposta", body=_with_footer(lines))


def evaluation_reminder(name: str, number: str, service: str, evaluation_url: str, close_days: int) -> Email:
    """Sent once to a requester who has not evaluated a resolved ticket yet."""
    lines = [
        _greeting(name),
        "",
        f"Seu acionamento {number} ({service}) foi atendido e ainda não recebeu sua avaliação.",
        "",
        "Avalie o atendimento recebido no formulário de controle de qualidade:",
        evaluation_url,
        "No mesmo formulário, caso discorde da solução, você pode reabrir o acionamento.",
        f"Sem avaliação, o acionamento será fechado {close_days} dias após a solução.",
    ]
    return Email(subject=f"[CSS] Lembrete: avalie o acionamento {number}", body=_with_footer(lines))


def ticket_closed_automatically(name: str, number: str, service: str, reopen_days: int, follow_url: str) -> Email:
    """Sent when a resolved ticket is closed without an evaluation."""
    lines = [
        _greeting(name),
        "",
        f"Seu acionamento {number} ({service}) foi fechado, pois a solução aplicada não foi avaliada "
        "no prazo.",
        f"Se o problema continuar, você pode reabri-lo em até {reopen_days} dias a partir de hoje, pelo "
        "Assistente Serpro, na página da CSS.",
        "",
        "Consulte o acionamento no formulário de consulta de acionamentos:",
        follow_url,
    ]
    return Email(subject=f"[CSS] Acionamento {number} fechado", body=_with_footer(lines))


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
