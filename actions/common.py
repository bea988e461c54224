"""What every action shares: the service desk, who is talking, and never crashing a conversation."""
from __future__ import annotations

import asyncio
import copy
import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from abc import ABC, abstractmethod

import yaml
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from backend.clock import format_br
from backend.config import load_settings
from backend.desk import ServiceDesk
from backend.errors import DeskError, InvalidToken
from backend.seed import PERSONAS

log = logging.getLogger(__name__)
_desk: ServiceDesk | None = None

Contact = dict[str, Any]

# Action bodies call the service desk synchronously (SQLAlchemy): they run in these threads, each with its own event
# loop, so that one conversation's database call never stalls the action server's loop and every other conversation.
ACTION_THREADS = 8
_pool = ThreadPoolExecutor(max_workers=ACTION_THREADS, thread_name_prefix="action")
_thread_state = threading.local()
_desk_lock = threading.Lock()

# Who spoke, per user message: the several actions of one turn (validation, ask, submit...) share one identity check.
# The key holds the message id, so the next message is checked again (a revoked or expired token is refused then).
IDENTITY_CACHE_SIZE = 2048
_identities: OrderedDict[tuple[str, str, str], Contact | None] = OrderedDict()
_identities_lock = threading.Lock()


def desk() -> ServiceDesk:
    """One ServiceDesk per action-server process, built from the environment on first use."""
    global _desk
    if _desk is None:
        with _desk_lock:  # the first actions may arrive together, in several worker threads
            if _desk is None:
                _desk = ServiceDesk.from_settings()
    return _desk


def set_desk(service_desk: ServiceDesk | None) -> None:
    """Tests plug in their own (in-memory) service desk."""
    global _desk
    _desk = service_desk
    with _identities_lock:
        _identities.clear()


def current_contact(tracker: Tracker) -> Contact | None:
    """The contact behind the latest message: its signed token is verified once per user message.

    In development only (ASSISTENTE_ENV=development), `rasa shell` may speak as a demo persona chosen by
    ASSISTENTE_PERSONA, since the shell cannot send metadata.
    """
    latest = tracker.latest_message or {}
    token = (latest.get("metadata") or {}).get("token")
    message_id = latest.get("message_id")
    if not token or not message_id:  # nothing to share a check with: verify now
        return _identify(token)
    key = (tracker.sender_id, message_id, token)
    with _identities_lock:
        if key in _identities:
            _identities.move_to_end(key)
            return copy.deepcopy(_identities[key])
    contact = _identify(token)
    with _identities_lock:
        _identities[key] = copy.deepcopy(contact)
        while len(_identities) > IDENTITY_CACHE_SIZE:
            _identities.popitem(last=False)
    return contact


def _identify(token: str | None) -> Contact | None:
    try:
        if token:
            return desk().identify(token)
        persona = _development_persona()
        if persona:
            return persona
        return None
    except InvalidToken as error:
        log.info("token refused: %s", error.reason)
        return None


def _development_persona() -> Contact | None:
    import os

    name = os.environ.get("ASSISTENTE_PERSONA", "").strip().lower()
    if not name or name not in PERSONAS or not load_settings().is_development:
        return None
    _name, _email, cpf, cnpj, _profiles, _phone = PERSONAS[name]
    return desk().identify(desk().issue_token(cpf, cnpj, ttl_minutes=5))


