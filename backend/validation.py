"""Every input rule in one place: documents, e-mail, phones, names and profiles.

Check digits and formats come from well-kept libraries (validate-docbr, email-validator, phonenumbers);
this module only normalises and turns their verdicts into pt-BR messages.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from validate_docbr import CNPJ, CPF

from backend.errors import InvalidInput
from backend.vocabulary import MAX_PROFILES, PROFILES

_DOCUMENT_CHARS = re.compile(r"^[\d.\-/\s]+$")
_CPF = CPF()
_CNPJ = CNPJ()


def normalize_cpf(text: str | None) -> str:
    """11 digits of a valid CPF, or InvalidInput explaining why not."""
    digits = _document_digits(text, "CPF")
    if len(digits) != 11 or not _CPF.validate(digits):
        raise InvalidInput("CPF inválido: confira os 11 dígitos (ex.: 123.456.789-09).")
    return digits


def normalize_cnpj(text: str | None) -> str:
    """14 digits of a valid CNPJ, or InvalidInput explaining why not."""
    digits = _document_digits(text, "CNPJ")
    if len(digits) != 14 or not _CNPJ.validate(digits):
        raise InvalidInput("CNPJ inválido: confira os 14 dígitos (ex.: 11.222.333/0001-81).")
    return digits


def _document_digits(text: str | None, kind: str) -> str:
    text = (text or "").strip()
    if not text or not _DOCUMENT_CHARS.match(text):
        raise InvalidInput(f"{kind} inválido: use apenas números, pontos, traços e barra.")
    return re.sub(r"\D", "", text)


def format_cpf(cpf: str) -> str:
    return f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"


def format_cnpj(cnpj: str) -> str:
    return f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}"


def mask_cpf(cpf: str | None) -> str:
    """CPF as shown in lists (seed 000): only the middle six digits, e.g. xxx.456.789-xx."""
    digits = re.sub(r"\D", "", cpf or "")
    if len(digits) != 11:
        return "estrangeiro (sem CPF)"
    return f"xxx.{digits[3:6]}.{digits[6:9]}-xx"


def normalize_email(text: str | None) -> str:
    """A syntactically valid address, lower-cased (addresses are compared case-insensitively here)."""
    text = (text or "").strip()
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise InvalidInput("E-mail inválido: informe um endereço completo, como nome@orgao.gov.br.") from None


def normalize_phone(text: str | None) -> str:
    """A valid phone in E.164, e.g. +5561998765432: Brazilian with DDD, or international with "+"
    (foreign contacts may have foreign numbers)."""
    text = (text or "").strip()
    try:
        number = phonenumbers.parse(text, "BR")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput("Telefone inválido: informe DDD e número, como (61) 99876-5432.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str | None) -> str:
    """E.164 as Brazilians write it, e.g. (61) 99876-5432."""
    if not e164:
        return ""
    number = phonenumbers.parse(e164, "BR")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def normalize_name(text: str | None) -> str:
    """A person's name: 3 to 200 characters with at least two letters, inner spaces collapsed."""
    name = " ".join((text or "").split())
    if len(name) < 3 or len(name) > 200 or sum(ch.isalpha() for ch in name) < 2:
        raise InvalidInput("Nome inválido: informe o nome completo do contato.")
    return name


def _fold(text: str) -> str:
    """Lower case without accents, spaces or underscores: how profile names are compared."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[\s_]+", "", plain.lower())


_PROFILE_LOOKUP = {_fold(code): code for code in PROFILES} | {
    _fold(label): code for code, label in PROFILES.items()
}


def normalize_profiles(values: Iterable[str] | None) -> list[str]:
    """1 to 3 distinct contact types (codes or their labels), returned as sorted codes."""
    codes: set[str] = set()
    for value in values or []:
        code = _PROFILE_LOOKUP.get(_fold(str(value)))
        if code is None:
            options = ", ".join(PROFILES.values())
            raise InvalidInput(f"Tipo de contato desconhecido: {value}. Opções: {options}.")
        codes.add(code)
    if not 1 <= len(codes) <= MAX_PROFILES:
        raise InvalidInput("Escolha de 1 a 3 tipos de contato.")
    return sorted(codes)
