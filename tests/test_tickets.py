"""Tickets ("acionamentos", contract §4, §5, §7): opening, SLA, visibility, life cycle, e-mails and JSON."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from backend import contacts as contact_rules
from backend import tickets as ticket_rules
from backend.clock import BRASILIA, format_br
from backend.errors import InvalidInput, InvalidTransition, NotFound
from backend.models import OutboxMessage, Ticket, TicketEvent, TicketSequence
from backend.numbering import parse_number
from backend.outbox import list_messages
from backend.sla import compute_due

SOLUTION = "Cache do navegador limpo e acesso restabelecido."
REASON = "O erro voltou a acontecer hoje de manhã."
# Monday 02/03/2026 10:00 in Brasília: a business day, far from holidays.
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=BRASILIA)


# --- helpers ------------------------------------------------------------------------------------


def open_as(desk, contact_id: int, service: str = "Área do Cliente", category: str = "duvida",
            description: str = "Como emito a segunda via da fatura?", impact: str | None = None) -> dict:
    return desk.open_ticket(contact_id, service, category, description, impact)


def open_at(db, desk, contact_id: int, now: datetime, service: str = "Área do Cliente",
            category: str = "duvida", description: str = "Como emito a segunda via da fatura?",
            impact: str | None = None) -> str:
    """Open a ticket at a chosen moment (module function, controlled clock)."""
    with db.transaction() as s:
        requester = contact_rules.get_active_contact(s, contact_id)
        ticket = ticket_rules.open_ticket(s, desk.links, requester, service, category, description, impact, now=now)
        return ticket.number


def act(db, number: str, operation) -> None:
    """Run `operation(session, ticket)` in one transaction."""
    with db.transaction() as s:
        operation(s, ticket_rules.get_ticket(s, number))


def snapshot(db) -> dict:
    """Everything a ticket operation may write."""
    with db.transaction() as s:
        return {
            "tickets": [
                (t.number, t.status, t.level, t.updated_at, t.due_at, t.solution, t.resolved_at, t.closed_at,
                 t.evaluation_score, t.evaluation_comment, t.evaluated_at, t.reopen_count, t.description)
                for t in s.scalars(select(Ticket).order_by(Ticket.id))
            ],
            "events": s.scalar(select(func.count()).select_from(TicketEvent)),
            "outbox": s.scalar(select(func.count()).select_from(OutboxMessage)),
            "sequences": [(q.year, q.last_value) for q in s.scalars(select(TicketSequence))],
        }


def outbox(db) -> list[OutboxMessage]:
    with db.transaction() as s:
        return list_messages(s)


def kinds(ticket: dict) -> list[str]:
    return [event["kind"] for event in ticket["history"]]


def local(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


# --- opening ------------------------------------------------------------------------------------


def test_numbers_follow_the_year_and_a_six_digit_sequence(desk, personas):
    first = open_as(desk, personas["carla"])
    second = open_as(desk, personas["ana"])

    year = first["created_at"][:4]  # the year as Brasília sees it
    assert first["number"] == f"SS-{year}-000001"
    assert second["number"] == f"SS-{year}-000002"
    assert parse_number(first["number"]) == first["number"]


def test_sequence_restarts_each_year(db, desk, personas):
    assert open_at(db, desk, personas["carla"], datetime(2026, 6, 1, 10, tzinfo=BRASILIA)) == "SS-2026-000001"
    assert open_at(db, desk, personas["carla"], datetime(2026, 6, 2, 10, tzinfo=BRASILIA)) == "SS-2026-000002"
    assert open_at(db, desk, personas["carla"], datetime(2027, 2, 1, 10, tzinfo=BRASILIA)) == "SS-2027-000001"
    assert open_at(db, desk, personas["carla"], datetime(2026, 6, 3, 10, tzinfo=BRASILIA)) == "SS-2026-000003"


def test_number_year_is_the_brasilia_year_on_new_years_eve(db, desk, personas):
    # 31/12/2026 22:30 in Brasília is already 01:30 UTC on 01/01/2027. The user sees the ticket
    # created on 31/12/2026, so its number must carry 2026.
    moment = datetime(2027, 1, 1, 1, 30, tzinfo=timezone.utc)

    number = open_at(db, desk, personas["carla"], moment)

    assert number == "SS-2026-000001"


def test_new_ticket_is_registered_at_n1(desk, personas):
    ticket = open_as(desk, personas["carla"])

    assert ticket["status"] == "registrado"
    assert ticket["level"] == "N1"
    assert ticket["service"] == "Área do Cliente"
    assert ticket["category"] == "duvida"
    assert ticket["impact"] is None
    assert ticket["channel"] == "chat"
    assert ticket["requester_email"] == "carla.dias@exemplo.gov.br"
    assert ticket["company_cnpj"] == "11222333000181"
    assert ticket["complements"] == []
    assert ticket["solution"] is None
    assert ticket["evaluation"] is None
    assert ticket["reopen_count"] == 0
    assert kinds(ticket) == ["registered"]
    registered = ticket["history"][0]
    assert registered["from_status"] is None
    assert registered["to_status"] == "registrado"
    assert registered["actor"] == "carla.dias@exemplo.gov.br"
    assert registered["level"] == "N1"


@pytest.mark.parametrize("typed, echoed", [
    ("Netflix", 'Não encontrei o serviço "Netflix".'),
    ("234.567.891-73", "Não encontrei o serviço."),
    ("<script>alert(1)</script>", "Não encontrei o serviço."),
    ("x" * 500, "Não encontrei o serviço."),
])
def test_the_refusal_repeats_only_what_looks_like_a_service_name(desk, personas, typed, echoed):
    with pytest.raises(InvalidInput) as refused:
        open_as(desk, personas["carla"], service=typed)
    assert str(refused.value).startswith(echoed)


@pytest.mark.parametrize(
    "category, impact, priority",
    [
        ("problema", "alto", "critica"),
        ("problema", "medio", "alta"),
        ("problema", "baixo", "media"),
        ("solicitacao", None, "media"),
        ("duvida", None, "baixa"),
    ],
)
def test_priority_matrix(desk, personas, category, impact, priority):
    ticket = open_as(desk, personas["carla"], service="Certificado Digital", category=category, impact=impact)

    assert ticket["priority"] == priority
    assert ticket["impact"] == impact


@pytest.mark.parametrize("category", ["duvida", "solicitacao"])
def test_impact_is_dropped_unless_problem(desk, personas, category):
    ticket = open_as(desk, personas["carla"], category=category, impact="alto")

    assert ticket["impact"] is None
    assert ticket["priority"] == ("media" if category == "solicitacao" else "baixa")


@pytest.mark.parametrize("impact", [None, "", "altissimo", "Alto", "médio"])
def test_problem_without_a_known_impact_is_refused(db, desk, personas, impact):
    before = snapshot(db)

    with pytest.raises(InvalidInput, match="informe o impacto"):
        open_as(desk, personas["carla"], category="problema", impact=impact)

    assert snapshot(db) == before


@pytest.mark.parametrize("category", ["reclamacao", "", None, "Problema", "dúvida"])
def test_unknown_category_is_refused(db, desk, personas, category):
    before = snapshot(db)

    with pytest.raises(InvalidInput, match="Categoria inválida"):
        open_as(desk, personas["carla"], category=category)

    assert snapshot(db) == before


@pytest.mark.parametrize("service", ["Netflix", "Área", "", "   ", None])
def test_unknown_service_is_refused_listing_the_catalogue(db, desk, personas, service):
    before = snapshot(db)

    with pytest.raises(InvalidInput, match="Não encontrei o serviço") as refused:
        open_as(desk, personas["carla"], service=service)

    assert "Datavalid" in str(refused.value) and "Área do Cliente" in str(refused.value)
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "typed, name",
    [
        ("Área do Cliente", "Área do Cliente"),
        ("area do cliente", "Área do Cliente"),
        ("ÁREA DO CLIENTE", "Área do Cliente"),
        ("area_cliente", "Área do Cliente"),
        ("  Datavalid  ", "Datavalid"),
        ("certificado digital", "Certificado Digital"),
        ("Financeiro/Faturamento", "Financeiro/Faturamento"),
        ("financeiro faturamento", "Financeiro/Faturamento"),
        ("consulta cnpj", "Consulta CNPJ"),
    ],
)
def test_service_by_name_or_code_ignoring_case_and_accents(desk, personas, typed, name):
    assert open_as(desk, personas["carla"], service=typed)["service"] == name


@pytest.mark.parametrize(
    "description, message",
    [
        ("", "muito curto"),
        ("     ", "muito curto"),
        (None, "muito curto"),
        ("oi", "muito curto"),
        ("abcd", "muito curto"),
        ("   abcd   ", "muito curto"),  # outer blanks do not count
        ("x" * 10_001, "muito longo"),
    ],
)
def test_bad_description_is_refused(db, desk, personas, description, message):
    before = snapshot(db)

    with pytest.raises(InvalidInput, match=message):
        open_as(desk, personas["carla"], description=description)

    assert snapshot(db) == before


def test_description_limits_are_inclusive(desk, personas):
    assert open_as(desk, personas["carla"], description="abcde")["description"] == "abcde"
    longest = "y" * 10_000
    assert open_as(desk, personas["carla"], description=longest)["description"] == longest


def test_description_is_stored_exactly_as_given(db, desk, personas):
    text = "<script>alert('x')</script> Não consigo entrar 😡🔥\n  linha 2 com   espaços\n\tfim & \"aspas\""

    ticket = open_as(desk, personas["carla"], description=text)

    assert ticket["description"] == text
    assert desk.staff_show(ticket["number"])["description"] == text
    assert "> <script>alert('x')</script> Não consigo entrar 😡🔥" in outbox(db)[-1].body


def test_outer_blanks_of_the_description_are_trimmed(desk, personas):
    assert open_as(desk, personas["carla"], description="\n  Sistema fora do ar.  \n")["description"] == \
        "Sistema fora do ar."


def test_a_refused_opening_does_not_spend_a_number(desk, personas):
    with pytest.raises(InvalidInput):
        open_as(desk, personas["carla"], service="Netflix")
    with pytest.raises(InvalidInput):
        open_as(desk, personas["carla"], description="oi")

    assert open_as(desk, personas["carla"])["number"].endswith("-000001")


def test_removed_contact_cannot_open(db, desk, personas):
    desk.remove_contact(personas["ana"], personas["carla"])
    before = snapshot(db)

    with pytest.raises(NotFound):
        open_as(desk, personas["carla"])

    assert snapshot(db) == before


def test_phone_channel_opens_for_the_caller_by_cpf(desk, personas):
    ticket = desk.open_ticket_for_caller("456.789.123-64", None, "Datavalid", "problema",
                                         "A API retorna erro 500 desde as 9h.", "medio")

    assert ticket["channel"] == "telefone"
    assert ticket["requester_email"] == "carla.dias@exemplo.gov.br"
    assert ticket["priority"] == "alta"
    assert desk.ticket_for(personas["carla"], ticket["number"])["number"] == ticket["number"]


# --- SLA deadline ---------------------------------------------------------------------------------


def test_datavalid_critical_uses_its_24x7_rule(db, desk, personas):
    saturday_night = datetime(2026, 3, 7, 23, 0, tzinfo=BRASILIA)

    number = open_at(db, desk, personas["carla"], saturday_night, service="Datavalid",
                     category="problema", impact="alto", description="A API do Datavalid não responde.")

    ticket = desk.staff_show(number)
    assert ticket["priority"] == "critica"
    assert ticket["sla"] == {"hours": 2, "calendar": "24x7"}
    assert local(ticket["due_at"]) == compute_due(saturday_night, 2, "24x7")
    assert local(ticket["due_at"]) == datetime(2026, 3, 8, 1, 0, tzinfo=BRASILIA)


def test_general_critical_rule_for_other_services(db, desk, personas):
    number = open_at(db, desk, personas["carla"], T0, service="Certificado Digital",
                     category="problema", impact="alto", description="Ninguém consegue emitir certificado.")

    ticket = desk.staff_show(number)
    assert ticket["sla"] == {"hours": 4, "calendar": "24x7"}
    assert local(ticket["due_at"]) == compute_due(T0, 4, "24x7")


def test_area_do_cliente_medium_uses_the_secretarias_own_rule(db, desk, personas):
    number = open_at(db, desk, personas["carla"], T0, category="solicitacao")

    ticket = desk.staff_show(number)
    assert ticket["priority"] == "media"
    assert ticket["sla"] == {"hours": 8, "calendar": "comercial"}
    assert local(ticket["due_at"]) == compute_due(T0, 8, "comercial")
    assert local(ticket["due_at"]) == datetime(2026, 3, 2, 18, 0, tzinfo=BRASILIA)


def test_area_do_cliente_medium_uses_the_general_rule_for_the_autarquia(db, desk, personas):
    number = open_at(db, desk, personas["diego"], T0, category="solicitacao")

    ticket = desk.staff_show(number)
    assert ticket["sla"] == {"hours": 16, "calendar": "comercial"}
    assert local(ticket["due_at"]) == compute_due(T0, 16, "comercial")
    assert local(ticket["due_at"]) == datetime(2026, 3, 3, 16, 0, tzinfo=BRASILIA)


def test_deadline_through_the_desk_matches_the_rule(desk, personas):
    ticket = open_as(desk, personas["ana"], service="Datavalid", category="problema", impact="medio")

    created = local(ticket["created_at"])
    due = local(ticket["due_at"])
    assert ticket["sla"] == {"hours": 4, "calendar": "24x7"}
    # created_at is shown to the second; the deadline keeps the exact creation time.
    assert timedelta(hours=4) <= due - created < timedelta(hours=4, seconds=1)


def test_times_are_iso_8601_with_the_brasilia_offset(desk, personas):
    ticket = open_as(desk, personas["carla"])

    for key in ("created_at", "updated_at", "due_at"):
        assert local(ticket[key]).utcoffset() == timedelta(hours=-3)


# --- registration e-mail ------------------------------------------------------------------------


def test_registration_email_has_number_and_deadline(db, desk, personas):
    number = open_at(db, desk, personas["carla"], T0, category="solicitacao",
                     description="Preciso de acesso para um novo servidor.")

    messages = outbox(db)
    assert len(messages) == 1
    mail = messages[0]
    ticket = desk.staff_show(number)
    assert mail.to == "carla.dias@exemplo.gov.br"
    assert number in mail.subject and "registrado" in mail.subject
    assert f"Número: {number}" in mail.body
    assert f"Prazo de atendimento: {format_br(local(ticket['due_at']))}" in mail.body
    assert "02/03/2026 18:00" in mail.body
    assert "Serviço: Área do Cliente" in mail.body
    assert "> Preciso de acesso para um novo servidor." in mail.body
    assert f"{desk.links.base_url}/acionamentos/{number}?t=" in mail.body
    assert mail.created_at == T0
    assert mail.sent_at is None


def test_each_ticket_sends_one_email_to_its_requester(db, desk, personas):
    open_as(desk, personas["carla"])
    open_as(desk, personas["diego"])

    assert [m.to for m in outbox(db)] == ["carla.dias@exemplo.gov.br", "diego.rocha@demonstracao.gov.br"]


# --- visibility ---------------------------------------------------------------------------------


@pytest.fixture
def carlas(desk, personas) -> str:
    return open_as(desk, personas["carla"], description="Não consigo baixar a nota fiscal.")["number"]


def test_requester_sees_own_ticket(desk, personas, carlas):
    assert desk.ticket_for(personas["carla"], carlas)["number"] == carlas


def test_representante_legal_sees_every_ticket_of_her_company(desk, personas, carlas):
    brunos = open_as(desk, personas["bruno"])["number"]

    assert desk.ticket_for(personas["ana"], carlas)["number"] == carlas
    assert desk.ticket_for(personas["ana"], brunos)["number"] == brunos
    assert [t["number"] for t in desk.tickets_for(personas["ana"])] == [brunos, carlas]


def test_colleague_without_representante_does_not_see_it(desk, personas, carlas):
    with pytest.raises(NotFound):
        desk.ticket_for(personas["bruno"], carlas)
    assert desk.tickets_for(personas["bruno"]) == []


def test_carla_does_not_see_anas_ticket(desk, personas):
    anas = open_as(desk, personas["ana"])["number"]

    with pytest.raises(NotFound):
        desk.ticket_for(personas["carla"], anas)
    assert desk.tickets_for(personas["carla"]) == []


def test_other_company_gets_the_same_answer_as_for_a_missing_number(desk, personas, carlas):
    year = carlas[3:7]
    with pytest.raises(NotFound) as hidden:
        desk.ticket_for(personas["diego"], carlas)
    with pytest.raises(NotFound) as missing:
        desk.ticket_for(personas["diego"], f"SS-{year}-999999")
    with pytest.raises(NotFound) as garbage:
        desk.ticket_for(personas["diego"], "não sei o número")

    assert str(hidden.value) == str(missing.value) == str(garbage.value) == ticket_rules.NOT_FOUND
    assert desk.tickets_for(personas["diego"]) == []


def test_representante_of_another_company_does_not_see_diegos(desk, personas):
    diegos = open_as(desk, personas["diego"])["number"]

    with pytest.raises(NotFound):
        desk.ticket_for(personas["ana"], diegos)
    assert desk.tickets_for(personas["ana"]) == []
    assert [t["number"] for t in desk.tickets_for(personas["diego"])] == [diegos]


@pytest.mark.parametrize("operation", ["complement", "evaluate", "accept", "reopen"])
def test_hidden_tickets_cannot_be_acted_on(db, desk, personas, carlas, operation):
    desk.staff_resolve(carlas, SOLUTION)
    before = snapshot(db)
    calls = {
        "complement": lambda who: desk.complement(who, carlas, "Segue mais informação."),
        "evaluate": lambda who: desk.evaluate(who, carlas, 5),
        "accept": lambda who: desk.accept_solution(who, carlas),
        "reopen": lambda who: desk.reopen(who, carlas, REASON),
    }

    for outsider in ("bruno", "diego"):
        with pytest.raises(NotFound, match="Não encontrei esse acionamento"):
            calls[operation](personas[outsider])

    assert snapshot(db) == before


def test_loose_numbers_are_understood(desk, personas, carlas):
    year = carlas[3:7]
    for typed in (f"ss{year}000001", f"SS {year} 000001", f"{year}/000001", f"SS-{year}-1",
                  f"o número é SS-{year}-000001, obrigado"):
        assert desk.ticket_for(personas["carla"], typed)["number"] == carlas
        assert desk.staff_show(typed)["number"] == carlas


def test_ss2026000001_literally(db, desk, personas):
    open_at(db, desk, personas["carla"], T0)

    assert desk.ticket_for(personas["carla"], "ss2026000001")["number"] == "SS-2026-000001"


# --- lists --------------------------------------------------------------------------------------


def test_list_is_newest_first_and_filters_by_status(db, desk, personas):
    first = open_at(db, desk, personas["carla"], T0)
    second = open_at(db, desk, personas["carla"], T0 + timedelta(hours=1))
    third = open_at(db, desk, personas["carla"], T0 + timedelta(hours=2))
    desk.staff_start(second)

    assert [t["number"] for t in desk.tickets_for(personas["carla"])] == [third, second, first]
    assert [t["number"] for t in desk.tickets_for(personas["carla"], status="registrado")] == [third, first]
    assert [t["number"] for t in desk.tickets_for(personas["carla"], status="em_atendimento")] == [second]
    assert desk.tickets_for(personas["carla"], status="fechado") == []
    assert [t["number"] for t in desk.tickets_for(personas["carla"], limit=2)] == [third, second]


def test_list_with_unknown_status_is_refused(desk, personas):
    with pytest.raises(InvalidInput, match="Situação desconhecida"):
        desk.tickets_for(personas["carla"], status="aberto")


def test_staff_list_by_company_and_status(desk, personas, carlas):
    diegos = open_as(desk, personas["diego"])["number"]
    desk.staff_start(diegos)

    assert [t["number"] for t in desk.staff_list()] == [diegos, carlas]
    assert [t["number"] for t in desk.staff_list(cnpj="11.222.333/0001-81")] == [carlas]
    assert [t["number"] for t in desk.staff_list(status="em_atendimento")] == [diegos]
    assert desk.staff_list(cnpj="44555666000181", status="registrado") == []


# --- staff transitions --------------------------------------------------------------------------

STATUSES = ["registrado", "em_atendimento", "encaminhado", "aguardando_usuario",
            "resolvido", "fechado", "reaberto", "cancelado"]

OPERATIONS = {
    "start": (lambda desk, n: desk.staff_start(n), "em_atendimento", "started"),
    "forward": (lambda desk, n: desk.staff_forward(n, "N3"), "encaminhado", "forwarded"),
    "wait": (lambda desk, n: desk.staff_wait(n, "Qual navegador você usa?"), "aguardando_usuario", "waiting_user"),
    "resolve": (lambda desk, n: desk.staff_resolve(n, SOLUTION), "resolvido", "resolved"),
    "close": (lambda desk, n: desk.staff_close(n), "fechado", "closed"),
    "cancel": (lambda desk, n: desk.staff_cancel(n, "Aberto em duplicidade."), "cancelado", "cancelled"),
}

OPEN = {"registrado", "em_atendimento", "encaminhado", "aguardando_usuario", "reaberto"}
ALLOWED_FROM = {
    "start": {"registrado", "encaminhado", "aguardando_usuario", "reaberto"},
    "forward": {"registrado", "em_atendimento", "encaminhado", "reaberto"},
    "wait": {"registrado", "em_atendimento", "encaminhado", "reaberto"},
    "resolve": OPEN,
    "close": {"resolvido"},
    "cancel": OPEN,
}


def bring_to(desk, personas, status: str) -> str:
    """A ticket of Carla's in the given status, by the ordinary operations."""
    number = open_as(desk, personas["carla"])["number"]
    steps = {
        "registrado": [],
        "em_atendimento": [lambda: desk.staff_start(number)],
        "encaminhado": [lambda: desk.staff_forward(number, "N2")],
        "aguardando_usuario": [lambda: desk.staff_wait(number, "Pode enviar o print?")],
        "resolvido": [lambda: desk.staff_resolve(number, SOLUTION)],
        "fechado": [lambda: desk.staff_resolve(number, SOLUTION), lambda: desk.staff_close(number)],
        "reaberto": [lambda: desk.staff_resolve(number, SOLUTION),
                     lambda: desk.reopen(personas["carla"], number, REASON)],
        "cancelado": [lambda: desk.staff_cancel(number, "Aberto por engano.")],
    }[status]
    for step in steps:
        step()
    assert desk.staff_show(number)["status"] == status
    return number


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_transition_matrix(db, desk, personas, operation, status):
    number = bring_to(desk, personas, status)
    call, target, kind = OPERATIONS[operation]
    before = snapshot(db)
    events_before = len(desk.staff_show(number)["history"])

    if status in ALLOWED_FROM[operation]:
        ticket = call(desk, number)
        assert ticket["status"] == target
        # Back to work from a wait, the ANS clock resumes: one more event says so (tests/test_sla_clock.py).
        resumes = status == "aguardando_usuario" and target in OPEN
        assert len(ticket["history"]) == events_before + 1 + resumes
        moved = ticket["history"][-1 - resumes]
        assert (moved["kind"], moved["from_status"], moved["to_status"]) == (kind, status, target)
        assert moved["actor"] == ticket_rules.STAFF
        assert [e["kind"] for e in ticket["history"][events_before + 1:]] == (["sla_resumed"] if resumes else [])
    else:
        with pytest.raises(InvalidTransition, match="Não é possível passar"):
            call(desk, number)
        assert snapshot(db) == before


