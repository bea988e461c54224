"""bot/applied_events.py gives, for every tracker, exactly the events Rasa's own `applied_events` gives."""
from __future__ import annotations

import random

from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot import applied_events

FORMS = ["acionamento_form", "contato_form"]


def _random_event(rng: random.Random) -> Event:
    form = rng.choice(FORMS)
    makers = [
        (30, lambda: UserUttered("texto", {"name": rng.choice(["informar", "abrir_acionamento", "cancelar"])})),
        (30, lambda: ActionExecuted(rng.choice(["action_listen", form, form, "utter_ok", "action_x"]))),
        (8, lambda: ActiveLoop(rng.choice([form, None]))),
        (8, lambda: SlotSet("requested_slot", rng.choice(["descricao", None]))),
        (4, lambda: ActionExecutionRejected(form)),
        (4, lambda: BotUttered("ok")),
        (3, lambda: DefinePrevUserUtteredFeaturization(rng.choice([True, False]))),
        (2, lambda: UserUtteranceReverted()),
        (2, lambda: ActionReverted()),
        (1, lambda: Restarted()),
        (1, lambda: SessionStarted()),
    ]
    weights = [weight for weight, _ in makers]
    return rng.choices([make for _, make in makers], weights=weights)[0]()


def _form_conversation(turns: int) -> list[Event]:
    """A long conversation of ticket forms, with a rejected step and a revert now and then."""
    events: list[Event] = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    for turn in range(turns):
        events += [UserUttered("abrir", {"name": "abrir_acionamento"}), ActionExecuted("acionamento_form"),
                   ActiveLoop("acionamento_form"), SlotSet("requested_slot", "servico"),
                   ActionExecuted("action_listen")]
        for _ in range(3):
            events += [UserUttered("dado", {"name": "informar"}), ActionExecuted("acionamento_form"),
                       SlotSet("requested_slot", "descricao"), ActionExecuted("action_listen")]
        if turn % 4 == 1:
            events += [UserUttered("oi?", {"name": "ajuda"}), ActionExecutionRejected("acionamento_form"),
                       ActionExecuted("utter_ajuda"), ActionExecuted("acionamento_form"),
                       ActionExecuted("action_listen")]
        if turn % 5 == 2:
            events += [UserUttered("não", {"name": "negar"}), UserUtteranceReverted()]
        events += [ActiveLoop(None), SlotSet("requested_slot", None), ActionExecuted("action_registrar"),
                   ActionExecuted("action_listen")]
    return events


def _both(events: list[Event]) -> tuple[list[Event], list[Event]]:
    tracker = DialogueStateTracker.from_events("t", events)
    return applied_events.RASA_APPLIED_EVENTS(tracker), applied_events.applied_events(tracker)


def _same(expected: list[Event], got: list[Event]) -> bool:
    return len(expected) == len(got) and all(a is b for a, b in zip(expected, got, strict=True))


def test_random_event_sequences_apply_the_same_events() -> None:
    rng = random.Random(20261201)
    nonempty_results = 0
    for _ in range(3000):
        events = [_random_event(rng) for _ in range(rng.randint(0, 60))]
        expected, got = _both(events)
        assert _same(expected, got), events
        nonempty_results += bool(expected) and len(expected) < len(events)
    assert nonempty_results > 1000  # the comparison saw many trackers where events were undone


def test_a_long_conversation_of_forms_applies_the_same_events() -> None:
    expected, got = _both(_form_conversation(60))
    assert _same(expected, got)
    assert 0 < len(expected) < len(_form_conversation(60))


def test_install_replaces_the_method_and_uninstall_restores_it() -> None:
    applied_events.install()
    try:
        tracker = DialogueStateTracker.from_events("t", _form_conversation(3))
        assert _same(applied_events.RASA_APPLIED_EVENTS(tracker), tracker.applied_events())
        assert DialogueStateTracker.applied_events is applied_events.applied_events
    finally:
        applied_events.uninstall()
    assert DialogueStateTracker.applied_events is applied_events.RASA_APPLIED_EVENTS


def test_an_unchanged_tracker_is_not_walked_again_and_a_changed_one_is() -> None:
    tracker = DialogueStateTracker.from_events("t", _form_conversation(4))
    first = applied_events.applied_events(tracker)
    first.clear()  # a caller edits its list
    second = applied_events.applied_events(tracker)
    assert _same(applied_events.RASA_APPLIED_EVENTS(tracker), second)
    tracker.update(UserUttered("oi", {"name": "cumprimentar"}))
    third = applied_events.applied_events(tracker)
    assert len(third) == len(second) + 1 and third[-1] is tracker.events[-1]
    other = DialogueStateTracker.from_events("u", list(tracker.events))  # same length, same last event
    assert _same(applied_events.RASA_APPLIED_EVENTS(other), applied_events.applied_events(other))


def test_a_growing_tracker_walked_from_where_it_stopped_applies_the_same_events() -> None:
    rng = random.Random(7)
    resumed = 0
    for _ in range(300):
        tracker = DialogueStateTracker.from_events("t", [])
        for _ in range(rng.randint(1, 12)):  # the events of one turn, then the policies ask
            for _ in range(rng.randint(1, 6)):
                tracker.update(_random_event(rng))
            for _ in range(rng.randint(1, 3)):
                before = applied_events._last
                assert _same(applied_events.RASA_APPLIED_EVENTS(tracker), applied_events.applied_events(tracker))
                resumed += before is not None and before.tracker is tracker
    for turns in (1, 5, 30):  # and a long conversation of forms, a turn at a time
        tracker = DialogueStateTracker.from_events("t", [])
        for event in _form_conversation(turns):
            tracker.update(event)
            assert _same(applied_events.RASA_APPLIED_EVENTS(tracker), applied_events.applied_events(tracker))
    assert resumed > 1000
