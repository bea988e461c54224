"""Ticket skills as the action server runs them: identity, the acionamento form, registering, consulting,
the ticket offered for contact changes, and cancelling any form (contract §2, §4, §5)."""
from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime

import pytest
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import form_slots
from actions.dialogue import ActionCancelar
from actions.tickets import (
    ActionAbrirAcionamento,
    ActionAskAcionamentoFormConfirmacao,
    ActionAskServico,
    ActionAlterarContato,
    ActionConsultarAcionamento,
    ActionPrepararAcionamento,
    ValidateAcionamentoForm,
)
from backend.seed import SERVICES
from backend.tickets import NOT_FOUND
from tests.actions_helpers import (  # noqa: F401 — `plugged` is an autouse fixture
    DATA_METHODS,
    DOMAIN,
    Spy,
    all_text,
    entity,
    expired_token,
    forged_token,
    kwargs_of,
    plugged,
    render,
    responses,
    run,
    slot_values,
    texts,
    token_for,
    tracker,
    validate,
)

TICKET_SLOTS = form_slots(DOMAIN, "acionamento_form")  # servico … descricao, confirmacao, tentativas
RESET = [SlotSet(slot, None) for slot in TICKET_SLOTS]
DATAVALID_DOWN = "o Datavalid está fora do ar desde cedo"
FORM = "acionamento_form"
NUMBER = re.compile(r"^SS-\d{4}-\d{6}$")
FILLED = {"servico": "datavalid", "categoria": "problema", "impacto": "alto",
          "descricao": "O Datavalid está fora do ar desde cedo para todos os usuários."}


def local_br(iso: str) -> str:
    """dd/mm/aaaa hh:mm of an ISO time the backend wrote with the Brasília offset."""
    return datetime.fromisoformat(iso).strftime("%d/%m/%Y %H:%M")


def open_for(desk, personas, persona: str, service: str = "datavalid", category: str = "duvida",
             impact: str | None = None) -> dict:
    return desk.open_ticket(personas[persona], service, category, f"Acionamento de teste de {persona}.", impact)


# --- identity (contract §2) -------------------------------------------------------------------


def bad_token(kind: str, desk, personas) -> str | None:
    if kind == "sem token":
        return None
    if kind == "forjado":
        return forged_token(personas["ana"], "ana")
    if kind == "expirado":
        return expired_token(personas["ana"], "ana")
    # A contact removed after signing in: the token is genuine and unexpired, the contact no longer active.
    token = token_for(desk, "carla")
    desk.remove_contact(personas["ana"], personas["carla"])
    return token


BAD_TOKENS = ["sem token", "forjado", "expirado", "contato removido"]


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_preparar_without_a_valid_identity_asks_to_sign_in(kind, desk, personas, monkeypatch):
    token = bad_token(kind, desk, personas)
    spy = Spy(desk, monkeypatch, *DATA_METHODS)

    events, messages = run(ActionPrepararAcionamento(), tracker(
        DATAVALID_DOWN, token=token, intent="abrir_acionamento", entities=[entity("servico", "datavalid")]))

    assert events == [SlotSet("autenticado", False), *RESET]
    assert responses(messages) == ["utter_entrar_area_cliente"]
    assert spy.calls == []


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_abrir_without_a_valid_identity_writes_nothing(kind, desk, personas, monkeypatch):
    token = bad_token(kind, desk, personas)
    outbox_before = desk.outbox()
    spy = Spy(desk, monkeypatch, *DATA_METHODS)

    events, messages = run(ActionAbrirAcionamento(), tracker(
        "sim", token=token, intent="afirmar", slots={**FILLED, "confirmacao": True}))

    assert events == [SlotSet("autenticado", False), *RESET]
    assert responses(messages) == ["utter_entrar_area_cliente"]
    assert spy.calls == []
    assert desk.staff_list() == []
    assert desk.outbox() == outbox_before


@pytest.mark.parametrize("kind", BAD_TOKENS)
@pytest.mark.parametrize("with_number", [True, False])
def test_consultar_without_a_valid_identity_reads_nothing(kind, with_number, desk, personas, monkeypatch):
    ticket = open_for(desk, personas, "ana")
    token = bad_token(kind, desk, personas)
    spy = Spy(desk, monkeypatch, *DATA_METHODS)
    text = f"situação do {ticket['number']}" if with_number else "quero ver meus acionamentos"
    found = [entity("numero_acionamento", ticket["number"])] if with_number else []

    events, messages = run(ActionConsultarAcionamento(), tracker(
        text, token=token, intent="consultar_acionamento", entities=found))

    assert events == [SlotSet("autenticado", False)]
    assert responses(messages) == ["utter_entrar_area_cliente"]
    assert spy.calls == []
    assert "Datavalid" not in all_text(messages)


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_alterar_contato_without_a_valid_identity_asks_to_sign_in(kind, desk, personas, monkeypatch):
    token = bad_token(kind, desk, personas)
    spy = Spy(desk, monkeypatch, *DATA_METHODS)

    events, messages = run(ActionAlterarContato(), tracker(
        "quero trocar o e-mail da Carla", token=token, intent="alterar_contato"))

    assert events == [SlotSet("autenticado", False)]
    assert responses(messages) == ["utter_entrar_area_cliente"]
    assert spy.calls == []