def test_start(desk, personas, carlas):
    ticket = desk.staff_start(carlas)

    assert ticket["status"] == "em_atendimento"
    assert ticket["level"] == "N1"


def test_forward_goes_up_one_level_at_a_time_or_more(desk, personas, carlas):
    n2 = desk.staff_forward(carlas, "N2")
    assert (n2["status"], n2["level"]) == ("encaminhado", "N2")
    assert n2["history"][-1]["level"] == "N2"

    n3 = desk.staff_forward(carlas, "N3")
    assert (n3["status"], n3["level"]) == ("encaminhado", "N3")


def test_forward_straight_to_n3(desk, carlas):
    assert desk.staff_forward(carlas, "N3")["level"] == "N3"


@pytest.mark.parametrize("level", ["N1", "N0", "N4", "n2", "", "2"])
def test_forward_to_a_level_that_is_not_higher_is_refused(db, desk, carlas, level):
    before = snapshot(db)

    with pytest.raises(InvalidTransition, match="só pode ser encaminhado para: N2, N3"):
        desk.staff_forward(carlas, level)

    assert snapshot(db) == before


def test_forward_to_the_same_or_a_lower_level_is_refused(db, desk, carlas):
    desk.staff_forward(carlas, "N2")
    before = snapshot(db)
    for level in ("N1", "N2"):
        with pytest.raises(InvalidTransition, match="nível N2"):
            desk.staff_forward(carlas, level)
    assert snapshot(db) == before

    desk.staff_forward(carlas, "N3")
    with pytest.raises(InvalidTransition, match="nenhum"):
        desk.staff_forward(carlas, "N3")


