"""Rasa 3.6's `DialogueStateTracker.applied_events` is quadratic in the length of a conversation full of forms: for
every repeated form step it copies the whole list of events applied so far (`_undo_till_previous_loop_execution`,
`reversed(done_events[:])`), and it looks each executed action up in a list holding one entry per `ActiveLoop`
event. The policies, the featurizers and the processor call it several times a turn, so a long conversation's turns
grow ever slower (`bench/profile_turns.py --long 40`: 27.5 CPU-s of a 60-turn profile).

`install()` replaces it with the same walk without the copies (a set for the loop names, deletions by index), and
does not walk the same tracker from the start again (the processor and every policy ask, one after the other, while
a turn adds events): it goes on from where its last walk stopped. The same events, in the same order, for every
tracker: tests/test_applied_events.py compares the two on generated conversations and on a long one of forms.
Installed by bot/rasa_patches.py.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    DefinePrevUserUtteredFeaturization,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

RASA_APPLIED_EVENTS = DialogueStateTracker.applied_events


@dataclass
class _Walked:
    """The last tracker walked, as it was then: its length, last event and loop names, and what the walk gave."""

    tracker: DialogueStateTracker
    length: int
    last_event: Event | None
    loop_names: set[str]
    applied: list[Event]


_last: _Walked | None = None


def applied_events(tracker: DialogueStateTracker) -> list[Event]:
    """The tracker's events without the reverted ones. The tracker asked about last is not walked again: events are
    only ever appended to a tracker, so its walk goes on from where it stopped, over the new events only (unless
    they name a new loop, which changes how earlier events are read: then from the start)."""
    global _last
    events, done = tracker.events, _last
    if done is not None and done.tracker is tracker and len(events) >= done.length and (
        (events[done.length - 1] if done.length else None) is done.last_event
    ):
        new = list(itertools.islice(events, done.length, None))
        if _loop_names(new) <= done.loop_names:
            applied = _fold(tracker, new, done.loop_names, list(done.applied))
            _last = _Walked(tracker, len(events), events[-1] if events else None, done.loop_names, applied)
            return list(applied)  # a copy: callers may edit the list (never the events)
    loop_names = _loop_names(events)
    applied = _fold(tracker, events, loop_names, [])
    _last = _Walked(tracker, len(events), events[-1] if events else None, loop_names, applied)
    return list(applied)


def walk(tracker: DialogueStateTracker) -> list[Event]:
    """The tracker's events without the reverted ones (Rasa's rules, linear time), from the start."""
    return _fold(tracker, tracker.events, _loop_names(tracker.events), [])


def _loop_names(events: Iterable[Event]) -> set[str]:
    return {event.name for event in events if isinstance(event, ActiveLoop) and event.name}


def _fold(tracker: DialogueStateTracker, events: Iterable[Event], loop_names: set[str],
          applied: list[Event]) -> list[Event]:
    """Rasa's walk over `events`, from the events already applied."""
    for event in events:
        if isinstance(event, (Restarted, SessionStarted)):
            applied = []
        elif isinstance(event, ActionReverted):
            _undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            _undo_till_previous(UserUttered, applied)
            _undo_till_previous(ActionExecuted, applied)
        elif (
            isinstance(event, ActionExecuted)
            and event.action_name in loop_names
            and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
        ):
            _undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)
    return applied


def _undo_till_previous(event_type: type[Event], done_events: list[Event]) -> None:
    """Drop events from the end up to and including the last one of `event_type`."""
    while done_events:
        if isinstance(done_events.pop(), event_type):
            break


def _undo_till_previous_loop_execution(loop_action_name: str, done_events: list[Event]) -> None:
    """Drop the turns since the loop's previous execution, keeping the events that are not featurized."""
    index = len(done_events) - 1
    while index >= 0:
        event = done_events[index]
        if isinstance(event, ActionExecuted) and event.action_name == loop_action_name:
            break
        if isinstance(event, (ActionExecuted, UserUttered, DefinePrevUserUtteredFeaturization)):
            del done_events[index]
        index -= 1


def install() -> None:
    DialogueStateTracker.applied_events = applied_events


def uninstall() -> None:
    """Rasa's own walk again (tests compare the two)."""
    global _last
    DialogueStateTracker.applied_events = RASA_APPLIED_EVENTS
    _last = None
