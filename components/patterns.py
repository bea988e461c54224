"""Finding data with a fixed shape in free text: ticket numbers, e-mails, CPFs and phones.

Pure functions, no Rasa: the NLU component in `components/entities.py` wraps them. Shapes are found here; whether a
value is *valid* (check digits, real phone) is decided by backend.validation when the form receives it, so an invalid
CPF is still recognised as a CPF and refused with its reason.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from backend import ticket_numbers, validation
from backend.errors import InvalidInput

_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", re.UNICODE)
_FORMATTED_CPF = re.compile(r"(?<![\d.])\d{3}\.\d{3}\.\d{3}-?\d{2}(?![\d.])")
_DIGITS_11 = re.compile(r"(?<![\d.\-/])\d{11}(?![\d.\-/])")
_PHONE = re.compile(r"(?:\+\s?55\s?)?\(?\b\d{2}\)?[\s.\-]?9?\s?\d{4}[\s.\-]?\d{4}\b")
# Foreign contacts may give foreign numbers ("+1 202 555 0143"): a "+", a country code and digit groups.
_INTERNATIONAL_PHONE = re.compile(r"(?<![\w+])\+\d{1,3}(?:[\s.\-]?\(?\d{1,5}\)?){2,5}(?!\d)")


@dataclass(frozen=True)
class Found:
    entity: str
    value: str
    start: int
    end: int


def find_entities(text: str | None) -> list[Found]:
    """Non-overlapping findings, in text order; earlier kinds win an overlap."""
    text = text or ""
    found: list[Found] = []

    def add(entity: str, value: str, start: int, end: int) -> None:
        if all(end <= f.start or start >= f.end for f in found):
            found.append(Found(entity, value, start, end))

    for match in _EMAIL.finditer(text):
        add("email", match.group(), match.start(), match.end())
    number = ticket_numbers.search_number(text)
    if number:
        add("numero_acionamento", *number)
    for match in _FORMATTED_CPF.finditer(text):
        add("cpf", match.group(), match.start(), match.end())
    for match in _DIGITS_11.finditer(text):
        # Eleven bare digits: a CPF when the check digits say so, else a mobile phone when valid, else a CPF
        # (so the user hears why it is not a valid CPF).
        digits = match.group()
        kind = "cpf" if _is_cpf(digits) or not _is_phone(digits) else "telefone"
        add(kind, digits, match.start(), match.end())
    for match in _PHONE.finditer(text):
        if _is_phone(match.group()):
            add("telefone", match.group().strip(), match.start(), match.end())
    for match in _INTERNATIONAL_PHONE.finditer(text):
        phone = _longest_valid_phone(match.group())
        if phone:
            add("telefone", phone, match.start(), match.start() + len(phone))
    return sorted(found, key=lambda f: f.start)


def _longest_valid_phone(text: str) -> str | None:
    """The longest valid phone at the start of the text, dropping trailing digit groups that belong to
    something else ("+1 202 555 0143 12" -> "+1 202 555 0143")."""
    while text:
        if _is_phone(text):
            return text
        cut = re.search(r"[\s.\-(]*\d+\)?$", text)
        if cut is None or cut.start() == 0:
            return None
        text = text[:cut.start()]
    return None


def _is_cpf(text: str) -> bool:
    try:
        validation.normalize_cpf(text)
        return True
    except InvalidInput:
        return False


def _is_phone(text: str) -> bool:
    try:
        validation.normalize_phone(text)
        return True
    except InvalidInput:
        return False
