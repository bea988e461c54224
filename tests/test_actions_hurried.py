"""Hurried users (issue 11, "take what was said"): the message that starts a form fills every slot it states, the form
validates those values as if they had been answered one by one (an invalid one is told and asked again, never
stored), and asks only for what is missing. Each test runs `action_preparar_*` on the first message, then the
form's validation of what it pre-filled, as Rasa does when it activates the form."""
from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Action
from rasa_sdk.events import SlotSet

from actions.contacts import NO_PHONE, ActionPrepararContato, ValidateContatoForm, full_name
from actions.ticket_followup import (
    ActionPrepararAvaliacao,
    ActionPrepararComplemento,
    ActionPrepararReabertura,
    ValidateAvaliacaoForm,
    ValidateComplementoForm,
    ValidateReaberturaForm,
)
from actions.ticket_text import read_evaluation, said_after, stated_impact
from actions.tickets import ActionPrepararAcionamento, ValidateAcionamentoForm
from backend.desk import ServiceDesk
from tests.actions_helpers import (  # noqa: F401 — `plugged` is an autouse fixture
    entity,
    plugged,
    render,
    responses,
    run,
    slot_values,
    token_for,
    tracker,
)

Found = list[dict[str, Any]]


def first_message(desk: ServiceDesk, prepare: Action, validator: Action, form: str, text: str, intent: str,
                  found: Found = (), persona: str = "ana") -> tuple[dict[str, Any], dict[str, Any], list]:
    """Run the preparing action on `text`, then the form's validation of what it pre-filled.

    Returns what was pre-filled (non-empty values), what the validation kept, and the validation's messages."""
    token = token_for(desk, persona)
    events, messages = run(prepare, tracker(text, token=token, intent=intent, entities=found))
    assert messages == []
    prefilled = {k: v for k, v in slot_values(events).items()
                 if v is not None and k not in ("autenticado", "pode_gerenciar_contatos")}
    validated, said = run(validator, tracker(text, token=token, intent=intent, entities=found, form=form,
                                             candidates=prefilled, slots={"requested_slot": None}))
    kept = {k: v for k, v in slot_values(validated).items() if k != "tentativas"}
    return prefilled, kept, said


# --- acionamento_form ---------------------------------------------------------------------------------------------

SAID_IT_ALL = "a Consulta CNPJ está fora do ar, impacto alto, todas as consultas dão erro 503"


def test_a_ticket_said_in_one_message_leaves_only_the_confirmation(desk):
    prefilled, kept, said = first_message(
        desk, ActionPrepararAcionamento(), ValidateAcionamentoForm(), "acionamento_form", SAID_IT_ALL,
        "abrir_acionamento", [entity("servico", "consulta_cnpj")])

    assert prefilled == {"servico": "consulta_cnpj", "categoria": "problema", "impacto": "alto",
                         "descricao": SAID_IT_ALL}
    assert kept == prefilled
    assert said == []


def test_the_service_category_and_wish_alone_are_not_a_description(desk):
    text = "o Datavalid está com problema, quero abrir um chamado"
    prefilled, kept, said = first_message(
        desk, ActionPrepararAcionamento(), ValidateAcionamentoForm(), "acionamento_form", text,
        "abrir_acionamento", [entity("servico", "datavalid")])

    assert prefilled == {"servico": "datavalid", "categoria": "problema"}  # the description is asked
    assert said == []


def test_an_impact_stated_makes_it_a_problem(desk):
    text = "Datavalid, impacto baixo: a biometria recusa fotos tiradas com pouca luz"
    prefilled, _kept, _said = first_message(
        desk, ActionPrepararAcionamento(), ValidateAcionamentoForm(), "acionamento_form", text,
        "abrir_acionamento", [entity("servico", "datavalid")])

    assert prefilled["categoria"] == "problema" and prefilled["impacto"] == "baixo"


