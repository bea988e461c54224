"""Contact skills (Área do Cliente): include (contato_form), list, remove (remocao_form)."""
from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    ConfirmedSubmit,
    Contact,
    FormValidator,
    asks_nothing,
    clear_failures,
    current_contact,
    desk,
    form_slots,
    latest_entity,
    latest_intent,
    refuse_answer,
    refuses_slot,
    reset,
    safe,
    safe_validator,
    sign_in,
    signed_in,
)
from actions.ticket_text import parse_yes_no
from actions.tickets import validate_yes_no
from backend import validation
from backend.catalogue import fold
from backend.contacts import NewContact
from backend.errors import DeskError, InvalidInput
from backend.vocabulary import MAX_PROFILES, PROFILES

CONTACT_FORM = "contato_form"
REMOVAL_FORM = "remocao_form"
FOREIGN = "estrangeiro"
NO_PHONE = "nenhum"


def _allowed(dispatcher: CollectingDispatcher, tracker: Tracker) -> Contact | None:
    """The signed-in contact if they may manage contacts; otherwise says why not and returns None."""
    contact = current_contact(tracker)
    if contact is None:
        sign_in(dispatcher)
    elif not contact["can_manage_contacts"]:
        dispatcher.utter_message(response="utter_sem_permissao_contatos")
        return None
    return contact


def parse_profiles(text: str, entity_values: list[str]) -> list[str]:
    """Profiles named in an answer such as "Financeiro e Corporativo" (InvalidInput if any is unknown).

    The labels found in the text come first: NLU entities may cut a label ("Representante Legal e")."""
    named = profiles_in(text)
    if named:
        return validation.normalize_profiles(named)
    if entity_values:
        return validation.normalize_profiles(entity_values)
    parts = [p for p in re.split(r",|/|;|\+|\be\b", text, flags=re.IGNORECASE) if p.strip()]
    return validation.normalize_profiles(p.strip() for p in parts)


def profiles_in(text: str) -> list[str]:
    """Profile codes mentioned anywhere in a sentence ("sim, corporativo também")."""
    padded = f" {fold(text)} "
    return [code for code, label in PROFILES.items() if f" {fold(label)} " in padded or f" {fold(code)} " in padded]


class ActionPrepararContato(Action):
    """Permission first; then the form, pre-filled with what the first message already says."""

    def name(self) -> str:
        return "action_preparar_contato"

    @safe
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        contact = _allowed(dispatcher, tracker)
        signed = current_contact(tracker) is not None
        events: list[EventType] = [SlotSet("autenticado", signed), *reset(*form_slots(domain, CONTACT_FORM))]
        if contact is None:
            return [*events, SlotSet("pode_gerenciar_contatos", False)]
        text = (tracker.latest_message or {}).get("text") or ""
        events += [SlotSet(slot, value) for slot, value in stated_contact(text, tracker).items()]
        return [*events, SlotSet("pode_gerenciar_contatos", True)]


def stated_contact(text: str, tracker: Tracker) -> dict[str, Any]:
    """The contact form's slots a first message states ("inclua a Mariana Prado, mariana@…, CPF …, financeiro,
    (61) 3411-2200"). Every value is validated by the form as if it had been answered. A message that gives a phone
    has given the phones it means to: the optional secondary one is not asked then (the summary shows it)."""
    phones = list(tracker.get_latest_entity_values("telefone"))
    profiles = list(tracker.get_latest_entity_values("perfil")) or profiles_in(text)
    folded = fold(text)
    stated: dict[str, Any] = {
        "contato_nome": full_name(text, latest_entity(tracker, "nome")),
        "contato_email": latest_entity(tracker, "email"),
        "contato_cpf": FOREIGN if "estrangeir" in folded else latest_entity(tracker, "cpf"),
        "contato_perfis": profiles or None,
        "contato_telefone": phones[0] if phones else None,
        "contato_telefone2": (phones[1] if len(phones) > 1 else NO_PHONE) if phones else None,
        "contato_declaracao": True if re.search(r"\bdeclaro\b.*\b(veracidade|verdadeir)", folded) else None,
    }
    return {slot: value for slot, value in stated.items() if value}


_NAME_WORD = re.compile(r"[A-ZÀ-Ý][a-zà-ÿ'’]+")
_NAME_PARTICLES = {"da", "de", "do", "das", "dos"}
# Capitalised words that start a request rather than a name ("Cadastre Mariana Prado").
_NOT_NAME = {"cadastre", "cadastrar", "cadastra", "inclua", "incluir", "inclui", "adicione", "adicionar", "adiciona",
             "registre", "registrar", "registra", "coloque", "colocar", "coloca", "bote", "botar", "bota", "add",
             "cadastro", "inclusao", "novo", "nova", "contato", "quero", "preciso", "por", "favor", "oi", "ola", "bom",
             "boa", "nome", "cpf"}


