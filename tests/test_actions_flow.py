"""Issue 11, points 3 and 5, as the action server runs them: a form that comes back after the user changed course
offers to continue with what it has; "Corrigir" on a summary asks which field, empties it so the form asks it again
with the same validator, and the summary comes back. Also the signed-in guard (actions.common.signed_in)."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import flow
from actions.common import signed_in
from actions.contacts import ValidateContatoForm, ValidateRemocaoForm
from actions.flow import ActionAskCampoCorrecao, ActionAskRetomar
from actions.ticket_followup import (
    ActionComplementarAcionamento,
    ValidateAvaliacaoForm,
    ValidateComplementoForm,
    ValidateReaberturaForm,
)
from actions.tickets import ActionAbrirAcionamento, ValidateAcionamentoForm
from tests.actions_helpers import (  # noqa: F401 — `plugged` is an autouse fixture
    DOMAIN,
    SENDER,
    kwargs_of,
    plugged,
    render,
    responses,
    run,
    slot_values,
    token_for,
    tracker,
    validate,
)

TICKET = {"servico": "datavalid", "categoria": "problema"}
FILLED = {**TICKET, "impacto": "alto", "descricao": "O Datavalid responde erro 503 desde as 8h para todos."}
VALIDATORS = {
    "acionamento_form": ValidateAcionamentoForm,
    "contato_form": ValidateContatoForm,
    "remocao_form": ValidateRemocaoForm,
    "complemento_form": ValidateComplementoForm,
    "avaliacao_form": ValidateAvaliacaoForm,
    "reabertura_form": ValidateReaberturaForm,
}
SUMMARIES = ["utter_resumo_acionamento", "utter_resumo_contato", "utter_resumo_remocao", "utter_resumo_complemento",
             "utter_resumo_avaliacao", "utter_resumo_reabertura"]


def turn(text: str, *, intent: str, form: str | None, slots: dict[str, Any], latest_action: str = "action_listen",
         events: list[dict[str, Any]] | None = None, token: str | None = None,
         candidates: dict[str, Any] | None = None) -> Tracker:
    """A tracker like `actions_helpers.tracker`, with the latest action and earlier events chosen by the test."""
    metadata = {"token": token} if token else {}
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": [], "metadata": metadata}
    values = dict(slots)
    history = list(events or [])
    history.append({"event": "user", "timestamp": None, "text": text, "parse_data": latest, "metadata": metadata})
    for name, value in (candidates or {}).items():
        values[name] = value
        history.append(SlotSet(name, value))
    return Tracker(sender_id=SENDER, slots=values, latest_message=latest, events=history, paused=False,
                   followup_action=None, active_loop={"name": form} if form else {}, latest_action_name=latest_action)


# --- change of course -------------------------------------------------------------------------


def test_form_coming_back_after_another_skill_offers_to_continue(desk):
    # as Rasa hands it over: the skill's action, then the form's own run, after the user's message
    back = turn("qual a situação do SS-2026-000001?", intent="consultar_acionamento", form="acionamento_form",
                slots={**TICKET, "requested_slot": "impacto"}, latest_action="acionamento_form",
                token=token_for(desk, "ana"))
    back.events += [{"event": "action", "name": "action_consultar_acionamento"},
                    {"event": "action", "name": "acionamento_form"}]

    events, messages = run(ValidateAcionamentoForm(), back)

    assert events == [SlotSet("requested_slot", "retomar")]
    assert messages == []


def test_the_offer_names_the_form_and_what_it_already_has(desk):
    back = turn("ajuda", intent="ajuda", form="acionamento_form", slots={**TICKET, "requested_slot": "retomar"},
                latest_action="utter_ajuda")

    _events, messages = run(ActionAskRetomar(), back)

    assert responses(messages) == ["utter_ask_retomar"]
    assert render(messages[0]) == ("Quer voltar ao acionamento que você estava registrando? "
                                   "Já tenho: serviço: Datavalid; tipo: Problema.")


def test_the_offer_never_repeats_personal_data(desk):
    slots = {"contato_nome": "Maria da Silva", "contato_email": "maria@orgao.gov.br", "contato_cpf": "529.982.247-25",
             "requested_slot": "retomar"}
    back = turn("quais são os contatos?", intent="listar_contatos", form="contato_form", slots=slots,
                latest_action="action_listar_contatos")

    _events, messages = run(ActionAskRetomar(), back)

    assert kwargs_of(messages[0]) == {"assunto": "à inclusão do contato", "preenchido": " Já tenho: nome: Maria da Silva."}


def test_a_form_starting_after_its_own_skill_asks_its_first_question(desk):
    starting = turn("quero remover um contato", intent="remover_contato", form="remocao_form", slots={},
                    latest_action="remocao_form")
    starting.events += [{"event": "action", "name": "action_preparar_remocao"}, ActiveLoop("remocao_form"),
                        {"event": "action", "name": "remocao_form"}]

    assert flow.detour_slot(starting, "remocao_form") is None


def test_a_plain_answer_or_a_faq_is_not_a_change_of_course(desk):
    faq = turn("a central abre domingo?", intent="faq", form="acionamento_form",
               slots={**TICKET, "requested_slot": "impacto"}, latest_action="acionamento_form")
    faq.events += [{"event": "action", "name": "action_responder_faq"}, {"event": "action", "name": "acionamento_form"}]
    answer = turn("Alto", intent="informar", form="acionamento_form", slots={**TICKET, "requested_slot": "impacto"},
                  candidates={"impacto": "Alto"})

    assert flow.detour_slot(faq, "acionamento_form") is None
    assert run(ValidateAcionamentoForm(), answer)[0] == [SlotSet("impacto", "alto")]


def test_yes_continues_where_the_form_stopped(desk):
    answer = turn("sim", intent="afirmar", form="acionamento_form", slots={**TICKET, "requested_slot": "retomar"},
                  candidates={"retomar": "sim"})

    events, _messages = run(ValidateAcionamentoForm(), answer)

    # the form's own order is Rasa's to follow again (the next empty slot, here `impacto`)
    assert events == [SlotSet("retomar", True)]


def test_no_ends_the_form_and_its_submit_writes_nothing(desk):
    answer = turn("não", intent="negar", form="acionamento_form", slots={**FILLED, "requested_slot": "retomar"},
                  candidates={"retomar": "não"})

    events, _messages = run(ValidateAcionamentoForm(), answer)
    assert events == [SlotSet("retomar", False), SlotSet("requested_slot", None)]

    submit = tracker("não", token=token_for(desk, "ana"), intent="negar", slots={**FILLED, "retomar": False})
    events, messages = run(ActionAbrirAcionamento(), submit)
    assert responses(messages) == ["utter_acionamento_nao_registrado"]
    assert slot_values(events)["retomar"] is None and slot_values(events)["servico"] is None
    assert desk.staff_list() == []


def test_an_unclear_answer_to_the_offer_asks_it_again(desk):
    answer = turn("talvez", intent="informar", form="acionamento_form", slots={**TICKET, "requested_slot": "retomar"},
                  candidates={"retomar": "talvez"})

    events, messages = run(ValidateAcionamentoForm(), answer)

    assert events == [SlotSet("retomar", None), SlotSet("requested_slot", "retomar")]
    assert responses(messages) == ["utter_responda_sim_ou_nao"]


def paused_ticket_then_complement() -> list[dict[str, Any]]:
    """Events of a ticket form replaced by the complement form ("quero complementar o SS-…") which then ended."""
    return [ActiveLoop("acionamento_form"), SlotSet("servico", "datavalid"), SlotSet("categoria", "problema"),
            ActiveLoop("complemento_form"), SlotSet("numero_acionamento", "SS-2026-000001"),
            SlotSet("complemento", "mais um dado"), ActiveLoop(None)]


def test_a_form_replaced_by_another_comes_back_when_that_one_ends(desk):
    done = tracker("não", token=token_for(desk, "ana"), intent="negar",
                   slots={"numero_acionamento": "SS-2026-000001", "complemento": "mais um dado", "confirmacao": False})
    done.events[:0] = paused_ticket_then_complement()

    events, messages = run(ActionComplementarAcionamento(), done)

    assert responses(messages) == ["utter_complemento_nao_registrado"]
    assert events[-3:] == [SlotSet("servico", "datavalid"), SlotSet("categoria", "problema"),
                           FollowupAction("acionamento_form")]


def test_the_returning_form_offers_to_continue_when_it_starts_again(desk):
    starting = turn("não", intent="negar", form=None, slots={**TICKET}, latest_action="acionamento_form",
                    events=paused_ticket_then_complement())
    starting.events += [{"event": "action", "name": "action_complementar_acionamento"}, ActiveLoop("acionamento_form"),
                        {"event": "action", "name": "acionamento_form"}]

    assert flow.detour_slot(starting, "acionamento_form") == "retomar"
    assert flow.detour_slot(starting, "contato_form") is None


def test_cancel_forgets_the_paused_form(desk):
    events = [*paused_ticket_then_complement(), {"event": "action", "name": "action_cancelar"}]

    assert flow.paused_form(events) is None
    assert flow.paused_form(events[:-1]) == ("acionamento_form", {"servico": "datavalid", "categoria": "problema"})


def test_free_text_slots_keep_every_skill_intent_as_an_answer():
    """A description that mentions "consultar" is still a description: only "cancelar" is not an answer there."""
    for slot in ("descricao", "complemento", "comentario", "motivo"):
        for mapping in DOMAIN["slots"][slot]["mappings"]:
            assert mapping["not_intent"] == ["cancelar"], slot


def test_closed_answers_step_aside_for_every_other_skill():
    for slot in ("servico", "categoria", "impacto", "confirmacao", "contato_cpf", "contato_remover", "nota"):
        for mapping in DOMAIN["slots"][slot]["mappings"]:
            if mapping["type"] != "from_text":
                continue
            own = {"contato_form": "incluir_contato", "remocao_form": "remover_contato",
                   "complemento_form": "complementar_acionamento", "avaliacao_form": "avaliar_acionamento",
                   "reabertura_form": "reabrir_acionamento"}.get(mapping["conditions"][0]["active_loop"])
            assert set(mapping["not_intent"]) == {"cancelar", "faq", *flow.COURSE_CHANGES} - {own}, slot


# --- correct before confirming ----------------------------------------------------------------


@pytest.mark.parametrize("summary", SUMMARIES)
def test_every_summary_offers_to_correct(summary):
    titles = [b["title"] for b in DOMAIN["responses"][summary][0]["buttons"]]
    assert len(titles) == 3 and titles[1] == "Corrigir"


@pytest.mark.parametrize("form", sorted(VALIDATORS))
def test_corrigir_on_any_summary_asks_which_field(form, desk):
    result, messages = validate(VALIDATORS[form](), "validate_confirmacao", "Corrigir",
                                tracker("Corrigir", intent="alterar_contato", form=form))

    assert result == {"confirmacao": None, "corrigindo": True}
    assert messages == []


def test_the_fields_are_offered_as_buttons_in_the_form_order(desk):
    at_summary = tracker("Corrigir", intent="alterar_contato", form="acionamento_form",
                         slots={**FILLED, "corrigindo": True, "requested_slot": "campo_correcao"})

    _events, messages = run(ActionAskCampoCorrecao(), at_summary)

    assert responses(messages) == ["utter_ask_campo_correcao"]
    assert [b["title"] for b in messages[0]["buttons"]] == ["Serviço", "Tipo", "Impacto", "Descrição"]


def test_after_corrigir_the_form_asks_the_field(desk):
    answer = turn("Corrigir", intent="alterar_contato", form="acionamento_form",
                  slots={**FILLED, "requested_slot": "confirmacao"}, candidates={"confirmacao": "Corrigir"})

    events, _messages = run(ValidateAcionamentoForm(), answer)

    assert events == [SlotSet("confirmacao", None), SlotSet("corrigindo", True), SlotSet("requested_slot", "campo_correcao")]


def test_the_chosen_field_is_emptied_and_asked_again(desk):
    answer = turn("Serviço", intent="informar", form="acionamento_form",
                  slots={**FILLED, "corrigindo": True, "requested_slot": "campo_correcao"},
                  candidates={"campo_correcao": "Serviço"})

    events, _messages = run(ValidateAcionamentoForm(), answer)

    # no `requested_slot`: Rasa asks the form's first empty slot, the service
    assert slot_values(events) == {"campo_correcao": None, "servico": None, "corrigindo": None, "confirmacao": None}


def test_the_new_value_goes_through_the_same_validator(desk):
    """Correcting the service: an unknown one is refused exactly as the first time, a known one is normalised."""
    slots = {**FILLED, "servico": None, "requested_slot": "servico"}
    refused, messages = validate(ValidateAcionamentoForm(), "validate_servico", "Serviço Inexistente",
                                 tracker("Serviço Inexistente", form="acionamento_form", slots=slots))
    taken, _ = validate(ValidateAcionamentoForm(), "validate_servico", "Consulta CPF",
                        tracker("Consulta CPF", form="acionamento_form", slots=slots))

    assert refused["servico"] is None and messages
    assert taken["servico"] == "consulta_cpf"


def test_correcting_the_category_asks_the_impact_again(desk):
    assert flow.correction_events("categoria") == {"categoria": None, "impacto": None, "campo_correcao": None,
                                                   "corrigindo": None, "confirmacao": None}


def test_an_unknown_field_is_asked_again(desk):
    answer = turn("a cor", intent="informar", form="acionamento_form",
                  slots={**FILLED, "corrigindo": True, "requested_slot": "campo_correcao"},
                  candidates={"campo_correcao": "a cor"})

    events, messages = run(ValidateAcionamentoForm(), answer)

    assert events == [SlotSet("campo_correcao", None), SlotSet("requested_slot", "campo_correcao")]
    assert responses(messages) == ["utter_campo_correcao_invalido"]


@pytest.mark.parametrize(("typed", "field"), [("Serviço", "servico"), ("o serviço", "servico"), ("descricao", "descricao"),
                                              ("E-mail", "contato_email"), ("email", "contato_email"),
                                              ("Telefone secundário", "contato_telefone2"), ("nada disso", None)])
def test_fields_are_understood_by_label_or_typed(typed, field):
    fields = ["servico", "descricao", "contato_email", "contato_telefone", "contato_telefone2"]
    assert flow.chosen_field(typed, fields) == field


@pytest.mark.parametrize(("text", "wanted"), [("Corrigir", True), ("quero corrigir o serviço", True),
                                              ("sim", False), ("não", False), ("pode registrar", False)])
def test_wants_correction(text, wanted):
    assert flow.wants_correction(text) is wanted


# --- the signed-in guard ----------------------------------------------------------------------


class Guarded:
    @signed_in(refused=lambda self, dispatcher, tracker: "refused")
    def sync(self, dispatcher: CollectingDispatcher, tracker: Tracker, contact: dict) -> str:
        return contact["email"]

    @signed_in()
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict, contact: dict) -> list:
        return [contact["email"]]


def test_the_guard_hands_over_the_contact_or_asks_to_sign_in(desk):
    dispatcher = CollectingDispatcher()
    signed = tracker("oi", token=token_for(desk, "bruno"))
    anonymous = tracker("oi")

    assert Guarded().sync(dispatcher, signed) == "bruno.lima@exemplo.gov.br"
    assert asyncio.run(Guarded().run(dispatcher, signed, DOMAIN)) == ["bruno.lima@exemplo.gov.br"]
    assert dispatcher.messages == []
    assert Guarded().sync(dispatcher, anonymous) == "refused"
    assert asyncio.run(Guarded().run(dispatcher, anonymous, DOMAIN)) == [SlotSet("autenticado", False)]
    assert responses(dispatcher.messages) == ["utter_entrar_area_cliente"] * 2