def test_forward_of_a_closed_ticket_is_refused(db, desk, personas):
    number = bring_to(desk, personas, "fechado")
    before = snapshot(db)

    with pytest.raises(InvalidTransition):
        desk.staff_forward(number, "N2")

    assert snapshot(db) == before
    assert desk.staff_show(number)["level"] == "N1"


def test_wait_records_the_question(desk, carlas):
    ticket = desk.staff_wait(carlas, "Qual navegador você usa?")

    assert ticket["status"] == "aguardando_usuario"
    assert ticket["history"][-1]["text"] == "Qual navegador você usa?"


def test_wait_needs_a_question(db, desk, carlas):
    before = snapshot(db)

    with pytest.raises(InvalidInput):
        desk.staff_wait(carlas, "   ")

    assert snapshot(db) == before


@pytest.mark.parametrize("solution", ["", "   ", None, "ok", "feit"])
def test_resolve_needs_a_solution(db, desk, carlas, solution):
    before = snapshot(db)

    with pytest.raises(InvalidInput, match="A solução"):
        desk.staff_resolve(carlas, solution)

    assert snapshot(db) == before


def test_resolve_stores_the_solution_and_emails_the_evaluation_link(db, desk, personas, carlas):
    mails_before = len(outbox(db))

    ticket = desk.staff_resolve(carlas, SOLUTION)

    assert ticket["status"] == "resolvido"
    assert ticket["solution"] == SOLUTION
    assert ticket["resolved_at"] is not None
    messages = outbox(db)
    assert len(messages) == mails_before + 1
    mail = messages[-1]
    assert mail.to == "carla.dias@exemplo.gov.br"
    assert carlas in mail.subject and "resolvido" in mail.subject
    assert f"> {SOLUTION}" in mail.body
    assert f"{desk.links.base_url}/avaliacao/{carlas}?t=" in mail.body