def full_name(text: str, partial: str | None) -> str | None:
    """The whole run of capitalised words around the name NLU found (it may cut "Mariana Teixeira Prado" to
    "Mariana Teixeira"); without an NLU name, a run of at least two capitalised words that is not a profile."""
    runs = _capitalised_runs(text)
    if partial:
        return next((run for run in runs if partial in run or run in partial), partial)
    label_words = {word for label in PROFILES.values() for word in fold(label).split()}
    candidates = [run for run in runs if len(run.split()) >= 2 and not label_words & set(fold(run).split())]
    return candidates[0] if len(candidates) == 1 else None


def _capitalised_runs(text: str) -> list[str]:
    """Sequences like "Mariana da Silva Prado" (particles only between capitalised words), request words dropped."""
    runs: list[list[str]] = [[]]
    for word in re.findall(r"[\wÀ-ÿ'’]+|[^\w\s]", text):
        if _NAME_WORD.fullmatch(word) and fold(word) not in _NOT_NAME:
            runs[-1].append(word)
        elif word in _NAME_PARTICLES and runs[-1]:
            runs[-1].append(word)
        elif runs[-1]:
            runs.append([])
    names = []
    for run in runs:
        while run and run[-1] in _NAME_PARTICLES:
            run.pop()
        if run:
            names.append(" ".join(run))
    return names


def _check_available(tracker: Tracker, email: str | None = None, cpf: str | None = None) -> None:
    """Refuse at once an e-mail or CPF already used by an active contact of the company."""
    actor = current_contact(tracker)
    if actor is not None:
        desk().check_contact_available(actor["id"], email=email, cpf=cpf)


