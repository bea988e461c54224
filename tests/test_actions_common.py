"""What every action shares (actions/common.py): one identity check per user message, bodies off the event loop."""
from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import current_contact, safe
from backend.desk import ServiceDesk
from backend.seed import PERSONAS
from tests.actions_helpers import (  # noqa: F401 — `plugged` is an autouse fixture
    DOMAIN,
    Spy,
    plugged,
    token_for,
    tracker,
)


def message(token: str, message_id: str) -> Tracker:
    """The tracker after a user message with this id (Rasa gives every message one)."""
    track = tracker("oi", token=token)
    track.latest_message["message_id"] = message_id
    return track


def test_one_identity_check_serves_every_action_of_a_message(plugged: ServiceDesk,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(plugged, monkeypatch, "identify")
    token = token_for(plugged, "ana")
    first = [current_contact(message(token, "m1")) for _ in range(3)]
    assert spy.calls == ["identify"]
    assert first[0] is not None and first[0]["cpf"] == PERSONAS["ana"][2].replace(".", "").replace("-", "")
    assert first[0] == first[1] == first[2] and first[0] is not first[1]  # copies: a caller cannot spoil the next
    current_contact(message(token, "m2"))
    assert spy.calls == ["identify", "identify"]


def test_a_removed_contact_is_refused_from_the_next_message_on(plugged: ServiceDesk) -> None:
    ana = token_for(plugged, "ana")
    bruno = token_for(plugged, "bruno")
    ana_contact = current_contact(message(ana, "m1"))
    bruno_contact = current_contact(message(bruno, "b1"))
    assert ana_contact is not None and bruno_contact is not None
    plugged.remove_contact(ana_contact["id"], bruno_contact["id"])
    assert current_contact(message(bruno, "b1")) is not None  # the same message: the check already made
    assert current_contact(message(bruno, "b2")) is None


def test_without_a_message_id_every_call_checks_the_token(plugged: ServiceDesk,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(plugged, monkeypatch, "identify")
    track = tracker("oi", token=token_for(plugged, "ana"))
    current_contact(track)
    current_contact(track)
    assert spy.calls == ["identify", "identify"]


class Blocking:
    """Waits (synchronously, like a database call) until the event loop has run something else meanwhile.
    Not a rasa_sdk Action subclass: the action server would register it (tests/test_action_registry.py)."""

    def __init__(self, loop_ran: threading.Event) -> None:
        self.loop_ran = loop_ran
        self.thread = ""

    def name(self) -> str:
        return "action_blocking"

    @safe
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        self.thread = threading.current_thread().name
        dispatcher.utter_message(text="ok" if self.loop_ran.wait(timeout=10) else "loop blocked")
        return []


def test_an_action_body_runs_off_the_event_loop(plugged: ServiceDesk) -> None:
    loop_ran = threading.Event()
    action = Blocking(loop_ran)
    dispatcher = CollectingDispatcher()

    async def both() -> Any:
        async def meanwhile() -> None:
            await asyncio.sleep(0.05)
            loop_ran.set()

        return await asyncio.gather(action.run(dispatcher, tracker("oi"), DOMAIN), meanwhile())

    asyncio.run(both())
    assert [m["text"] for m in dispatcher.messages] == ["ok"]
    assert action.thread.startswith("action") and action.thread != threading.main_thread().name
