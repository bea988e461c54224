"""A ticket's own deadline: "qual o prazo do SS-…?", "quando vence meu chamado?", "até quando resolvem?".

The general question ("qual o prazo de atendimento da CSS?") keeps the FAQ answer; a question about the user's own
ticket gets that ticket's deadline (ANS), state and level, and about their tickets in general, every open one.
"""
from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import Contact, br_datetime, desk, latest_entity
from backend import numbering
from backend.catalogue import fold
from backend.errors import DeskError
from backend.vocabulary import OPEN_STATUSES

OPEN_TICKETS_SHOWN = 10

# Matched on folded text (no accents, lower case), as whole words or phrases.
_DEADLINE_WORDS = ("prazo", "prazos", "vence", "vencem", "venceu", "vencer", "vencimento", "ate quando",
                   "quando resolvem", "quando vao resolver", "quando vai ser resolvido", "quando sera resolvido",
                   "quando fica pronto",
                   "quanto tempo falta", "previsao", "ans", "data limite", "quando termina", "quando acaba")
# Words that point to a ticket of the user's, not to the CSS in general.
_OWN_TICKET_WORDS = ("meu", "meus", "minha", "minhas", "esse", "este", "desse", "deste", "nesse", "neste", "dele",
                     "dela", "que abri", "que eu abri", "abertos", "em aberto")
_PLURAL_WORDS = ("meus", "minhas", "chamados", "acionamentos", "tickets", "solicitacoes", "abertos", "todos")


def _mentions(text: str, words: tuple[str, ...]) -> bool:
    padded = f" {' '.join(fold(text).replace('?', ' ').replace(',', ' ').split())} "
    return any(f" {word} " in padded for word in words)


def asks_deadline(text: str | None) -> bool:
    """The message asks when something is due."""
    return _mentions(text or "", _DEADLINE_WORDS)


def refers_to_own_ticket(text: str | None) -> bool:
    return _mentions(text or "", _OWN_TICKET_WORDS)


def deadline_note(ticket: dict[str, Any]) -> str:
    """What qualifies a ticket's deadline: overdue, or paused while support waits for the user."""
    if ticket["late"]:
        return " — prazo vencido"
    if ticket["sla_status"] == "pausado":
        return " — suspenso até a sua resposta"
    return ""


def ticket_asked_about(tracker: Tracker) -> str | None:
    """The ticket a deadline question is about: a number in the message, else the one just talked about
    ("qual o prazo dele?"), unless the user asks about all of theirs."""
    text = (tracker.latest_message or {}).get("text") or ""
    number = latest_entity(tracker, "numero_acionamento") or numbering.parse_number(text)
    if number:
        return number
    if refers_to_own_ticket(text) and not _mentions(text, _PLURAL_WORDS):
        return tracker.get_slot("numero_acionamento")
    return None


def is_ticket_deadline_question(tracker: Tracker) -> bool:
    """A deadline question about a ticket of the user's (by number, by "meu chamado", or the one just talked about)."""
    text = (tracker.latest_message or {}).get("text") or ""
    if not asks_deadline(text):
        return False
    return bool(latest_entity(tracker, "numero_acionamento") or numbering.parse_number(text)
                or refers_to_own_ticket(text))


def tell_ticket_deadline(dispatcher: CollectingDispatcher, tracker: Tracker, contact: Contact) -> list[EventType]:
    """That ticket's deadline, or every open ticket's; the backend decides what the user may see."""
    number = ticket_asked_about(tracker)
    if number is None:
        return _tell_open_tickets(dispatcher, contact)
    try:
        ticket = desk().ticket_for(contact["id"], number)
    except DeskError as error:
        dispatcher.utter_message(text=error.message)
        return [SlotSet("numero_acionamento", None)]
    if ticket["status"] in OPEN_STATUSES:
        dispatcher.utter_message(
            response="utter_prazo_acionamento",
            numero=ticket["number"], servico=ticket["service"], situacao=ticket["status_label"],
            nivel=ticket["level"], prazo=br_datetime(ticket["due_at"]), atraso=deadline_note(ticket),
        )
    else:
        dispatcher.utter_message(response="utter_prazo_acionamento_encerrado", numero=ticket["number"],
                                 servico=ticket["service"], situacao=ticket["status_label"])
    return [SlotSet("numero_acionamento", ticket["number"])]


def _tell_open_tickets(dispatcher: CollectingDispatcher, contact: Contact) -> list[EventType]:
    tickets = desk().tickets_for(contact["id"], open_only=True, limit=OPEN_TICKETS_SHOWN)
    if not tickets:
        dispatcher.utter_message(response="utter_sem_acionamentos_abertos")
        return []
    lines = "\n".join(
        f"• {t['number']} · {t['service']} · {t['status_label']} · nível {t['level']} · prazo "
        f"{br_datetime(t['due_at'])}{deadline_note(t)}"
        for t in tickets
    )
    dispatcher.utter_message(response="utter_prazos_acionamentos_abertos", lista=lines)
    return []
