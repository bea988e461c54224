"""Tickets ("acionamentos") and their life cycle: every rule of contract §4 and §5 lives here once."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import emails, numbering, sla
from backend.catalogue import find_service
from backend.clock import format_br, now_utc, to_local
from backend.errors import InvalidInput, InvalidTransition, NotFound
from backend.links import Links
from backend.models import Contact, Ticket, TicketEvent
from backend.outbox import queue_email
from backend.vocabulary import (
    AUTO_CLOSE_DAYS,
    CATEGORIES,
    IMPACTS,
    LEVELS,
    OPEN_STATUSES,
    PRIORITIES,
    REOPEN_WINDOW_DAYS,
    SCORE_MAX,
    SCORE_MIN,
    STATUSES,
    TEXT_MAX_CHARS,
    WAITING_STATUS,
)

NOT_FOUND = "Não encontrei esse acionamento entre os que você pode consultar. Confira o número (ex.: SS-2026-000123)."
STAFF = "equipe CSS"
SYSTEM = "CSS (automático)"
MAX_TEXT = TEXT_MAX_CHARS
REOPEN_WINDOW = timedelta(days=REOPEN_WINDOW_DAYS)

# Status each staff/user operation may start from (target status in the function).
_FROM = {
    "start": {"registrado", "encaminhado", "reaberto", "aguardando_usuario"},
    "forward": {"registrado", "em_atendimento", "encaminhado", "reaberto"},
    "wait": {"registrado", "em_atendimento", "encaminhado", "reaberto"},
    "resolve": {"registrado", "em_atendimento", "encaminhado", "aguardando_usuario", "reaberto"},
    "close": {"resolvido"},
    "cancel": set(OPEN_STATUSES),
}


def priority_for(category: str, impact: str | None) -> str:
    """Priority from category and, for problems, the impact the user reported."""
    if category == "problema":
        return {"alto": "critica", "medio": "alta", "baixo": "media"}[impact or "medio"]
    return "media" if category == "solicitacao" else "baixa"


def clean_text(text: str | None, what: str, minimum: int = 1) -> str:
    """User text stored as given (only outer blanks trimmed), within sane bounds."""
    text = (text or "").strip()
    if len(text) < minimum:
        if minimum == 1:
            raise InvalidInput(f"{what} não pode ficar em branco.")
        raise InvalidInput(f"{what} muito curto(a): escreva pelo menos {minimum} caracteres.")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{what} muito longo(a): o limite é de {MAX_TEXT} caracteres.")
    return text


def open_ticket(
    session: Session,
    links: Links,
    requester: Contact,
    service: str,
    category: str,
    description: str,
    impact: str | None = None,
    channel: str = "chat",
    now: datetime | None = None,
) -> Ticket:
    """Register a ticket: number, priority, SLA deadline, history and the confirmation e-mail."""
    if category not in CATEGORIES:
        raise InvalidInput("Categoria inválida: escolha dúvida, problema ou solicitação.")
    if category == "problema" and impact not in IMPACTS:
        raise InvalidInput("Para problemas, informe o impacto: alto, médio ou baixo.")
    if category != "problema":
        impact = None
    text = clean_text(description, "A descrição", minimum=5)
    chosen = find_service(session, service)
    priority = priority_for(category, impact)
    rule = sla.find_rule(session, requester.company_id, chosen.id, priority)
    now = now or now_utc()
    ticket = Ticket(
        number=numbering.next_number(session, to_local(now).year),  # the year users see
        company_id=requester.company_id,
        requester=requester,
        service=chosen,
        category=category,
        impact=impact,
        priority=priority,
        description=text,
        channel=channel,
        status="registrado",
        level="N1",
        sla_hours=rule.hours,
        sla_calendar=rule.calendar,
        created_at=now,
        updated_at=now,
        due_at=sla.compute_due(now, rule.hours, rule.calendar),
        sla_status="no_prazo",
        reopen_count=0,
    )
    session.add(ticket)
    _record(ticket, "registered", requester.email, now, None, "registrado", text=None)
    session.flush()
    message = emails.ticket_registered(
        name=requester.name,
        number=ticket.number,
        service=chosen.name,
        category_label=CATEGORIES[category],
        priority_label=PRIORITIES[priority],
        description=text,
        due_at=ticket.due_at,
        follow_url=links.follow(ticket.number),
    )
    queue_email(session, requester.email, message, now=now)
    return ticket


def can_see(viewer: Contact, ticket: Ticket) -> bool:
    """The requester, or a Representante Legal of the same company."""
    if ticket.company_id != viewer.company_id:
        return False
    return ticket.requester_id == viewer.id or "representante_legal" in viewer.profiles


def get_ticket(session: Session, number: str | None) -> Ticket:
    """A ticket by number, typed loosely or not (staff view: no visibility check)."""
    canonical = numbering.parse_number(number)
    ticket = session.scalar(select(Ticket).where(Ticket.number == canonical)) if canonical else None
    if ticket is None:
        raise NotFound(NOT_FOUND)
    return ticket


def get_visible_ticket(session: Session, viewer: Contact, number: str | None) -> Ticket:
    """Same answer for a number that does not exist and one the viewer may not see."""
    try:
        ticket = get_ticket(session, number)
    except NotFound:
        raise NotFound(NOT_FOUND) from None
    if not can_see(viewer, ticket):
        raise NotFound(NOT_FOUND)
    return ticket


def list_tickets(
    session: Session,
    viewer: Contact | None = None,
    company_id: int | None = None,
    status: str | None = None,
    limit: int | None = None,
    open_only: bool = False,
) -> list[Ticket]:
    """Tickets newest first: what a viewer may see, or (staff, viewer None) all or one company's.
    `open_only`: only tickets still being worked on, the nearest deadline first."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"Situação desconhecida: {status}. Opções: {', '.join(STATUSES)}.")
    query = select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc())
    if open_only:
        query = select(Ticket).where(Ticket.status.in_(OPEN_STATUSES)).order_by(Ticket.due_at, Ticket.id)
    if viewer is not None:
        query = query.where(Ticket.company_id == viewer.company_id)
        if "representante_legal" not in viewer.profiles:
            query = query.where(Ticket.requester_id == viewer.id)
    if company_id is not None:
        query = query.where(Ticket.company_id == company_id)
    if status is not None:
        query = query.where(Ticket.status == status)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def start(ticket: Ticket, now: datetime | None = None) -> Ticket:
    _move(ticket, "start", "em_atendimento", "started", STAFF, now)
    return ticket


