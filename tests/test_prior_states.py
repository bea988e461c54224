"""bot/prior_states.py gives the policies the states Rasa computes, however often they ask and whatever they do to
what they get."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import prior_states

ROOT = Path(__file__).resolve().parent.parent
ARGUMENTS = [
    {},
    {"omit_unset_slots": True},
    {"ignore_rule_only_turns": True, "rule_only_data": {"rule_only_slots": ["retomar"], "rule_only_loops": []}},
    {"ignore_rule_only_turns": False, "rule_only_data": {"rule_only_slots": ["retomar"], "rule_only_loops": []}},
]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture(autouse=True)
def installed() -> None:
    prior_states.install()
    yield
    prior_states.uninstall()


def conversation(domain: Domain, rng: random.Random, turns: int) -> list[Event]:
    """Turns of the assistant's own intents, actions, forms and slots, some of them rule-only turns."""
    forms = list(domain.form_names)
    actions = [name for name in domain.action_names_or_texts if name.startswith(("action_", "utter_"))]
    slots = [slot for slot in domain.slots if slot.type_name in ("text", "bool", "categorical", "any")]
    events: list[Event] = [ActionExecuted("action_session_start"), ActionExecuted("action_listen")]
    for _ in range(turns):
        events.append(UserUttered("texto", {"name": rng.choice(domain.intents), "confidence": 1.0}))
        if rng.random() < 0.4:
            form = rng.choice(forms)
            events += [ActionExecuted(form), ActiveLoop(form)]
        for _ in range(rng.randint(0, 2)):
            slot = rng.choice(slots)
            value = rng.choice(list(slot.values)) if slot.type_name == "categorical" else "valor"
            events.append(SlotSet(slot.name, value if slot.type_name != "bool" else rng.random() < 0.5))
        events.append(ActionExecuted(rng.choice(actions), hide_rule_turn=rng.random() < 0.3))
        if rng.random() < 0.2:
            events.append(ActiveLoop(None))
        events.append(ActionExecuted("action_listen"))
    return events


def aliasing(states: list[dict]) -> list[tuple[int, str, int, str]]:
    """Which sub-states are the same object as which."""
    seen: dict[int, tuple[int, str]] = {}
    pairs = []
    for index, state in enumerate(states):
        for name, sub_state in state.items():
            if id(sub_state) in seen:
                pairs.append((*seen[id(sub_state)], index, name))
            seen.setdefault(id(sub_state), (index, name))
    return pairs


def test_the_policies_get_rasas_states_every_time(domain: Domain) -> None:
    rng = random.Random(42)
    compared = 0
    for _ in range(40):
        tracker = DialogueStateTracker.from_events("t", conversation(domain, rng, rng.randint(1, 25)), domain.slots)
        for arguments in ARGUMENTS * 2:  # the second round comes from the memo
            expected = prior_states.RASA_STATES_FOR_TRACKER_HISTORY(domain, tracker, **arguments)
            got = tracker.past_states(domain, **arguments)
            assert got == expected
            assert aliasing(got) == aliasing(expected)
            compared += len(expected)
            for state in got:  # a policy edits what it gets: the next one must not see it
                state.get("user", {}).pop("intent", None)
                state.pop("prev_action", None)
    assert compared > 1000


def test_a_changed_tracker_gets_new_states(domain: Domain) -> None:
    tracker = DialogueStateTracker.from_events("t", conversation(domain, random.Random(7), 5), domain.slots)
    before = tracker.past_states(domain)
    tracker.update(UserUttered("oi", {"name": "cumprimentar", "confidence": 1.0}))
    tracker.update(ActionExecuted("utter_cumprimentar"))
    after = tracker.past_states(domain)
    assert after == prior_states.RASA_STATES_FOR_TRACKER_HISTORY(domain, tracker)
    assert len(after) == len(before) + 1


def test_another_tracker_with_the_same_length_is_not_confused(domain: Domain) -> None:
    one = DialogueStateTracker.from_events("a", conversation(domain, random.Random(1), 6), domain.slots)
    two = DialogueStateTracker.from_events("b", conversation(domain, random.Random(2), 6), domain.slots)
    assert one.past_states(domain) == prior_states.RASA_STATES_FOR_TRACKER_HISTORY(domain, one)
    assert two.past_states(domain) == prior_states.RASA_STATES_FOR_TRACKER_HISTORY(domain, two)
