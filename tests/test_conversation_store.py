"""The conversation store (bot/conversation_store.py) over a real SQLite file and a real PostgreSQL database, and
the retention and erasure of backend/conversations.py that the staff CLI runs."""
from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from backend import conversations, identity
from backend.clock import now_utc
from bot.conversation_store import PrivateTrackerStore

ROOT = Path(__file__).resolve().parent.parent
SECRET = "conversation-store-test-secret-with-32-bytes"
ANA_CPF = "23456789173"
NEW_CPF = "718.426.305-71"
NEW_EMAIL = "mariana.prado@exemplo.gov.br"
NEW_PHONE = "+5561991234567"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, domain: Domain, database: str,
          request: pytest.FixtureRequest) -> PrivateTrackerStore:
    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'assistente.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database()  # the same database as the desk's
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ASSISTENTE_SECRET", SECRET)
    monkeypatch.delenv("ASSISTENTE_PERSONA", raising=False)
    created = PrivateTrackerStore(domain=domain)
    yield created
    created.engine.dispose()


@pytest.fixture
def engine(store: PrivateTrackerStore):  # type: ignore[no-untyped-def]
    """The conversation database as the staff CLI opens it."""
    from backend.config import load_settings

    opened = conversations.conversations_engine(load_settings().conversations_url)
    yield opened
    opened.dispose()


def token_for(cpf: str = ANA_CPF) -> str:
    return identity.issue_token(SECRET, 1, cpf, "11222333000181", ttl_minutes=30)


def raw_rows(store: PrivateTrackerStore) -> str:
    """Everything the conversation tables hold, as text."""
    from sqlalchemy import text

    with store.engine.connect() as connection:
        rows = [list(row) for row in connection.execute(
            text("SELECT sender_id, type_name, intent_name, action_name, data FROM events"))]
        rows += [list(row) for row in connection.execute(text("SELECT * FROM conversation_owners"))]
    return json.dumps(rows, default=str)


def say(tracker: DialogueStateTracker, text: str, *entities: dict, token: str | None = None) -> None:
    tracker.update(UserUttered(text, {"name": "informar", "confidence": 0.9}, list(entities),
                               metadata={"token": token or token_for()}))


def save(store: PrivateTrackerStore, tracker: DialogueStateTracker) -> None:
    asyncio.run(store.save(tracker))


def test_tokens_are_never_stored(store: PrivateTrackerStore, domain: Domain) -> None:
    tracker = DialogueStateTracker("t-token", domain.slots)
    token = token_for()
    say(tracker, "oi", token=token)
    say(tracker, f"meu token é {token}")  # pasted in the text too
    save(store, tracker)
    assert token not in raw_rows(store)
    assert "eyJ" not in raw_rows(store)


def test_form_in_progress_is_sealed_then_masked_when_the_form_ends(
    store: PrivateTrackerStore, domain: Domain
) -> None:
    tracker = DialogueStateTracker("t-form", domain.slots)
    tracker.update(ActiveLoop("contato_form"))
    say(tracker, f"Mariana, {NEW_EMAIL}, CPF {NEW_CPF}, fone {NEW_PHONE}",
        {"entity": "cpf", "value": NEW_CPF, "start": 30, "end": 44})
    tracker.update(SlotSet("contato_cpf", "71842630571"))
    tracker.update(SlotSet("contato_email", NEW_EMAIL))
    tracker.update(BotUttered(f"Confira: CPF {NEW_CPF}, e-mail {NEW_EMAIL}"))
    save(store, tracker)

    stored = raw_rows(store)
    for value in ("718.426.305-71", "71842630571", NEW_EMAIL, NEW_PHONE, "99123-4567"):
        assert value not in stored
    assert "[[pii:" in stored

    # A restart: a new store reads the form's answers back, as typed.
    again = asyncio.run(PrivateTrackerStore(domain=domain).retrieve("t-form"))
    assert again is not None
    assert again.get_slot("contato_cpf") == "71842630571"
    assert again.get_slot("contato_email") == NEW_EMAIL
    assert NEW_CPF in again.latest_message.text

    # The form ends (answers forgotten): from now on nothing can bring them back.
    again.update(SlotSet("contato_cpf", None))
    again.update(SlotSet("contato_email", None))
    again.update(ActiveLoop(None))
    again.update(ActionExecuted("action_listen"))
    save(store, again)
    stored = raw_rows(store)
    assert "[[pii:" not in stored
    for value in ("718.426.305-71", "71842630571", NEW_EMAIL, NEW_PHONE):
        assert value not in stored
    assert "xxx.426.305-xx" in stored and "m***@exemplo.gov.br" in stored and "(**) ****-4567" in stored


def test_personal_data_outside_a_form_is_masked_at_once(
    store: PrivateTrackerStore, domain: Domain
) -> None:
    tracker = DialogueStateTracker("t-loose", domain.slots)
    say(tracker, f"meu cpf é {NEW_CPF}")
    save(store, tracker)
    assert "[[pii:" not in raw_rows(store) and "426.305-71" not in raw_rows(store)


def test_purge_deletes_only_old_conversations(store: PrivateTrackerStore, domain: Domain, engine) -> None:  # type: ignore[no-untyped-def]
    old, recent = DialogueStateTracker("old", domain.slots), DialogueStateTracker("recent", domain.slots)
    say(old, "oi")
    say(recent, "oi")
    save(store, old)
    save(store, recent)
    later = now_utc() + timedelta(days=31)
    with engine.begin() as connection:  # 'recent' spoke again 2 days before `later`
        connection.execute(conversations.events.update().where(conversations.events.c.sender_id == "recent")
                           .values(timestamp=(later - timedelta(days=2)).timestamp()))
    removed = conversations.purge(engine, 30, now=later)
    assert removed.as_dict() == {"conversations": 1, "events": 1}
    assert asyncio.run(store.retrieve("old")) is None
    assert asyncio.run(store.retrieve("recent")) is not None
    assert conversations.purge(engine, 30, now=later).conversations == 0


