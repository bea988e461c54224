"""What a stored conversation keeps: bot/privacy.py (masking and sealing of CPF, e-mail, phone; tokens dropped)."""
from __future__ import annotations

from bot import privacy

CIPHER = privacy.cipher_for("a-secret-of-the-tests-with-32-bytes-or-more")
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwiY3BmIjoiMjM0NTY3ODkxNzMifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


def test_mask_text_hides_cpf_email_phone_and_tokens() -> None:
    text = ("meu CPF é 234.567.891-73, e-mail Ana.Souza@exemplo.gov.br, fone (61) 99123-4567, "
            f"cpf de novo 23456789173 e o token {TOKEN}")
    masked = privacy.mask_text(text)
    for secret in ("234.567.891-73", "23456789173", "Ana.Souza@", "99123-4567", TOKEN, "eyJ"):
        assert secret not in masked
    assert "xxx.567.891-xx" in masked
    assert "A***@exemplo.gov.br" in masked
    assert "(**) ****-4567" in masked
    assert privacy.TOKEN_PLACEHOLDER in masked


def test_mask_text_keeps_ticket_numbers_and_ordinary_text() -> None:
    text = "consultar o SS-2026-000123, aberto às 14h em 01/12/2026, nota 4"
    assert privacy.mask_text(text) == text


def test_seal_and_unseal_round_trip_without_plain_values_at_rest() -> None:
    text = "CPF 718.426.305-71 e e-mail mariana.prado@exemplo.gov.br"
    sealed = privacy.seal_text(text, CIPHER)
    assert "718.426.305-71" not in sealed and "mariana" not in sealed
    assert sealed.count("[[pii:") == 2
    assert privacy.unseal_text(sealed, CIPHER) == text


def test_a_sealed_value_under_another_secret_comes_back_removed() -> None:
    sealed = privacy.seal_text("CPF 718.426.305-71", CIPHER)
    other = privacy.cipher_for("another-secret-of-the-tests-with-32-bytes")
    opened = privacy.unseal_text(sealed, other)
    assert "718" not in opened and "[dado removido]" in opened


def test_transform_strings_walks_events_but_not_identifiers() -> None:
    event = {
        "event": "user", "text": "23456789173", "message_id": "ab23456789173cd",
        "parse_data": {"entities": [{"entity": "cpf", "value": "23456789173", "start": 0, "end": 11}]},
        "metadata": {"token": TOKEN, "other": "x"},
    }
    stored = privacy.transform_strings(privacy.without_token(event), privacy.mask_text)
    assert stored["text"] == "xxx.567.891-xx"
    assert stored["parse_data"]["entities"][0]["value"] == "xxx.567.891-xx"
    assert stored["parse_data"]["entities"][0]["start"] == 0
    assert stored["message_id"] == "ab23456789173cd"
    assert stored["metadata"] == {"other": "x"}
    assert event["metadata"]["token"] == TOKEN  # the live event is not changed


def test_has_personal_data() -> None:
    assert privacy.has_personal_data("+5561991234567")
    assert privacy.has_personal_data("a@b.gov.br")
    assert not privacy.has_personal_data("Datavalid")
    assert not privacy.has_personal_data("SS-2026-000001")


def test_sealing_twice_leaves_the_first_seal_intact() -> None:
    text = "CPF 718.426.305-71"
    twice = privacy.seal_text(privacy.seal_text(text, CIPHER), CIPHER)
    assert privacy.unseal_text(twice, CIPHER) == text
    assert privacy.mask_text(privacy.seal_text(text, CIPHER)).startswith("CPF [[pii:")
