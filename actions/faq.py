"""FAQ answers chosen by the ResponseSelector, plus the signed-in user's own deadlines for "qual o prazo?"."""
from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import Contact, current_contact, desk, safe, signed_in
from actions.deadline import is_ticket_deadline_question, tell_ticket_deadline
from backend.catalogue import fold
from backend.vocabulary import CALENDAR_24X7, PRIORITIES

log = logging.getLogger(__name__)
FAQ_DEADLINES = "utter_faq/prazo_atendimento"
PRIORITY_ORDER = list(PRIORITIES)
# A free-text answer (a description, a reason) is taken as a question to the FAQ only when both the intent and the
# chosen answer are this sure. Statements like "o erro acontece às 14h" may look like faq to the intent classifier,
# but no single FAQ answer fits them. Measured on the hold-out set: at 0.8, 135 of 143 FAQ questions pass (all with
# the right answer) and 1 of 252 other messages does (an off-topic one); descriptions stayed below 0.6.
FAQ_QUESTION_CONFIDENCE = 0.8
# ...and only when it is shaped as a question: "O Datavalid devolve tempo esgotado em metade das consultas desde as
# 10h" was read as the deadlines FAQ (0.8+) by a retrained model, and a description must not be lost to that.
QUESTION_OPENINGS = frozenset({
    "como", "qual", "quais", "quando", "onde", "quem", "quanto", "quanta", "quantos", "quantas", "que", "por que",
    "porque", "pq", "posso", "pode", "podem", "consigo", "tem", "existe", "existem", "ha", "o que", "o q", "oq",
    "quero saber", "queria saber", "gostaria de", "preciso saber", "me diz", "me diga", "me fala", "me explica",
})
SHORT_QUERY_WORDS = 4


def selected_faq(tracker: Tracker) -> str | None:
    """The FAQ response the ResponseSelector picked for the latest message (e.g. "utter_faq/horario_atendimento")."""
    selector = (tracker.latest_message or {}).get("response_selector") or {}
    response = (selector.get("faq") or {}).get("response") or {}
    action = response.get("utter_action")
    return action if isinstance(action, str) and action.startswith("utter_faq/") else None


def looks_like_a_question(text: str) -> bool:
    """A question mark, an interrogative opening ("como…", "o que…", "tem…") or a few words ("horário da central"):
    a description or a reason is a statement of more words, whatever the intent classifier makes of it."""
    words = fold(text).split()
    if "?" in text or len(words) <= SHORT_QUERY_WORDS:
        return True
    return words[0] in QUESTION_OPENINGS or " ".join(words[:2]) in QUESTION_OPENINGS


def asked_faq(tracker: Tracker) -> str | None:
    """The FAQ answer if the latest message is clearly a question to the FAQ, else None."""
    if not looks_like_a_question((tracker.latest_message or {}).get("text") or ""):
        return None
    intent = (tracker.latest_message or {}).get("intent") or {}
    if intent.get("name") != "faq" or (intent.get("confidence") or 0.0) < FAQ_QUESTION_CONFIDENCE:
        return None
    selector = (tracker.latest_message or {}).get("response_selector") or {}
    confidence = ((selector.get("faq") or {}).get("response") or {}).get("confidence") or 0.0
    return selected_faq(tracker) if confidence >= FAQ_QUESTION_CONFIDENCE else None


def say_faq(dispatcher: CollectingDispatcher, tracker: Tracker, answer: str) -> None:
    """The FAQ answer; for deadlines, also the ANS rules of the signed-in user's company."""
    dispatcher.utter_message(response=answer)
    if answer != FAQ_DEADLINES:
        return
    contact = current_contact(tracker)
    if contact is None:
        dispatcher.utter_message(response="utter_prazos_entrar")
    else:
        rules = desk().sla_rules_for(contact["id"])
        dispatcher.utter_message(response="utter_prazos_da_empresa", prazos=deadline_lines(rules))


def answered_question(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """For a form's free-text question: if the user asked the FAQ instead of answering, answer it (the form then asks
    its question again). Never fails: an error here only means the text is taken as the answer."""
    try:
        answer = asked_faq(tracker)
        if answer is None:
            return False
        say_faq(dispatcher, tracker, answer)
        return True
    except Exception:  # noqa: BLE001 — the user's answer must not be lost to a failure of this courtesy
        log.exception("answering a FAQ inside a form failed")
        return False


def describe_deadline(hours: int, calendar: str) -> str:
    """How users read a deadline: "4 horas corridas (24x7)" or "8 horas úteis"."""
    if calendar == CALENDAR_24X7:
        return f"{hours} hora corrida (24x7)" if hours == 1 else f"{hours} horas corridas (24x7)"
    return f"{hours} hora útil" if hours == 1 else f"{hours} horas úteis"


def deadline_lines(rules: list[dict[str, Any]]) -> str:
    """One line per scope (general, each service, the company's own agreement), priorities from most urgent."""
    groups: dict[tuple[bool, str | None], list[dict[str, Any]]] = {}
    for rule in rules:
        groups.setdefault((rule["company_specific"], rule["service"]), []).append(rule)
    lines = []
    def order(item: tuple[tuple[bool, str | None], list]) -> tuple[bool, bool, str]:
        (specific, service), _rules = item
        return specific, service is not None, service or ""

    for (specific, service), group in sorted(groups.items(), key=order):
        scope = service or "Demais serviços"
        if specific:
            scope += " (acordo da sua empresa)"
        group.sort(key=lambda r: PRIORITY_ORDER.index(r["priority"]))
        parts = "; ".join(f"{PRIORITIES[r['priority']]}: {describe_deadline(r['hours'], r['calendar'])}" for r in group)
        lines.append(f"• {scope} — {parts}")
    return "\n".join(lines)


class ActionResponderFaq(Action):
    """Says the FAQ answer; for deadlines, adds the ANS rules of the signed-in user's company. A deadline question
    about one of the user's tickets ("qual o prazo do SS-…?") gets that ticket's deadline instead."""

    def name(self) -> str:
        return "action_responder_faq"

    @safe
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if is_ticket_deadline_question(tracker):
            return await self.ticket_deadline(dispatcher, tracker, domain)
        answer = selected_faq(tracker)
        if answer is None:
            dispatcher.utter_message(response="utter_nao_entendi")
            return []
        say_faq(dispatcher, tracker, answer)
        return []

    @signed_in()
    async def ticket_deadline(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
                              contact: Contact) -> list[EventType]:
        return [SlotSet("autenticado", True), *tell_ticket_deadline(dispatcher, tracker, contact)]
