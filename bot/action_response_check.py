"""Rasa 3.6 checks every action server response with `jsonschema.validate`, which first re-checks Rasa's own response
schema against the JSON Schema metaschema — on every call. Profiled (bench/profile_turns.py), that was more than
half of the Rasa server's CPU during ticket forms (~90 ms of ~5 ms of real validation per action call, measured).

`install()` replaces the check with the same validation by a validator built once from the same schema (Rasa's
`RemoteAction.action_response_format_spec()`), checked against the metaschema once; an invalid response is refused
with the same error as before. The Rasa server imports this through bot/conversation_store.py (endpoints.yml's
tracker store), the one module of ours every Rasa server loads before its first action call.
"""
from __future__ import annotations

import functools
from typing import Any

from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, instead of once per action call
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with a prebuilt validator: True, or Rasa's ValidationError."""
    try:
        _validator().validate(result)
        return True
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the Action endpoint "
            f"is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error


def install() -> None:
    RemoteAction._validate_action_result = _validate_action_result