def test_an_unknown_service_in_the_first_message_is_told_and_asked_again(desk):
    text = "o Sistema Xyz está fora do ar desde as 8h para todos"
    prefilled, kept, said = first_message(
        desk, ActionPrepararAcionamento(), ValidateAcionamentoForm(), "acionamento_form", text,
        "abrir_acionamento", [entity("servico", "Sistema Xyz")])

    assert prefilled["servico"] == "Sistema Xyz"
    assert kept["servico"] is None and kept["descricao"] == text
    assert "Não encontrei o serviço" in render(said[0])


@pytest.mark.parametrize("text, impact", [
    ("impacto alto", "alto"), ("fora do ar, impacto: médio", "medio"), ("é de baixo impacto", "baixo"),
    ("impacto e alta", "alto"), ("todos os usuários parados", None), ("o impacto ainda não sei", None),
])
def test_only_an_impact_said_in_so_many_words_is_taken(text, impact):
    assert stated_impact(text) == impact


# --- contato_form -------------------------------------------------------------------------------------------------

ONE_LINE_CONTACT = ("cadastre a Marina Quintela Reis, marina.reis@exemplo.gov.br, CPF 529.982.247-25, financeiro, "
                    "telefone (61) 3411-2200")
CONTACT_FOUND = [entity("nome", "Marina Quintela"), entity("email", "marina.reis@exemplo.gov.br"),
                 entity("cpf", "529.982.247-25"), entity("perfil", "financeiro"), entity("telefone", "(61) 3411-2200")]


def test_a_contact_in_one_line_leaves_only_the_declaration_and_the_confirmation(desk):
    prefilled, kept, said = first_message(
        desk, ActionPrepararContato(), ValidateContatoForm(), "contato_form", ONE_LINE_CONTACT, "incluir_contato",
        CONTACT_FOUND)

    assert prefilled == {"contato_nome": "Marina Quintela Reis",  # NLU cut the name; the whole run is taken
                         "contato_email": "marina.reis@exemplo.gov.br", "contato_cpf": "529.982.247-25",
                         "contato_perfis": ["financeiro"], "contato_telefone": "(61) 3411-2200",
                         "contato_telefone2": NO_PHONE}
    assert kept == {"contato_nome": "Marina Quintela Reis", "contato_email": "marina.reis@exemplo.gov.br",
                    "contato_cpf": "529.982.247-25", "contato_perfis": ["financeiro"],
                    "contato_mais_perfis": False, "contato_telefone": "+556134112200", "contato_telefone2": NO_PHONE}
    assert said == []


def test_two_phones_and_the_declaration_in_one_line(desk):
    text = ("incluir André Luiz Fontes, andre.fontes@exemplo.gov.br, CPF 529.982.247-25, corporativo, "
            "(61) 3255-7788 e (61) 99123-4567. Declaro a veracidade das informações")
    found = [entity("nome", "André Luiz Fontes"), entity("email", "andre.fontes@exemplo.gov.br"),
             entity("cpf", "529.982.247-25"), entity("perfil", "corporativo"),
             entity("telefone", "(61) 3255-7788"), entity("telefone", "(61) 99123-4567")]
    _prefilled, kept, said = first_message(
        desk, ActionPrepararContato(), ValidateContatoForm(), "contato_form", text, "incluir_contato", found)

    assert kept["contato_telefone"] == "+556132557788" and kept["contato_telefone2"] == "+5561991234567"
    assert kept["contato_declaracao"] is True
    assert said == []


def test_an_invalid_cpf_in_one_line_is_told_and_asked_again_the_rest_kept(desk):
    text = "cadastre a Marina Quintela Reis, marina.reis@exemplo.gov.br, CPF 123.456.789-00, financeiro"
    found = [entity("nome", "Marina Quintela Reis"), entity("email", "marina.reis@exemplo.gov.br"),
             entity("cpf", "123.456.789-00"), entity("perfil", "financeiro")]
    _prefilled, kept, said = first_message(
        desk, ActionPrepararContato(), ValidateContatoForm(), "contato_form", text, "incluir_contato", found)

    assert kept["contato_cpf"] is None
    assert kept["contato_nome"] == "Marina Quintela Reis" and kept["contato_email"] == "marina.reis@exemplo.gov.br"
    assert "CPF" in render(said[0])


