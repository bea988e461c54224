"""The CSS's phone and e-mail are stated once (backend/vocabulary.py); tests/validate_data.py finds any other one
in the texts that cannot import it (domain.yml, the chat page)."""
from __future__ import annotations

from backend.vocabulary import CSS_EMAIL, CSS_PHONE
from tests.validate_data import CHANNEL_FILES, ROOT, stale_channels


def test_the_css_own_channels_pass() -> None:
    text = f"Ligue {CSS_PHONE} (tel:08007282323) ou escreva para {CSS_EMAIL}."
    assert stale_channels(text) == []


def test_another_number_or_address_is_found() -> None:
    text = "Ligue 0800 978 2323 ou escreva para css@serpro.gov.br; o usuário fulano@orgao.gov.br não conta."
    assert stale_channels(text) == ["0800 978 2323", "css@serpro.gov.br"]


def test_the_texts_state_only_the_css_channels() -> None:
    for name in CHANNEL_FILES:
        text = (ROOT / name).read_text("utf-8")
        assert CSS_PHONE in text and CSS_EMAIL in text, name
        assert stale_channels(text) == [], name
