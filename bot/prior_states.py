"""Rasa 3.6 turns a conversation into dialogue states (`Domain.states_for_tracker_history`) by replaying the whole
tracker, once per policy and per prediction: the MemoizationPolicy and TED ask for the very same states of the very
same tracker, one after the other. Profiled on a long conversation (`bench/profile_turns.py --long 40`), that replay
was the largest cost of a turn (30.6 of 73.7 CPU-s).

`install()` remembers the last answers for the tracker being predicted on and hands out copies (the policies edit
the states they get). An answer is reused only for the same tracker object, unchanged (same number of events, same
last event), the same domain and the same arguments; anything else is computed by Rasa as before.
tests/test_prior_states.py compares the two. The Rasa server imports this through bot/conversation_store.py.
"""
from __future__ import annotations

from typing import Any

from rasa.shared.core.domain import Domain, State
from rasa.shared.core.trackers import DialogueStateTracker

RASA_STATES_FOR_TRACKER_HISTORY = Domain.states_for_tracker_history
_MAX_ANSWERS = 4  # the policies ask with two or three sets of arguments per prediction


class _Answers:
    """The states computed for one tracker as it is now, by arguments. Holds the tracker, its last event and the
    domain, so that none of their ids can be reused by another object while the answers are kept."""

    def __init__(self, domain: Domain, tracker: DialogueStateTracker) -> None:
        self.domain = domain
        self.tracker = tracker
        self.length = len(tracker.events)
        self.last_event = tracker.events[-1] if tracker.events else None
        self.by_arguments: dict[tuple[Any, ...], list[State]] = {}

    def describe(self, domain: Domain, tracker: DialogueStateTracker) -> bool:
        return (
            domain is self.domain
            and tracker is self.tracker
            and len(tracker.events) == self.length
            and (tracker.events[-1] if tracker.events else None) is self.last_event
        )


_answers: _Answers | None = None


def states_for_tracker_history(
    domain: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """Rasa's states for the tracker's history, computed once per tracker state and arguments."""
    global _answers
    if _answers is None or not _answers.describe(domain, tracker):
        _answers = _Answers(domain, tracker)
    key = (omit_unset_slots, ignore_rule_only_turns, _frozen(rule_only_data))
    states = _answers.by_arguments.get(key)
    if states is None:
        states = RASA_STATES_FOR_TRACKER_HISTORY(
            domain, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data
        )
        if len(_answers.by_arguments) < _MAX_ANSWERS:
            _answers.by_arguments[key] = _copy(states)
        return states
    return _copy(states)


def _frozen(value: Any) -> Any:
    """A hashable, order-free form of rule_only_data (a dict of lists)."""
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple, set)):
        return tuple(_frozen(item) for item in value)
    return value


def _copy(states: list[State]) -> list[State]:
    """States are dicts of sub-state dicts whose values are strings, numbers or tuples: two levels to copy. Rasa's
    states may share a sub-state (a rule-only turn takes the previous user input): so do the copies."""
    copies: dict[int, Any] = {}
    copied: list[State] = []
    for state in states:
        new_state: State = {}
        for name, sub_state in state.items():
            if id(sub_state) not in copies:
                copies[id(sub_state)] = dict(sub_state)
            new_state[name] = copies[id(sub_state)]
        copied.append(new_state)
    return copied


def install() -> None:
    Domain.states_for_tracker_history = states_for_tracker_history


def uninstall() -> None:
    """Rasa's own computation again (tests compare the two)."""
    global _answers
    Domain.states_for_tracker_history = RASA_STATES_FOR_TRACKER_HISTORY
    _answers = None
