"""Follow-up skills on an existing ticket: complement, evaluate (agree → close, disagree → reopen), reopen."""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    ConfirmedSubmit,
    Contact,
    FormValidator,
    asks_nothing,
    br_datetime,
    desk,
    form_slots,
    latest_entity,
    latest_intent,
    refuses_slot,
    reset,
    safe,
    safe_validator,
    signed_in,
    signed_out_done,
    signed_out_resetting,
)
from actions.faq import answered_question
from actions.ticket_text import read_evaluation, said_after
from actions.tickets import validate_yes_no
from backend import numbering
from backend.catalogue import fold
from backend.errors import DeskError
from backend.tickets import MAX_TEXT

# form -> (backend action name, how the question reads: "Qual acionamento você quer <verb>?", past participle)
FORMS = {
    "complemento_form": ("complementar", "complementar", "complementados"),
    "avaliacao_form": ("avaliar", "avaliar", "avaliados"),
    "reabertura_form": ("reabrir", "reabrir", "reabertos"),
}
FOLLOWUP_FORMS = tuple(FORMS)  # they share the ticket number: starting or ending one forgets all three
MIN_REASON = 5


class _PrepareFollowup(Action, ABC):
    """Checks who is asking and keeps a ticket number the first message already gave."""

    @abstractmethod
    def name(self) -> str: ...

    @safe
    @signed_in(refused=signed_out_resetting(*FOLLOWUP_FORMS))
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
                  contact: Contact) -> list[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        number = latest_entity(tracker, "numero_acionamento") or numbering.parse_number(text)
        events = [SlotSet("autenticado", True), *reset(*form_slots(domain, *FOLLOWUP_FORMS))]
        if number:
            events.append(SlotSet("numero_acionamento", number))
        if text.startswith("/"):  # a button: nothing typed
            return events
        found = numbering.search_number(text)
        before, after = (text[:found[1]], text[found[2]:]) if found else (text, "")
        return events + [SlotSet(slot, value) for slot, value in self.stated(before, after, found is not None).items()]

    def stated(self, before: str, after: str, numbered: bool) -> dict[str, Any]:
        """The form's other slots the first message states, given the text before and after its ticket number."""
        return {}


class _PrepareWithText(_PrepareFollowup, ABC):
    """Complement and reopen: what follows the ticket number is the text ("complementar o SS-…: o erro voltou")."""

    text_slot = ""

    def stated(self, before: str, after: str, numbered: bool) -> dict[str, Any]:
        said = said_after(after) if numbered else None
        return {self.text_slot: said} if said else {}


class ActionPrepararComplemento(_PrepareWithText):
    text_slot = "complemento"

    def name(self) -> str:
        return "action_preparar_complemento"


class ActionPrepararAvaliacao(_PrepareFollowup):
    def name(self) -> str:
        return "action_preparar_avaliacao"

    def stated(self, before: str, after: str, numbered: bool) -> dict[str, Any]:
        return read_evaluation(f"{before}, {after}")


class ActionPrepararReabertura(_PrepareWithText):
    text_slot = "motivo"

    def name(self) -> str:
        return "action_preparar_reabertura"


class ActionAskNumeroAcionamento(Action):
    """The user's tickets this form applies to, as buttons."""

    def name(self) -> str:
        return "action_ask_numero_acionamento"

    @safe
    @signed_in(refused=asks_nothing)
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
                  contact: Contact) -> list[EventType]:
        action, verb, participle = FORMS.get(tracker.active_loop_name or "", FORMS["complemento_form"])
        tickets = desk().eligible_tickets(contact["id"], action)
        if not tickets:
            dispatcher.utter_message(response="utter_sem_acionamentos_para", acao=participle)
            return []
        buttons = [{"title": f"{t['number']} · {t['service']} · {t['status_label']}", "payload": t["number"]}
                   for t in tickets]
        dispatcher.utter_message(response="utter_escolha_acionamento_para", acao=verb, buttons=buttons)
        return []


