"""What a stored conversation may keep of a person: no identity token, and no full CPF, e-mail or phone once no
form needs them.

Every string of an event is scanned with the same shape finders the NLU uses (components/patterns.py):
- `mask_text` replaces each CPF, e-mail and phone with a masked form (CPF as in the lists, `xxx.456.789-xx`) and each
  identity token (a JWT pasted anywhere) with a placeholder; it cannot be undone.
- `seal_text` replaces them with `[[pii:…]]`, the value encrypted (Fernet) under a key derived from
  `ASSISTENTE_SECRET`, so a form in progress survives a restart; `unseal_text` reverses it while the secret is the
  same. A value that cannot be decrypted (secret changed) comes back masked, and the form asks for it again.
"""
from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from backend.validation import mask_cpf
from components.patterns import find_entities

PERSONAL = ("cpf", "email", "telefone")
TOKEN_PLACEHOLDER = "[token removido]"
SEALED = re.compile(r"\[\[pii:([A-Za-z0-9_\-=]+)\]\]")
# Phones as the backend stores them (E.164, e.g. +5561991234567), which people rarely type that way.
_E164 = re.compile(r"(?<![\w+])\+\d{12,13}(?!\d)")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{10,}")
# Strings in an event that are identifiers, not anything a person typed or was told.
_NOT_TEXT = frozenset({"message_id", "sender_id", "event", "timestamp"})

Transform = Callable[[str], str]


def cipher_for(secret: str) -> Fernet:
    """The conversations' cipher: its own key, derived from the deployment secret."""
    digest = hashlib.sha256(f"assistente-conversas:{secret}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def mask_value(kind: str, value: str) -> str:
    """A personal value as it may be kept: CPF `xxx.456.789-xx`, e-mail `a***@dominio`, phone `(**) ****-4321`."""
    if kind == "cpf":
        digits = re.sub(r"\D", "", value)
        return mask_cpf(digits) if len(digits) == 11 else "xxx.xxx.xxx-xx"
    if kind == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    digits = re.sub(r"\D", "", value)
    return f"(**) ****-{digits[-4:]}"


def has_personal_data(text: str) -> bool:
    if _JWT.search(text) or _E164.search(text):
        return True
    return any(found.entity in PERSONAL for found in find_entities(text))


def mask_text(text: str) -> str:
    """`text` with every full CPF, e-mail and phone masked and every token removed (unseal sealed values first)."""
    return _replace_personal(text, lambda kind, value: mask_value(kind, value))


def seal_text(text: str, cipher: Fernet) -> str:
    """`text` with every full CPF, e-mail and phone encrypted in place and every token removed."""
    return _replace_personal(
        text, lambda kind, value: f"[[pii:{cipher.encrypt(f'{kind}:{value}'.encode()).decode('ascii')}]]"
    )


def unseal_text(text: str, cipher: Fernet) -> str:
    """`text` with its sealed values decrypted (masked if the key cannot open them)."""

    def open_one(match: re.Match[str]) -> str:
        try:
            return cipher.decrypt(match.group(1).encode("ascii")).decode("utf-8").split(":", 1)[1]
        except (InvalidToken, IndexError, ValueError):
            return "[dado removido]"

    return SEALED.sub(open_one, text)


def transform_strings(data: Any, transform: Transform) -> Any:
    """A copy of a JSON-like event with `transform` applied to every string that is not an identifier."""
    if isinstance(data, str):
        return transform(data)
    if isinstance(data, list):
        return [transform_strings(item, transform) for item in data]
    if isinstance(data, dict):
        return {key: value if key in _NOT_TEXT else transform_strings(value, transform) for key, value in data.items()}
    return data


def without_token(event: dict[str, Any]) -> dict[str, Any]:
    """A user event's metadata keeps nothing that identifies the person: the token is verified per message and
    never stored."""
    metadata = event.get("metadata")
    if isinstance(metadata, dict) and "token" in metadata:
        event = dict(event, metadata={key: value for key, value in metadata.items() if key != "token"})
    return event


def _replace_personal(text: str, replace: Callable[[str, str], str]) -> str:
    """Replace personal values outside already sealed segments (a ciphertext may hold digit runs)."""
    parts = re.split(r"(\[\[pii:[A-Za-z0-9_\-=]+\]\])", text)
    return "".join(part if SEALED.fullmatch(part) else _replace_plain(part, replace) for part in parts)


def _replace_plain(text: str, replace: Callable[[str, str], str]) -> str:
    text = _JWT.sub(TOKEN_PLACEHOLDER, text)
    text = _E164.sub(lambda match: replace("telefone", match.group()), text)
    if not text or not any(ch.isdigit() or ch == "@" for ch in text):
        return text  # most strings (intent names, templates) have nothing to find: skip the finders
    pieces: list[str] = []
    position = 0
    for found in find_entities(text):
        if found.entity not in PERSONAL:
            continue
        pieces += [text[position:found.start], replace(found.entity, text[found.start:found.end])]
        position = found.end
    return "".join(pieces) + text[position:]