def test_a_token_that_is_not_a_string_is_refused(desk, personas):
    events, messages = run(ActionConsultarAcionamento(), tracker(
        "meus acionamentos", metadata={"token": {"contact_id": personas["ana"]}}, intent="consultar_acionamento"))

    assert events == [SlotSet("autenticado", False)]
    assert responses(messages) == ["utter_entrar_area_cliente"]


def test_a_valid_token_identifies_the_requester(desk, personas):
    events, messages = run(ActionAbrirAcionamento(), tracker(
        "sim", token=token_for(desk, "carla"), intent="afirmar", slots={**FILLED, "confirmacao": True}))

    [ticket] = desk.staff_list()
    assert ticket["requester_email"] == "carla.dias@exemplo.gov.br"
    assert responses(messages) == ["utter_acionamento_registrado"]


# --- the demo persona of `rasa shell` (development only) -------------------------------------


def test_persona_is_honoured_in_development(desk, personas, monkeypatch):
    monkeypatch.setenv("ASSISTENTE_ENV", "development")
    monkeypatch.setenv("ASSISTENTE_PERSONA", "bruno")

    events, messages = run(ActionAbrirAcionamento(), tracker(
        "sim", intent="afirmar", slots={**FILLED, "confirmacao": True}))

    [ticket] = desk.staff_list()
    assert ticket["requester_email"] == "bruno.lima@exemplo.gov.br"
    assert responses(messages) == ["utter_acionamento_registrado"]
    assert kwargs_of(messages[0])["email"] == "bruno.lima@exemplo.gov.br"


@pytest.mark.parametrize("environment", [None, "production", "producao", "Development", "dev", ""])
def test_persona_is_ignored_outside_development(environment, desk, personas, monkeypatch):
    if environment is not None:
        monkeypatch.setenv("ASSISTENTE_ENV", environment)
    monkeypatch.setenv("ASSISTENTE_PERSONA", "ana")

    events, messages = run(ActionAbrirAcionamento(), tracker(
        "sim", intent="afirmar", slots={**FILLED, "confirmacao": True}))

    assert events == [SlotSet("autenticado", False), *RESET]
    assert responses(messages) == ["utter_entrar_area_cliente"]
    assert desk.staff_list() == []


def test_unknown_persona_is_nobody(desk, monkeypatch):
    monkeypatch.setenv("ASSISTENTE_ENV", "development")
    monkeypatch.setenv("ASSISTENTE_PERSONA", "zeca")

    events, messages = run(ActionPrepararAcionamento(), tracker("quero abrir um chamado", intent="abrir_acionamento"))

    assert events == [SlotSet("autenticado", False), *RESET]
    assert responses(messages) == ["utter_entrar_area_cliente"]


def test_persona_does_not_rescue_a_forged_token(desk, personas, monkeypatch):
    monkeypatch.setenv("ASSISTENTE_ENV", "development")
    monkeypatch.setenv("ASSISTENTE_PERSONA", "ana")

    events, messages = run(ActionConsultarAcionamento(), tracker(
        "meus acionamentos", token=forged_token(personas["ana"], "ana"), intent="consultar_acionamento"))

    assert events == [SlotSet("autenticado", False)]
    assert responses(messages) == ["utter_entrar_area_cliente"]


def test_a_real_token_wins_over_the_persona(desk, personas, monkeypatch):
    monkeypatch.setenv("ASSISTENTE_ENV", "development")
    monkeypatch.setenv("ASSISTENTE_PERSONA", "bruno")

    run(ActionAbrirAcionamento(), tracker(
        "sim", token=token_for(desk, "ana"), intent="afirmar", slots={**FILLED, "confirmacao": True}))

    [ticket] = desk.staff_list()
    assert ticket["requester_email"] == "ana.souza@exemplo.gov.br"


# --- action_preparar_acionamento ----------------------------------------------------------------