def test_resolve_emails_the_requester_not_the_viewer(db, desk, personas, carlas):
    desk.staff_resolve(carlas, SOLUTION)

    assert outbox(db)[-1].to == "carla.dias@exemplo.gov.br"


def test_close_and_cancel(desk, personas):
    resolved = bring_to(desk, personas, "resolvido")
    closed = desk.staff_close(resolved)
    assert closed["status"] == "fechado"
    assert closed["closed_at"] is not None

    open_one = bring_to(desk, personas, "em_atendimento")
    cancelled = desk.staff_cancel(open_one, "Aberto em duplicidade.")
    assert cancelled["status"] == "cancelado"
    assert cancelled["history"][-1]["text"] == "Aberto em duplicidade."


def test_cancel_needs_a_reason(db, desk, carlas):
    before = snapshot(db)

    with pytest.raises(InvalidInput):
        desk.staff_cancel(carlas, "")

    assert snapshot(db) == before


def test_staff_operations_on_a_missing_ticket(desk):
    for call in (lambda: desk.staff_show("SS-2026-000042"), lambda: desk.staff_start("SS-2026-000042"),
                 lambda: desk.staff_resolve("SS-2026-000042", SOLUTION), lambda: desk.staff_close("xyz")):
        with pytest.raises(NotFound):
            call()


