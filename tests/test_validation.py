"""Input rules (backend.validation): documents, e-mail, phones, names, profiles and the CPF mask."""
from __future__ import annotations

import pytest

from backend import validation
from backend.errors import InvalidInput

PERSONA_CPFS = {
    "234.567.891-73": "23456789173",
    "345.678.912-28": "34567891228",
    "456.789.123-64": "45678912364",
    "567.891.234-82": "56789123482",
}
COMPANY_CNPJS = {
    "11.222.333/0001-81": "11222333000181",
    "44.555.666/0001-81": "44555666000181",
}


# --- CPF --------------------------------------------------------------------------------------


@pytest.mark.parametrize("formatted, digits", PERSONA_CPFS.items())
def test_persona_cpfs_are_valid_formatted_or_not(formatted, digits):
    assert validation.normalize_cpf(formatted) == digits
    assert validation.normalize_cpf(digits) == digits


def test_cpf_tolerates_outer_and_inner_blanks():
    assert validation.normalize_cpf("  234 567 891 73 ") == "23456789173"


@pytest.mark.parametrize(
    "text",
    [
        "234.567.891-74",  # wrong second check digit
        "234.567.891-63",  # wrong first check digit
        "111.111.111-11",  # repeated digits pass the arithmetic but are not CPFs
        "000.000.000-00",
        "99999999999",
        "2345678917",  # 10 digits
        "234567891733",  # 12 digits
    ],
)
def test_cpf_with_bad_digits_is_refused(text):
    with pytest.raises(InvalidInput, match="CPF inválido: confira os 11 dígitos"):
        validation.normalize_cpf(text)


@pytest.mark.parametrize("text", ["2345678917a", "CPF 234.567.891-73", "234,567,891-73", "abc", "", "   ", None])
def test_cpf_with_letters_or_nothing_is_refused(text):
    with pytest.raises(InvalidInput, match="CPF inválido: use apenas números"):
        validation.normalize_cpf(text)


def test_format_cpf():
    assert validation.format_cpf("23456789173") == "234.567.891-73"


# --- CNPJ -------------------------------------------------------------------------------------


@pytest.mark.parametrize("formatted, digits", COMPANY_CNPJS.items())
def test_company_cnpjs_are_valid_formatted_or_not(formatted, digits):
    assert validation.normalize_cnpj(formatted) == digits
    assert validation.normalize_cnpj(digits) == digits
    assert validation.format_cnpj(digits) == formatted


@pytest.mark.parametrize(
    "text",
    [
        "11.222.333/0001-82",  # wrong check digit
        "11.222.333/0001-91",
        "11.111.111/1111-11",  # repeated digits
        "00.000.000/0000-00",
        "1122233300018",  # 13 digits
        "112223330001811",  # 15 digits
    ],
)
def test_cnpj_with_bad_digits_is_refused(text):
    with pytest.raises(InvalidInput, match="CNPJ inválido: confira os 14 dígitos"):
        validation.normalize_cnpj(text)


@pytest.mark.parametrize("text", ["11.222.333/0001-8a", "CNPJ 11222333000181", "", "  ", None])
def test_cnpj_with_letters_or_nothing_is_refused(text):
    with pytest.raises(InvalidInput, match="CNPJ inválido: use apenas números"):
        validation.normalize_cnpj(text)


def test_a_cpf_is_not_a_cnpj_and_vice_versa():
    with pytest.raises(InvalidInput):
        validation.normalize_cnpj("234.567.891-73")
    with pytest.raises(InvalidInput):
        validation.normalize_cpf("11.222.333/0001-81")


# --- mask -------------------------------------------------------------------------------------


def test_mask_cpf_keeps_only_the_middle_six_digits():
    assert validation.mask_cpf("23456789173") == "xxx.567.891-xx"
    assert validation.mask_cpf(validation.normalize_cpf("234.567.891-73")) == "xxx.567.891-xx"


def test_mask_cpf_never_shows_first_or_last_digits():
    masked = validation.mask_cpf("45678912364")
    assert masked == "xxx.789.123-xx"
    assert "456" not in masked and "64" not in masked


@pytest.mark.parametrize("cpf", [None, ""])
def test_mask_of_a_foreign_contact_says_so(cpf):
    assert validation.mask_cpf(cpf) == "estrangeiro (sem CPF)"


# --- e-mail -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ana.souza@exemplo.gov.br", "ana.souza@exemplo.gov.br"),
        ("  Ana.Souza@Exemplo.GOV.BR  ", "ana.souza@exemplo.gov.br"),
        ("DIEGO.ROCHA@DEMONSTRACAO.GOV.BR", "diego.rocha@demonstracao.gov.br"),
        ("joao+css@orgao.gov.br", "joao+css@orgao.gov.br"),
    ],
)
def test_email_is_trimmed_and_lower_cased(text, expected):
    assert validation.normalize_email(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ana",
        "ana@",
        "@exemplo.gov.br",
        "ana@exemplo",  # no top-level domain
        "ana souza@exemplo.gov.br",
        "ana@@exemplo.gov.br",
        "ana@exemplo..gov.br",
        "ana.@exemplo.gov.br",
        "",
        "   ",
        None,
    ],
)
def test_bad_email_is_refused(text):
    with pytest.raises(InvalidInput, match="E-mail inválido"):
        validation.normalize_email(text)


