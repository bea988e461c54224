"""Hurried users over HTTP (issue 11, points 1 and 2): whole conversations against the real servers, where the first
message says everything (or too little), counting the user's turns per skill until the number or the confirmation.

Goals when the first message says it all: ticket number in ≤ 2 user turns (the message, then the confirmation),
contact stored in ≤ 3, complement ≤ 2, evaluation ≤ 2 (reopening ≤ 2 too). A first message that names only the
service, the category and the wish to open a ticket is not a description: the assistant asks what happens.

The servers, the staff CLI and the conversation helpers are those of tests/test_integration_conversations.py
(imported, not copied): `python -m bot.launcher` in production mode over a fresh PostgreSQL database, started once per
session (the `bot` fixture of conftest.py). Each conversation prints its turn count; the last test prints the table.
"""
from __future__ import annotations

from typing import Any

import pytest

from tests.test_integration_conversations import (
    ANA,
    BRUNO,
    NOTHING,
    NUMBER,
    SECRETARIA,
    Assistant,
    Chat,
    changes,
)

pytestmark = pytest.mark.integration

GOALS = {"acionamento": 2, "contato": 3, "complemento": 2, "avaliacao": 2, "reabertura": 2}
CARLA = ("456.789.123-64", "carla.dias@exemplo.gov.br")
# A contact of our own invention, given in one line; the CPF's check digits are valid.
ONE_LINE = {"name": "Marina Quintela Reis", "email": "marina.reis@exemplo.gov.br", "cpf": "52998224725",
            "typed_cpf": "529.982.247-25", "phone": "+556134112200"}


@pytest.fixture(scope="module")
def turns() -> dict[str, int]:
    """User turns per skill, filled by the conversations below, printed by the last test."""
    return {}


def counted(chat: Chat) -> int:
    return sum(1 for line in chat.transcript if line.startswith("usuário: "))


def opened_by_staff(bot: Assistant, cpf: str, description: str) -> str:
    return bot.cli("tickets", "open", "--cpf", cpf, "--service", "Financeiro/Faturamento", "--category", "problema",
                   "--impact", "baixo", "--description", description)["number"]


# ---------------------------------------------------------------- acionamento


def test_a_ticket_said_in_one_message_takes_two_turns(bot: Assistant, turns: dict[str, int]) -> None:
    before = bot.snapshot()
    chat = bot.chat("bruno", bot.token(BRUNO[0]))
    first = "a Consulta CNPJ está fora do ar, impacto alto, todas as consultas dão erro 503"
    chat.say(first)
    chat.expect("Consulta CNPJ", "Problema, impacto alto", first, "Posso registrar?")
    reply = chat.say("sim")
    number = NUMBER.search(reply)
    assert number, f"nenhum acionamento registrado\n{chat.log()}"
    turns["acionamento"] = counted(chat)
    print(f"\nacionamento: {turns['acionamento']} turnos\n{chat.log()}")
    assert turns["acionamento"] <= GOALS["acionamento"], chat.log()

    diff = changes(before, bot.snapshot())
    assert [t["number"] for t in diff["tickets"]["added"]] == [number.group()]
    ticket = bot.cli("tickets", "show", number.group())
    assert (ticket["service"], ticket["category"], ticket["impact"]) == ("Consulta CNPJ", "problema", "alto")
    assert ticket["description"] == first
    assert ticket["requester_email"] == BRUNO[1]


def test_service_and_wish_alone_get_asked_what_happens(bot: Assistant) -> None:
    chat = bot.chat("bruno", bot.token(BRUNO[0]))
    chat.say("o Datavalid está com problema, quero abrir um chamado")
    chat.expect("impacto")  # service and category were taken; not asked again
    assert "Para qual serviço" not in chat.text and "tipo do acionamento" not in chat.text, chat.log()
    chat.click("Médio")
    chat.expect("Descreva", "mensagens de erro, desde quando, quem é afetado")
    description = "A validação facial devolve erro 422 para metade das fotos desde ontem à tarde."
    chat.say(description)
    chat.expect("Datavalid", "Problema, impacto médio", description, "Posso registrar?")
    number = NUMBER.search(chat.say("sim"))
    assert number, chat.log()
    ticket = bot.cli("tickets", "show", number.group())
    assert ticket["description"] == description, chat.log()


