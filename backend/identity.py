"""Signed tokens (JWT, HS256): who the user is, and e-mail links to one ticket.

Two kinds share one secret, told apart by the `typ` claim, so that one can never stand in for the other:
- identity tokens ("identity"): the contact signed in on the Área do Cliente;
- link tokens ("link"): a link in an e-mail that opens one ticket for one purpose (follow it, evaluate it).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt

from backend.clock import now_utc
from backend.errors import InvalidToken

ALGORITHM = "HS256"
TYPE_IDENTITY = "identity"
TYPE_LINK = "link"
PURPOSE_TRACK = "acompanhar"
PURPOSE_EVALUATE = "avaliar"
PURPOSE_ANSWER = "responder"

# Signature only: expiry is checked here against `now`, and iat/nbf must not depend on the real clock either.
_DECODE_OPTIONS: Any = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_iat": False,
    "verify_nbf": False,
    "verify_aud": False,
    "verify_iss": False,
}

SIGN_IN_AGAIN = "Entre novamente na Área do Cliente."
IDENTITY_MESSAGES = {
    "ausente": "Para isso, preciso saber quem é você. Entre na Área do Cliente e volte a falar comigo.",
    "malformado": f"Não consegui ler sua identificação. {SIGN_IN_AGAIN}",
    "assinatura": f"Sua identificação não é válida. {SIGN_IN_AGAIN}",
    "expirado": f"Sua sessão expirou. {SIGN_IN_AGAIN}",
    "tipo": f"Esta identificação não serve para conversar com o assistente. {SIGN_IN_AGAIN}",
}
LINK_MESSAGES = {
    "ausente": "Este link está incompleto. Use o link completo do e-mail ou consulte pela Área do Cliente.",
    "malformado": "Este link não é válido. Use o link completo do e-mail ou consulte pela Área do Cliente.",
    "assinatura": "Este link não é válido. Use o link completo do e-mail ou consulte pela Área do Cliente.",
    "expirado": "Este link expirou. Você pode consultar o acionamento pela Área do Cliente.",
    "tipo": "Este link não é válido. Use o link completo do e-mail ou consulte pela Área do Cliente.",
    "destino": "Este link não corresponde a este acionamento. Use o link do e-mail sobre ele.",
}


@dataclass(frozen=True)
class Identity:
    contact_id: int
    cpf: str | None
    cnpj: str
    expires_at: datetime


def issue_token(
    secret: str,
    contact_id: int,
    cpf: str | None,
    cnpj: str,
    ttl_minutes: int = 480,
    now: datetime | None = None,
) -> str:
    """An identity token for a contact, valid for `ttl_minutes`."""
    _require_positive(ttl_minutes, "ttl_minutes")
    if isinstance(contact_id, bool) or not isinstance(contact_id, int):
        raise ValueError("contact_id must be an int")
    claims = {"sub": str(contact_id), "cpf": cpf, "cnpj": cnpj}
    return _sign(secret, TYPE_IDENTITY, claims, timedelta(minutes=ttl_minutes), now)


def verify_token(secret: str, token: str | None, now: datetime | None = None) -> Identity:
    """The identity in a valid token; InvalidToken (with a reason and a pt-BR message) otherwise."""
    payload = _decode(secret, token, TYPE_IDENTITY, IDENTITY_MESSAGES)
    sub, cpf, cnpj = payload.get("sub"), payload.get("cpf"), payload.get("cnpj")
    well_formed = (
        isinstance(sub, str)
        and sub.isascii()
        and sub.isdigit()
        and (cpf is None or isinstance(cpf, str))
        and isinstance(cnpj, str)
        and cnpj != ""
    )
    if not well_formed:
        raise InvalidToken("malformado", IDENTITY_MESSAGES["malformado"])
    expires_at = _check_expiry(payload, now, IDENTITY_MESSAGES)
    return Identity(contact_id=int(str(sub)), cpf=cpf, cnpj=str(cnpj), expires_at=expires_at)


def sign_link(
    secret: str, purpose: str, number: str, ttl_days: int = 30, now: datetime | None = None
) -> str:
    """A token for an e-mail link that opens ticket `number` for `purpose` (e.g. "acompanhar", "avaliar")."""
    _require_positive(ttl_days, "ttl_days")
    if not purpose or not number:
        raise ValueError("purpose and number are required")
    claims = {"sub": number, "purpose": purpose}
    return _sign(secret, TYPE_LINK, claims, timedelta(days=ttl_days), now)


def verify_link(
    secret: str, token: str | None, purpose: str, number: str, now: datetime | None = None
) -> None:
    """Accept a link token only for this ticket and purpose; InvalidToken otherwise."""
    payload = _decode(secret, token, TYPE_LINK, LINK_MESSAGES)
    sub, link_purpose = payload.get("sub"), payload.get("purpose")
    if not isinstance(sub, str) or not isinstance(link_purpose, str):
        raise InvalidToken("malformado", LINK_MESSAGES["malformado"])
    if sub != number or link_purpose != purpose:
        raise InvalidToken("destino", LINK_MESSAGES["destino"])
    _check_expiry(payload, now, LINK_MESSAGES)


def _sign(
    secret: str, kind: str, claims: dict[str, Any], ttl: timedelta, now: datetime | None
) -> str:
    _require_secret(secret)
    issued = _resolve_now(now)
    payload = {
        **claims,
        "typ": kind,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def _decode(secret: str, token: str | None, kind: str, messages: dict[str, str]) -> dict[str, Any]:
    """Check presence, signature and kind; return the claims (their content is checked by the caller)."""
    _require_secret(secret)
    if token is None or not isinstance(token, str) or not token.strip():
        raise InvalidToken("ausente", messages["ausente"])
    try:
        payload = jwt.decode(token.strip(), secret, algorithms=[ALGORITHM], options=_DECODE_OPTIONS)
    except (jwt.InvalidSignatureError, jwt.InvalidAlgorithmError):
        # A wrong signature or an algorithm we never use (e.g. "none"): not signed by us.
        raise InvalidToken("assinatura", messages["assinatura"]) from None
    except jwt.InvalidTokenError:
        raise InvalidToken("malformado", messages["malformado"]) from None
    if not isinstance(payload, dict) or "typ" not in payload:
        raise InvalidToken("malformado", messages["malformado"])
    if payload["typ"] != kind:
        raise InvalidToken("tipo", messages["tipo"])
    return payload


def _check_expiry(payload: dict[str, Any], now: datetime | None, messages: dict[str, str]) -> datetime:
    """The expiry as aware UTC; refused at or after it (leeway 0)."""
    exp, iat = payload.get("exp"), payload.get("iat")
    if not _is_timestamp(exp) or not _is_timestamp(iat):
        raise InvalidToken("malformado", messages["malformado"])
    expiry = float(exp)  # type: ignore[arg-type]  # checked by _is_timestamp
    if _resolve_now(now).timestamp() >= expiry:
        raise InvalidToken("expirado", messages["expirado"])
    return datetime.fromtimestamp(expiry, tz=timezone.utc)


def _is_timestamp(value: Any) -> bool:
    # We only ever sign whole seconds; anything else was not written by us.
    return isinstance(value, int) and not isinstance(value, bool)


def _resolve_now(now: datetime | None) -> datetime:
    if now is None:
        return now_utc()
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("naive datetime: give a timezone-aware datetime")
    return now


def _require_secret(secret: str) -> None:
    # A missing secret is a deployment mistake, not the user's: fail loudly rather than sign with "".
    if not isinstance(secret, str) or not secret:
        raise ValueError("secret is required to sign or verify tokens")


def _require_positive(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
