"""bot/action_response_check.py: Rasa's check of action server responses, with its schema checked once."""
from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

import bot.conversation_store  # noqa: F401 — installs the check, as in the Rasa server
from bot import action_response_check


def test_the_rasa_server_gets_the_check_with_the_tracker_store() -> None:
    assert RemoteAction._validate_action_result is action_response_check._validate_action_result


def test_a_valid_response_passes() -> None:
    action = RemoteAction("action_abrir_acionamento", None)
    response = {"events": [{"event": "slot", "name": "servico", "value": "Datavalid", "timestamp": None}],
                "responses": [{"response": "utter_erro_tecnico"}]}
    assert action._validate_action_result(response) is True


@pytest.mark.parametrize("response", [
    {"events": [{"event": "nao_existe"}]},
    {"events": "não é uma lista"},
    {"events": [{"event": "slot", "name": 3}]},
])
def test_an_invalid_response_is_refused_as_rasa_refuses_it(response: dict) -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        RemoteAction("action_abrir_acionamento", None)._validate_action_result(response)
