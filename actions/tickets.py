"""Ticket skills: open (acionamento_form), consult, and the ticket offered for contact changes."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    ConfirmedSubmit,
    Contact,
    FormValidator,
    br_datetime,
    clear_failures,
    desk,
    form_slots,
    latest_entity,
    latest_intent,
    refuse_answer,
    reset,
    safe,
    safe_validator,
    signed_in,
    signed_out_done,
    signed_out_resetting,
)
from actions.deadline import asks_deadline, deadline_note, tell_ticket_deadline
from actions.faq import answered_question
from actions.flow import CORRECTING_SLOT, wants_correction
from actions.ticket_text import (
    infer_category,
    is_detailed,
    parse_category,
    parse_impact,
    parse_yes_no,
    stated_impact,
)
from backend import numbering
from backend.errors import DeskError, InvalidInput
from backend.tickets import MAX_TEXT
from backend.vocabulary import CATEGORIES, IMPACTS

TICKET_FORM = "acionamento_form"
RECENT_TICKETS = 5


class ActionPrepararAcionamento(Action):
    """Checks who is asking and pre-fills the form with what the first message already says."""

    def name(self) -> str:
        return "action_preparar_acionamento"

    @safe
    @signed_in(refused=signed_out_resetting(TICKET_FORM))
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
                  contact: Contact) -> list[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        events = [SlotSet("autenticado", True), *reset(*form_slots(domain, TICKET_FORM))]
        return events + [SlotSet(slot, value) for slot, value in stated_ticket(text, latest_entity(tracker, "servico"))]


def stated_ticket(text: str, service: str | None) -> list[tuple[str, str]]:
    """The form's slots a first message states: service (NLU entity), category, impact when said in so many words
    (it makes the category a problem), and the message itself as the description when it describes something."""
    if text.startswith("/"):
        return [("servico", service)] if service else []
    impact = stated_impact(text)
    category = infer_category(text) or ("problema" if impact else None)
    stated = [("servico", service), ("categoria", category), ("impacto", impact if category == "problema" else None),
              ("descricao", text if is_detailed(text) else None)]
    return [(slot, value) for slot, value in stated if value]


class ValidateAcionamentoForm(FormValidator):
    def name(self) -> str:
        return "validate_acionamento_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        """Impact is asked only for problems."""
        if tracker.get_slot("categoria") != "problema":
            return [slot for slot in domain_slots if slot != "impacto"]
        return domain_slots

    @safe_validator("servico")
    def validate_servico(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        typed = latest_entity(tracker, "servico") or value
        try:
            code = desk().find_service(str(typed))["code"]
        except InvalidInput as error:
            return refuse_answer(dispatcher, tracker, "servico", error.message)
        return {"servico": code, **clear_failures(tracker, "servico")}

    def validate_categoria(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        code = value if value in CATEGORIES else parse_category(str(value))
        if code is None:
            dispatcher.utter_message(response="utter_categoria_invalida")
            return {"categoria": None}
        return {"categoria": code}

    def validate_impacto(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        code = value if value in IMPACTS else parse_impact(str(value))
        if code is None:
            dispatcher.utter_message(response="utter_impacto_invalido")
            return {"impacto": None}
        return {"impacto": code}

    def validate_descricao(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        if answered_question(dispatcher, tracker):
            return {"descricao": None}
        text = str(value or "").strip()
        if len(text) < 5:
            dispatcher.utter_message(text="A descrição ficou muito curta. Conte um pouco mais, por favor.")
            return {"descricao": None}
        if len(text) > MAX_TEXT:
            dispatcher.utter_message(text=f"A descrição passou do limite de {MAX_TEXT} caracteres. Resuma, por favor.")
            return {"descricao": None}
        return {"descricao": text}

    def validate_confirmacao(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        return validate_yes_no(value, dispatcher, tracker)


def validate_yes_no(value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str = "confirmacao") -> dict:
    """Shared by every form's last question; "Corrigir" to the summary asks which field (actions/flow.py)."""
    if slot == "confirmacao" and wants_correction(value):
        return {slot: None, CORRECTING_SLOT: True}
    answer = value if isinstance(value, bool) else parse_yes_no(str(value), latest_intent(tracker))
    if answer is None:
        dispatcher.utter_message(response="utter_responda_sim_ou_nao")
    return {slot: answer}


class ActionAskServico(Action):
    """Services as buttons, from the catalogue."""

    def name(self) -> str:
        return "action_ask_servico"

    @safe
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        buttons = [{"title": s["name"], "payload": s["name"]} for s in desk().services()]
        dispatcher.utter_message(response="utter_escolha_servico", buttons=buttons)
        return []


