"""Entities found by shape in free text (components/patterns.py) — the values forms receive."""
from __future__ import annotations

import pytest

from components.patterns import find_entities


def found(text: str) -> list[tuple[str, str]]:
    return [(f.entity, f.value) for f in find_entities(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("meu cpf é 234.567.891-73", [("cpf", "234.567.891-73")]),
        ("23456789173", [("cpf", "23456789173")]),
        ("cpf 234.567.891-70", [("cpf", "234.567.891-70")]),  # invalid, still a CPF: the form says why
        ("12345678901", [("cpf", "12345678901")]),  # neither valid CPF nor phone: refused as CPF
        ("61998765432", [("telefone", "61998765432")]),  # 11 digits, not a CPF, a valid mobile
        ("tel (61) 99876-5432", [("telefone", "(61) 99876-5432")]),
        ("fixo 61 3411-2200", [("telefone", "61 3411-2200")]),
        ("ligue +55 61 99876-5432", [("telefone", "+55 61 99876-5432")]),
        # A foreign contact's number, with its country code; trailing digits that make it invalid are left out.
        ("tel +1 202 555 0143", [("telefone", "+1 202 555 0143")]),
        ("+44 20 7946 0958, ok", [("telefone", "+44 20 7946 0958")]),
        ("+1 202 555 0143 12", [("telefone", "+1 202 555 0143")]),
        ("nota +5", []),
        ("e-mail Ana.Souza@exemplo.gov.br, ok?", [("email", "Ana.Souza@exemplo.gov.br")]),
        ("qual o status do ss2026000123?", [("numero_acionamento", "SS-2026-000123")]),
        ("SS 2026 000123", [("numero_acionamento", "SS-2026-000123")]),
        ("2026/000045", [("numero_acionamento", "SS-2026-000045")]),
        ("nota 5, obrigado", []),
        ("", []),
    ],
)
def test_entities_by_shape(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


def test_several_entities_in_one_message_in_text_order() -> None:
    text = "incluir maria@orgao.gov.br cpf 529.982.247-25 tel (61) 3411-2200 ref SS-2026-000007"
    assert found(text) == [
        ("email", "maria@orgao.gov.br"),
        ("cpf", "529.982.247-25"),
        ("telefone", "(61) 3411-2200"),
        ("numero_acionamento", "SS-2026-000007"),
    ]


def test_spans_point_at_the_value() -> None:
    text = "meu e-mail é joao@orgao.gov.br"
    (entity,) = find_entities(text)
    assert text[entity.start:entity.end] == "joao@orgao.gov.br"


def test_foreign_and_brazilian_phones_in_one_line() -> None:
    assert found("+351 912 345 678 ou (61) 99876-5432") == [
        ("telefone", "+351 912 345 678"),
        ("telefone", "(61) 99876-5432"),
    ]
