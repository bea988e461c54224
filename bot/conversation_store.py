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
from rasa.shared.core.events import Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import func, select, update

from backend import conversations
from backend.config import load_settings
from backend.errors import InvalidToken
from backend.identity import verify_token
from bot import privacy, rasa_patches, tracker_cache

log = logging.getLogger(__name__)
rasa_patches.install()  # every Rasa server loads this module (endpoints.yml) first: see bot/rasa_patches.py
SENDER_MAX_LENGTH = 255  # Rasa's events.sender_id column


class PrivateTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that seals or masks personal data and never stores the identity token."""

    def __init__(self, domain: Any = None, event_broker: Any = None, **kwargs: Any) -> None:
        settings = load_settings()
        self._secret = settings.secret
        self._cipher = privacy.cipher_for(settings.secret)
        self._development_persona_key = _development_persona_key(settings)
        self._owners_recorded: dict[str, str] = {}  # saves a query per turn; bounded below
        self._recent = tracker_cache.TrackerCache()
        kwargs.pop("host", None)
        # A full URL as `host` is used as is by SQLTrackerStore.get_db_url.
        super().__init__(domain=domain, host=settings.conversations_url, event_broker=event_broker, **kwargs)
        conversations.create_owner_table(self.engine)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        keep_sealed = _slots_hold_personal_data(tracker)
        owner = self._owner_key(tracker)  # before the token is dropped
        read_back: dict[int, dict[str, Any]] = {}  # new events that read back otherwise (masked), by position
        masked_old_rows = 0
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
            first_new = len(tracker.events) - len(new_events)
            rows = []
            for position, event in enumerate(new_events, start=first_new):
                _drop_token(event)  # verified this turn, never needed again: the tracker kept must not hold it either
                plain = event.as_dict()
                text = json.dumps(self._storable(plain, keep_sealed))
                unsealed = privacy.unseal_text(text, self._cipher)
                stored = plain
                if unsealed != json.dumps(plain):  # reads back masked: one JSON text compared, no round trip
                    stored = read_back[position] = json.loads(unsealed)
                rows.append(self.SQLEvent(
                    sender_id=tracker.sender_id,
                    type_name=event.type_name,
                    timestamp=stored.get("timestamp"),
                    intent_name=stored.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    action_name=stored.get("name"),
                    data=text,
                ))
            session.add_all(rows)
            if not keep_sealed:
                masked_old_rows = self._mask_sealed_rows(session, tracker.sender_id)
            session.flush()
            stamp = self._stamp_after_save(session, tracker, rows)
            session.commit()
        self._record_owner(tracker.sender_id, owner)
        self._keep(tracker, stamp, read_back, masked_old_rows)

    def _keep(self, tracker: DialogueStateTracker, stamp: tracker_cache.Stamp, read_back: dict[int, dict[str, Any]],
              masked_old_rows: int) -> None:
        """Keep, for the next turn, the tracker that reading the conversation back would build."""
        if masked_old_rows or not self.domain:  # events of earlier turns changed: the next turn reads them
            self._recent.drop(tracker.sender_id)
            return
        if read_back:  # this turn's masked values: the same events as stored, replayed (no database, no JSON)
            events = list(tracker.events)
            for position, stored in read_back.items():
                events[position] = Event.from_parameters(stored)
            tracker = DialogueStateTracker.from_events(tracker.sender_id, events, self.domain.slots)
        self._recent.put(tracker.sender_id, tracker, stamp)

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            if not fetch_events_from_all_sessions:
                kept = self._recent.get(sender_id, self._stamp(session, sender_id))
                if kept is not None:
                    return kept
            rows = self._event_query(
                session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions
            ).all()
            events = [self._read_back(row.data) for row in rows]
        if not (self.domain and events):
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if not fetch_events_from_all_sessions:
            self._recent.put(sender_id, tracker, tracker_cache.Stamp(len(rows), rows[-1].id))
        return tracker

    def _read_back(self, stored: str) -> dict[str, Any]:
        return json.loads(privacy.unseal_text(stored, self._cipher))

    def _stamp(self, session: Any, sender_id: str) -> tracker_cache.Stamp:
        """How many events the conversation's current session holds, and the last one's id."""
        query = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).order_by(None)
        count, last_id = query.with_entities(func.count(self.SQLEvent.id), func.max(self.SQLEvent.id)).one()
        return tracker_cache.Stamp(count, last_id)

    def _stamp_after_save(self, session: Any, tracker: DialogueStateTracker, rows: list[Any]) -> tracker_cache.Stamp:
        """The stamp the database holds after this save. Rasa counted the session's stored events to find the new
        ones, so the tracker's events are that count plus the rows just flushed, and the last row's id is the
        newest; only a save that adds nothing or starts a new session asks the database again."""
        if not rows or any(row.type_name == SessionStarted.type_name for row in rows):
            return self._stamp(session, tracker.sender_id)
        return tracker_cache.Stamp(len(tracker.events), rows[-1].id)

    def _storable(self, data: dict[str, Any], keep_sealed: bool) -> dict[str, Any]:
        data = privacy.without_token(data)
        if keep_sealed:
            return privacy.transform_strings(data, lambda text: privacy.seal_text(text, self._cipher))
        return privacy.transform_strings(data, privacy.mask_text)

    def _mask_sealed_rows(self, session: Any, sender_id: str) -> int:
        """Rewrite the conversation's sealed events masked; how many were rewritten."""
        table = self.SQLEvent.__table__
        sealed = session.execute(
            select(table.c.id, table.c.data).where(table.c.sender_id == sender_id, table.c.data.contains("[[pii:"))
        ).all()
        for row_id, text in sealed:
            event = json.loads(privacy.unseal_text(text, self._cipher))
            masked = json.dumps(privacy.transform_strings(event, privacy.mask_text))
            session.execute(update(table).where(table.c.id == row_id).values(data=masked))
        return len(sealed)

    def _owner_key(self, tracker: DialogueStateTracker) -> str | None:
        """Who spoke last: a keyed hash of the CPF in the message's token (nothing reversible), if any."""
        message = tracker.latest_message
        token = (message.metadata or {}).get("token") if isinstance(message, UserUttered) else None
        key = None
        if isinstance(token, str) and token:
            try:
                cpf = verify_token(self._secret, token).cpf
                key = conversations.person_key(self._secret, cpf) if cpf else None  # foreigners have no CPF
            except InvalidToken:
                key = None
        return key or self._development_persona_key

    def _record_owner(self, sender_id: str, key: str | None) -> None:
        """Link the conversation to the person who spoke last."""
        if key and self._owners_recorded.get(sender_id) != key:
            conversations.record_owner(self.engine, sender_id, key)
            if len(self._owners_recorded) > 10_000:
                self._owners_recorded.clear()
            self._owners_recorded[sender_id] = key


def _drop_token(event: Any) -> None:
    """The identity token leaves a user message's metadata (and its parse data's copy of it)."""
    if not isinstance(event, UserUttered):
        return
    if "token" in (event.metadata or {}):
        event.metadata = privacy.without_token({"metadata": event.metadata})["metadata"]
    parsed = event.parse_data.get("metadata")
    if isinstance(parsed, dict) and "token" in parsed:
        event.parse_data["metadata"] = privacy.without_token({"metadata": parsed})["metadata"]


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