def test_first_message_prefills_service_category_and_description(desk):
    events, messages = run(ActionPrepararAcionamento(), tracker(
        DATAVALID_DOWN, token=token_for(desk, "ana"), intent="abrir_acionamento",
        entities=[entity("servico", "datavalid")]))

    assert events == [
        SlotSet("autenticado", True),
        *RESET,
        SlotSet("servico", "datavalid"),
        SlotSet("categoria", "problema"),
        SlotSet("descricao", DATAVALID_DOWN),
    ]
    assert messages == []


@pytest.mark.parametrize("text", ["quero abrir um chamado", "/abrir_acionamento", "abrir acionamento por favor"])
def test_a_generic_request_prefills_nothing(text, desk):
    events, messages = run(ActionPrepararAcionamento(), tracker(
        text, token=token_for(desk, "bruno"), intent="abrir_acionamento"))

    assert events == [SlotSet("autenticado", True), *RESET]
    assert messages == []


def test_prefilled_values_pass_the_form_validation(desk):
    """What preparar sets is validated again when the form starts; none of it may be refused."""
    events, _ = run(ActionPrepararAcionamento(), tracker(
        DATAVALID_DOWN, token=token_for(desk, "ana"), intent="abrir_acionamento",
        entities=[entity("servico", "datavalid")]))
    prefilled = {k: v for k, v in slot_values(events).items() if v is not None and k != "autenticado"}

    validated, messages = run(ValidateAcionamentoForm(), tracker(
        DATAVALID_DOWN, token=token_for(desk, "ana"), intent="abrir_acionamento",
        entities=[entity("servico", "datavalid")], form=FORM, candidates=prefilled))

    assert slot_values(validated) == {"servico": "datavalid", "tentativas": None, "categoria": "problema",
                                      "descricao": DATAVALID_DOWN}
    assert messages == []


# --- validate_acionamento_form: servico ---------------------------------------------------------


def test_service_by_code(desk):
    events, messages = run(ValidateAcionamentoForm(), tracker(
        "datavalid", token=token_for(desk, "ana"), form=FORM, candidates={"servico": "datavalid"}))

    assert events == [SlotSet("servico", "datavalid"), SlotSet("tentativas", None),
                      SlotSet("requested_slot", "categoria")]
    assert messages == []


@pytest.mark.parametrize("typed, code", [
    ("consulta cpf", "consulta_cpf"),
    ("Consulta CPF", "consulta_cpf"),
    ("area do cliente", "area_cliente"),
    ("Financeiro/Faturamento", "financeiro"),
    ("é no certificado digital", "certificado_digital"),
])
def test_service_by_typed_name(typed, code, desk):
    events, messages = run(ValidateAcionamentoForm(), tracker(
        typed, token=token_for(desk, "ana"), form=FORM, candidates={"servico": typed}))

    assert slot_values(events)["servico"] == code
    assert messages == []


def test_service_entity_wins_over_the_whole_text(desk):
    text = "é o datavalid, que parou de responder"
    events, _ = run(ValidateAcionamentoForm(), tracker(
        text, token=token_for(desk, "ana"), form=FORM, candidates={"servico": text},
        entities=[entity("servico", "Datavalid")]))

    assert slot_values(events)["servico"] == "datavalid"


def test_unknown_service_is_refused_with_the_list(desk):
    events, messages = run(ValidateAcionamentoForm(), tracker(
        "sistema xpto", token=token_for(desk, "ana"), form=FORM, candidates={"servico": "sistema xpto"}))

    assert events == [SlotSet("servico", None), SlotSet("tentativas", {"servico": 1}),
                      SlotSet("requested_slot", "servico")]
    [refusal] = messages
    assert refusal["response"] is None
    assert "sistema xpto" in refusal["text"]
    for _code, name in SERVICES:
        assert name in refusal["text"]


def test_second_miss_in_a_row_also_shows_an_example(desk):
    events, messages = run(ValidateAcionamentoForm(), tracker(
        "outro sistema", token=token_for(desk, "ana"), form=FORM, candidates={"servico": "outro sistema"},
        slots={"tentativas": {"servico": 1}}))

    assert slot_values(events)["tentativas"] == {"servico": 2}
    assert slot_values(events)["servico"] is None
    assert responses(messages) == [None, "utter_exemplo_servico"]
    assert "Datavalid" in messages[0]["text"]


def test_two_misses_through_the_form_then_a_good_answer(desk):
    """The counter travels in the `tentativas` slot from one turn to the next and is cleared on success."""
    token = token_for(desk, "ana")
    slots: dict = {}
    shown = []
    for typed in ("xpto", "abc"):
        events, messages = run(ValidateAcionamentoForm(), tracker(
            typed, token=token, form=FORM, candidates={"servico": typed}, slots=slots))
        slots = {**slots, **slot_values(events)}
        shown.append(responses(messages))
    events, messages = run(ValidateAcionamentoForm(), tracker(
        "Datavalid", token=token, form=FORM, candidates={"servico": "Datavalid"}, slots=slots))

    assert shown == [[None], [None, "utter_exemplo_servico"]]
    assert slot_values(events)["servico"] == "datavalid"
    assert slot_values(events)["tentativas"] is None
    assert messages == []


