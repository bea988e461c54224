"""bot/event_types.py resolves every event type name to the class Rasa's own lookup gives, and unknown names as before."""
from __future__ import annotations

import pytest
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.utils.common import all_subclasses

from bot import event_types


def test_every_event_type_resolves_to_rasas_class() -> None:
    event_types.install()
    names = {cls.type_name for cls in all_subclasses(Event) if isinstance(getattr(cls, "type_name", None), str)}
    assert len(names) > 20
    for name in names:
        assert Event.resolve_by_type(name) is event_types._RASA_RESOLVE(name), name
        assert Event.resolve_by_type(name) is event_types._RASA_RESOLVE(name), name  # from the cache now


def test_unknown_names_behave_as_before() -> None:
    event_types.install()
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("nao-existe", default=UserUttered) is UserUttered
    with pytest.raises(ValueError):
        Event.resolve_by_type("nao-existe")
    assert "nao-existe" not in event_types._known


def test_a_stored_event_reads_back_the_same() -> None:
    event_types.install()
    event = UserUttered("oi", {"name": "cumprimentar", "confidence": 0.9}, timestamp=1.0)
    assert Event.from_parameters(event.as_dict()) == event