# --- phones -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("(61) 99876-5432", "+5561998765432"),  # mobile
        ("61998765432", "+5561998765432"),
        ("+55 61 99876-5432", "+5561998765432"),
        ("061 99876-5432", "+5561998765432"),  # trunk prefix 0
        ("(11) 98765-4321", "+5511987654321"),
        ("(61) 3411-2233", "+556134112233"),  # landline
        ("6134112233", "+556134112233"),
        ("(21) 2555-1234", "+552125551234"),
    ],
)
def test_phone_with_area_code_comes_out_in_e164(text, expected):
    assert validation.normalize_phone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "99876-5432",  # mobile without DDD
        "3411-2233",  # landline without DDD
        "(00) 99876-5432",  # no such DDD
        "(61) 9876-5432",  # mobile without the ninth digit
        "123",
        "abc",
        "(61) 99876-543210",  # too long
        "",
        "   ",
        None,
    ],
)
def test_bad_phone_is_refused(text):
    with pytest.raises(InvalidInput, match="Telefone inválido: informe DDD e número"):
        validation.normalize_phone(text)


@pytest.mark.parametrize(
    "e164, shown",
    [
        ("+5561998765432", "(61) 99876-5432"),
        ("+556134112233", "(61) 3411-2233"),
        (None, ""),
        ("", ""),
    ],
)
def test_format_phone_as_brazilians_write_it(e164, shown):
    assert validation.format_phone(e164) == shown


def test_phone_round_trip():
    assert validation.normalize_phone(validation.format_phone("+5561976543210")) == "+5561976543210"


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Ana Souza", "Ana Souza"),
        ("  Ana    Souza  ", "Ana Souza"),
        ("Ana\tSouza\nLima", "Ana Souza Lima"),
        ("José D'Ávila", "José D'Ávila"),
        ("Bia", "Bia"),  # three characters is enough
    ],
)
def test_name_is_kept_with_inner_blanks_collapsed(text, expected):
    assert validation.normalize_name(text) == expected


@pytest.mark.parametrize("text", ["", "   ", None, "Al", "A1", "12345", "1 2 3", "---", "A" * 201])
def test_bad_name_is_refused(text):
    with pytest.raises(InvalidInput, match="Nome inválido"):
        validation.normalize_name(text)


def test_name_of_200_characters_is_accepted():
    name = "A" * 200
    assert validation.normalize_name(name) == name


# --- profiles ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, expected",
    [
        (["financeiro"], ["financeiro"]),
        (["representante_legal", "financeiro"], ["financeiro", "representante_legal"]),
        (["Representante Legal"], ["representante_legal"]),
        (["representante legal"], ["representante_legal"]),
        (["Técnico Produção"], ["tecnico_producao"]),
        (["tecnico producao"], ["tecnico_producao"]),
        (["TÉCNICO_PRODUÇÃO"], ["tecnico_producao"]),
        (["Corporativo", "Financeiro", "Técnico Produção"], ["corporativo", "financeiro", "tecnico_producao"]),
    ],
)
def test_profiles_by_code_or_label_come_out_as_sorted_codes(values, expected):
    assert validation.normalize_profiles(values) == expected


def test_duplicate_profiles_collapse():
    assert validation.normalize_profiles(["financeiro", "Financeiro", "FINANCEIRO"]) == ["financeiro"]


def test_four_entries_naming_three_profiles_are_accepted():
    values = ["financeiro", "Financeiro", "corporativo", "Representante Legal"]
    assert validation.normalize_profiles(values) == ["corporativo", "financeiro", "representante_legal"]


@pytest.mark.parametrize("values", [[], None])
def test_no_profile_is_refused(values):
    with pytest.raises(InvalidInput, match="Escolha de 1 a 3 tipos de contato"):
        validation.normalize_profiles(values)


def test_four_profiles_are_refused():
    with pytest.raises(InvalidInput, match="Escolha de 1 a 3 tipos de contato"):
        validation.normalize_profiles(["representante_legal", "financeiro", "corporativo", "tecnico_producao"])


@pytest.mark.parametrize("unknown", ["gerente", "administrador", "", "representante"])
def test_unknown_profile_is_refused_with_the_options(unknown):
    with pytest.raises(InvalidInput) as refused:
        validation.normalize_profiles(["financeiro", unknown])
    message = str(refused.value)
    assert message.startswith("Tipo de contato desconhecido")
    for label in ("Representante Legal", "Financeiro", "Corporativo", "Técnico Produção"):
        assert label in message
