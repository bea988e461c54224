"""bot/tracker_cache.py keeps a bounded number of trackers and events, and only while the database stamp matches."""
from __future__ import annotations

from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_cache import Stamp, TrackerCache


def tracker(sender: str, events: int) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, [ActionExecuted("action_listen") for _ in range(events)])


def test_a_tracker_is_kept_only_while_the_stamp_matches() -> None:
    cache, kept = TrackerCache(), tracker("a", 3)
    cache.put("a", kept, Stamp(3, 30))
    assert cache.get("a", Stamp(3, 30)) is kept
    assert cache.get("a", Stamp(3, 31)) is None  # another replica wrote
    assert len(cache) == 0 and cache.get("a", Stamp(3, 30)) is None  # and it is forgotten


def test_a_tracker_with_unsaved_events_or_another_session_is_not_kept() -> None:
    cache = TrackerCache()
    cache.put("a", tracker("a", 4), Stamp(3, 30))  # the database counts another session's events
    assert len(cache) == 0
    grown = tracker("b", 3)
    cache.put("b", grown, Stamp(3, 30))
    grown.update(ActionExecuted("action_listen"))  # a turn that failed before its save
    assert cache.get("b", Stamp(3, 30)) is None


def test_the_least_recently_used_go_first_by_count_and_by_events() -> None:
    cache = TrackerCache(max_trackers=2, max_events=10)
    for sender in ("a", "b"):
        cache.put(sender, tracker(sender, 2), Stamp(2, 1))
    assert cache.get("a", Stamp(2, 1)) is not None  # "b" is now the least recently used
    cache.put("c", tracker("c", 2), Stamp(2, 1))
    assert cache.get("b", Stamp(2, 1)) is None and len(cache) == 2
    cache.put("d", tracker("d", 8), Stamp(8, 1))  # 2 + 2 + 8 events > 10: the oldest ("a") goes
    assert cache.get("a", Stamp(2, 1)) is None
    assert cache.get("c", Stamp(2, 1)) is not None and cache.get("d", Stamp(8, 1)) is not None
    cache.put("e", tracker("e", 11), Stamp(11, 1))  # larger than the whole cache: never kept
    assert cache.get("e", Stamp(11, 1)) is None
