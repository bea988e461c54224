"""Loading the tracker store (as every Rasa server does through endpoints.yml) installs every change to Rasa's code."""
from __future__ import annotations

import importlib

from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.tensorflow.models import RasaModel

from bot import action_response_check, applied_events, event_types, model_load, prior_states


def test_the_tracker_store_module_installs_every_patch() -> None:
    applied_events.uninstall()
    prior_states.uninstall()
    model_load.uninstall()
    importlib.reload(importlib.import_module("bot.conversation_store"))
    assert RemoteAction._validate_action_result is action_response_check._validate_action_result
    assert RasaModel.load.__func__ is model_load._load_for_prediction
    assert Event.resolve_by_type is event_types._resolve_by_type
    assert DialogueStateTracker.applied_events is applied_events.applied_events
    assert Domain.states_for_tracker_history is prior_states.states_for_tracker_history
