"""endpoints.yml's `enable_selective_domain`: the domain goes to the form validators only, as Rasa sends it."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def payload(name: str, domain: Domain, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The JSON the Rasa server would post to the action server to run `name`."""
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:1/webhook")
    endpoint = read_endpoint_config(str(ROOT / "endpoints.yml"), "action_endpoint")
    tracker = DialogueStateTracker.from_events("teste", [])
    return RemoteAction(name, endpoint)._action_call_format(tracker, domain)


def test_only_the_validators_receive_the_domain(domain: Domain, monkeypatch: pytest.MonkeyPatch) -> None:
    custom = [a for a in domain.user_actions if a.startswith("action_") or a.startswith("validate_")]
    assert custom
    for name in custom:
        sent = "domain" in payload(name, domain, monkeypatch)
        assert sent == (name.startswith("validate_") or domain.does_custom_action_explicitly_need_domain(name)), name


def test_actions_that_are_not_validators_do_not_read_the_domain() -> None:
    """A plain action (rasa_sdk Action) gets `{}` as its domain now: none may read it, only pass it on."""
    for path in sorted((ROOT / "actions").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            bases = {getattr(b, "id", getattr(b, "attr", "")) for b in cls.bases}
            if bases & {"FormValidator", "FormValidationAction"}:
                continue
            for node in ast.walk(cls):
                if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(
                        getattr(node, "value", None), ast.Name) and node.value.id == "domain":
                    raise AssertionError(f"{path.name}: {cls.name} reads the domain; list it with "
                                         f"`send_domain: true` in domain.yml")
