"""How a form follows the user: coming back after a change of course, and correcting a field before confirming.

Two questions any form may ask besides its own slots (both asked through a dynamic `requested_slot`):
- `retomar`: after the user turned to another skill in the middle of the form ("qual a situação do SS-…?"),
  the form, when it comes back, offers to continue with what was already filled; "não" ends it without writing.
- `campo_correcao`: "Corrigir" answered to the summary lists the form's fields as buttons; the chosen one is
  emptied so the form asks it again, validated by the same `validate_<slot>`, and then shows the summary again.

Pure dialogue logic: no backend access, so `actions.common.FormValidator` can import it.
"""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.domain_forms import FIELD_SLOT, RESUME_SLOT, required_slots
from actions.ticket_text import parse_yes_no
from backend.catalogue import fold
from backend.vocabulary import CATEGORIES, PROFILES

REQUESTED_SLOT = "requested_slot"
CORRECTING_SLOT = "corrigindo"
FLOW_SLOTS = (RESUME_SLOT, FIELD_SLOT, CORRECTING_SLOT)

# Skills a user may turn to in the middle of a form (contract §6 names). A confident one is not a form's answer,
# except where the form asks free text (the slot mappings in domain.yml keep those).
COURSE_CHANGES = frozenset({
    "consultar_acionamento", "complementar_acionamento", "avaliar_acionamento", "reabrir_acionamento",
    "incluir_contato", "remover_contato", "listar_contatos", "ajuda", "falar_com_atendente",
})

# What each form is, as the offer to come back names it.
FORM_TOPICS = {
    "acionamento_form": "ao acionamento que você estava registrando",
    "contato_form": "à inclusão do contato",
    "remocao_form": "à remoção do contato",
    "complemento_form": "ao complemento do acionamento",
    "avaliacao_form": "à avaliação do atendimento",
    "reabertura_form": "à reabertura do acionamento",
}
# Fields as the user reads them (summary labels). A required slot missing here is not offered for correction.
FIELD_LABELS = {
    "servico": "Serviço",
    "categoria": "Tipo",
    "impacto": "Impacto",
    "descricao": "Descrição",
    "contato_nome": "Nome",
    "contato_email": "E-mail",
    "contato_cpf": "CPF",
    "contato_perfis": "Tipo(s) do contato",
    "contato_telefone": "Telefone principal",
    "contato_telefone2": "Telefone secundário",
    "contato_remover": "Contato",
    "numero_acionamento": "Acionamento",
    "complemento": "Texto do complemento",
    "nota": "Nota",
    "comentario": "Comentário",
    "concorda": "Concorda com a solução",
    "motivo": "Motivo",
}
# Answers that depend on a corrected field are asked again with it.
DEPENDENT_SLOTS = {
    "categoria": ("impacto",),
    "contato_perfis": ("contato_mais_perfis",),
    "concorda": ("motivo",),
}
_CORRECT_WORDS = {"corrigir", "corrige", "corrija", "correcao", "editar", "alterar", "mudar", "trocar"}
# Values that never reach a summary (tokens, counters) or would be read back as personal data.
_NOT_SHOWN = {"contato_email", "contato_cpf", "contato_telefone", "contato_telefone2"}


def wants_correction(value: Any) -> bool:
    """Whether an answer to the summary asks to correct it ("Corrigir", "quero corrigir o serviço")."""
    words = fold(str(value or "")).replace(",", " ").split()
    return any(word in _CORRECT_WORDS for word in words[:3])


