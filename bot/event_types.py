"""Rasa 3.6 finds the class of every stored event by walking all subclasses of `Event` (recursively, with
`inspect.isabstract` on each) — once per event, each time a tracker is read. Profiled on a 200-turn conversation
(`bench/profile_turns.py --long 40`), that was 31 % of the Rasa server's CPU: a tracker of ~3,000 events is read at
least twice a turn.

`install()` resolves each type name once and keeps the answer; a name not found falls back to Rasa's own lookup
(unknown names still raise or give the default, as before). The Rasa server imports this through
bot/conversation_store.py, before it reads any tracker.
"""
from __future__ import annotations

from typing import Any

from rasa.shared.core.events import Event

_RASA_RESOLVE = Event.resolve_by_type
_known: dict[str, type[Event]] = {}


def _resolve_by_type(type_name: str, default: Any = None) -> Any:
    found = _known.get(type_name)
    if found is None:
        found = _RASA_RESOLVE(type_name, default)
        if found is not None and found is not default:
            _known[type_name] = found
    return found


def install() -> None:
    Event.resolve_by_type = staticmethod(_resolve_by_type)