# ---------------------------------------------------------------- contato


def test_a_contact_given_in_one_line_takes_three_turns(bot: Assistant, turns: dict[str, int]) -> None:
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    chat.say(f"preciso cadastrar um novo contato, a {ONE_LINE['name']}, e-mail {ONE_LINE['email']}, "
             f"CPF {ONE_LINE['typed_cpf']}, perfil financeiro, telefone (61) 3411-2200")
    chat.expect("veracidade")
    chat.say("sim, declaro")
    cpf = "".join(c for c in ONE_LINE["typed_cpf"] if c.isdigit())
    chat.expect(ONE_LINE["name"], ONE_LINE["email"], f"CPF: xxx.{cpf[3:6]}.{cpf[6:9]}-xx", "Financeiro",
                "(61) 3411-2200", "Telefone secundário: não informado", "Posso cadastrar?")
    chat.say("sim")
    chat.expect(ONE_LINE["name"], "primeiro acesso")
    turns["contato"] = counted(chat)
    print(f"\ncontato: {turns['contato']} turnos\n{chat.log()}")
    assert turns["contato"] <= GOALS["contato"], chat.log()

    diff = changes(before, bot.snapshot())
    [added] = diff["contacts"]["added"]
    assert {key: added[key] for key in ("name", "email", "cpf", "profiles", "phone_primary", "phone_secondary",
                                        "company_cnpj")} == {
        "name": ONE_LINE["name"], "email": ONE_LINE["email"], "cpf": ONE_LINE["cpf"], "profiles": ["financeiro"],
        "phone_primary": ONE_LINE["phone"], "phone_secondary": None, "company_cnpj": SECRETARIA}
    assert diff["tickets"] == NOTHING


# Terse lines: a request word and the data ("cadastre a …, e-mail …"), or the data alone (read as `informar`, which
# outside any form starts the contact skill too: actions/dialogue.py). Contacts of our own invention, valid CPFs.
TERSE = [
    ("cadastre a Helena Prado Lima, e-mail helena.lima@exemplo.gov.br, CPF 390.533.447-05, técnico, tel 61 3411-2200",
     {"name": "Helena Prado Lima", "email": "helena.lima@exemplo.gov.br", "cpf": "39053344705",
      "profiles": ["tecnico_producao"], "phone_primary": "+556134112200"}),
    ("inclui o Otavio Brandao Reis otavio.reis@exemplo.gov.br cpf 71428793860 corporativo (61) 3030-4040",
     {"name": "Otavio Brandao Reis", "email": "otavio.reis@exemplo.gov.br", "cpf": "71428793860",
      "profiles": ["corporativo"], "phone_primary": "+556130304040"}),
    ("Sofia Rangel Dutra, sofia.dutra@exemplo.gov.br, 453.178.287-91, financeiro, 61 99876-1234",
     {"name": "Sofia Rangel Dutra", "email": "sofia.dutra@exemplo.gov.br", "cpf": "45317828791",
      "profiles": ["financeiro"], "phone_primary": "+5561998761234"}),
]