def forward(ticket: Ticket, level: str, now: datetime | None = None) -> Ticket:
    """Escalate to a higher support level (N2, N3)."""
    if level not in LEVELS or LEVELS.index(level) <= LEVELS.index(ticket.level):
        higher = ", ".join(LEVELS[LEVELS.index(ticket.level) + 1 :]) or "nenhum"
        raise InvalidTransition(f"O acionamento está no nível {ticket.level}; só pode ser encaminhado para: {higher}.")
    _move(ticket, "forward", "encaminhado", "forwarded", STAFF, now, level=level)
    ticket.level = level
    return ticket


def wait_for_user(session: Session, links: Links, ticket: Ticket, question: str, now: datetime | None = None) -> Ticket:
    """Ask the requester something: the ANS clock pauses and the question goes by e-mail with a link to answer."""
    text = clean_text(question, "A pergunta ao usuário")
    now = _move(ticket, "wait", WAITING_STATUS, "waiting_user", STAFF, now, text=text)
    message = emails.question_asked(
        name=ticket.requester.name,
        number=ticket.number,
        question=text,
        answer_url=links.answer(ticket.number),
        follow_url=links.follow(ticket.number),
    )
    queue_email(session, ticket.requester.email, message, now=now)
    return ticket


def answer_unavailable(ticket: Ticket) -> str | None:
    """Why an answer link cannot be used now (None when the ticket waits for the user's answer)."""
    if ticket.status == WAITING_STATUS:
        return None
    return (f"O acionamento {ticket.number} não está aguardando uma resposta sua (situação: "
            f"{STATUSES[ticket.status]}). Para acrescentar alguma informação, fale com o Assistente Serpro, "
            "na página da CSS.")


def list_at_risk(session: Session) -> list[Ticket]:
    """Open tickets whose ANS is em_risco or violado, nearest deadline first."""
    return list(session.scalars(
        select(Ticket)
        .where(Ticket.status.in_(OPEN_STATUSES), Ticket.sla_status.in_(("em_risco", "violado")))
        .order_by(Ticket.due_at, Ticket.id)
    ))