def test_a_foreigner_said_in_one_line_has_no_cpf(desk):
    text = "incluir Sandra Costa, sandra.costa@exemplo.gov.br, estrangeira sem CPF, financeiro"
    found = [entity("nome", "Sandra Costa"), entity("email", "sandra.costa@exemplo.gov.br"),
             entity("perfil", "financeiro")]
    _prefilled, kept, _said = first_message(
        desk, ActionPrepararContato(), ValidateContatoForm(), "contato_form", text, "incluir_contato", found)

    assert kept["contato_cpf"] == "estrangeiro"


@pytest.mark.parametrize("text, partial, name", [
    ("inclua a Mariana da Silva Prado como contato Representante Legal", None, "Mariana da Silva Prado"),
    ("Cadastre Mariana Teixeira Prado, Financeiro e Corporativo", "Mariana Teixeira", "Mariana Teixeira Prado"),
    ("incluir o João Pereira com perfil financeiro", "João", "João Pereira"),
    ("Registra Helena Prado Lima, helena@orgao.gov.br", None, "Helena Prado Lima"),
    ("Coloca Rui Barbosa Neto nos contatos", "Rui Barbosa", "Rui Barbosa Neto"),
    ("quero incluir um contato Representante Legal", None, None),
    ("incluir contato financeiro", None, None),
])
def test_the_whole_name_around_what_nlu_found(text, partial, name):
    assert full_name(text, partial) == name


# --- complemento_form, reabertura_form: the text after the number -------------------------------------------------


@pytest.fixture
def open_ticket(desk: ServiceDesk, personas: dict[str, int]) -> str:
    return desk.open_ticket(personas["carla"], "financeiro", "problema", "A fatura de maio não chegou.",
                            impact="baixo")["number"]


@pytest.fixture
def resolved(desk: ServiceDesk, open_ticket: str) -> str:
    desk.staff_resolve(open_ticket, "A fatura foi reenviada para o seu e-mail.")
    return open_ticket


def test_a_complement_with_number_and_text_leaves_only_the_confirmation(desk, open_ticket):
    text = f"complementar o {open_ticket}: o boleto anexo também está com o CNPJ errado"
    prefilled, kept, said = first_message(
        desk, ActionPrepararComplemento(), ValidateComplementoForm(), "complemento_form", text,
        "complementar_acionamento", [entity("numero_acionamento", open_ticket)], persona="carla")

    assert prefilled == {"numero_acionamento": open_ticket,
                         "complemento": "o boleto anexo também está com o CNPJ errado"}
    assert kept == prefilled and said == []


@pytest.mark.parametrize("text", ["quero complementar o {n}", "acrescentar no {n} por favor", "/complementar_acionamento"])
def test_a_number_without_text_asks_the_complement(desk, open_ticket, text):
    prefilled, _kept, _said = first_message(
        desk, ActionPrepararComplemento(), ValidateComplementoForm(), "complemento_form",
        text.format(n=open_ticket), "complementar_acionamento", [entity("numero_acionamento", open_ticket)],
        persona="carla")

    assert prefilled == {"numero_acionamento": open_ticket}


def test_a_reopening_with_number_and_reason_leaves_only_the_confirmation(desk, resolved):
    text = f"reabrir o {resolved}: a fatura reenviada também veio sem o mês de maio"
    prefilled, kept, said = first_message(
        desk, ActionPrepararReabertura(), ValidateReaberturaForm(), "reabertura_form", text, "reabrir_acionamento",
        [entity("numero_acionamento", resolved)], persona="carla")

    assert kept == {"numero_acionamento": resolved, "motivo": "a fatura reenviada também veio sem o mês de maio"}
    assert said == []


def test_a_reason_too_short_is_told_and_asked_again(desk, resolved):
    text = f"reabrir o {resolved}: ruim"
    _prefilled, kept, said = first_message(
        desk, ActionPrepararReabertura(), ValidateReaberturaForm(), "reabertura_form", text, "reabrir_acionamento",
        [entity("numero_acionamento", resolved)], persona="carla")

    assert kept == {"numero_acionamento": resolved, "motivo": None}
    assert responses(said) == ["utter_motivo_curto"]


