"""Identity tokens and signed e-mail links: what is accepted and why everything else is refused."""
from __future__ import annotations

import base64
import json
from dataclasses import FrozenInstanceError
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from backend.errors import InvalidToken
from backend.identity import Identity, issue_token, sign_link, verify_link, verify_token

SECRET = "segredo-de-teste-com-mais-de-32-bytes-0123456789"
OTHER_SECRET = "outro-segredo-de-teste-com-mais-de-32-bytes-987"
NOW = datetime(2026, 4, 22, 13, 0, tzinfo=timezone.utc)
NUMBER = "SS-2026-000123"


def refusal(call) -> InvalidToken:
    with pytest.raises(InvalidToken) as refused:
        call()
    assert refused.value.message, "every refusal carries a message for the user"
    return refused.value


def tamper(token: str, **changes) -> str:
    """Rewrite claims in the payload but keep the original header and signature."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return ".".join([header, forged, signature])


# --- identity tokens --------------------------------------------------------------------------


def test_round_trip():
    token = issue_token(SECRET, 7, "23456789173", "11222333000181", ttl_minutes=60, now=NOW)

    identity = verify_token(SECRET, token, now=NOW + timedelta(minutes=59))

    assert identity == Identity(
        contact_id=7, cpf="23456789173", cnpj="11222333000181", expires_at=NOW + timedelta(minutes=60)
    )
    assert identity.expires_at.tzinfo is not None
    with pytest.raises(FrozenInstanceError):
        identity.contact_id = 8  # type: ignore[misc]


def test_round_trip_for_a_foreign_contact_without_cpf():
    token = issue_token(SECRET, 9, None, "44555666000181", now=NOW)

    identity = verify_token(SECRET, token, now=NOW)

    assert identity.cpf is None
    assert identity.expires_at == NOW + timedelta(minutes=480)


def test_claims_are_the_documented_ones():
    token = issue_token(SECRET, 7, "23456789173", "11222333000181", ttl_minutes=60, now=NOW)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})

    assert claims == {
        "sub": "7",
        "cpf": "23456789173",
        "cnpj": "11222333000181",
        "typ": "identity",
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + timedelta(minutes=60)).timestamp()),
    }


def test_token_issued_in_the_past_is_checked_against_given_now():
    # Long expired by the real clock, still valid at the `now` given: expiry follows `now`, not the wall clock.
    past = datetime(2020, 1, 1, 12, tzinfo=timezone.utc)
    token = issue_token(SECRET, 7, None, "11222333000181", ttl_minutes=10, now=past)

    assert verify_token(SECRET, token, now=past + timedelta(minutes=5)).contact_id == 7


def test_forged_with_another_secret():
    token = issue_token(OTHER_SECRET, 7, "23456789173", "11222333000181", now=NOW)

    error = refusal(lambda: verify_token(SECRET, token, now=NOW))

    assert error.reason == "assinatura"


def test_tampered_payload_keeps_old_signature():
    token = issue_token(SECRET, 7, "23456789173", "11222333000181", now=NOW)
    tampered = tamper(token, sub="8")

    error = refusal(lambda: verify_token(SECRET, tampered, now=NOW))

    assert error.reason == "assinatura"


def test_unsigned_token_is_refused():
    unsigned = jwt.encode(
        {"sub": "7", "cpf": None, "cnpj": "11222333000181", "typ": "identity", "iat": 1, "exp": 4_000_000_000},
        None,
        algorithm="none",
    )

    assert refusal(lambda: verify_token(SECRET, unsigned, now=NOW)).reason == "assinatura"


def test_expired():
    token = issue_token(SECRET, 7, "23456789173", "11222333000181", ttl_minutes=60, now=NOW)

    error = refusal(lambda: verify_token(SECRET, token, now=NOW + timedelta(minutes=60)))

    assert error.reason == "expirado"
    assert error.message == "Sua sessão expirou. Entre novamente na Área do Cliente."


@pytest.mark.parametrize("token", [None, "", "   "])
def test_missing(token):
    assert refusal(lambda: verify_token(SECRET, token, now=NOW)).reason == "ausente"


@pytest.mark.parametrize("token", ["lixo", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.bad.sig", "Bearer x.y.z"])
def test_garbage_is_malformed(token):
    assert refusal(lambda: verify_token(SECRET, token, now=NOW)).reason == "malformado"


@pytest.mark.parametrize(
    "claims",
    [
        {"cpf": None, "cnpj": "11222333000181"},  # no sub
        {"sub": 7, "cpf": None, "cnpj": "11222333000181"},  # sub not a string
        {"sub": "sete", "cpf": None, "cnpj": "11222333000181"},  # sub not a contact id
        {"sub": "7", "cpf": None},  # no cnpj
        {"sub": "7", "cpf": 23456789173, "cnpj": "11222333000181"},  # cpf not a string
    ],
)
def test_well_signed_but_incomplete_claims_are_malformed(claims):
    payload = {"typ": "identity", "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 600, **claims}
    token = jwt.encode(payload, SECRET, algorithm="HS256")

    assert refusal(lambda: verify_token(SECRET, token, now=NOW)).reason == "malformado"


@pytest.mark.parametrize("missing", ["exp", "iat", "typ"])
def test_token_without_time_or_kind_is_malformed(missing):
    payload = {
        "sub": "7",
        "cpf": None,
        "cnpj": "11222333000181",
        "typ": "identity",
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 600,
    }
    del payload[missing]
    token = jwt.encode(payload, SECRET, algorithm="HS256")

    assert refusal(lambda: verify_token(SECRET, token, now=NOW)).reason == "malformado"


def test_link_token_is_not_an_identity():
    link = sign_link(SECRET, "acompanhar", NUMBER, now=NOW)

    assert refusal(lambda: verify_token(SECRET, link, now=NOW)).reason == "tipo"


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        issue_token(SECRET, 7, None, "11222333000181", now=datetime(2026, 4, 22, 10))


def test_empty_secret_is_refused():
    with pytest.raises(ValueError):
        issue_token("", 7, None, "11222333000181", now=NOW)


# --- e-mail links -----------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", ["acompanhar", "avaliar"])
def test_link_round_trip(purpose):
    link = sign_link(SECRET, purpose, NUMBER, ttl_days=30, now=NOW)

    assert verify_link(SECRET, link, purpose, NUMBER, now=NOW + timedelta(days=29)) is None


def test_link_expires():
    link = sign_link(SECRET, "avaliar", NUMBER, ttl_days=30, now=NOW)

    error = refusal(lambda: verify_link(SECRET, link, "avaliar", NUMBER, now=NOW + timedelta(days=30)))

    assert error.reason == "expirado"


def test_link_for_another_ticket_is_refused():
    link = sign_link(SECRET, "avaliar", NUMBER, now=NOW)

    error = refusal(lambda: verify_link(SECRET, link, "avaliar", "SS-2026-000124", now=NOW))

    assert error.reason == "destino"


def test_link_for_another_purpose_is_refused():
    link = sign_link(SECRET, "acompanhar", NUMBER, now=NOW)

    assert refusal(lambda: verify_link(SECRET, link, "avaliar", NUMBER, now=NOW)).reason == "destino"


def test_link_with_edited_number_keeps_old_signature():
    link = sign_link(SECRET, "avaliar", NUMBER, now=NOW)
    tampered = tamper(link, sub="SS-2026-000124")

    error = refusal(lambda: verify_link(SECRET, tampered, "avaliar", "SS-2026-000124", now=NOW))

    assert error.reason == "assinatura"


def test_link_forged_with_another_secret():
    link = sign_link(OTHER_SECRET, "avaliar", NUMBER, now=NOW)

    assert refusal(lambda: verify_link(SECRET, link, "avaliar", NUMBER, now=NOW)).reason == "assinatura"


def test_identity_token_is_not_a_link():
    token = issue_token(SECRET, 7, "23456789173", "11222333000181", now=NOW)

    assert refusal(lambda: verify_link(SECRET, token, "acompanhar", "7", now=NOW)).reason == "tipo"


@pytest.mark.parametrize(("token", "reason"), [(None, "ausente"), ("", "ausente"), ("lixo", "malformado")])
def test_link_missing_or_garbage(token, reason):
    assert refusal(lambda: verify_link(SECRET, token, "avaliar", NUMBER, now=NOW)).reason == reason
