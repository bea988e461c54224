"""The action server registers exactly the custom actions the domain declares (and starts at all)."""
from __future__ import annotations

from pathlib import Path

import yaml
from rasa_sdk.executor import ActionExecutor

DOMAIN = yaml.safe_load((Path(__file__).resolve().parent.parent / "domain.yml").read_text(encoding="utf-8"))


def test_registered_actions_match_the_domain() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    declared = {a for a in DOMAIN["actions"] if not a.startswith("utter_")}
    assert set(executor.actions) == declared
