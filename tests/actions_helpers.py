"""Shared helpers for the action tests: a hand-built rasa_sdk Tracker, running an action, reading its replies.

The technique follows RasaHQ/financial-demo's action tests: plug an in-memory service desk into the actions,
build the Tracker the action server would receive, run the action and assert the exact events and messages.
"""
from __future__ import annotations

import asyncio
import string
from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

import actions.common
from backend import config, identity
from backend.clock import now_utc
from backend.desk import ServiceDesk
from backend.seed import PERSONAS
from tests.conftest import TEST_SECRET

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOMAIN: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
OTHER_SECRET = "um-segredo-que-nao-e-o-do-assistente-0123456789"
SENDER = "teste-acoes"

Message = dict[str, Any]


# --- fixtures (import them into a test module to use them) -----------------------------------


@pytest.fixture(autouse=True)
def plugged(desk: ServiceDesk, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ServiceDesk]:
    """The seeded in-memory desk behind every action; production settings, no persona, no .env read."""
    monkeypatch.setattr(config, "ENV_FILE", tmp_path / "absent.env")
    monkeypatch.delenv("ASSISTENTE_PERSONA", raising=False)
    monkeypatch.delenv("ASSISTENTE_ENV", raising=False)
    actions.common.set_desk(desk)
    yield desk
    actions.common.set_desk(None)


# --- identity --------------------------------------------------------------------------------


def token_for(desk: ServiceDesk, persona: str) -> str:
    """A valid identity token for a demo persona (ana, bruno, carla, diego)."""
    _name, _email, cpf, cnpj, _profiles, _phone = PERSONAS[persona]
    return desk.issue_token(cpf, cnpj)


def forged_token(contact_id: int, persona: str) -> str:
    """Well-formed and unexpired, but signed with a secret that is not the assistant's."""
    _name, _email, cpf, cnpj, _profiles, _phone = PERSONAS[persona]
    return identity.issue_token(OTHER_SECRET, contact_id, cpf, cnpj, ttl_minutes=60)


def expired_token(contact_id: int, persona: str) -> str:
    """Signed with the right secret, but its lifetime ended an hour ago."""
    _name, _email, cpf, cnpj, _profiles, _phone = PERSONAS[persona]
    issued = now_utc() - timedelta(hours=2)
    return identity.issue_token(TEST_SECRET, contact_id, cpf, cnpj, ttl_minutes=60, now=issued)


# --- trackers --------------------------------------------------------------------------------


def entity(name: str, value: Any) -> dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": 0, "extractor": "RegexEntityExtractor"}


def tracker(
    text: str = "",
    *,
    token: str | None = None,
    intent: str = "informar",
    entities: Iterable[dict[str, Any]] = (),
    slots: dict[str, Any] | None = None,
    form: str | None = None,
    candidates: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Tracker:
    """The tracker the action server receives after the user's message `text`.

    `candidates` are the slot values Rasa's form extracted from this message: like Rasa, they are appended as
    SlotSet events after the user's message (that is where rasa_sdk's FormValidationAction looks for slots to
    validate) and are already part of the slot values.
    """
    if metadata is None:
        metadata = {"token": token} if token is not None else {}
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "entities": list(entities),
        "metadata": metadata,
    }
    values = dict(slots or {})
    events: list[EventType] = [{"event": "user", "timestamp": None, "text": text, "parse_data": latest,
                                "metadata": metadata, "input_channel": "rest"}]
    for name, value in (candidates or {}).items():
        values[name] = value
        events.append(SlotSet(name, value))
    if form and "requested_slot" not in values and candidates:
        values["requested_slot"] = next(iter(candidates))
    return Tracker(
        sender_id=SENDER,
        slots=values,
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": form} if form else {},
        latest_action_name="action_listen",
    )


# --- running ---------------------------------------------------------------------------------


def run(action: Action, track: Tracker) -> tuple[list[EventType], list[Message]]:
    """Run an action (or a form validation action) as the action server would: events and messages. Like Rasa with
    selective domain (endpoints.yml), only form validators get the domain; every other action gets `{}`."""
    dispatcher = CollectingDispatcher()
    domain = DOMAIN if isinstance(action, FormValidationAction) else {}
    events = asyncio.run(action.run(dispatcher, track, domain))
    return events, dispatcher.messages


def validate(validator: Any, method: str, value: Any, track: Tracker) -> tuple[dict[str, Any], list[Message]]:
    """Call one `validate_<slot>` method directly: the returned slot values and the messages."""
    dispatcher = CollectingDispatcher()
    result = getattr(validator, method)(value, dispatcher, track, DOMAIN)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return result, dispatcher.messages


# --- reading the replies ---------------------------------------------------------------------


def slot_values(events: list[EventType]) -> dict[str, Any]:
    """The last value each SlotSet in `events` gives its slot."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def responses(messages: list[Message]) -> list[str | None]:
    """The domain response each message asks for (None for plain text)."""
    return [m.get("response") for m in messages]


def texts(messages: list[Message]) -> list[str | None]:
    return [m.get("text") for m in messages]


def kwargs_of(message: Message) -> dict[str, Any]:
    """The template variables an action passed with a response."""
    standard = {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}
    return {k: v for k, v in message.items() if k not in standard}


def render(message: Message) -> str:
    """What the user reads: the plain text, or the domain response filled with the action's variables.

    Fails if the response is not in domain.yml or one of its {placeholders} was not given.
    """
    if message.get("text"):
        return message["text"]
    name = message.get("response")
    assert name in DOMAIN["responses"], f"response {name!r} is not in domain.yml"
    template = DOMAIN["responses"][name][0]["text"]
    wanted = {field for _, field, _, _ in string.Formatter().parse(template) if field}
    given = kwargs_of(message)
    missing = wanted - set(given)
    assert not missing, f"{name} needs {sorted(missing)}"
    return template.format(**given)


def all_text(messages: list[Message]) -> str:
    """Every message as rendered, plus button titles and payloads: what could reach the user's screen."""
    parts = []
    for message in messages:
        parts.append(render(message))
        for button in message.get("buttons") or []:
            parts += [str(button.get("title")), str(button.get("payload"))]
    return "\n".join(parts)


class Spy:
    """Records calls to some ServiceDesk methods (still calling them), to prove what an action read or wrote."""

    def __init__(self, desk: ServiceDesk, monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
        self.calls: list[str] = []
        for name in names:
            original = getattr(desk, name)
            monkeypatch.setattr(desk, name, self._recording(name, original))

    def _recording(self, name: str, original: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return original(*args, **kwargs)

        return call


# Every ServiceDesk method that reads or writes tickets or contacts on a user's behalf.
DATA_METHODS = ("open_ticket", "tickets_for", "ticket_for", "contacts_of", "add_contact", "remove_contact",
                "complement", "evaluate", "reopen", "accept_solution", "answer_evaluation")
