"""The baseline's two custom actions: one SQLite write each, like a bare Rasa bot that stores something."""
from __future__ import annotations

import os
import sqlite3
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

DB = os.environ.get("BASELINE_DB", "baseline.db")


def write(kind: str, sender: str, text: str) -> int:
    """Insert one row and return how many rows the sender has (a write and a read, as a real action would)."""
    with sqlite3.connect(DB, timeout=30) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS registro (kind TEXT, sender TEXT, text TEXT)")
        connection.execute("INSERT INTO registro VALUES (?, ?, ?)", (kind, sender, text))
        return connection.execute("SELECT count(*) FROM registro WHERE sender = ?", (sender,)).fetchone()[0]


class ActionConsultar(Action):
    def name(self) -> str:
        return "action_consultar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        count = write("consulta", tracker.sender_id, tracker.latest_message.get("text") or "")
        dispatcher.utter_message(text=f"Consulta registrada ({count}).")
        return []


class ActionRegistrar(Action):
    def name(self) -> str:
        return "action_registrar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        count = write("registro", tracker.sender_id, tracker.latest_message.get("text") or "")
        dispatcher.utter_message(text=f"Registrado ({count}).")
        return []