# --- complement ---------------------------------------------------------------------------------


def test_complement_is_kept_in_history_and_the_complements_list(desk, personas, carlas):
    ticket = desk.complement(personas["carla"], carlas, "  O erro aparece só no Firefox. <b>!</b> 🙂  ")

    assert ticket["status"] == "registrado"
    assert [c["text"] for c in ticket["complements"]] == ["O erro aparece só no Firefox. <b>!</b> 🙂"]
    assert local(ticket["complements"][0]["at"]).utcoffset() == timedelta(hours=-3)
    last = ticket["history"][-1]
    assert (last["kind"], last["actor"], last["from_status"], last["to_status"]) == \
        ("complemented", "carla.dias@exemplo.gov.br", "registrado", "registrado")


def test_complements_accumulate_in_order(desk, personas, carlas):
    desk.complement(personas["carla"], carlas, "Primeiro complemento.")
    ticket = desk.complement(personas["ana"], carlas, "Segundo, pela representante.")

    assert [c["text"] for c in ticket["complements"]] == ["Primeiro complemento.", "Segundo, pela representante."]
    assert ticket["history"][-1]["actor"] == "ana.souza@exemplo.gov.br"


def test_complement_answers_a_waiting_ticket(desk, personas, carlas):
    desk.staff_wait(carlas, "Pode enviar o print?")

    ticket = desk.complement(personas["carla"], carlas, "Print enviado por e-mail.")

    assert ticket["status"] == "em_atendimento"
    answered, resumed = ticket["history"][-2:]
    assert (answered["kind"], answered["from_status"], answered["to_status"]) == (
        "complemented", "aguardando_usuario", "em_atendimento")
    assert (resumed["kind"], resumed["from_status"], resumed["to_status"]) == (
        "sla_resumed", "em_atendimento", "em_atendimento")
    assert ticket["sla_status"] == "no_prazo" and ticket["pending_question"] is None