class ActionAskAcionamentoFormConfirmacao(Action):
    def name(self) -> str:
        return "action_ask_acionamento_form_confirmacao"

    @safe
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        names = {s["code"]: s["name"] for s in desk().services()}
        impact = tracker.get_slot("impacto")
        dispatcher.utter_message(
            response="utter_resumo_acionamento",
            servico=names.get(tracker.get_slot("servico"), tracker.get_slot("servico")),
            categoria=CATEGORIES.get(tracker.get_slot("categoria"), ""),
            impacto=f", impacto {impact.replace('medio', 'médio')}" if impact else "",
            descricao=tracker.get_slot("descricao"),
        )
        return []


class ActionAbrirAcionamento(ConfirmedSubmit):
    """Submit: registers the confirmed ticket and tells number, deadline and e-mail."""

    forms = (TICKET_FORM,)
    declined = "utter_acionamento_nao_registrado"

    def name(self) -> str:
        return "action_abrir_acionamento"

    @signed_in(refused=signed_out_done)
    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, done: list[EventType],
               contact: Contact) -> list[EventType]:
        ticket = desk().open_ticket(
            contact["id"],
            service=tracker.get_slot("servico"),
            category=tracker.get_slot("categoria"),
            description=tracker.get_slot("descricao"),
            impact=tracker.get_slot("impacto"),
        )
        dispatcher.utter_message(
            response="utter_acionamento_registrado",
            numero=ticket["number"],
            prazo=br_datetime(ticket["due_at"]),
            email=ticket["requester_email"],
        )
        return [*done, SlotSet("numero_acionamento", ticket["number"])]


class ActionConsultarAcionamento(Action):
    """With a number: its state in words; without: the user's recent tickets as buttons. Asked for a deadline
    ("quando vence o SS-…?"): that ticket's deadline, or every open ticket's."""

    def name(self) -> str:
        return "action_consultar_acionamento"

    @safe
    @signed_in()
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
                  contact: Contact) -> list[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        if asks_deadline(text):
            return [SlotSet("autenticado", True), *tell_ticket_deadline(dispatcher, tracker, contact)]
        number = latest_entity(tracker, "numero_acionamento") or numbering.parse_number(text)
        if number:
            try:
                ticket = desk().ticket_for(contact["id"], number)
            except DeskError as error:
                dispatcher.utter_message(text=error.message)
                return [SlotSet("autenticado", True), SlotSet("numero_acionamento", None)]
            describe_ticket(dispatcher, ticket)
            return [SlotSet("autenticado", True), SlotSet("numero_acionamento", ticket["number"])]
        tickets = desk().tickets_for(contact["id"], limit=RECENT_TICKETS)
        if not tickets:
            dispatcher.utter_message(response="utter_sem_acionamentos")
        else:
            buttons = [
                {"title": f"{t['number']} · {t['service']} · {t['status_label']}",
                 "payload": f'/consultar_acionamento{{"numero_acionamento":"{t["number"]}"}}'}
                for t in tickets
            ]
            dispatcher.utter_message(response="utter_escolha_acionamento", buttons=buttons)
        return [SlotSet("autenticado", True)]


def describe_ticket(dispatcher: CollectingDispatcher, ticket: dict) -> None:
    """The ticket's state; when support waits for the user, their question comes first and an offer to answer."""
    question = ticket.get("pending_question")
    if question:
        dispatcher.utter_message(response="utter_pergunta_pendente", numero=ticket["number"], pergunta=question)
    dispatcher.utter_message(
        response="utter_acionamento_situacao",
        numero=ticket["number"],
        servico=ticket["service"],
        situacao=ticket["status_label"],
        nivel=ticket["level"],
        prazo=br_datetime(ticket["due_at"]),
        atraso=deadline_note(ticket),
        atualizado=br_datetime(ticket["updated_at"]),
    )
    if question:
        dispatcher.utter_message(response="utter_oferta_responder", buttons=[
            {"title": "Responder agora",
             "payload": f'/complementar_acionamento{{"numero_acionamento":"{ticket["number"]}"}}'},
            {"title": "Agora não", "payload": "/negar"},
        ])


class ActionAlterarContato(Action):
    """Data changes go through support: explain, and offer the ticket pre-filled."""

    def name(self) -> str:
        return "action_alterar_contato"

    @safe
    @signed_in()
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
                  contact: Contact) -> list[EventType]:
        asked = ((tracker.latest_message or {}).get("text") or "").strip()
        description = "Alteração de dados de contato na Área do Cliente"
        if asked and not asked.startswith("/"):
            description += f": {asked}"
        dispatcher.utter_message(response="utter_alterar_contato")
        return [
            SlotSet("autenticado", True),
            *reset(*form_slots(domain, TICKET_FORM)),
            SlotSet("servico", "area_cliente"),
            SlotSet("categoria", "solicitacao"),
            SlotSet("descricao", description),
        ]