@pytest.mark.parametrize("line, stored", TERSE, ids=["cadastre", "inclui", "so-os-dados"])
def test_a_terse_contact_line_starts_the_skill_and_takes_three_turns(bot: Assistant, line: str,
                                                                     stored: dict[str, Any]) -> None:
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    chat.say(line)
    chat.expect("veracidade")
    chat.say("sim, declaro")
    chat.expect(stored["name"], stored["email"], f"CPF: xxx.{stored['cpf'][3:6]}.{stored['cpf'][6:9]}-xx",
                "Posso cadastrar?")
    chat.say("sim")
    chat.expect(stored["name"], "primeiro acesso")
    print(f"\ncontato numa linha curta: {counted(chat)} turnos\n{chat.log()}")
    assert counted(chat) <= GOALS["contato"], chat.log()

    diff = changes(before, bot.snapshot())
    [added] = diff["contacts"]["added"]
    assert {key: added[key] for key in (*stored, "phone_secondary", "company_cnpj")} == {
        **stored, "phone_secondary": None, "company_cnpj": SECRETARIA}, chat.log()
    assert diff["tickets"] == NOTHING


# ---------------------------------------------------------------- complemento, avaliação, reabertura


def test_a_complement_with_number_and_text_takes_two_turns(bot: Assistant, turns: dict[str, int]) -> None:
    number = opened_by_staff(bot, CARLA[0], "A fatura de maio não chegou.")
    chat = bot.chat("carla", bot.token(CARLA[0]))
    text = "o boleto anexo também está com o CNPJ errado"
    chat.say(f"complementar o {number}: {text}")
    chat.expect(number, text, "Posso confirmar?")
    chat.say("sim")
    chat.expect("complemento foi registrado")
    turns["complemento"] = counted(chat)
    print(f"\ncomplemento: {turns['complemento']} turnos\n{chat.log()}")
    assert turns["complemento"] <= GOALS["complemento"], chat.log()
    assert [c["text"] for c in bot.cli("tickets", "show", number)["complements"]] == [text]


def test_an_evaluation_with_number_score_and_agreement_takes_two_turns(bot: Assistant, turns: dict[str, int]) -> None:
    number = opened_by_staff(bot, CARLA[0], "A segunda via do boleto não abre.")
    bot.cli_text("tickets", "resolve", number, "--solution", "O boleto foi reenviado.")
    chat = bot.chat("carla", bot.token(CARLA[0]))
    chat.say(f"avaliar o {number}: nota 4, o problema foi resolvido")
    chat.expect("Nota: 4", "Concorda com a solução", "Posso confirmar?")
    chat.say("sim")
    chat.expect("Obrigado pela avaliação", number)
    turns["avaliacao"] = counted(chat)
    print(f"\navaliação: {turns['avaliacao']} turnos\n{chat.log()}")
    assert turns["avaliacao"] <= GOALS["avaliacao"], chat.log()
    ticket = bot.cli("tickets", "show", number)
    assert ticket["status"] == "fechado" and ticket["evaluation"] == {"score": 4, "comment": None}


def test_a_reopening_with_number_and_reason_takes_two_turns(bot: Assistant, turns: dict[str, int]) -> None:
    number = opened_by_staff(bot, CARLA[0], "A nota fiscal veio com o CNPJ errado.")
    bot.cli_text("tickets", "resolve", number, "--solution", "A nota foi reemitida.")
    chat = bot.chat("carla", bot.token(CARLA[0]))
    reason = "a nota reemitida também veio com o CNPJ da matriz"
    chat.say(f"reabrir o {number}: {reason}")
    chat.expect(number, reason, "Posso confirmar?")
    chat.say("sim")
    chat.expect("foi reaberto")
    turns["reabertura"] = counted(chat)
    print(f"\nreabertura: {turns['reabertura']} turnos\n{chat.log()}")
    assert turns["reabertura"] <= GOALS["reabertura"], chat.log()
    assert bot.cli("tickets", "show", number)["status"] == "reaberto"


def test_turn_counts_per_skill(turns: dict[str, Any]) -> None:
    """The figures for the report: every skill above reached its goal."""
    print("\nturnos do usuário até o número/confirmação (meta):")
    for skill, goal in GOALS.items():
        print(f"  {skill:<12} {turns.get(skill, '—')} ({goal})")
    assert set(turns) == set(GOALS), f"faltam conversas: {set(GOALS) - set(turns)}"
