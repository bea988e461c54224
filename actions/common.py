"""What every action shares: the service desk, who is talking, and never crashing a conversation."""
from __future__ import annotations

import asyncio
import copy
import functools
import inspect
import logging
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import flow
from actions.domain_forms import all_forms, form_slots  # noqa: F401 — part of what actions share
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


def signed_out(*_args: Any) -> list[EventType]:
    """What an action returns when nobody is signed in: the rules then skip the skill's form."""
    return [SlotSet("autenticado", False)]


def signed_out_resetting(*forms: str) -> Callable[..., list[EventType]]:
    """`refused` for an action that prepares `forms`: nobody signed in, and the forms' old answers forgotten."""
    return lambda *_args: [SlotSet("autenticado", False), *reset(*form_slots({}, *forms))]


def signed_out_done(_self: Any, _dispatcher: Any, _tracker: Any, done: list[EventType]) -> list[EventType]:
    """`refused` for a `ConfirmedSubmit.submit`: nothing written, the form's answers forgotten."""
    return [SlotSet("autenticado", False), *done]


def asks_nothing(*_args: Any) -> list[EventType]:
    """`refused` for a form's question: the sign-in message is all that is said."""
    return []


def refuses_slot(slot: str) -> Callable[..., dict]:
    """`refused` for a `validate_<slot>`: the answer is not taken."""
    return lambda *_args: {slot: None}


def signed_in(refused: Callable[..., Any] = signed_out) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The signed-in guard, written once: the decorated method (an action's `run`, a `submit`, a `validate_<slot>`)
    receives the contact behind the latest message as `contact=`. Without one, the user is asked to sign in on the
    Área do Cliente and the method returns `refused(self, *args)` instead: nothing is read or written."""

    def decorate(method: Callable[..., Any]) -> Callable[..., Any]:
        def guard(args: tuple[Any, ...]) -> Contact | None:
            tracker = next(a for a in args if isinstance(a, Tracker))
            contact = current_contact(tracker)
            if contact is None:
                sign_in(next(a for a in args if isinstance(a, CollectingDispatcher)))
            return contact

        if inspect.iscoroutinefunction(method):
            @functools.wraps(method)
            async def async_wrapper(self: Any, *args: Any) -> Any:
                contact = guard(args)
                if contact is None:
                    return refused(self, *args)
                return await method(self, *args, contact=contact)

            return async_wrapper

        @functools.wraps(method)
        def wrapper(self: Any, *args: Any) -> Any:
            contact = guard(args)
            return refused(self, *args) if contact is None else method(self, *args, contact=contact)

        return wrapper

    return decorate


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
        done = reset(*form_slots(domain, *self.forms), *flow.flow_slots_set(tracker))
        if tracker.get_slot("confirmacao") is not True:
            dispatcher.utter_message(response=self.declined)
            return [*done, *flow.come_back(tracker, domain)]
        return [*self.submit(dispatcher, tracker, done), *flow.come_back(tracker, domain)]

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

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        candidates = {k: v for k, v in tracker.slots_to_validate().items() if v is not None}
        # The flow questions (actions/flow.py) are no form's own slots: rasa-sdk would skip them, so they are
        # validated here first.
        flow_result: dict[str, Any] = {}
        for slot, check in ((flow.RESUME_SLOT, self.validate_retomar), (flow.FIELD_SLOT, self.validate_campo_correcao)):
            if slot in candidates:
                flow_result.update(check(candidates.pop(slot), dispatcher, tracker, domain))
        tracker.slots.update(flow_result)
        tracker.slots_to_validate = lambda: candidates
        events = await super().get_validation_events(dispatcher, tracker, domain)
        return [*(SlotSet(slot, value) for slot, value in flow_result.items()), *events]

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> EventType | None:
        """Besides its own slots, every form may ask to come back after a change of course and which field to
        correct (actions/flow.py); "não" to coming back ends the form with nothing written."""
        if tracker.get_slot(flow.RESUME_SLOT) is False:
            return SlotSet(flow.REQUESTED_SLOT, None)
        detour = flow.detour_slot(tracker, self.form_name())
        if detour:
            return SlotSet(flow.REQUESTED_SLOT, detour)
        # The flow questions close every form's slot list (domain.yml): once the form's own slots are answered the
        # form ends here, instead of Rasa asking them.
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        if all(tracker.slots.get(slot) is not None for slot in required if slot not in flow.FLOW_SLOTS):
            return SlotSet(flow.REQUESTED_SLOT, None)
        return await super().next_requested_slot(dispatcher, tracker, domain)

    def validate_retomar(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict:
        return flow.resume_answer(value, tracker, dispatcher)

    def validate_campo_correcao(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict:
        field = flow.chosen_field(value, flow.fields_to_correct(tracker, self.form_name(), domain))
        if field is None:
            dispatcher.utter_message(response="utter_campo_correcao_invalido")
            return {flow.FIELD_SLOT: None}
        return flow.correction_events(field)


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
