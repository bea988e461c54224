"""Everything this project changes in Rasa 3.6's own code, in one place: each change is measured (bench/results/) and
tested against Rasa's original behaviour, and each module says why.

- action_response_check: the action server's response schema is checked with a validator built once;
- model_load: a model is loaded for prediction without Rasa's one-example training;
- event_types: an event's class is found by its type name once;
- applied_events: the events a tracker applies, without Rasa's quadratic list copies;
- prior_states: the dialogue states of one tracker are computed once per prediction, not once per policy.

bot/conversation_store.py (endpoints.yml's tracker store) calls `install()`: every Rasa server and `make shell`
import it before they load a model or read a tracker; `rasa train` and `rasa test` keep Rasa's own code.
"""
from __future__ import annotations

from bot import action_response_check, applied_events, event_types, model_load, prior_states


def install() -> None:
    action_response_check.install()
    model_load.install()
    event_types.install()
    applied_events.install()
    prior_states.install()
