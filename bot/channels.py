"""Rasa's input channels as the assistant exposes them (named in credentials.yml).

- `RestInput`: Rasa's REST channel with its edges checked: a JSON object body, a `sender` of 1–128 characters,
  a text `message` of at most MESSAGE_MAX_CHARS, metadata reduced to the identity `token`. Anything else gets a 400
  (or 413) with a Portuguese message, never a 500; a failure while answering is logged without the user's text.
- Rasa's HTTP API takes its auth token only as `?token=`; `bearer_token_middleware` also accepts it as
  `Authorization: Bearer <RASA_API_TOKEN>` (contract §8), which keeps it out of URLs and access logs.
- `SocketIOInput`: Rasa's socket.io channel with the origins of `CORS_ORIGINS` only (python-engineio refuses other
  origins, websocket included) and the same metadata rule; integrators' widgets send `customData: {"token": T}`.
"""
from __future__ import annotations

import hmac
import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from backend.config import load_settings
from backend.vocabulary import MESSAGE_MAX_CHARS, SENDER_MAX_CHARS, TOKEN_MAX_CHARS

log = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class BadMessage(ValueError):
    """A request the channel refuses: HTTP status and a message for people."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def clean_metadata(metadata: Any) -> dict[str, str]:
    """Only the identity token survives; anything else an integrator sends is dropped. A token that is not a
    short string is refused rather than passed on."""
    if metadata is None or metadata == {}:
        return {}
    if not isinstance(metadata, dict):
        raise BadMessage("Metadados inválidos: envie um objeto JSON, como {\"token\": \"...\"}.")
    token = metadata.get("token")
    if token is None:
        return {}
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_CHARS:
        raise BadMessage("Identificação inválida: o token deve ser um texto.")
    return {"token": token}


def clean_sender(sender: Any) -> str:
    if not isinstance(sender, str) or not sender.strip() or len(sender) > SENDER_MAX_CHARS:
        raise BadMessage(f"Remetente inválido: use um identificador de conversa de 1 a {SENDER_MAX_CHARS} caracteres.")
    return sender


def clean_text(message: Any) -> str:
    if message is None:
        return ""
    if not isinstance(message, str):
        raise BadMessage("Mensagem inválida: envie o texto em \"message\".")
    if len(message) > MESSAGE_MAX_CHARS:
        raise BadMessage(f"Mensagem muito longa: o limite é de {MESSAGE_MAX_CHARS} caracteres.", status=413)
    return message


class RestInput(InputChannel):
    """POST {"sender": ..., "message": ..., "metadata": {"token": ...}} to /webhooks/rest/webhook."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint("assistente_rest", __name__)

        @webhook.listener("before_server_start")
        async def accept_bearer_token(app: Any, _loop: Any) -> None:
            app.register_middleware(bearer_token_middleware, "request")

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = _json_object(request)
                sender = clean_sender(body.get("sender"))
                text = clean_text(body.get("message"))
                metadata = clean_metadata(body.get("metadata"))
            except BadMessage as refusal:
                return response.json({"error": refusal.message}, status=refusal.status)
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata)
                )
            except CancelledError:
                log.error("rest channel: answer cancelled (timeout)")
            except Exception:  # noqa: BLE001 — logged without the user's text, which may hold personal data
                log.exception("rest channel: failure while answering")
            return response.json(collector.messages)

        return webhook


async def bearer_token_middleware(request: Request) -> None:
    """`Authorization: Bearer <RASA_API_TOKEN>` counts as `?token=` for Rasa's own check (rasa.server.requires_auth,
    which reads `request.args`); any other bearer value is left for Rasa's JWT check, which refuses it."""
    header = request.headers.get("Authorization", "")
    configured = _api_token()  # rasa.server keeps --auth-token in a closure; the launcher passes the same value
    if not header.startswith("Bearer ") or not configured or "token" in request.args:
        return
    if hmac.compare_digest(header[len("Bearer "):].strip().encode(), configured.encode()):
        request.args["token"] = [configured]  # the parsed query is cached: Rasa reads this same dict


def _api_token() -> str:
    import os

    return os.environ.get("RASA_API_TOKEN", "")


class SocketIOInput(RasaSocketIOInput):
    """Rasa's socket.io channel, open only to the configured origins, with metadata reduced to the token."""

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = super().blueprint(_guarded(on_new_message))
        origins = list(load_settings().cors_origins)
        # python-engineio refuses any other Origin (polling and websocket alike): None = same origin only.
        self.sio.eio.cors_allowed_origins = origins or None
        if origins:
            # Rasa's --cors (Sanic-CORS, given the same CORS_ORIGINS by the launcher) already writes the CORS
            # headers on every route; a second Access-Control-Allow-Origin from engineio makes browsers refuse both.
            self.sio.eio._cors_headers = lambda environ: []
        return webhook


def _guarded(on_new_message: OnNewMessage) -> OnNewMessage:
    async def handle(message: UserMessage) -> Any | None:
        try:
            message.sender_id = clean_sender(message.sender_id)
            message.text = clean_text(message.text)
            message.metadata = clean_metadata(message.metadata)
        except BadMessage as refusal:
            log.warning("socket.io message refused: %s", refusal.message)
            return None
        return await on_new_message(message)

    return handle


def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = request.json
    except Exception as error:  # noqa: BLE001 — Sanic raises its own InvalidUsage for malformed JSON
        raise BadMessage("Corpo inválido: envie um objeto JSON.") from error
    if not isinstance(body, dict):
        raise BadMessage("Corpo inválido: envie um objeto JSON.")
    return body
