"""Rasa's SQL tracker store, made safe to keep: conversations survive restarts and hold no identity.

`endpoints.yml` names this class; the database comes from `DATABASE_URL` (backend.config.Settings.conversations_url:
a SQLite file beside the service desk's, or the same PostgreSQL database).

Rasa appends events and never rewrites them, so what must not be kept is handled here, before it is written:
- the identity token is dropped from every message's metadata (it is verified per message by the action server
  and never needed again); the conversation is linked to its person only by `backend.conversations.person_key`;
- while some slot still holds a CPF, e-mail or phone (a form in progress), those values are stored sealed
  (encrypted under the deployment secret), so the form survives a restart;
- once no slot holds one (the form ended or was cancelled), new events are stored masked and the sealed values
  already stored for that conversation are rewritten masked: from then on nothing can bring them back.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import select, update

from backend import conversations
from backend.config import load_settings
from backend.errors import InvalidToken
from backend.identity import verify_token
from bot import action_response_check, event_types, model_load, privacy

log = logging.getLogger(__name__)
action_response_check.install()  # every Rasa server loads this module (endpoints.yml): see that module
model_load.install()  # before the server loads the model (the tracker store is made first): see that module
event_types.install()  # before any tracker is read: see that module
SENDER_MAX_LENGTH = 255  # Rasa's events.sender_id column


class PrivateTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that seals or masks personal data and never stores the identity token."""

    def __init__(self, domain: Any = None, event_broker: Any = None, **kwargs: Any) -> None:
        settings = load_settings()
        self._secret = settings.secret
        self._cipher = privacy.cipher_for(settings.secret)
        self._development_persona_key = _development_persona_key(settings)
        self._owners_recorded: dict[str, str] = {}  # saves a query per turn; bounded below
        kwargs.pop("host", None)
        # A full URL as `host` is used as is by SQLTrackerStore.get_db_url.
        super().__init__(domain=domain, host=settings.conversations_url, event_broker=event_broker, **kwargs)
        conversations.create_owner_table(self.engine)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        keep_sealed = _slots_hold_personal_data(tracker)
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = self._storable(event.as_dict(), keep_sealed)
                session.add(self.SQLEvent(
                    sender_id=tracker.sender_id,
                    type_name=event.type_name,
                    timestamp=data.get("timestamp"),
                    intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    action_name=data.get("name"),
                    data=json.dumps(data),
                ))
            if not keep_sealed:
                self._mask_sealed_rows(session, tracker.sender_id)
            session.commit()
        self._record_owner(tracker)

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            rows = self._event_query(
                session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions
            ).all()
            events = [json.loads(privacy.unseal_text(row.data, self._cipher)) for row in rows]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    def _storable(self, data: dict[str, Any], keep_sealed: bool) -> dict[str, Any]:
        data = privacy.without_token(data)
        if keep_sealed:
            return privacy.transform_strings(data, lambda text: privacy.seal_text(text, self._cipher))
        return privacy.transform_strings(data, privacy.mask_text)

    def _mask_sealed_rows(self, session: Any, sender_id: str) -> None:
        table = self.SQLEvent.__table__
        sealed = session.execute(
            select(table.c.id, table.c.data).where(table.c.sender_id == sender_id, table.c.data.contains("[[pii:"))
        ).all()
        for row_id, text in sealed:
            event = json.loads(privacy.unseal_text(text, self._cipher))
            masked = json.dumps(privacy.transform_strings(event, privacy.mask_text))
            session.execute(update(table).where(table.c.id == row_id).values(data=masked))

    def _record_owner(self, tracker: DialogueStateTracker) -> None:
        """Link the conversation to the person who spoke last (a keyed hash of the CPF; nothing reversible)."""
        message = tracker.latest_message
        token = (message.metadata or {}).get("token") if isinstance(message, UserUttered) else None
        key = None
        if isinstance(token, str) and token:
            try:
                cpf = verify_token(self._secret, token).cpf
                key = conversations.person_key(self._secret, cpf) if cpf else None  # foreigners have no CPF
            except InvalidToken:
                key = None
        key = key or self._development_persona_key
        if key and self._owners_recorded.get(tracker.sender_id) != key:
            conversations.record_owner(self.engine, tracker.sender_id, key)
            if len(self._owners_recorded) > 10_000:
                self._owners_recorded.clear()
            self._owners_recorded[tracker.sender_id] = key


def _slots_hold_personal_data(tracker: DialogueStateTracker) -> bool:
    for value in tracker.current_slot_values().values():
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and privacy.has_personal_data(text) for text in texts):
            return True
    return False


def _development_persona_key(settings: Any) -> str | None:
    """`rasa shell` speaks as ASSISTENTE_PERSONA in development: its conversations are that persona's."""
    import os

    from backend.seed import PERSONAS

    persona = PERSONAS.get(os.environ.get("ASSISTENTE_PERSONA", "").strip().lower())
    if not persona or not settings.is_development:
        return None
    return conversations.person_key(settings.secret, persona[2])


def prepare() -> None:
    """Create the conversation tables (Rasa's events and our owners) if missing: `make cluster` does it once before
    its replicas start, since several replicas creating them at the same moment would race in PostgreSQL."""
    PrivateTrackerStore().engine.dispose()


if __name__ == "__main__":
    prepare()