def test_backend_failure_while_validating_the_service_apologises(desk, monkeypatch):
    """BUG: the validators are not guarded like the actions (`safe`): a failing backend makes the validation
    action raise, Rasa drops the form's events and the user gets no answer at all. Suggested fix: a `safe`-like
    decorator for `validate_<slot>` methods that utters utter_erro_tecnico (or the DeskError's message) and
    returns {slot: None}, applied to every validator that calls the desk (validate_servico,
    validate_contato_remover)."""
    def broken(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(desk, "find_service", broken)

    events, messages = run(ValidateAcionamentoForm(), tracker(
        "Datavalid", token=token_for(desk, "ana"), form=FORM, candidates={"servico": "Datavalid"}))

    assert slot_values(events)["servico"] is None
    assert responses(messages) == ["utter_erro_tecnico"]


# --- validate_acionamento_form: categoria, impacto, required slots -------------------------------


@pytest.mark.parametrize("typed, code", [
    ("Problema", "problema"),
    ("Dúvida", "duvida"),
    ("duvida", "duvida"),
    ("Solicitação", "solicitacao"),
    ("solicitacao", "solicitacao"),
    ("é um problema", "problema"),
    ("problema", "problema"),
])
def test_category_parsing(typed, code):
    result, messages = validate(ValidateAcionamentoForm(), "validate_categoria", typed, tracker(typed, form=FORM))

    assert result == {"categoria": code}
    assert messages == []


@pytest.mark.parametrize("typed", ["banana", "sei lá", ""])
def test_unknown_category_is_refused(typed):
    result, messages = validate(ValidateAcionamentoForm(), "validate_categoria", typed, tracker(typed, form=FORM))

    assert result == {"categoria": None}
    assert responses(messages) == ["utter_categoria_invalida"]


@pytest.mark.parametrize("typed, code", [
    ("Alto", "alto"),
    ("Médio", "medio"),
    ("medio", "medio"),
    ("Baixo", "baixo"),
    ("alta", "alto"),
    ("afeta só alguns usuários", "medio"),
    ("baixo", "baixo"),
])
def test_impact_parsing(typed, code):
    result, messages = validate(ValidateAcionamentoForm(), "validate_impacto", typed, tracker(typed, form=FORM))

    assert result == {"impacto": code}
    assert messages == []


@pytest.mark.parametrize("typed", ["não sei", "azul", "alto ou baixo"])
def test_unknown_impact_is_refused(typed):
    result, messages = validate(ValidateAcionamentoForm(), "validate_impacto", typed, tracker(typed, form=FORM))

    assert result == {"impacto": None}
    assert responses(messages) == ["utter_impacto_invalido"]


@pytest.mark.parametrize("category, asks_impact", [
    ("problema", True), ("duvida", False), ("solicitacao", False), (None, False),
])
def test_impact_is_required_only_for_problems(category, asks_impact):
    domain_slots = DOMAIN["forms"][FORM]["required_slots"]

    required = asyncio.run(ValidateAcionamentoForm().required_slots(
        domain_slots, CollectingDispatcher(), tracker("x", form=FORM, slots={"categoria": category}), DOMAIN))

    expected = ["servico", "categoria", "impacto", "descricao", "confirmacao", "retomar", "campo_correcao"]
    assert required == (expected if asks_impact else [s for s in expected if s != "impacto"])


def test_a_question_category_skips_impact_and_asks_the_description(desk):
    events, messages = run(ValidateAcionamentoForm(), tracker(
        "Dúvida", token=token_for(desk, "ana"), form=FORM, slots={"servico": "datavalid"},
        candidates={"categoria": "Dúvida"}))

    assert events == [SlotSet("categoria", "duvida"), SlotSet("requested_slot", "descricao")]
    assert messages == []


def test_a_problem_category_leaves_rasa_to_ask_the_impact(desk):
    """With every domain slot required, rasa_sdk adds no requested_slot: the form itself asks `impacto`."""
    events, messages = run(ValidateAcionamentoForm(), tracker(
        "Problema", token=token_for(desk, "ana"), form=FORM, slots={"servico": "datavalid"},
        candidates={"categoria": "Problema"}))

    assert events == [SlotSet("categoria", "problema")]
    assert messages == []


# --- validate_acionamento_form: descricao, confirmacao -------------------------------------------


@pytest.mark.parametrize("typed", ["erro", "   ", "ok"])
def test_too_short_description_is_refused(typed):
    result, messages = validate(ValidateAcionamentoForm(), "validate_descricao", typed, tracker(typed, form=FORM))

    assert result == {"descricao": None}
    assert responses(messages) == [None]
    assert "curta" in messages[0]["text"]


def test_too_long_description_is_refused():
    typed = "a" * 10_001
    result, messages = validate(ValidateAcionamentoForm(), "validate_descricao", typed, tracker(typed, form=FORM))

    assert result == {"descricao": None}
    assert "limite" in messages[0]["text"]


def test_description_is_kept_trimmed():
    typed = "  O relatório mensal não abre desde ontem.  "
    result, messages = validate(ValidateAcionamentoForm(), "validate_descricao", typed, tracker(typed, form=FORM))

    assert result == {"descricao": "O relatório mensal não abre desde ontem."}
    assert messages == []


@pytest.mark.parametrize("typed, intent, answer", [
    ("sim", "informar", True),
    ("Sim", "informar", True),
    ("/afirmar", "afirmar", True),
    ("pode registrar sim", "afirmar", True),
    ("não", "informar", False),
    ("/negar", "negar", False),
    ("melhor não", "negar", False),
])
def test_confirmation_yes_or_no(typed, intent, answer):
    result, messages = validate(ValidateAcionamentoForm(), "validate_confirmacao", typed,
                                tracker(typed, intent=intent, form=FORM))

    assert result == {"confirmacao": answer}
    assert messages == []


@pytest.mark.parametrize("typed", ["talvez amanhã", "hmm", "qual o prazo?"])
def test_unclear_confirmation_asks_for_yes_or_no(typed):
    result, messages = validate(ValidateAcionamentoForm(), "validate_confirmacao", typed,
                                tracker(typed, intent="informar", form=FORM))

    assert result == {"confirmacao": None}
    assert responses(messages) == ["utter_responda_sim_ou_nao"]


def test_confirmed_form_is_done(desk):
    events, messages = run(ValidateAcionamentoForm(), tracker(
        "/afirmar", intent="afirmar", token=token_for(desk, "ana"), form=FORM,
        slots={"servico": "datavalid", "categoria": "duvida", "descricao": "Como faço a consulta em lote?"},
        candidates={"confirmacao": "/afirmar"}))

    assert events == [SlotSet("confirmacao", True), SlotSet("requested_slot", None)]
    assert messages == []


def test_service_buttons_come_from_the_catalogue_and_validate_back(desk):
    _events, messages = run(ActionAskServico(), tracker("quero abrir um chamado", token=token_for(desk, "ana"),
                                                        form=FORM))

    [message] = messages
    assert message["response"] == "utter_escolha_servico"
    assert sorted(b["title"] for b in message["buttons"]) == sorted(name for _code, name in SERVICES)
    for button in message["buttons"]:
        result, refusals = validate(ValidateAcionamentoForm(), "validate_servico", button["payload"],
                                    tracker(button["payload"], form=FORM))
        assert refusals == []
        assert result["servico"] == dict((name, code) for code, name in SERVICES)[button["title"]]


@pytest.mark.parametrize("slots, kind", [
    ({**FILLED}, "Problema, impacto alto"),
    ({**FILLED, "impacto": "medio"}, "Problema, impacto médio"),
    ({**FILLED, "categoria": "duvida", "impacto": None}, "Dúvida"),
])
def test_summary_before_registering(slots, kind, desk):
    _events, messages = run(ActionAskAcionamentoFormConfirmacao(), tracker("x", form=FORM, slots=slots))

    [message] = messages
    assert message["response"] == "utter_resumo_acionamento"
    shown = render(message)
    assert "• Serviço: Datavalid\n" in shown
    assert f"• Tipo: {kind}\n" in shown
    assert f"• Descrição: {FILLED['descricao']}\n" in shown


# --- action_abrir_acionamento -------------------------------------------------------------------


def test_confirmed_ticket_is_registered(desk):
    events, messages = run(ActionAbrirAcionamento(), tracker(
        "/afirmar", intent="afirmar", token=token_for(desk, "ana"), slots={**FILLED, "confirmacao": True}))

    [listed] = desk.staff_list()
    ticket = desk.staff_show(listed["number"])
    assert NUMBER.match(ticket["number"])
    assert (ticket["service_code"], ticket["category"], ticket["impact"], ticket["priority"]) == (
        "datavalid", "problema", "alto", "critica")
    assert ticket["description"] == FILLED["descricao"]
    assert ticket["requester_email"] == "ana.souza@exemplo.gov.br"
    assert ticket["channel"] == "chat"
    assert events == [*RESET, SlotSet("numero_acionamento", ticket["number"])]
    [message] = messages
    assert message["response"] == "utter_acionamento_registrado"
    assert kwargs_of(message) == {
        "numero": ticket["number"],
        "prazo": local_br(ticket["due_at"]),
        "email": "ana.souza@exemplo.gov.br",
    }
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", kwargs_of(message)["prazo"])
    assert ticket["number"] in render(message)


def test_registration_email_is_queued(desk):
    run(ActionAbrirAcionamento(), tracker(
        "sim", token=token_for(desk, "ana"), slots={**FILLED, "confirmacao": True}))

    [ticket] = desk.staff_list()
    mails = [m for m in desk.outbox() if ticket["number"] in m["subject"] + m["body"]]
    assert [m["to"] for m in mails] == ["ana.souza@exemplo.gov.br"]


def test_a_question_is_registered_without_impact(desk):
    slots = {"servico": "consulta_cpf", "categoria": "duvida", "impacto": None,
             "descricao": "Como faço a consulta em lote de CPFs?", "confirmacao": True}
    run(ActionAbrirAcionamento(), tracker("sim", token=token_for(desk, "carla"), slots=slots))

    [ticket] = desk.staff_list()
    assert (ticket["service_code"], ticket["category"], ticket["impact"]) == ("consulta_cpf", "duvida", None)


@pytest.mark.parametrize("answer", [False, None])
def test_denied_ticket_is_not_registered(answer, desk, monkeypatch):
    outbox_before = desk.outbox()
    spy = Spy(desk, monkeypatch, *DATA_METHODS)

    events, messages = run(ActionAbrirAcionamento(), tracker(
        "não", intent="negar", token=token_for(desk, "ana"), slots={**FILLED, "confirmacao": answer}))

    assert events == RESET
    assert responses(messages) == ["utter_acionamento_nao_registrado"]
    assert spy.calls == []
    assert desk.staff_list() == []
    assert desk.outbox() == outbox_before


def test_backend_failure_apologises_without_crashing(desk, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(desk, "open_ticket", broken)

    events, messages = run(ActionAbrirAcionamento(), tracker(
        "sim", token=token_for(desk, "ana"), slots={**FILLED, "confirmacao": True}))

    assert events == []
    assert responses(messages) == ["utter_erro_tecnico"]
    assert "0800 728 2323" in render(messages[0])
    assert desk.staff_list() == []


def test_backend_refusal_is_told_in_its_own_words(desk):
    slots = {**FILLED, "impacto": None, "confirmacao": True}  # a problem without impact breaks a rule

    events, messages = run(ActionAbrirAcionamento(), tracker("sim", token=token_for(desk, "ana"), slots=slots))

    assert events == []
    assert texts(messages) == ["Para problemas, informe o impacto: alto, médio ou baixo."]
    assert desk.staff_list() == []


# --- action_consultar_acionamento ---------------------------------------------------------------


@pytest.fixture
def tickets(desk, personas) -> dict[str, str]:
    """One ticket per persona, opened in this order: persona -> number."""
    opened = {
        "ana": open_for(desk, personas, "ana", service="area_cliente"),
        "bruno": open_for(desk, personas, "bruno", service="datavalid", category="problema", impact="alto"),
        "carla": open_for(desk, personas, "carla", service="financeiro", category="solicitacao"),
        "diego": open_for(desk, personas, "diego", service="consulta_cnpj"),
    }
    return {persona: ticket["number"] for persona, ticket in opened.items()}


def consult(desk, persona: str, text: str, number_entity: str | None = None):
    found = [entity("numero_acionamento", number_entity)] if number_entity else []
    return run(ActionConsultarAcionamento(), tracker(
        text, token=token_for(desk, persona), intent="consultar_acionamento", entities=found))


def test_consult_by_canonical_number(desk, tickets):
    number = tickets["bruno"]

    events, messages = consult(desk, "ana", f"como está o {number}?", number)

    shown = desk.staff_show(number)
    assert events == [SlotSet("autenticado", True), SlotSet("numero_acionamento", number)]
    [message] = messages
    assert message["response"] == "utter_acionamento_situacao"
    assert kwargs_of(message) == {
        "numero": number,
        "servico": "Datavalid",
        "situacao": "registrado",
        "nivel": "N1",
        "prazo": local_br(shown["due_at"]),
        "atraso": "",
        "atualizado": local_br(shown["updated_at"]),
    }
    render(message)


def loose_forms(number: str) -> list[str]:
    _ss, year, sequence = number.split("-")
    return [f"ss{year}{sequence}", f"SS {year} {sequence}", f"{year}/{sequence}", f"ss-{year}-{int(sequence)}"]


@pytest.mark.parametrize("form_index", range(4))
def test_consult_by_loose_number_in_the_text(form_index, desk, tickets):
    number = tickets["carla"]
    typed = loose_forms(number)[form_index]

    events, messages = consult(desk, "carla", f"qual a situação do {typed}")

    assert events == [SlotSet("autenticado", True), SlotSet("numero_acionamento", number)]
    assert responses(messages) == ["utter_acionamento_situacao"]
    assert kwargs_of(messages[0])["numero"] == number


def test_consult_by_loose_number_entity(desk, tickets):
    number = tickets["ana"]
    typed = loose_forms(number)[0]

    events, messages = consult(desk, "ana", f"e o {typed}?", typed)

    assert slot_values(events)["numero_acionamento"] == number
    assert kwargs_of(messages[0])["numero"] == number


def test_hidden_and_missing_numbers_get_the_same_answer(desk, tickets):
    answers = []
    for persona, number in [("ana", tickets["diego"]),    # another company's
                            ("carla", tickets["bruno"]),  # a colleague's, without Representante Legal
                            ("ana", "SS-2020-999999")]:   # does not exist
        events, messages = consult(desk, persona, f"situação do {number}", number)
        assert events == [SlotSet("autenticado", True), SlotSet("numero_acionamento", None)]
        answers.append(texts(messages))

    assert answers == [[NOT_FOUND]] * 3
    assert all(tickets["diego"] not in a[0] for a in answers)


def test_without_number_ana_gets_her_companys_recent_tickets(desk, tickets):
    events, messages = consult(desk, "ana", "quero consultar meus acionamentos")

    assert events == [SlotSet("autenticado", True)]
    [message] = messages
    assert message["response"] == "utter_escolha_acionamento"
    buttons = message["buttons"]
    expected = [tickets["carla"], tickets["bruno"], tickets["ana"]]  # newest first, no Autarquia ticket
    assert [b["title"].split(" · ")[0] for b in buttons] == expected
    assert buttons[1]["title"] == f"{tickets['bruno']} · Datavalid · registrado"
    for button, number in zip(buttons, expected):
        intent, payload = button["payload"].split("{", 1)
        assert intent == "/consultar_acionamento"
        assert json.loads("{" + payload) == {"numero_acionamento": number}


def test_without_number_carla_gets_only_hers(desk, tickets):
    _events, messages = consult(desk, "carla", "meus acionamentos")

    assert [b["title"].split(" · ")[0] for b in messages[0]["buttons"]] == [tickets["carla"]]


def test_at_most_five_recent_tickets_are_offered(desk, personas):
    numbers = [open_for(desk, personas, "diego")["number"] for _ in range(7)]

    _events, messages = consult(desk, "diego", "meus acionamentos")

    assert [b["title"].split(" · ")[0] for b in messages[0]["buttons"]] == numbers[::-1][:5]


def test_without_tickets_offers_to_open_one(desk, personas):
    open_for(desk, personas, "ana")  # not carla's

    events, messages = consult(desk, "carla", "meus acionamentos")

    assert events == [SlotSet("autenticado", True)]
    assert responses(messages) == ["utter_sem_acionamentos"]


# --- action_alterar_contato ---------------------------------------------------------------------


def test_contact_change_offers_a_prefilled_ticket(desk):
    asked = "quero alterar o e-mail da Carla Dias"

    events, messages = run(ActionAlterarContato(), tracker(asked, token=token_for(desk, "ana"),
                                                           intent="alterar_contato"))

    description = f"Alteração de dados de contato na Área do Cliente: {asked}"
    assert events == [
        SlotSet("autenticado", True),
        *RESET,
        SlotSet("servico", "area_cliente"),
        SlotSet("categoria", "solicitacao"),
        SlotSet("descricao", description),
    ]
    assert responses(messages) == ["utter_alterar_contato"]
    assert desk.staff_list() == []


def test_contact_change_by_button_keeps_a_clean_description(desk):
    events, _ = run(ActionAlterarContato(), tracker("/alterar_contato", token=token_for(desk, "bruno"),
                                                    intent="alterar_contato"))

    assert slot_values(events)["descricao"] == "Alteração de dados de contato na Área do Cliente"


def test_contact_change_prefill_is_accepted_by_the_form_and_registered(desk):
    token = token_for(desk, "ana")
    events, _ = run(ActionAlterarContato(), tracker("trocar o telefone do Bruno", token=token,
                                                    intent="alterar_contato"))
    prefilled = {k: v for k, v in slot_values(events).items() if v is not None and k != "autenticado"}

    validated, messages = run(ValidateAcionamentoForm(), tracker(
        "sim", token=token, intent="afirmar", form=FORM, candidates=prefilled))
    assert messages == []
    assert validated[-1] == SlotSet("requested_slot", "confirmacao")

    slots = {**prefilled, **slot_values(validated), "confirmacao": True}
    run(ActionAbrirAcionamento(), tracker("sim", token=token, intent="afirmar", slots=slots))
    [ticket] = desk.staff_list()
    assert (ticket["service_code"], ticket["category"]) == ("area_cliente", "solicitacao")
    assert ticket["description"].endswith("trocar o telefone do Bruno")


# --- action_cancelar ----------------------------------------------------------------------------

ALL_FORM_SLOTS = form_slots(DOMAIN, *DOMAIN["forms"])


@pytest.mark.parametrize("form", ["acionamento_form", "contato_form", "remocao_form"])
def test_cancel_inside_a_form_forgets_everything(form, desk):
    slots = {**FILLED, "requested_slot": "confirmacao", "contato_nome": "Maria da Silva"}

    events, messages = run(ActionCancelar(), tracker("cancelar", token=token_for(desk, "ana"), intent="cancelar",
                                                     form=form, slots=slots))

    assert events[:2] == [ActiveLoop(None), SlotSet("requested_slot", None)]
    assert sorted(e["name"] for e in events[2:]) == sorted(ALL_FORM_SLOTS)
    assert all(e == SlotSet(e["name"], None) for e in events[2:])
    assert responses(messages) == ["utter_cancelado"]
    assert desk.staff_list() == []


def test_cancel_outside_a_form_says_there_is_nothing_to_cancel(desk):
    events, messages = run(ActionCancelar(), tracker("cancelar", intent="cancelar"))

    assert events[:2] == [ActiveLoop(None), SlotSet("requested_slot", None)]
    assert responses(messages) == [None]
    assert "nada em andamento" in messages[0]["text"]


# --- a ticket waiting for the user: the question first, and the offer to answer it now -----------------


QUESTION = "Qual mensagem de erro aparece na tela?"


def test_consulting_a_waiting_ticket_shows_the_question_first_and_offers_to_answer(desk, tickets):
    number = tickets["carla"]
    desk.staff_wait(number, QUESTION)

    events, messages = consult(desk, "carla", f"como está o {number}?", number)

    assert events == [SlotSet("autenticado", True), SlotSet("numero_acionamento", number)]
    assert responses(messages) == ["utter_pergunta_pendente", "utter_acionamento_situacao", "utter_oferta_responder"]
    assert kwargs_of(messages[0]) == {"numero": number, "pergunta": QUESTION}
    assert render(messages[0]) == (
        f'A equipe de suporte aguarda uma informação sua no acionamento {number}:\n"{QUESTION}"')
    shown = kwargs_of(messages[1])
    assert (shown["situacao"], shown["atraso"]) == ("aguardando informações suas", " — suspenso até a sua resposta")
    assert messages[2]["buttons"] == [
        {"title": "Responder agora", "payload": f'/complementar_acionamento{{"numero_acionamento":"{number}"}}'},
        {"title": "Agora não", "payload": "/negar"},
    ]
    render(messages[2])


def test_a_ticket_not_waiting_gets_no_offer(desk, tickets):
    _events, messages = consult(desk, "carla", f"como está o {tickets['carla']}?", tickets["carla"])
    assert responses(messages) == ["utter_acionamento_situacao"]


def test_answering_now_goes_through_the_complement_and_resumes_the_clock(desk, tickets):
    from actions.ticket_followup import ActionComplementarAcionamento, ActionPrepararComplemento

    number = tickets["carla"]
    desk.staff_wait(number, QUESTION)
    carla = token_for(desk, "carla")

    # The "Responder agora" button: its intent and entity, no NLU.
    events, messages = run(ActionPrepararComplemento(), tracker(
        "/complementar_acionamento", token=carla, intent="complementar_acionamento",
        entities=[entity("numero_acionamento", number)]))
    assert slot_values(events)["numero_acionamento"] == number
    assert messages == []

    _events, messages = run(ActionComplementarAcionamento(), tracker(
        "sim", intent="afirmar", token=carla,
        slots={"numero_acionamento": number, "complemento": "Aparece 'acesso negado'.", "confirmacao": True}))

    assert responses(messages) == ["utter_complemento_registrado"]
    assert kwargs_of(messages[0]) == {"numero": number, "situacao": "em atendimento"}
    ticket = desk.staff_show(number)
    assert (ticket["status"], ticket["sla_status"], ticket["pending_question"]) == ("em_atendimento", "no_prazo", None)
    assert [e["kind"] for e in ticket["history"]][-2:] == ["complemented", "sla_resumed"]