@pytest.mark.parametrize("status", ["em_atendimento", "encaminhado", "reaberto"])
def test_complement_keeps_other_open_statuses(desk, personas, status):
    number = bring_to(desk, personas, status)

    assert desk.complement(personas["carla"], number, "Mais um detalhe.")["status"] == status


@pytest.mark.parametrize("status", ["resolvido", "fechado", "cancelado"])
def test_complement_of_a_finished_ticket_is_refused(db, desk, personas, status):
    number = bring_to(desk, personas, status)
    before = snapshot(db)

    with pytest.raises(InvalidTransition, match="não aceita complementos"):
        desk.complement(personas["carla"], number, "Mais um detalhe.")

    assert snapshot(db) == before


@pytest.mark.parametrize("text", ["", "   ", None, "z" * 10_001])
def test_empty_or_huge_complement_is_refused(db, desk, personas, carlas, text):
    before = snapshot(db)

    with pytest.raises(InvalidInput):
        desk.complement(personas["carla"], carlas, text)

    assert snapshot(db) == before


# --- evaluate -----------------------------------------------------------------------------------


@pytest.fixture
def resolved(desk, personas) -> str:
    return bring_to(desk, personas, "resolvido")


@pytest.mark.parametrize("score", [1, 2, 3, 4, 5])
def test_evaluate_a_resolved_ticket(desk, personas, resolved, score):
    ticket = desk.evaluate(personas["carla"], resolved, score, "Resolvido rapidamente.")

    assert ticket["evaluation"] == {"score": score, "comment": "Resolvido rapidamente."}
    assert ticket["status"] == "resolvido"
    last = ticket["history"][-1]
    assert (last["kind"], last["from_status"], last["to_status"]) == ("evaluated", "resolvido", "resolvido")
    assert last["text"] == f"nota {score}: Resolvido rapidamente."


@pytest.mark.parametrize("comment", [None, "", "   "])
def test_evaluation_comment_is_optional(desk, personas, resolved, comment):
    ticket = desk.evaluate(personas["carla"], resolved, 4, comment)

    assert ticket["evaluation"] == {"score": 4, "comment": None}
    assert ticket["history"][-1]["text"] == "nota 4"


@pytest.mark.parametrize("score", [0, 6, -1, True, False, "5", 4.5, 5.0, None])
def test_evaluation_score_must_be_an_integer_from_1_to_5(db, desk, personas, resolved, score):
    before = snapshot(db)

    with pytest.raises(InvalidInput, match="de 1 a 5"):
        desk.evaluate(personas["carla"], resolved, score)

    assert snapshot(db) == before


