"""Issue 11, points 3 and 5, over HTTP against the real servers: a user who turns to another skill in the middle of
a form is followed and offered the way back with what was already filled; "Corrigir" on a summary changes one field,
validated like the first time, before anything is written. The backend is checked with the staff CLI.

Reuses the servers, chat and snapshot helpers of tests/test_integration_conversations.py (the session's launcher,
the `bot` fixture of conftest.py, on a fresh PostgreSQL database).
"""
from __future__ import annotations

import pytest

from tests.test_integration_conversations import (
    ANA,
    NOTHING,
    NUMBER,
    SECRETARIA,
    Assistant,
    assert_unchanged,
    changes,
)

pytestmark = pytest.mark.integration

OFFER = "Quer voltar ao acionamento que você estava registrando?"


def ana_ticket(bot: Assistant) -> str:
    return bot.cli("tickets", "open", "--cpf", ANA[0], "--service", "Consulta CNPJ", "--category", "duvida",
                   "--description", "Como consulto o quadro societário pela API? (aberto pelo teste)")["number"]


def test_a_consultation_in_the_middle_of_a_ticket_then_back_and_a_corrected_service(bot: Assistant) -> None:
    number = ana_ticket(bot)
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    chat.say("quero abrir um acionamento")
    chat.click("Datavalid")
    chat.expect("tipo do acionamento")
    chat.say(f"deixa pra lá, me diz a situação do {number}")
    # followed: the ticket's state, not "Não entendi o tipo"; then the offer with what the form has
    chat.expect(f"Acionamento {number}", OFFER, "Já tenho: serviço: Datavalid")
    chat.click("Sim")
    chat.expect("tipo do acionamento")
    chat.click("Dúvida")
    chat.expect("Descreva")
    # free text keeps its protection: a description that mentions consulting is a description
    description = "Quando tento consultar a situação de um CPF no Datavalid aparece erro 500."
    chat.say(description)
    chat.expect("Serviço: Datavalid", description, "Posso registrar?")
    assert [b["title"] for b in chat.buttons] == ["Sim, registrar", "Corrigir", "Não"], chat.log()
    chat.click("Corrigir")
    chat.expect("O que você quer corrigir?")
    assert [b["title"] for b in chat.buttons] == ["Serviço", "Tipo", "Descrição"], chat.log()
    chat.click("Serviço")
    chat.expect("Para qual serviço")
    chat.say("um serviço que não existe")  # the same validator as the first time refuses it
    assert "Para qual serviço" in chat.text and "Não encontrei" in chat.text, chat.log()
    chat.click("Consulta CPF")
    chat.expect("Serviço: Consulta CPF", description, "Posso registrar?")
    registered = NUMBER.search(chat.click("Sim"))
    assert registered, chat.log()

    diff = changes(before, bot.snapshot())
    assert [t["number"] for t in diff["tickets"]["added"]] == [registered.group()], chat.log()
    assert diff["tickets"]["changed"] == [] and diff["contacts"] == NOTHING
    ticket = bot.cli("tickets", "show", registered.group())
    assert (ticket["service"], ticket["category"], ticket["description"]) == ("Consulta CPF", "duvida", description)


def test_help_in_the_middle_of_a_ticket_and_no_way_back_writes_nothing(bot: Assistant) -> None:
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    chat.say("quero abrir um acionamento")
    chat.click("Área do Cliente")
    chat.expect("tipo do acionamento")
    chat.say("ajuda")
    chat.expect("Posso ajudar com", OFFER, "serviço: Área do Cliente")
    chat.click("Não")
    chat.expect("não registrei o acionamento")
    assert_unchanged(bot, before, chat)