def pending_question(ticket: Ticket) -> str | None:
    """The question support is waiting an answer to, if the ticket waits for the user."""
    if ticket.status != WAITING_STATUS:
        return None
    asked = [e for e in ticket.events if e.kind == "waiting_user"]
    return asked[-1].text if asked else None


def resolve(session: Session, links: Links, ticket: Ticket, solution: str, now: datetime | None = None) -> Ticket:
    """Record the solution and e-mail it with the evaluation link."""
    text = clean_text(solution, "A solução", minimum=5)
    now = _move(ticket, "resolve", "resolvido", "resolved", STAFF, now, text=text)
    ticket.solution = text
    ticket.resolved_at = now
    ticket.evaluation_reminded_at = None
    message = emails.ticket_resolved(
        name=ticket.requester.name,
        number=ticket.number,
        service=ticket.service.name,
        solution=text,
        evaluation_url=links.evaluate(ticket.number),
    )
    queue_email(session, ticket.requester.email, message, now=now)
    return ticket


def close(ticket: Ticket, actor: str = STAFF, now: datetime | None = None) -> Ticket:
    now = _move(ticket, "close", "fechado", "closed", actor, now)
    ticket.closed_at = now
    return ticket


def cancel(ticket: Ticket, reason: str, now: datetime | None = None) -> Ticket:
    text = clean_text(reason, "O motivo do cancelamento")
    _move(ticket, "cancel", "cancelado", "cancelled", STAFF, now, text=text)
    return ticket


def ensure_complementable(ticket: Ticket) -> None:
    """Only open tickets take complements; the refusal says what to do instead."""
    if ticket.status not in OPEN_STATUSES:
        instead = {
            "resolvido": "Avalie a solução e, se discordar, reabra o acionamento; ",
            "fechado": "Se discordar da solução, você pode reabri-lo em até 7 dias do fechamento; ",
        }.get(ticket.status, "")
        raise InvalidTransition(
            f"O acionamento {ticket.number} está {STATUSES[ticket.status]} e não aceita complementos. "
            f"{instead}para um assunto novo, abra outro acionamento."
        )


def complement(ticket: Ticket, actor: str, text: str, now: datetime | None = None) -> Ticket:
    """Add information (the requester in the chat or the e-mail form, or staff for a phone call); a ticket waiting
    for the user goes back to the support team and its ANS clock runs again."""
    ensure_complementable(ticket)
    body = clean_text(text, "O complemento")
    now = now or now_utc()
    waiting = ticket.status == WAITING_STATUS
    target = "em_atendimento" if waiting else ticket.status
    _record(ticket, "complemented", actor, now, ticket.status, target, text=body)
    ticket.status = target
    ticket.updated_at = now
    if waiting:
        _resume_clock(ticket, now)
    return ticket


def ensure_evaluable(ticket: Ticket) -> None:
    """Only resolved tickets, once per solution."""
    if ticket.status != "resolvido":
        raise InvalidTransition(
            f"Só é possível avaliar acionamentos resolvidos; o {ticket.number} está {STATUSES[ticket.status]}."
        )
    if ticket.evaluated_at is not None:
        raise InvalidTransition(f"O acionamento {ticket.number} já foi avaliado. Obrigado!")


def evaluate(ticket: Ticket, author: Contact, score: int, comment: str | None, now: datetime | None = None) -> Ticket:
    """Score a resolved ticket from 1 to 5, once per solution."""
    ensure_evaluable(ticket)
    if not isinstance(score, int) or isinstance(score, bool) or not SCORE_MIN <= score <= SCORE_MAX:
        raise InvalidInput(f"A nota deve ser um número inteiro de {SCORE_MIN} a {SCORE_MAX}.")
    note = clean_text(comment, "O comentário") if comment and comment.strip() else None
    now = now or now_utc()
    ticket.evaluation_score = score
    ticket.evaluation_comment = note
    ticket.evaluated_at = now
    ticket.updated_at = now
    text = f"nota {score}" + (f": {note}" if note else "")
    _record(ticket, "evaluated", author.email, now, "resolvido", "resolvido", text=text)
    return ticket