def test_evaluation_happens_once_per_solution(db, desk, personas, resolved):
    desk.evaluate(personas["carla"], resolved, 5)
    before = snapshot(db)

    with pytest.raises(InvalidTransition, match="já foi avaliado"):
        desk.evaluate(personas["carla"], resolved, 1, "Mudei de ideia.")
    with pytest.raises(InvalidTransition, match="já foi avaliado"):
        desk.evaluate(personas["ana"], resolved, 2)

    assert snapshot(db) == before
    assert desk.staff_show(resolved)["evaluation"] == {"score": 5, "comment": None}


def test_a_new_solution_can_be_evaluated_again(desk, personas, resolved):
    desk.evaluate(personas["carla"], resolved, 1, "Não resolveu.")
    desk.reopen(personas["carla"], resolved, REASON)
    desk.staff_resolve(resolved, "Corrigida a configuração do perfil de acesso.")

    ticket = desk.evaluate(personas["carla"], resolved, 5)

    assert ticket["evaluation"] == {"score": 5, "comment": None}


@pytest.mark.parametrize("status", ["registrado", "em_atendimento", "encaminhado", "aguardando_usuario",
                                    "fechado", "reaberto", "cancelado"])
def test_only_resolved_tickets_can_be_evaluated(db, desk, personas, status):
    number = bring_to(desk, personas, status)
    before = snapshot(db)

    with pytest.raises(InvalidTransition, match="Só é possível avaliar acionamentos resolvidos"):
        desk.evaluate(personas["carla"], number, 5)

    assert snapshot(db) == before


# --- accept solution ----------------------------------------------------------------------------


def test_accepting_the_solution_closes_the_ticket(desk, personas, resolved):
    ticket = desk.accept_solution(personas["carla"], resolved)

    assert ticket["status"] == "fechado"
    assert ticket["closed_at"] is not None
    last = ticket["history"][-1]
    assert (last["kind"], last["actor"], last["from_status"]) == ("closed", "carla.dias@exemplo.gov.br", "resolvido")


@pytest.mark.parametrize("status", ["registrado", "em_atendimento", "fechado", "cancelado"])
def test_accepting_requires_a_resolved_ticket(db, desk, personas, status):
    number = bring_to(desk, personas, status)
    before = snapshot(db)

    with pytest.raises(InvalidTransition):
        desk.accept_solution(personas["carla"], number)

    assert snapshot(db) == before


# --- reopen -------------------------------------------------------------------------------------


def test_reopen_a_resolved_ticket(db, desk, personas, resolved):
    desk.evaluate(personas["carla"], resolved, 2, "Não resolveu.")
    mails_before = len(outbox(db))

    ticket = desk.reopen(personas["carla"], resolved, REASON)

    assert ticket["status"] == "reaberto"
    assert ticket["reopen_count"] == 1
    assert ticket["evaluation"] is None
    assert ticket["closed_at"] is None
    last = ticket["history"][-1]
    assert (last["kind"], last["from_status"], last["to_status"], last["text"]) == \
        ("reopened", "resolvido", "reaberto", REASON)
    messages = outbox(db)
    assert len(messages) == mails_before + 1
    mail = messages[-1]
    assert mail.to == "carla.dias@exemplo.gov.br"
    assert resolved in mail.subject and "reaberto" in mail.subject
    assert f"> {REASON}" in mail.body
    assert format_br(local(ticket["due_at"])) in mail.body
    assert f"{desk.links.base_url}/acionamentos/{resolved}?t=" in mail.body


def test_reopen_sets_a_new_deadline_from_the_same_rule(db, desk, personas):
    number = open_at(db, desk, personas["carla"], T0, category="solicitacao")  # 8h business (Secretaria rule)
    resolved_at = T0 + timedelta(hours=3)
    act(db, number, lambda s, t: ticket_rules.resolve(s, desk.links, t, SOLUTION, now=resolved_at))
    reopened_at = datetime(2026, 3, 4, 15, 0, tzinfo=BRASILIA)  # Wednesday 15:00

    with db.transaction() as s:
        carla = contact_rules.get_active_contact(s, personas["carla"])
        ticket_rules.reopen(s, desk.links, ticket_rules.get_ticket(s, number), carla, REASON, now=reopened_at)

    ticket = desk.staff_show(number)
    assert local(ticket["due_at"]) == compute_due(reopened_at, 8, "comercial")
    assert local(ticket["due_at"]) == datetime(2026, 3, 5, 13, 0, tzinfo=BRASILIA)
    assert local(ticket["updated_at"]) == reopened_at


def reopen_after_close(db, desk, personas, closed_for: timedelta) -> str:
    number = open_at(db, desk, personas["carla"], T0)
    closed_at = T0 + timedelta(hours=2)
    act(db, number, lambda s, t: ticket_rules.resolve(s, desk.links, t, SOLUTION, now=T0 + timedelta(hours=1)))
    act(db, number, lambda s, t: ticket_rules.close(t, now=closed_at))
    with db.transaction() as s:
        carla = contact_rules.get_active_contact(s, personas["carla"])
        ticket_rules.reopen(s, desk.links, ticket_rules.get_ticket(s, number), carla, REASON,
                            now=closed_at + closed_for)
    return number


@pytest.mark.parametrize("closed_for", [timedelta(minutes=5), timedelta(days=3), timedelta(days=7)])
def test_reopen_a_ticket_closed_up_to_7_days_ago(db, desk, personas, closed_for):
    number = reopen_after_close(db, desk, personas, closed_for)

    ticket = desk.staff_show(number)
    assert ticket["status"] == "reaberto"
    assert ticket["closed_at"] is None
    assert ticket["history"][-1]["from_status"] == "fechado"