class _ValidateFollowup(FormValidator):
    """The ticket number: visible to the user and in a state the form's action applies to."""

    form = ""

    @abstractmethod
    def name(self) -> str: ...

    @safe_validator("numero_acionamento")
    @signed_in(refused=refuses_slot("numero_acionamento"))
    def validate_numero_acionamento(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict, contact: Contact) -> dict:
        number = latest_entity(tracker, "numero_acionamento") or numbering.parse_number(str(value or ""))
        if number is None:
            dispatcher.utter_message(response="utter_numero_invalido")
            return {"numero_acionamento": None}
        try:
            ticket = desk().check_ticket_for(contact["id"], number, FORMS[self.form][0])
        except DeskError as error:
            dispatcher.utter_message(text=error.message)
            return {"numero_acionamento": None}
        if self.form == "avaliacao_form" and ticket["solution"]:
            dispatcher.utter_message(response="utter_solucao_aplicada", numero=ticket["number"],
                                     solucao=ticket["solution"])
        return {"numero_acionamento": ticket["number"]}

    def validate_confirmacao(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        return validate_yes_no(value, dispatcher, tracker)


def _free_text(value: Any, slot: str, minimum: int, dispatcher: CollectingDispatcher, too_short: str,
               tracker: Tracker) -> dict:
    if answered_question(dispatcher, tracker):
        return {slot: None}
    text = str(value or "").strip()
    if len(text) < minimum:
        if too_short.startswith("utter_"):
            dispatcher.utter_message(response=too_short)
        else:
            dispatcher.utter_message(text=too_short)
        return {slot: None}
    if len(text) > MAX_TEXT:
        dispatcher.utter_message(text=f"O texto passou do limite de {MAX_TEXT} caracteres. Resuma, por favor.")
        return {slot: None}
    return {slot: text}


class ValidateComplementoForm(_ValidateFollowup):
    form = "complemento_form"

    def name(self) -> str:
        return "validate_complemento_form"

    def validate_complemento(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        return _free_text(value, "complemento", 1, dispatcher, "O complemento não pode ficar em branco.",
                          tracker)


def parse_score(text: str) -> int | None:
    """A 1–5 score from "5", "nota 4", "dou 3 estrelas"; None if there is not exactly one."""
    words = {"um": 1, "uma": 1, "dois": 2, "duas": 2, "tres": 3, "quatro": 4, "cinco": 5}
    found = [int(d) for d in re.findall(r"(?<!\d)\d+(?!\d)", text)]
    found += [n for w, n in words.items() if re.search(rf"\b{w}\b", fold(text))]
    return found[0] if len(found) == 1 and 1 <= found[0] <= 5 else None


class ValidateAvaliacaoForm(_ValidateFollowup):
    form = "avaliacao_form"

    def name(self) -> str:
        return "validate_avaliacao_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        """The reason is asked only when the user disagrees with the solution."""
        if tracker.get_slot("concorda") is False:
            return domain_slots
        return [slot for slot in domain_slots if slot != "motivo"]

    def validate_nota(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict:
        score = int(value) if isinstance(value, (int, float)) and float(value).is_integer() else parse_score(str(value))
        if score is None or not 1 <= score <= 5:
            dispatcher.utter_message(response="utter_nota_invalida")
            return {"nota": None}
        return {"nota": float(score)}

    def validate_comentario(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        if answered_question(dispatcher, tracker):
            return {"comentario": None}
        text = str(value or "").strip()
        skipped = fold(text) in ("sem comentario", "nao", "nenhum", "pular", "nada")
        if not text or skipped or latest_intent(tracker) == "negar":
            return {"comentario": "-"}
        return _free_text(text, "comentario", 1, dispatcher, "O comentário não pode ficar em branco.", tracker)

    def validate_concorda(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        return validate_yes_no(value, dispatcher, tracker, slot="concorda")

    def validate_motivo(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        return _free_text(value, "motivo", MIN_REASON, dispatcher, "utter_motivo_curto", tracker)


class ValidateReaberturaForm(_ValidateFollowup):
    form = "reabertura_form"

    def name(self) -> str:
        return "validate_reabertura_form"

    def validate_motivo(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        return _free_text(value, "motivo", MIN_REASON, dispatcher, "utter_motivo_curto", tracker)


class ActionAskComplementoFormConfirmacao(Action):
    def name(self) -> str:
        return "action_ask_complemento_form_confirmacao"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_resumo_complemento", numero=tracker.get_slot("numero_acionamento"),
                                 texto=tracker.get_slot("complemento"))
        return []


class ActionAskAvaliacaoFormConfirmacao(Action):
    def name(self) -> str:
        return "action_ask_avaliacao_form_confirmacao"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        agrees = tracker.get_slot("concorda")
        outcome = ("Concorda com a solução: o acionamento será fechado" if agrees
                   else f"Não concorda: o acionamento será reaberto. Motivo: {tracker.get_slot('motivo')}")
        comment = tracker.get_slot("comentario")
        dispatcher.utter_message(response="utter_resumo_avaliacao", numero=tracker.get_slot("numero_acionamento"),
                                 nota=int(tracker.get_slot("nota") or 0),
                                 comentario="sem comentário" if comment in (None, "-") else comment, desfecho=outcome)
        return []


class ActionAskReaberturaFormConfirmacao(Action):
    def name(self) -> str:
        return "action_ask_reabertura_form_confirmacao"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_resumo_reabertura", numero=tracker.get_slot("numero_acionamento"),
                                 motivo=tracker.get_slot("motivo"))
        return []


class _SubmitFollowup(ConfirmedSubmit, ABC):
    """Runs the confirmed operation on the chosen ticket; a refusal by the backend is told in its own words."""

    forms = FOLLOWUP_FORMS

    @abstractmethod
    def name(self) -> str: ...

    @signed_in(refused=signed_out_done)
    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, done: list[EventType],
               contact: Contact) -> list[EventType]:
        try:
            self.apply(dispatcher, tracker, contact["id"], tracker.get_slot("numero_acionamento"))
        except DeskError as error:
            dispatcher.utter_message(text=error.message)
        return done

    @abstractmethod
    def apply(self, dispatcher: CollectingDispatcher, tracker: Tracker, contact_id: int, number: str) -> None: ...


class ActionComplementarAcionamento(_SubmitFollowup):
    declined = "utter_complemento_nao_registrado"

    def name(self) -> str:
        return "action_complementar_acionamento"

    def apply(self, dispatcher: CollectingDispatcher, tracker: Tracker, contact_id: int, number: str) -> None:
        ticket = desk().complement(contact_id, number, tracker.get_slot("complemento"))
        dispatcher.utter_message(response="utter_complemento_registrado", numero=ticket["number"],
                                 situacao=ticket["status_label"])


class ActionAvaliarAcionamento(_SubmitFollowup):
    declined = "utter_avaliacao_nao_registrada"

    def name(self) -> str:
        return "action_avaliar_acionamento"

    def apply(self, dispatcher: CollectingDispatcher, tracker: Tracker, contact_id: int, number: str) -> None:
        comment = tracker.get_slot("comentario")
        agrees = bool(tracker.get_slot("concorda"))
        ticket = desk().answer_evaluation(contact_id, number, int(tracker.get_slot("nota")),
                                          None if comment == "-" else comment, agrees, tracker.get_slot("motivo"))
        if agrees:
            dispatcher.utter_message(response="utter_avaliacao_fechado", numero=number)
            return
        dispatcher.utter_message(response="utter_avaliacao_reaberto")
        tell_reopened(dispatcher, ticket)


class ActionReabrirAcionamento(_SubmitFollowup):
    declined = "utter_reabertura_nao_registrada"

    def name(self) -> str:
        return "action_reabrir_acionamento"

    def apply(self, dispatcher: CollectingDispatcher, tracker: Tracker, contact_id: int, number: str) -> None:
        tell_reopened(dispatcher, desk().reopen(contact_id, number, tracker.get_slot("motivo")))


def tell_reopened(dispatcher: CollectingDispatcher, ticket: dict) -> None:
    dispatcher.utter_message(response="utter_acionamento_reaberto", numero=ticket["number"],
                             prazo=br_datetime(ticket["due_at"]))