def test_erase_deletes_every_conversation_of_one_person_and_nothing_else(
    store: PrivateTrackerStore, domain: Domain, engine  # type: ignore[no-untyped-def]
) -> None:
    for sender, cpf in (("ana-1", ANA_CPF), ("ana-2", ANA_CPF), ("bruno-1", "34567891228")):
        tracker = DialogueStateTracker(sender, domain.slots)
        say(tracker, "oi", token=token_for(cpf))
        save(store, tracker)
    assert ANA_CPF not in raw_rows(store)  # only a keyed hash links a conversation to a person
    assert conversations.erase_person(engine, SECRET, "234.567.891-73").as_dict() == {"conversations": 2, "events": 2}
    assert asyncio.run(store.retrieve("ana-1")) is None and asyncio.run(store.retrieve("ana-2")) is None
    assert asyncio.run(store.retrieve("bruno-1")) is not None
    assert conversations.erase_person(engine, SECRET, "234.567.891-73").conversations == 0


def as_stored(tracker: DialogueStateTracker) -> list[dict]:
    return [event.as_dict() for event in tracker.events]


def fresh_read(domain: Domain, sender: str) -> DialogueStateTracker | None:
    """The conversation as a newly started server (or another replica) reads it: from the database only."""
    other = PrivateTrackerStore(domain=domain)
    try:
        return asyncio.run(other.retrieve(sender))
    finally:
        other.engine.dispose()


def test_the_next_turn_reads_the_saved_tracker_back_as_the_database_would(
    store: PrivateTrackerStore, domain: Domain
) -> None:
    tracker = DialogueStateTracker("t-cache", domain.slots)
    say(tracker, "quero abrir um chamado")
    tracker.update(ActionExecuted("acionamento_form"))
    tracker.update(ActiveLoop("acionamento_form"))
    tracker.update(SlotSet("servico", "Siscomex"))
    save(store, tracker)

    kept = asyncio.run(store.retrieve("t-cache"))
    assert kept is tracker  # no rebuild from the events
    stored = fresh_read(domain, "t-cache")
    assert stored is not None and stored is not kept
    assert as_stored(kept) == as_stored(stored)
    assert kept.current_state() == stored.current_state()
    assert "token" not in json.dumps(as_stored(kept))  # dropped from the kept tracker too


def test_a_turn_written_elsewhere_or_lost_is_read_from_the_database(
    store: PrivateTrackerStore, domain: Domain
) -> None:
    tracker = DialogueStateTracker("t-replica", domain.slots)
    say(tracker, "oi")
    save(store, tracker)

    # Another replica answers the next message.
    elsewhere = fresh_read(domain, "t-replica")
    assert elsewhere is not None
    say(elsewhere, "meus chamados")
    other = PrivateTrackerStore(domain=domain)
    asyncio.run(other.save(elsewhere))
    other.engine.dispose()
    read = asyncio.run(store.retrieve("t-replica"))
    assert read is not tracker and [e.as_dict() for e in read.events] == as_stored(elsewhere)

    # A turn that failed before its save leaves events the database does not hold.
    say(read, "isto não foi salvo")
    again = asyncio.run(store.retrieve("t-replica"))
    assert again is not read and len(again.events) == len(read.events) - 1


def test_masked_values_and_erased_conversations_are_read_as_stored(
    store: PrivateTrackerStore, domain: Domain, engine  # type: ignore[no-untyped-def]
) -> None:
    tracker = DialogueStateTracker("t-masked", domain.slots)
    say(tracker, f"meu cpf é {NEW_CPF}")  # outside a form: stored masked
    save(store, tracker)
    read = asyncio.run(store.retrieve("t-masked"))
    assert read is not tracker and NEW_CPF not in read.latest_message.text
    assert as_stored(read) == as_stored(fresh_read(domain, "t-masked"))
    assert asyncio.run(store.retrieve("t-masked")) is read  # nothing masked since: kept

    assert conversations.erase_conversation(engine, "t-masked").conversations == 1  # "Apagar esta conversa"
    assert asyncio.run(store.retrieve("t-masked")) is None


def test_the_stamp_kept_at_each_save_is_the_one_the_database_holds(
    store: PrivateTrackerStore, domain: Domain
) -> None:
    from rasa.shared.core.events import SessionStarted

    def database_stamp():  # type: ignore[no-untyped-def]
        with store.session_scope() as session:
            return store._stamp(session, "t-stamp")

    tracker = DialogueStateTracker("t-stamp", domain.slots)
    for turn in range(4):
        if turn == 2:  # a new session starts mid-conversation: the session's count restarts
            tracker.update(ActionExecuted("action_session_start"))
            tracker.update(SessionStarted())
            tracker.update(ActionExecuted("action_listen"))
        say(tracker, f"mensagem {turn}")
        tracker.update(ActionExecuted("utter_ajuda"))
        tracker.update(BotUttered("Posso ajudar?"))
        save(store, tracker)
        entry = store._recent._entries.get("t-stamp")
        if turn == 2:  # the tracker holds both sessions: the database's current session is shorter, nothing kept
            assert entry is None
        else:
            assert entry is not None and entry.stamp == database_stamp()
        tracker = asyncio.run(store.retrieve("t-stamp"))
        assert tracker is not None
        assert as_stored(tracker) == as_stored(fresh_read(domain, "t-stamp"))