class ValidateContatoForm(FormValidator):
    def name(self) -> str:
        return "validate_contato_form"

    def validate_contato_nome(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        # The whole answer is the name: NLU's `nome` entity may hold only part of it ("John" of "John Michael Turner").
        typed = re.sub(r"^\s*(o\s+)?nome\s*(completo\s*)?(é|e|:)?\s*", "", str(value or ""), flags=re.IGNORECASE)
        try:
            name = validation.normalize_name(typed)
        except InvalidInput as error:
            return refuse_answer(dispatcher, tracker, "contato_nome", error.message)
        return {"contato_nome": name, **clear_failures(tracker, "contato_nome")}

    def validate_contato_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        try:
            email = validation.normalize_email(latest_entity(tracker, "email") or value)
            _check_available(tracker, email=email)
        except DeskError as error:
            return refuse_answer(dispatcher, tracker, "contato_email", error.message)
        return {"contato_email": email, **clear_failures(tracker, "contato_email")}

    def validate_contato_cpf(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        if value == FOREIGN or "estrangeir" in fold(str(value)):
            return {"contato_cpf": FOREIGN, **clear_failures(tracker, "contato_cpf")}
        try:
            cpf = validation.normalize_cpf(latest_entity(tracker, "cpf") or value)
            _check_available(tracker, cpf=cpf)
        except DeskError as error:
            return refuse_answer(dispatcher, tracker, "contato_cpf", error.message)
        return {"contato_cpf": validation.format_cpf(cpf), **clear_failures(tracker, "contato_cpf")}

    def validate_contato_perfis(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        # A list slot: typed text arrives as a one-item list, a pre-filled value as entity codes.
        text = " e ".join(str(v) for v in value) if isinstance(value, list) else str(value or "")
        try:
            codes = parse_profiles(text, list(tracker.get_latest_entity_values("perfil")))
        except InvalidInput as error:
            return refuse_answer(dispatcher, tracker, "contato_perfis", error.message)
        # Several types given at once, or types given unasked in a first message that said it all: the user said what
        # they wanted; one type given as the answer to the question: offer to add more.
        unasked = tracker.get_slot("requested_slot") != "contato_perfis"
        more = False if len(codes) > 1 or unasked else None
        return {"contato_perfis": codes, "contato_mais_perfis": more, **clear_failures(tracker, "contato_perfis")}

    def validate_contato_mais_perfis(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        chosen = list(tracker.get_slot("contato_perfis") or [])
        if isinstance(value, bool):
            return {"contato_mais_perfis": value if value is False else None}
        named = profiles_in(str(value)) or list(tracker.get_latest_entity_values("perfil"))
        if named:
            try:
                codes = validation.normalize_profiles(chosen + named)
            except InvalidInput as error:
                dispatcher.utter_message(text=error.message)
                return {"contato_mais_perfis": None}
            return {"contato_perfis": codes, "contato_mais_perfis": False if len(codes) >= MAX_PROFILES else None}
        answer = parse_yes_no(str(value), latest_intent(tracker))
        if answer is None:
            try:  # neither a profile nor yes/no: let the backend say what it did not recognise
                parse_profiles(str(value), [])
            except InvalidInput as error:
                dispatcher.utter_message(text=error.message)
        # "não" ends the question; "sim" (or anything unclear) asks it again, now as "qual?".
        return {"contato_mais_perfis": False if answer is False else None}

    def validate_contato_telefone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        try:
            phone = validation.normalize_phone(latest_entity(tracker, "telefone") or value)
        except InvalidInput as error:
            return refuse_answer(dispatcher, tracker, "contato_telefone", error.message)
        return {"contato_telefone": phone, **clear_failures(tracker, "contato_telefone")}

    def validate_contato_telefone2(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        if value == NO_PHONE or parse_yes_no(str(value), latest_intent(tracker)) is False:
            return {"contato_telefone2": NO_PHONE, **clear_failures(tracker, "contato_telefone2")}
        # Pre-filled from a first message with two phones, the value is the second phone found, not the first.
        phones = list(tracker.get_latest_entity_values("telefone"))
        try:
            phone = validation.normalize_phone(value if value in phones else (phones[0] if phones else value))
        except InvalidInput as error:
            return refuse_answer(dispatcher, tracker, "contato_telefone2", error.message)
        return {"contato_telefone2": phone, **clear_failures(tracker, "contato_telefone2")}

    def validate_contato_declaracao(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        answer = value if isinstance(value, bool) else parse_yes_no(str(value), latest_intent(tracker))
        if answer is not True:
            dispatcher.utter_message(response="utter_declaracao_obrigatoria")
            return {"contato_declaracao": None}
        return {"contato_declaracao": True}

    def validate_confirmacao(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        return validate_yes_no(value, dispatcher, tracker)


class ActionAskContatoMaisPerfis(Action):
    """Offers the profiles not chosen yet, plus "no more"."""

    def name(self) -> str:
        return "action_ask_contato_mais_perfis"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        chosen = list(tracker.get_slot("contato_perfis") or [])
        labels = ", ".join(PROFILES[c] for c in chosen if c in PROFILES)
        buttons = [{"title": label, "payload": label} for code, label in PROFILES.items() if code not in chosen]
        buttons.append({"title": "Não, só esse(s)", "payload": "/negar"})
        dispatcher.utter_message(text=f"Tipo(s) escolhido(s): {labels}. Quer acrescentar outro tipo?", buttons=buttons)
        return []


class ActionAskContatoFormConfirmacao(Action):
    def name(self) -> str:
        return "action_ask_contato_form_confirmacao"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        cpf = tracker.get_slot("contato_cpf")
        phone2 = tracker.get_slot("contato_telefone2")
        dispatcher.utter_message(
            response="utter_resumo_contato",
            nome=tracker.get_slot("contato_nome"),
            email=tracker.get_slot("contato_email"),
            # Never echoed in full (LGPD): masked as in the contact list, the middle digits still to check.
            cpf="estrangeiro, sem CPF" if cpf == FOREIGN else validation.mask_cpf(cpf),
            perfis=", ".join(PROFILES[c] for c in tracker.get_slot("contato_perfis") or []),
            telefone=validation.format_phone(tracker.get_slot("contato_telefone")),
            telefone2="não informado" if phone2 in (None, NO_PHONE) else validation.format_phone(phone2),
        )
        return []


class ActionIncluirContato(ConfirmedSubmit):
    """Submit: stores the confirmed contact (the backend queues the first-access e-mail)."""

    forms = (CONTACT_FORM,)
    declined = "utter_contato_nao_incluido"

    def name(self) -> str:
        return "action_incluir_contato"

    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, done: list[EventType]) -> list[EventType]:
        actor = _allowed(dispatcher, tracker)
        if actor is None:
            return done
        cpf = tracker.get_slot("contato_cpf")
        phone2 = tracker.get_slot("contato_telefone2")
        data = NewContact(
            name=tracker.get_slot("contato_nome"),
            email=tracker.get_slot("contato_email"),
            cpf=None if cpf == FOREIGN else cpf,
            foreign=cpf == FOREIGN,
            profiles=list(tracker.get_slot("contato_perfis") or []),
            phone_primary=tracker.get_slot("contato_telefone"),
            phone_secondary=None if phone2 in (None, NO_PHONE) else phone2,
            declaration_accepted=tracker.get_slot("contato_declaracao") is True,
        )
        try:
            added = desk().add_contact(actor["id"], data)
        except DeskError as error:
            dispatcher.utter_message(text=f"Não consegui cadastrar: {error.message}")
            return done
        dispatcher.utter_message(response="utter_contato_incluido", nome=added["name"], email=added["email"])
        return done


class ActionListarContatos(Action):
    def name(self) -> str:
        return "action_listar_contatos"

    @safe
    @signed_in()
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
                  contact: Contact) -> list[EventType]:
        contacts = desk().contacts_of(contact["id"])
        lines = [format_contact_line(c) for c in contacts]
        dispatcher.utter_message(response="utter_lista_contatos", empresa=contact["company_name"],
                                 lista="\n".join(lines))
        return [SlotSet("autenticado", True)]


def format_contact_line(contact: dict) -> str:
    """One contact as listed in the Área do Cliente: masked CPF, types, phones."""
    phones = validation.format_phone(contact["phone_primary"])
    if contact["phone_secondary"]:
        phones += f" / {validation.format_phone(contact['phone_secondary'])}"
    return (f"• {contact['name']} — {contact['email']} — CPF {validation.mask_cpf(contact['cpf'])} — "
            f"{', '.join(contact['profile_labels'])} — {phones}")


class ActionPrepararRemocao(Action):
    def name(self) -> str:
        return "action_preparar_remocao"

    @safe
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        contact = _allowed(dispatcher, tracker)
        signed = current_contact(tracker) is not None
        events: list[EventType] = [SlotSet("autenticado", signed), *reset(*form_slots(domain, REMOVAL_FORM))]
        if contact is None:
            return [*events, SlotSet("pode_gerenciar_contatos", False)]
        named = latest_entity(tracker, "email") or latest_entity(tracker, "nome")
        if named:
            events.append(SlotSet("contato_remover", named))
        return [*events, SlotSet("pode_gerenciar_contatos", True)]


def find_company_contact(contacts: list[dict], typed: str) -> dict | None:
    """A contact by e-mail, or by a name that matches exactly one of them."""
    wanted = fold(typed)
    if not wanted:
        return None
    for contact in contacts:
        if contact["email"] == typed.strip().lower() or fold(contact["name"]) == wanted:
            return contact
    matches = [c for c in contacts if wanted in fold(c["name"])]
    return matches[0] if len(matches) == 1 else None


class ValidateRemocaoForm(FormValidator):
    def name(self) -> str:
        return "validate_remocao_form"

    @safe_validator("contato_remover")
    @signed_in(refused=refuses_slot("contato_remover"))
    def validate_contato_remover(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict,
                                 contact: Contact) -> dict:
        actor = contact
        typed = latest_entity(tracker, "email") or latest_entity(tracker, "nome") or str(value)
        found = find_company_contact(desk().contacts_of(actor["id"]), typed)
        if found is None:
            dispatcher.utter_message(response="utter_contato_nao_encontrado")
            return {"contato_remover": None}
        return {"contato_remover": found["email"]}

    def validate_confirmacao(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        return validate_yes_no(value, dispatcher, tracker)


class ActionAskContatoRemover(Action):
    """The other active contacts of the company as buttons."""

    def name(self) -> str:
        return "action_ask_contato_remover"

    @safe
    @signed_in(refused=asks_nothing)
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
                  contact: Contact) -> list[EventType]:
        others = [c for c in desk().contacts_of(contact["id"]) if c["id"] != contact["id"]]
        if not others:
            dispatcher.utter_message(response="utter_sem_contatos_para_remover")
            return []
        buttons = [{"title": f"{c['name']} ({', '.join(c['profile_labels'])})", "payload": c["email"]} for c in others]
        dispatcher.utter_message(response="utter_escolha_contato_remover", buttons=buttons)
        return []


class ActionAskRemocaoFormConfirmacao(Action):
    def name(self) -> str:
        return "action_ask_remocao_form_confirmacao"

    @safe
    @signed_in(refused=asks_nothing)
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
                  contact: Contact) -> list[EventType]:
        actor = contact
        target = find_company_contact(desk().contacts_of(actor["id"]), tracker.get_slot("contato_remover") or "")
        name = target["name"] if target else tracker.get_slot("contato_remover")
        dispatcher.utter_message(response="utter_resumo_remocao", nome=name, email=tracker.get_slot("contato_remover"))
        return []


class ActionRemoverContato(ConfirmedSubmit):
    """Submit: removes the confirmed contact; the backend explains when its rules refuse."""

    forms = (REMOVAL_FORM,)
    declined = "utter_contato_nao_removido"

    def name(self) -> str:
        return "action_remover_contato"

    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, done: list[EventType]) -> list[EventType]:
        actor = _allowed(dispatcher, tracker)
        if actor is None:
            return done
        target = find_company_contact(desk().contacts_of(actor["id"]), tracker.get_slot("contato_remover") or "")
        if target is None:
            dispatcher.utter_message(response="utter_contato_nao_encontrado")
            return done
        try:
            removed = desk().remove_contact(actor["id"], target["id"])
        except DeskError as error:
            dispatcher.utter_message(text=f"Não removi: {error.message}")
            return done
        dispatcher.utter_message(response="utter_contato_removido", nome=removed["name"])
        return done