def sign_in(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(response="utter_entrar_area_cliente")


Run = Callable[..., Awaitable[list[EventType]]]


async def off_loop(run: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Await `run(*args)` in a worker thread, on that thread's own event loop (see ACTION_THREADS)."""
    def in_thread() -> Any:
        loop = getattr(_thread_state, "loop", None)
        if loop is None:
            loop = _thread_state.loop = asyncio.new_event_loop()
        return loop.run_until_complete(run(*args))

    return await asyncio.get_running_loop().run_in_executor(_pool, in_thread)


def _in_worker() -> bool:
    return getattr(_thread_state, "loop", None) is not None


def safe(run: Run) -> Run:
    """A backend refusal is told to the user in its own words; any other failure gets an apology with the
    human channels and is logged — the conversation always goes on. The body runs off the event loop."""

    @functools.wraps(run)
    async def wrapper(self: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        if _in_worker():  # already off the loop: one action running another
            return await _guarded(run, self, dispatcher, tracker, domain)
        return await off_loop(_guarded, run, self, dispatcher, tracker, domain)

    return wrapper


async def _guarded(run: Run, self: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                   domain: dict) -> list[EventType]:
    try:
        return await run(self, dispatcher, tracker, domain)
    except DeskError as error:
        dispatcher.utter_message(text=error.message)
        return []
    except Exception:  # noqa: BLE001 — last line of defence for the conversation
        log.exception("action %s failed", self.name())
        dispatcher.utter_message(response="utter_erro_tecnico")
        return []


class ConfirmedSubmit(Action, ABC):
    """The action after every form: the user's "sim" to the summary makes it `submit`; anything else is told that
    nothing was written. Either way the answers of `forms` (their slots, from the domain) are forgotten: `done`
    resets them."""

    forms: tuple[str, ...] = ()
    declined = ""  # the response saying nothing was written

    @abstractmethod
    def name(self) -> str: ...

    @safe
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        done = reset(*form_slots(domain, *self.forms))
        if tracker.get_slot("confirmacao") is not True:
            dispatcher.utter_message(response=self.declined)
            return done
        return self.submit(dispatcher, tracker, done)

    @abstractmethod
    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, done: list[EventType]) -> list[EventType]:
        """Do what was confirmed; returns the events, `done` among them."""


class FormValidator(FormValidationAction, ABC):
    """Base of the forms' validators: validates only real answers.

    rasa-sdk validates every slot set since the last user message, including the `None`s a preparing action uses to
    clear old answers; those would be "validated" as empty input and refused with error messages.
    """

    @abstractmethod
    def name(self) -> str: ...

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        """The whole validation (extraction, `validate_<slot>`, required slots) runs off the event loop."""
        if _in_worker():
            return await super().run(dispatcher, tracker, domain)
        return await off_loop(super().run, dispatcher, tracker, domain)

    async def get_validation_events(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        candidates = tracker.slots_to_validate
        tracker.slots_to_validate = lambda: {k: v for k, v in candidates().items() if v is not None}  # type: ignore[method-assign]
        return await super().get_validation_events(dispatcher, tracker, domain)


def safe_validator(slot: str) -> Callable[[Callable[..., dict]], Callable[..., dict]]:
    """Like `safe`, for a form's `validate_<slot>`: a failure leaves the slot empty (asked again) instead of
    crashing the validation action, which would silently drop the user's turn."""

    def decorate(validate: Callable[..., dict]) -> Callable[..., dict]:
        @functools.wraps(validate)
        def wrapper(self: Any, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict:
            try:
                return validate(self, value, dispatcher, tracker, domain)
            except DeskError as error:
                dispatcher.utter_message(text=error.message)
            except Exception:  # noqa: BLE001 — last line of defence for the conversation
                log.exception("validation of %s failed", slot)
                dispatcher.utter_message(response="utter_erro_tecnico")
            return {slot: None}

        return wrapper

    return decorate


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    return next(tracker.get_latest_entity_values(entity), None)


def latest_intent(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def br_datetime(iso: str) -> str:
    """An ISO 8601 string from the backend as users read it: dd/mm/aaaa hh:mm (Brasília)."""
    return format_br(datetime.fromisoformat(iso))


def reset(*slots: str) -> list[EventType]:
    return [SlotSet(slot, None) for slot in slots]


@functools.cache
def project_forms() -> dict[str, Any]:
    """The `forms:` of the project's domain.yml. With selective domain (endpoints.yml) Rasa sends the domain to the
    form validators only; every other action gets `{}` and reads the forms from here."""
    domain = yaml.safe_load((Path(__file__).resolve().parent.parent / "domain.yml").read_text(encoding="utf-8"))
    return dict(domain["forms"])


def all_forms(domain: dict) -> tuple[str, ...]:
    return tuple(domain.get("forms") or project_forms())


def form_slots(domain: dict, *forms: str) -> list[str]:
    """The slots the answers of `forms` live in, read from the domain's `forms:` (never restated here): their
    required slots in order, the confirmation last, then the retry counter `tentativas`. What preparing a form,
    submitting it and cancelling it forget. `domain` may be the `{}` a plain action receives."""
    declared = domain.get("forms") or project_forms()
    answers = [slot for form in forms for slot in declared[form]["required_slots"] if slot != "confirmacao"]
    return list(dict.fromkeys([*answers, "confirmacao", "tentativas"]))


def count_failure(tracker: Tracker, slot: str) -> tuple[int, dict[str, Any]]:
    """Consecutive invalid answers for a slot, and the slot `tentativas` updated."""
    tries = dict(tracker.get_slot("tentativas") or {})
    tries[slot] = tries.get(slot, 0) + 1
    return tries[slot], {"tentativas": tries}


def refuse_answer(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, message: str) -> dict:
    """A form answer refused: say why; after two misses in a row, also show the expected format with an example."""
    dispatcher.utter_message(text=message)
    misses, tries = count_failure(tracker, slot)
    if misses >= 2:
        dispatcher.utter_message(response=f"utter_exemplo_{slot}")
    return {slot: None, **tries}


def clear_failures(tracker: Tracker, slot: str) -> dict[str, Any]:
    tries = dict(tracker.get_slot("tentativas") or {})
    tries.pop(slot, None)
    return {"tentativas": tries or None}