def _intent(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def action_before_form(tracker: Tracker, form: str) -> str:
    """The last action since the user's message other than the form itself ("action_listen" if none): Rasa hands
    the validator a tracker that already ends with the form's own run."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return "action_listen"
        if event.get("event") == "action" and event.get("name") not in (form, None):
            return str(event.get("name"))
    return "action_listen"


def returning_after_course_change(tracker: Tracker, form: str) -> bool:
    """The form runs again right after the user turned to another skill (not after a plain answer, nor a FAQ)."""
    starting = len(_before_this_activation(tracker.events, form)) != len(tracker.events)  # a fresh start
    return (
        tracker.active_loop_name == form
        and not starting
        and action_before_form(tracker, form) != "action_listen"
        and _intent(tracker) in COURSE_CHANGES
    )


def paused_form(events: list[EventType]) -> tuple[str, dict[str, Any]] | None:
    """The form another form replaced in the middle ("quero complementar o SS-…" while registering a ticket),
    with the slot values it had then; None once it came back, or after "cancelar"."""
    current: str | None = None
    paused: tuple[str, dict[str, Any]] | None = None
    values: dict[str, Any] = {}
    for event in events:
        kind = event.get("event")
        if kind == "slot":
            values[event.get("name")] = event.get("value")
        elif kind == "active_loop":
            name = event.get("name")
            if name and current and name != current:
                paused = (current, dict(values))
            elif name and paused and name == paused[0]:
                paused = None
            current = name
        elif kind == "action" and event.get("name") == "action_cancelar":
            paused = None
    return paused


def paused_form_name(tracker: Tracker) -> str:
    paused = paused_form(tracker.events)
    return paused[0] if paused else ""


def come_back(tracker: Tracker, domain: DomainDict) -> list[EventType]:
    """After a form that replaced another one ends: give the paused form its answers back and run it, so it
    offers to continue (`retomar`)."""
    paused = paused_form(tracker.events)
    if paused is None or paused[0] == tracker.active_loop_name:
        return []
    form, values = paused
    required = required_slots(domain, form)
    restored = [SlotSet(slot, values[slot]) for slot in required
                if values.get(slot) is not None and slot != "confirmacao"]
    return [*restored, FollowupAction(form)]


def _before_this_activation(events: list[EventType], form: str) -> list[EventType]:
    """The events before the form's own activation in this turn (Rasa may already have added it)."""
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.get("event") == "user":
            break
        if event.get("event") == "active_loop" and event.get("name") == form:
            return events[:index]
    return events


def detour_slot(tracker: Tracker, form: str) -> str | None:
    """`retomar` or `campo_correcao` when the form must ask one of them next; None for the form's own order."""
    requested = tracker.get_slot(REQUESTED_SLOT)
    if returning_after_course_change(tracker, form):
        return RESUME_SLOT
    paused = paused_form(_before_this_activation(tracker.events, form))
    if action_before_form(tracker, form) != "action_listen" and paused is not None and paused[0] == form:
        return RESUME_SLOT  # coming back after another form (see `come_back`)
    if requested == RESUME_SLOT and tracker.get_slot(RESUME_SLOT) is None:
        return RESUME_SLOT  # an unclear answer: ask again
    if tracker.get_slot(CORRECTING_SLOT):
        return FIELD_SLOT
    return None


def resume_answer(value: Any, tracker: Tracker, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    """ "sim" continues the form, "não" ends it with nothing written (the form's submit says so)."""
    answer = value if isinstance(value, bool) else parse_yes_no(str(value), _intent(tracker))
    if answer is None:
        dispatcher.utter_message(response="utter_responda_sim_ou_nao")
    return {RESUME_SLOT: answer}


def fields_to_correct(tracker: Tracker, form: str, domain: DomainDict) -> list[str]:
    """The form's answered fields the user may correct, in the form's order (from domain.yml)."""
    required = required_slots(domain, form)
    return [slot for slot in required if slot in FIELD_LABELS and tracker.get_slot(slot) is not None]


def _words(text: str) -> list[str]:
    """Folded words, with "e mail" joined back into "email" (fold splits on hyphens)."""
    return fold(text).replace("e mail", "email").split()


def chosen_field(value: Any, fields: list[str]) -> str | None:
    """The field a user picked by its label (button) or typed ("o serviço", "email")."""
    typed = _words(str(value or ""))
    for slot in fields:
        if typed == _words(FIELD_LABELS[slot]) or [slot] == typed:
            return slot
    matches = [slot for slot in fields if _words(FIELD_LABELS[slot])[0] in typed]
    return matches[0] if len(matches) == 1 else None


def correction_events(slot: str) -> dict[str, Any]:
    """Empties the chosen field (and those that depend on it) so the form asks it again, then the summary."""
    emptied = {slot: None, **{dependent: None for dependent in DEPENDENT_SLOTS.get(slot, ())}}
    return {**emptied, FIELD_SLOT: None, CORRECTING_SLOT: None, "confirmacao": None}


def shown_value(slot: str, value: Any, services: dict[str, str]) -> str:
    """A slot value as the summaries show it: labels instead of codes."""
    if slot == "servico":
        return services.get(value, str(value))
    if slot == "categoria":
        return CATEGORIES.get(value, str(value))
    if slot == "impacto":
        return str(value).replace("medio", "médio")
    if slot == "contato_perfis":
        return ", ".join(PROFILES.get(code, code) for code in value or [])
    if slot == "nota" and isinstance(value, float):
        return str(int(value))
    if isinstance(value, bool):
        return "sim" if value else "não"
    return str(value)


def filled_summary(tracker: Tracker, form: str, domain: DomainDict, services: dict[str, str]) -> str:
    """ "serviço: Datavalid; tipo: Problema": the fields already answered, without personal data."""
    required = required_slots(domain, form)
    parts = []
    for slot in required:
        value = tracker.get_slot(slot)
        if slot in FIELD_LABELS and slot not in _NOT_SHOWN and value not in (None, "", "-", []):
            parts.append(f"{FIELD_LABELS[slot].lower()}: {shown_value(slot, value, services)}")
    return "; ".join(parts)


class ActionAskRetomar(Action):
    """The offer to come back to the interrupted form, with what it already has."""

    def name(self) -> str:
        return "action_ask_retomar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        from actions.common import desk  # here, not at the top: actions.common imports this module

        form = tracker.active_loop_name or paused_form_name(tracker)
        services = {s["code"]: s["name"] for s in desk().services()} if tracker.get_slot("servico") else {}
        filled = filled_summary(tracker, form, domain, services)
        dispatcher.utter_message(
            response="utter_ask_retomar",
            assunto=FORM_TOPICS.get(form, "ao que estávamos fazendo"),
            preenchido=f" Já tenho: {filled}." if filled else "",
        )
        return []


class ActionAskCampoCorrecao(Action):
    """The form's fields as buttons, to pick the one to correct."""

    def name(self) -> str:
        return "action_ask_campo_correcao"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        fields = fields_to_correct(tracker, tracker.active_loop_name or "", domain)
        buttons = [{"title": FIELD_LABELS[slot], "payload": FIELD_LABELS[slot]} for slot in fields]
        dispatcher.utter_message(response="utter_ask_campo_correcao", buttons=buttons)
        return []


def flow_slots_set(tracker: Tracker) -> tuple[str, ...]:
    """The flow slots holding a value: those a form's end must clear."""
    return tuple(slot for slot in FLOW_SLOTS if tracker.get_slot(slot) is not None)