def answer_evaluation(
    session: Session, links: Links, ticket: Ticket, author: Contact, score: int, comment: str | None,
    agrees: bool, reason: str | None = None,
) -> Ticket:
    """The quality-control answer, in the chat and in the e-mail form alike: score and comment, then close
    (agrees) or reopen with a mandatory reason. Everything is checked before anything is written."""
    ensure_evaluable(ticket)
    if not agrees:
        clean_text(reason, "O motivo da reabertura", minimum=5)
    evaluate(ticket, author, score, comment)
    if agrees:
        return close(ticket, actor=author.email)
    return reopen(session, links, ticket, author, reason or "")


def reopen(
    session: Session, links: Links, ticket: Ticket, author: Contact, reason: str, now: datetime | None = None
) -> Ticket:
    """Reopen a resolved ticket (or one closed up to 7 days ago); the reason is mandatory."""
    now = now or now_utc()
    ensure_reopenable(ticket, now)
    text = clean_text(reason, "O motivo da reabertura", minimum=5)
    _record(ticket, "reopened", author.email, now, ticket.status, "reaberto", text=text)
    ticket.status = "reaberto"
    ticket.updated_at = now
    ticket.reopen_count += 1
    ticket.closed_at = None
    ticket.evaluation_score = ticket.evaluation_comment = ticket.evaluated_at = None
    ticket.evaluation_reminded_at = None
    # A new ANS period: a fresh deadline, nothing spent and nothing breached yet.
    ticket.due_at = sla.compute_due(now, ticket.sla_hours, ticket.sla_calendar)
    ticket.sla_status = "no_prazo"
    ticket.breached_at = None
    message = emails.ticket_reopened(
        name=ticket.requester.name,
        number=ticket.number,
        reason=text,
        due_at=ticket.due_at,
        follow_url=links.follow(ticket.number),
    )
    queue_email(session, ticket.requester.email, message, now=now)
    return ticket


def ensure_reopenable(ticket: Ticket, now: datetime | None = None) -> None:
    """Resolved tickets, or closed ones within the reopening window."""
    now = now or now_utc()
    recently_closed = ticket.status == "fechado" and ticket.closed_at and now - ticket.closed_at <= REOPEN_WINDOW
    if ticket.status != "resolvido" and not recently_closed:
        raise InvalidTransition(
            f"O acionamento {ticket.number} está {STATUSES[ticket.status]}: só é possível reabrir acionamentos "
            "resolvidos ou fechados há até 7 dias. Se precisar, abra um novo acionamento."
        )


# What a user may do to a ticket, and the check that says whether they can.
USER_ACTIONS = {
    "complementar": ensure_complementable,
    "avaliar": ensure_evaluable,
    "reabrir": ensure_reopenable,
}


# --- what the ANS scheduler does (backend.scheduler decides when) -------------------------------------


def mark_at_risk(ticket: Ticket) -> None:
    ticket.sla_status = "em_risco"


def breach(ticket: Ticket, now: datetime) -> None:
    """The deadline was missed: `violado`, escalated one level (N3 stays N3) and a history event."""
    ticket.sla_status = "violado"
    ticket.breached_at = now
    before = ticket.level
    if before != LEVELS[-1]:
        ticket.level = LEVELS[LEVELS.index(before) + 1]
    target = "encaminhado" if ticket.level != before and ticket.status in _FROM["forward"] else ticket.status
    note = (f"Prazo vencido em {format_br(ticket.due_at)}; escalado de {before} para {ticket.level}."
            if ticket.level != before else f"Prazo vencido em {format_br(ticket.due_at)}; já no nível {before}.")
    _record(ticket, "sla_breached", SYSTEM, now, ticket.status, target, text=note)
    ticket.status = target
    ticket.updated_at = now


def remind_waiting(session: Session, links: Links, ticket: Ticket, now: datetime) -> None:
    """Once per question: the requester is reminded of it by e-mail."""
    message = emails.waiting_reminder(ticket.requester.name, ticket.number, pending_question(ticket) or "",
                                      links.answer(ticket.number))
    queue_email(session, ticket.requester.email, message, now=now)
    ticket.waiting_reminded_at = now
    _record(ticket, "reminded", SYSTEM, now, ticket.status, ticket.status, text="Lembrete da pergunta em aberto.")