def test_a_complement_in_the_middle_of_a_ticket_then_the_ticket_comes_back(bot: Assistant) -> None:
    number = ana_ticket(bot)
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    chat.say("quero abrir um acionamento")
    chat.click("Datavalid")
    chat.click("Problema")
    chat.expect("impacto")
    chat.say(f"quero complementar o acionamento {number}")
    chat.expect(f"O que você quer acrescentar ao acionamento {number}")
    complement = "O quadro societário também não aparece no ambiente de homologação."
    chat.say(complement)
    chat.expect(complement, "Posso confirmar?")
    chat.click("Sim")
    # the complement is written, then the interrupted ticket offers to come back with what it had
    chat.expect("complemento foi registrado", OFFER, "serviço: Datavalid; tipo: Problema")
    chat.click("Sim")
    chat.expect("impacto")
    chat.click("Alto")
    description = "O Datavalid responde erro 503 em todas as validações desde as oito horas."
    chat.say(description)
    chat.expect("Datavalid", "impacto alto", description, "Posso registrar?")
    registered = NUMBER.search(chat.click("Sim"))
    assert registered, chat.log()

    diff = changes(before, bot.snapshot())
    assert [t["number"] for t in diff["tickets"]["added"]] == [registered.group()], chat.log()
    assert [t["number"] for t in diff["tickets"]["changed"]] == [number], chat.log()
    assert [c["text"] for c in bot.cli("tickets", "show", number)["complements"]] == [complement]
    ticket = bot.cli("tickets", "show", registered.group())
    assert (ticket["service"], ticket["category"], ticket["impact"]) == ("Datavalid", "problema", "alto")


def test_a_corrected_reason_is_validated_like_the_first_time(bot: Assistant) -> None:
    number = ana_ticket(bot)
    bot.cli("tickets", "resolve", number, "--solution", "Enviamos o link da documentação da API.")
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    chat.say(f"preciso reabrir o chamado {number}")
    chat.expect("Conte por que")
    chat.say("O link enviado não mostra o quadro societário.")
    chat.expect("Posso confirmar?")
    chat.click("Corrigir")
    chat.expect("O que você quer corrigir?")
    chat.click("Motivo")
    chat.expect("Conte por que")
    chat.say("ok")
    assert "muito curto" in chat.text, chat.log()
    reason = "O endpoint do quadro societário continua respondendo erro 404 em produção."
    chat.say(reason)
    chat.expect(reason, "Posso confirmar?")
    chat.click("Sim")
    chat.expect(f"O acionamento {number} foi reaberto")
    ticket = bot.cli("tickets", "show", number)
    assert ("reopened", reason) in [(e["kind"], e["text"]) for e in ticket["history"]]
    diff = changes(before, bot.snapshot())
    assert [t["number"] for t in diff["tickets"]["changed"]] == [number] and diff["contacts"] == NOTHING


def test_contacts_listed_in_the_middle_of_adding_one_and_no_way_back(bot: Assistant) -> None:
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    chat.say("quero cadastrar um novo contato")
    chat.expect("nome completo")
    chat.say("Rodrigo Almeida Neves")
    chat.expect("e-mail do contato")
    chat.say("quais são os contatos da empresa?")
    chat.expect("Contatos da", "Quer voltar à inclusão do contato?", "Já tenho: nome: Rodrigo Almeida Neves")
    chat.click("Não")
    chat.expect("não cadastrei o contato")
    assert_unchanged(bot, before, chat)
    assert all(c["name"] != "Rodrigo Almeida Neves" for c in bot.cli("contacts", "list", "--cnpj", SECRETARIA))


def test_every_summary_offers_to_correct(bot: Assistant) -> None:
    """The removal summary too: "Corrigir" picks another contact, and "Não" still discards."""
    before = bot.snapshot()
    chat = bot.chat("ana", bot.token(ANA[0]))
    chat.say("quero remover um contato")
    chat.click("Carla Dias")
    chat.expect("Confirma a remoção de Carla Dias")
    assert [b["title"] for b in chat.buttons] == ["Sim, remover", "Corrigir", "Não"], chat.log()
    chat.click("Corrigir")
    chat.click("Contato")
    chat.expect("Qual contato você quer remover?")
    chat.click("Bruno Lima")
    chat.expect("Confirma a remoção de Bruno Lima")
    chat.click("Não")
    chat.expect("não removi ninguém")
    assert_unchanged(bot, before, chat)
