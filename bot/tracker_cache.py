"""The trackers this Rasa server saved last, kept so that the next turn does not rebuild them from the database.

Rasa reads a conversation by loading every stored event and replaying it into a new tracker, each turn: a cost that
grows with the conversation (`bench/profile_turns.py --long 40`: most of a long conversation's turn). A tracker this
process saved is exactly what that replay would build, so `PrivateTrackerStore` hands it back instead — but only
while the database still holds what it held at the save: the same number of events in the current session and the
same last event id (another replica, the retention job or "Apagar esta conversa" change one of them), and the
tracker itself has no event the store has not written (a turn that failed before its save).

Bounded by the number of trackers and of events kept (least recently used go first), so memory does not grow with
the number of conversations.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from rasa.shared.core.trackers import DialogueStateTracker

MAX_TRACKERS = 64
MAX_EVENTS = 60_000


@dataclass(frozen=True)
class Stamp:
    """What the database holds for a conversation's current session: how many events, and the last one's id."""

    events: int
    last_id: int | None


@dataclass
class _Entry:
    tracker: DialogueStateTracker
    stamp: Stamp


class TrackerCache:
    """Least-recently-used trackers by sender id, each with the stamp of the database when it was saved."""

    def __init__(self, max_trackers: int = MAX_TRACKERS, max_events: int = MAX_EVENTS) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._max_trackers = max_trackers
        self._max_events = max_events
        self._events = 0

    def get(self, sender_id: str, stamp: Stamp) -> DialogueStateTracker | None:
        """The kept tracker if the database still holds exactly what it was saved as; otherwise forget it."""
        entry = self._entries.get(sender_id)
        if entry is None:
            return None
        if entry.stamp != stamp or len(entry.tracker.events) != stamp.events:
            self.drop(sender_id)
            return None
        self._entries.move_to_end(sender_id)
        return entry.tracker

    def put(self, sender_id: str, tracker: DialogueStateTracker, stamp: Stamp) -> None:
        self.drop(sender_id)
        if stamp.events != len(tracker.events) or stamp.events > self._max_events:
            return
        self._entries[sender_id] = _Entry(tracker, stamp)
        self._events += stamp.events
        while len(self._entries) > self._max_trackers or self._events > self._max_events:
            oldest = next(iter(self._entries))
            self.drop(oldest)

    def drop(self, sender_id: str) -> None:
        entry = self._entries.pop(sender_id, None)
        if entry is not None:
            self._events -= entry.stamp.events

    def __len__(self) -> int:
        return len(self._entries)
