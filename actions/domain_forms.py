"""The forms' slot lists, read from domain.yml (never restated in Python).

With selective domain (endpoints.yml) Rasa sends the domain to the form validators only; every other action gets
`{}` and reads the forms from the project's domain.yml instead. Pure: no backend, no other action module.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

DOMAIN_FILE = Path(__file__).resolve().parent.parent / "domain.yml"
# The two questions of actions/flow.py that close every form's slot list; they are no answer of the form.
RESUME_SLOT = "retomar"
FIELD_SLOT = "campo_correcao"


@functools.cache
def project_forms() -> dict[str, Any]:
    """The `forms:` of the project's domain.yml, read once per process."""
    return dict(yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))["forms"])


def declared_forms(domain: dict) -> dict[str, Any]:
    """The forms of the domain Rasa sent, or the project's when it sent none."""
    return domain.get("forms") or project_forms()


def all_forms(domain: dict) -> tuple[str, ...]:
    return tuple(declared_forms(domain))


def required_slots(domain: dict, form: str) -> list[str]:
    """A form's required slots in order; none for an unknown form."""
    return list((declared_forms(domain).get(form) or {}).get("required_slots") or [])


def form_slots(domain: dict, *forms: str) -> list[str]:
    """The slots the answers of `forms` live in: their required slots in order, the confirmation last, then the
    retry counter `tentativas`. What preparing a form, submitting it and cancelling it forget."""
    not_answers = {"confirmacao", RESUME_SLOT, FIELD_SLOT}
    answers = [slot for form in forms for slot in required_slots(domain, form) if slot not in not_answers]
    return list(dict.fromkeys([*answers, "confirmacao", "tentativas"]))