def remind_evaluation(session: Session, links: Links, ticket: Ticket, now: datetime) -> None:
    """Once per solution: the requester is reminded to evaluate it."""
    message = emails.evaluation_reminder(ticket.requester.name, ticket.number, ticket.service.name,
                                         links.evaluate(ticket.number), AUTO_CLOSE_DAYS)
    queue_email(session, ticket.requester.email, message, now=now)
    ticket.evaluation_reminded_at = now
    _record(ticket, "reminded", SYSTEM, now, ticket.status, ticket.status, text="Lembrete para avaliar a solução.")


def close_unevaluated(session: Session, links: Links, ticket: Ticket, now: datetime) -> None:
    """A resolved ticket left without evaluation is closed; the reopen window counts from now."""
    close(ticket, actor=SYSTEM, now=now)
    message = emails.ticket_closed_automatically(ticket.requester.name, ticket.number, ticket.service.name,
                                                 REOPEN_WINDOW_DAYS, links.follow(ticket.number))
    queue_email(session, ticket.requester.email, message, now=now)


def is_late(ticket: Ticket, now: datetime | None = None) -> bool:
    """Past its deadline while still open and not paused (a paused deadline moves when the clock resumes)."""
    running = ticket.status in OPEN_STATUSES and ticket.status != WAITING_STATUS
    return running and (ticket.breached_at is not None or (now or now_utc()) > ticket.due_at)


def complements(ticket: Ticket) -> list[TicketEvent]:
    return [e for e in ticket.events if e.kind == "complemented"]


def _move(
    ticket: Ticket,
    operation: str,
    target: str,
    kind: str,
    actor: str,
    now: datetime | None,
    text: str | None = None,
    level: str | None = None,
) -> datetime:
    if ticket.status not in _FROM[operation]:
        raise InvalidTransition(
            f"Não é possível passar o acionamento {ticket.number} de '{STATUSES[ticket.status]}' "
            f"para '{STATUSES[target]}'."
        )
    now = now or now_utc()
    _record(ticket, kind, actor, now, ticket.status, target, text=text, level=level)
    resumed = ticket.status == WAITING_STATUS
    ticket.status = target
    ticket.updated_at = now
    if resumed and target in OPEN_STATUSES:
        _resume_clock(ticket, now)
    elif resumed:
        ticket.paused_at = None  # resolved or cancelled while waiting: the clock ends with the pause
    if target == WAITING_STATUS:
        ticket.paused_at = now
        ticket.sla_status = "pausado"
        ticket.waiting_reminded_at = None
    elif target not in OPEN_STATUSES:
        ticket.sla_status = "encerrado"
    return now


def _resume_clock(ticket: Ticket, now: datetime) -> None:
    """End a pause: the deadline moves by the paused time on the rule's calendar, and the history says so."""
    paused_from = ticket.paused_at or now
    before = ticket.due_at
    ticket.due_at = sla.shift_due(before, paused_from, now, ticket.sla_calendar)
    ticket.paused_at = None
    if ticket.breached_at:
        ticket.sla_status = "violado"
    elif sla.is_at_risk(ticket.due_at, ticket.sla_hours, ticket.sla_calendar, now):
        ticket.sla_status = "em_risco"  # already so when the pause began: the pause spent none of the ANS time
    else:
        ticket.sla_status = "no_prazo"
    paused = sla.elapsed(paused_from, now, ticket.sla_calendar)
    minutes = int(paused.total_seconds() // 60)
    counted = "úteis " if ticket.sla_calendar != "24x7" else ""
    _record(ticket, "sla_resumed", SYSTEM, now, ticket.status, ticket.status, text=(
        f"Prazo suspenso de {format_br(paused_from)} a {format_br(now)} ({minutes // 60} h {minutes % 60:02d} min "
        f"{counted}de pausa); novo prazo: {format_br(ticket.due_at)}."))


def _record(
    ticket: Ticket,
    kind: str,
    actor: str,
    at: datetime,
    from_status: str | None,
    to_status: str | None,
    text: str | None,
    level: str | None = None,
) -> None:
    ticket.events.append(
        TicketEvent(kind=kind, actor=actor, at=at, from_status=from_status, to_status=to_status, text=text,
                    level=level or ticket.level)
    )
