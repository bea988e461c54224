"""Dialogue-wide actions: leaving any form, misunderstandings, and data typed out of context."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import all_forms, form_slots, latest_entity, reset, safe
from actions.contacts import CONTACT_FORM, ActionPrepararContato
from actions.flow import flow_slots_set
from actions.tickets import ActionConsultarAcionamento
from backend.catalogue import fold

FALLBACK_INTENT = "nlu_fallback"
# What a "você quis dizer…" button may offer: the skills, by how users would name them.
SKILLS: dict[str, str] = {
    "abrir_acionamento": "Abrir acionamento",
    "consultar_acionamento": "Consultar acionamento",
    "complementar_acionamento": "Complementar acionamento",
    "avaliar_acionamento": "Avaliar atendimento",
    "reabrir_acionamento": "Reabrir acionamento",
    "incluir_contato": "Incluir contato",
    "listar_contatos": "Listar contatos",
    "remover_contato": "Remover contato",
    "alterar_contato": "Alterar dados de contato",
    "falar_com_atendente": "Falar com uma pessoa",
}
SUGGESTIONS = 2


class ActionCancelar(Action):
    """"cancelar" ends whatever form is running and forgets its answers: nothing is written."""

    def name(self) -> str:
        return "action_cancelar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.active_loop_name:
            dispatcher.utter_message(response="utter_cancelado")
        else:
            dispatcher.utter_message(text="Não há nada em andamento para cancelar. Posso ajudar em algo?")
        slots = dict.fromkeys([*form_slots(domain, *all_forms(domain)), *flow_slots_set(tracker)])
        return [ActiveLoop(None), SlotSet("requested_slot", None), *reset(*slots)]


def misunderstandings_in_a_row(tracker: Tracker) -> int:
    """How many of the latest user messages, counting back from the last one, were not understood."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent and intent != FALLBACK_INTENT:
            break
        count += 1
    return count


def likeliest_skills(tracker: Tracker, limit: int = SUGGESTIONS) -> list[str]:
    """The skills NLU ranked highest for the latest message, best first."""
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    ranked = sorted(ranking, key=lambda r: r.get("confidence") or 0.0, reverse=True)
    skills = [r["name"] for r in ranked if r.get("name") in SKILLS]
    return list(dict.fromkeys(skills))[:limit]


class ActionNaoEntendi(Action):
    """A message NLU is unsure about: first "você quis dizer…" with the two likeliest skills; from the second in a
    row on, the menu and the human channels. Every answer offers a way out, so it never loops."""

    def name(self) -> str:
        return "action_nao_entendi"

    @safe
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        skills = likeliest_skills(tracker)
        if misunderstandings_in_a_row(tracker) >= 2 or len(skills) < SUGGESTIONS:
            dispatcher.utter_message(response="utter_nao_entendi_menu")
            return []
        buttons: list[dict[str, Any]] = [{"title": SKILLS[s], "payload": f"/{s}"} for s in skills]
        buttons.append({"title": "Outra coisa", "payload": "/ajuda"})
        dispatcher.utter_message(response="utter_voce_quis_dizer", buttons=buttons)
        return []


def states_a_new_contact(tracker: Tracker) -> bool:
    """An e-mail together with a CPF (or a foreigner's "sem CPF") and no form asking: only a new contact's record
    holds both, so the terse line the NLU still reads as `informar` starts the contact skill."""
    text = fold((tracker.latest_message or {}).get("text") or "")
    has_id = latest_entity(tracker, "cpf") is not None or "estrangeir" in text
    return has_id and latest_entity(tracker, "email") is not None


class ActionDadoSolto(Action):
    """A datum typed with no question around it: a ticket number is looked up; a new contact's data starts the
    contact form pre-filled with it; anything else asks what to do (without repeating a CPF or e-mail back)."""

    def name(self) -> str:
        return "action_dado_solto"

    @safe
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if latest_entity(tracker, "numero_acionamento"):
            return await ActionConsultarAcionamento().run(dispatcher, tracker, domain)
        if states_a_new_contact(tracker):
            return await _start_contact_form(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_dado_fora_de_contexto")
        return []


async def _start_contact_form(dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> list[EventType]:
    """What the `incluir_contato` rules do: prepare (which refuses when signed out or not allowed), then the form,
    after saying so, so that a user who meant something else can back out."""
    events = await ActionPrepararContato().run(dispatcher, tracker, domain)
    if not any(event.get("name") == "pode_gerenciar_contatos" and event.get("value") for event in events):
        return events
    dispatcher.utter_message(response="utter_dados_de_contato")
    return [*events, FollowupAction(CONTACT_FORM)]
