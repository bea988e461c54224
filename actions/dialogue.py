"""Dialogue-wide actions: leaving any form without side effects."""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import reset
from actions.contacts import CONTACT_SLOTS, REMOVAL_SLOTS
from actions.ticket_followup import FOLLOWUP_SLOTS
from actions.tickets import TICKET_SLOTS


class ActionCancelar(Action):
    """"cancelar" ends whatever form is running and forgets its answers: nothing is written."""

    def name(self) -> str:
        return "action_cancelar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.active_loop_name:
            dispatcher.utter_message(response="utter_cancelado")
        else:
            dispatcher.utter_message(text="Não há nada em andamento para cancelar. Posso ajudar em algo?")
        slots = dict.fromkeys(TICKET_SLOTS + CONTACT_SLOTS + REMOVAL_SLOTS + FOLLOWUP_SLOTS)
        return [ActiveLoop(None), SlotSet("requested_slot", None), *reset(*slots)]