@pytest.mark.parametrize("rest, text", [
    (": o erro voltou às 14h", "o erro voltou às 14h"), (" com: erro 500 de novo", "erro 500 de novo"),
    (" - já reiniciamos o servidor", "já reiniciamos o servidor"), (" por favor", None), ("", None), ("!", None),
])
def test_the_text_after_the_number(rest, text):
    assert said_after(rest) == text


# --- avaliacao_form -----------------------------------------------------------------------------------------------


def test_an_evaluation_with_number_score_and_agreement_leaves_only_the_confirmation(desk, resolved):
    text = f"avaliar o {resolved}: nota 4, o problema foi resolvido"
    prefilled, kept, said = first_message(
        desk, ActionPrepararAvaliacao(), ValidateAvaliacaoForm(), "avaliacao_form", text, "avaliar_acionamento",
        [entity("numero_acionamento", resolved)], persona="carla")

    assert prefilled == {"numero_acionamento": resolved, "nota": 4, "concorda": True, "comentario": "-"}
    assert kept == {"numero_acionamento": resolved, "nota": 4.0, "concorda": True, "comentario": "-",
                    "requested_slot": "confirmacao"}
    assert responses(said) == ["utter_solucao_aplicada"]  # the solution is shown, as when the number is answered


def test_a_disagreement_with_its_reason_in_one_message(desk, resolved):
    text = f"{resolved} nota 2, não resolveu, a fatura reenviada veio sem o mês de maio"
    _prefilled, kept, _said = first_message(
        desk, ActionPrepararAvaliacao(), ValidateAvaliacaoForm(), "avaliacao_form", text, "avaliar_acionamento",
        [entity("numero_acionamento", resolved)], persona="carla")

    assert kept == {"numero_acionamento": resolved, "nota": 2.0, "concorda": False, "comentario": "-",
                    "motivo": "a fatura reenviada veio sem o mês de maio"}


def test_a_score_out_of_range_is_told_and_asked_again(desk, resolved):
    text = f"avaliar o {resolved}: nota 9, resolveu"
    _prefilled, kept, said = first_message(
        desk, ActionPrepararAvaliacao(), ValidateAvaliacaoForm(), "avaliacao_form", text, "avaliar_acionamento",
        [entity("numero_acionamento", resolved)], persona="carla")

    assert kept["nota"] is None and kept["concorda"] is True
    assert "utter_nota_invalida" in responses(said)


@pytest.mark.parametrize("text, stated", [
    (": nota 5, atendimento muito rápido, resolveu", {"nota": 5, "concorda": True,
                                                      "comentario": "atendimento muito rápido"}),
    ("dou 3 estrelas", {"nota": 3, "comentario": "-"}),
    ("avaliar: nota 1, o erro continua", {"nota": 1, "concorda": False, "comentario": "-",
                                           "motivo": "o erro continua"}),
    ("nota 2, discordo", {"nota": 2, "concorda": False, "comentario": "-"}),
    ("o atendimento levou 3 dias", {}),  # a number in a sentence is not a score
    ("quero avaliar o chamado", {}),
])
def test_what_an_evaluation_message_states(text, stated):
    assert read_evaluation(text) == stated


# --- form slot lists come from the domain -------------------------------------------------------------------------


def test_form_slots_are_read_from_the_domain():
    from actions.common import form_slots
    from tests.actions_helpers import DOMAIN

    assert form_slots(DOMAIN, "remocao_form") == ["contato_remover", "confirmacao", "tentativas"]
    assert form_slots(DOMAIN, "complemento_form", "reabertura_form") == [
        "numero_acionamento", "complemento", "motivo", "confirmacao", "tentativas"]
    domain = {"forms": {"novo_form": {"required_slots": ["a", "confirmacao", "b"]}}}
    assert form_slots(domain, "novo_form") == ["a", "b", "confirmacao", "tentativas"]