@pytest.mark.parametrize("closed_for", [timedelta(days=7, minutes=1), timedelta(days=8), timedelta(days=60)])
def test_reopen_of_a_ticket_closed_longer_ago_is_refused(db, desk, personas, closed_for):
    def attempt():
        reopen_after_close(db, desk, personas, closed_for)

    with pytest.raises(InvalidTransition, match="fechados há até 7 dias"):
        attempt()
    ticket = desk.staff_list()[0]
    assert ticket["status"] == "fechado"
    assert ticket["reopen_count"] == 0
    assert kinds(ticket)[-1] == "closed"
    assert len(outbox(db)) == 2  # registration and solution only


def test_reopen_a_ticket_closed_8_days_ago_through_the_desk_is_refused(db, desk, personas, resolved):
    desk.staff_close(resolved)
    eight_days_ago = datetime.now(timezone.utc) - timedelta(days=8)
    act(db, resolved, lambda s, t: setattr(t, "closed_at", eight_days_ago))
    before = snapshot(db)

    with pytest.raises(InvalidTransition):
        desk.reopen(personas["carla"], resolved, REASON)

    assert snapshot(db) == before


@pytest.mark.parametrize("reason", ["", "    ", None, "ruim"])
def test_reopen_needs_a_reason(db, desk, personas, resolved, reason):
    before = snapshot(db)

    with pytest.raises(InvalidInput, match="O motivo da reabertura"):
        desk.reopen(personas["carla"], resolved, reason)

    assert snapshot(db) == before


@pytest.mark.parametrize("status", ["registrado", "em_atendimento", "encaminhado", "aguardando_usuario",
                                    "reaberto", "cancelado"])
def test_only_resolved_or_recently_closed_tickets_can_be_reopened(db, desk, personas, status):
    number = bring_to(desk, personas, status)
    before = snapshot(db)

    with pytest.raises(InvalidTransition, match="só é possível reabrir"):
        desk.reopen(personas["carla"], number, REASON)

    assert snapshot(db) == before


def test_reopen_count_grows_each_time(desk, personas, resolved):
    desk.reopen(personas["carla"], resolved, REASON)
    desk.staff_resolve(resolved, SOLUTION)
    desk.accept_solution(personas["carla"], resolved)

    ticket = desk.reopen(personas["carla"], resolved, "Voltou a falhar depois do fechamento.")

    assert ticket["reopen_count"] == 2
    assert ticket["status"] == "reaberto"


# --- history and JSON ---------------------------------------------------------------------------


def test_history_tells_the_whole_story_in_order(desk, personas, carlas):
    desk.staff_start(carlas)
    desk.staff_forward(carlas, "N2")
    desk.staff_forward(carlas, "N3")
    desk.staff_wait(carlas, "Pode enviar o print?")
    desk.complement(personas["carla"], carlas, "Print enviado.")
    desk.staff_resolve(carlas, SOLUTION)
    desk.evaluate(personas["carla"], carlas, 2)
    desk.reopen(personas["carla"], carlas, REASON)
    desk.staff_start(carlas)
    desk.staff_resolve(carlas, "Perfil de acesso corrigido pela equipe N3.")
    ticket = desk.accept_solution(personas["carla"], carlas)

    assert kinds(ticket) == ["registered", "started", "forwarded", "forwarded", "waiting_user", "complemented",
                             "sla_resumed", "resolved", "evaluated", "reopened", "started", "resolved", "closed"]
    assert [(e["from_status"], e["to_status"]) for e in ticket["history"]] == [
        (None, "registrado"),
        ("registrado", "em_atendimento"),
        ("em_atendimento", "encaminhado"),
        ("encaminhado", "encaminhado"),
        ("encaminhado", "aguardando_usuario"),
        ("aguardando_usuario", "em_atendimento"),
        ("em_atendimento", "em_atendimento"),
        ("em_atendimento", "resolvido"),
        ("resolvido", "resolvido"),
        ("resolvido", "reaberto"),
        ("reaberto", "em_atendimento"),
        ("em_atendimento", "resolvido"),
        ("resolvido", "fechado"),
    ]
    assert [e["level"] for e in ticket["history"]] == ["N1", "N1", "N2", "N3"] + ["N3"] * 9
    assert ticket["solution"] == "Perfil de acesso corrigido pela equipe N3."
    assert ticket["reopen_count"] == 1
    ats = [local(e["at"]) for e in ticket["history"]]
    assert ats == sorted(ats)


def test_ticket_json_has_the_contract_keys(desk, personas, carlas):
    desk.complement(personas["carla"], carlas, "Obrigada pela ajuda.")
    desk.staff_resolve(carlas, "Orientação enviada por e-mail.")
    ticket = desk.evaluate(personas["carla"], carlas, 5, "Excelente.")

    for key in ("number", "status", "level", "service", "category", "priority", "description",
                "requester_email", "company_cnpj", "created_at", "due_at", "complements", "solution",
                "evaluation", "reopen_count", "history"):
        assert key in ticket, key
    assert ticket["complements"] == [{"text": "Obrigada pela ajuda.", "at": ticket["complements"][0]["at"]}]
    assert ticket["evaluation"] == {"score": 5, "comment": "Excelente."}
    assert set(ticket["history"][0]) >= {"kind", "at", "actor", "from_status", "to_status", "level", "text"}
    assert local(ticket["due_at"]).utcoffset() == timedelta(hours=-3)


def test_every_view_of_a_ticket_agrees(desk, personas, carlas):
    assert desk.ticket_for(personas["carla"], carlas) == desk.staff_show(carlas) == \
        desk.ticket_for(personas["ana"], carlas)
