"""The Central de Serviços Serpro web page and its small server (aiohttp).

`python -m bot.web --port 8000 --rasa-port 5005` serves, on one origin:

    GET  /                      the CSS page with the chat widget (bot/static/)
    GET  /acessibilidade        the accessibility statement (eMAG, shortcuts, how to report a barrier)
    GET  /privacidade           what the chat keeps, for how long and why (LGPD)
    GET  /healthz               readiness probe for the launcher
    POST /api/mensagem          the widget's messages, forwarded to Rasa's REST channel
    POST /api/apagar            "Apagar esta conversa": erases the browser's conversation from the tracker store
    GET  /api/personas          demo personas for "entrar como"      (development only; 404 in production)
    POST /api/entrar            an identity token for a demo persona  (development only; 404 in production)
    GET  /acionamentos/<N>?t=   the ticket follow-up form linked from the e-mails
    GET  /avaliacao/<N>?t=      the quality-control form linked from the e-mails; POST sends it (t in the body)
    GET  /resposta/<N>?t=       the form to answer support's question (ticket waiting for the user); POST sends it

With SMTP_HOST set it also delivers the e-mail outbox in the background.

Why a proxy to the REST channel rather than socket.io in the browser: one request is one answer, so a missing or
empty answer is seen and told to the user; there is no socket.io session persistence to lose replies; the page
talks only to its own origin (no CORS, strict Content-Security-Policy). See README "The CSS page".

The service desk and the conversation store are synchronous (SQLAlchemy): their calls run in worker threads
(`asyncio.to_thread`) so a slow database never stalls the event loop that relays the chat.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from sqlalchemy.engine import Engine

from backend import conversations, identity, outbox
from backend.config import DEFAULT_RETENTION_DAYS, Settings, load_settings
from backend.desk import ServiceDesk
from backend.errors import DeskError, InvalidInput, InvalidToken, InvalidTransition, NotFound, PermissionDenied
from backend.seed import COMPANIES, PERSONAS
from backend.vocabulary import MESSAGE_MAX_CHARS, PROFILES, TOKEN_MAX_CHARS
from bot import pages

log = logging.getLogger("bot.web")

STATIC_DIR = Path(__file__).resolve().parent / "static"
DEFAULT_PORT = 8000
DEFAULT_RASA_PORT = 5005
DEFAULT_REPLY_TIMEOUT = 60.0  # seconds for one answer of the assistant (actions may be slow under load)
DEFAULT_OUTBOX_INTERVAL = 15.0
KEEPALIVE_S = 10.0  # idle connections to Rasa are closed after this (Rasa: 120 s, nginx: 75 s)

# Only these files are published; nothing else in the folder (or outside it) can be asked for.
STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/chat.js": ("chat.js", "text/javascript; charset=utf-8"),
    "/acessibilidade.js": ("acessibilidade.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
}
RETENTION_MARK = "{{DIAS_RETENCAO}}"  # in index.html: the LGPD notice states CONVERSATION_RETENTION_DAYS
ACCESS_BAR_MARK = "{{BARRA_ACESSIBILIDADE}}"  # in index.html: the eMAG bar every page shares (pages.access_bar)
SECURITY_HEADERS = {
    # No inline script or style anywhere: even markup that slipped into the page could not run.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # The e-mail links carry their token in the address: never pass it on to another site.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
SERVER_NAME = "AssistenteSerpro"  # no Python or aiohttp version in the Server header
NUMBER = r"{number:[A-Za-z0-9-]{1,40}}"
SENDER = re.compile(r"^[A-Za-z0-9_-]{8,80}$")
MAX_BODY = 64 * 1024
MAX_MESSAGE = MESSAGE_MAX_CHARS
MAX_TOKEN = TOKEN_MAX_CHARS

NO_REPLY = (
    "Não consegui responder agora. Tente de novo em instantes ou fale com a Central de Serviços Serpro, "
    "que atende 24x7: telefone 0800 728 2323 ou e-mail css.serpro@serpro.gov.br."
)
SLOW_REPLY = (
    "Estou demorando mais do que deveria para responder. Tente de novo em instantes ou fale com a Central de "
    "Serviços Serpro, que atende 24x7: telefone 0800 728 2323 ou e-mail css.serpro@serpro.gov.br."
)
NOT_ERASED = (
    "Não foi possível apagar a conversa agora. Tente de novo em instantes ou peça a exclusão à Central de "
    "Serviços Serpro: telefone 0800 728 2323 ou e-mail css.serpro@serpro.gov.br."
)


class ApiError(Exception):
    """A refusal of the page's API: HTTP status, a code for programs and a pt-BR message for people."""

    def __init__(self, status: HTTPStatus, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class WebApp:
    """What the page server does, apart from HTTP: talk to Rasa, the service desk and the conversation store."""

    desk: ServiceDesk
    rasa_url: str
    development: bool
    reply_timeout: float = DEFAULT_REPLY_TIMEOUT
    conversations_url: str | None = None  # Rasa's tracker store (backend.config.Settings.conversations_url)
    retention_days: int = DEFAULT_RETENTION_DAYS
    _conversations: Engine | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    # --- the chat -------------------------------------------------------------------------------
    def rasa_body(self, sender: Any, message: Any, token: Any) -> dict[str, Any]:
        """What Rasa's REST channel receives for one user message; ApiError when the message is malformed."""
        _check_sender(sender)
        if not isinstance(message, str) or not message.strip():
            raise ApiError(HTTPStatus.BAD_REQUEST, "mensagem_vazia", "Escreva uma mensagem.")
        if len(message) > MAX_MESSAGE:
            raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "mensagem_longa",
                           f"Mensagem muito longa: o limite é de {MAX_MESSAGE} caracteres.")
        body: dict[str, Any] = {"sender": sender, "message": message}
        if token is not None:
            if not isinstance(token, str) or len(token) > MAX_TOKEN:
                raise ApiError(HTTPStatus.BAD_REQUEST, "token_invalido", "Identificação inválida. Entre novamente.")
            body["metadata"] = {"token": token}
        return body

    async def forward(self, session: aiohttp.ClientSession, sender: Any, message: Any,
                      token: Any) -> list[dict[str, Any]]:
        """One user message to Rasa's REST channel; the assistant's answers (text and buttons only).
        ApiError when the message is malformed or the assistant does not answer."""
        body = self.rasa_body(sender, message, token)
        try:
            async with session.post(self.rasa_url, json=body,
                                    timeout=aiohttp.ClientTimeout(total=self.reply_timeout)) as response:
                raw = await response.read()
                if response.status != HTTPStatus.OK:
                    log.warning("Rasa respondeu %s", response.status)
                    raise ApiError(HTTPStatus.BAD_GATEWAY, "sem_resposta", NO_REPLY)
            data = json.loads(raw.decode("utf-8"))
        except asyncio.TimeoutError:
            raise ApiError(HTTPStatus.GATEWAY_TIMEOUT, "sem_resposta", SLOW_REPLY) from None
        except (aiohttp.ClientError, OSError, ValueError) as error:  # refused, reset, broken JSON...
            log.warning("Rasa inacessível ou resposta inutilizável: %s", type(error).__name__)
            raise ApiError(HTTPStatus.BAD_GATEWAY, "sem_resposta", NO_REPLY) from None
        replies = clean_replies(data)
        if not replies:
            # Rasa answers 200 and [] when an action failed (e.g. the action server is down).
            log.warning("Rasa não produziu resposta para %s", sender)
            raise ApiError(HTTPStatus.BAD_GATEWAY, "sem_resposta", NO_REPLY)
        return replies

    # --- "Apagar esta conversa" (LGPD) -------------------------------------------------------------
    def erase(self, sender: Any) -> conversations.Removed:
        """Delete one conversation from the tracker store: its events and its owner row. Only the browser that
        holds the sender id (128 random bits, never shown or sent anywhere else) can name it."""
        _check_sender(sender)
        if self.conversations_url is None:
            raise ApiError(HTTPStatus.SERVICE_UNAVAILABLE, "indisponivel", NOT_ERASED)
        return conversations.erase_conversation(self._conversation_engine(), sender)

    def _conversation_engine(self) -> Engine:
        with self._lock:
            if self._conversations is None:
                self._conversations = conversations.conversations_engine(self.conversations_url or "")
            return self._conversations

    def close(self) -> None:
        if self._conversations is not None:
            self._conversations.dispose()

    # --- "entrar como" (development only) --------------------------------------------------------
    def personas(self) -> list[dict[str, Any]]:
        self._require_development()
        companies = dict(COMPANIES)
        return [
            {"persona": key, "name": name, "company": companies[cnpj], "profiles": [PROFILES[p] for p in profiles]}
            for key, (name, _email, _cpf, cnpj, profiles, _phone) in PERSONAS.items()
        ]

    def sign_in(self, persona: Any) -> dict[str, Any]:
        """Stands in for the Área do Cliente's login: a signed identity token for a demo persona."""
        self._require_development()
        if not isinstance(persona, str) or persona not in PERSONAS:
            raise ApiError(HTTPStatus.BAD_REQUEST, "persona_desconhecida", "Persona desconhecida.")
        name, _email, cpf, cnpj, _profiles, _phone = PERSONAS[persona]
        try:
            token = self.desk.issue_token(cpf, cnpj)
        except DeskError as error:  # e.g. the persona was removed as a contact
            raise ApiError(HTTPStatus.CONFLICT, error.code, error.message) from None
        return {"persona": persona, "name": name, "token": token}

    def _require_development(self) -> None:
        if not self.development:
            raise ApiError(HTTPStatus.NOT_FOUND, "nao_encontrado", "Recurso não encontrado.")

    # --- helpers for the link pages ---------------------------------------------------------------
    def follow_path(self, number: str) -> str:
        """The follow-up link of a ticket, relative to this server."""
        parts = urlsplit(self.desk.links.follow(number))
        return f"{parts.path}?{parts.query}"


def _check_sender(sender: Any) -> None:
    if not isinstance(sender, str) or not SENDER.match(sender):
        raise ApiError(HTTPStatus.BAD_REQUEST, "remetente_invalido", "Conversa não identificada. Recarregue a página.")


def clean_replies(data: Any) -> list[dict[str, Any]]:
    """Only what the widget renders: text and buttons (title, payload), all strings."""
    if not isinstance(data, list):
        return []
    replies = []
    for item in data:
        if not isinstance(item, dict):
            continue
        reply: dict[str, Any] = {}
        text = item.get("text")
        if isinstance(text, str) and text.strip():
            reply["text"] = text
        buttons = [
            {"title": b["title"], "payload": b["payload"]}
            for b in item.get("buttons") or []
            if isinstance(b, dict) and isinstance(b.get("title"), str) and isinstance(b.get("payload"), str)
        ]
        if buttons:
            reply["buttons"] = buttons
        if reply:
            replies.append(reply)
    return replies


# ---------------------------------------------------------------- the e-mail link pages (synchronous, in threads)

Page = tuple[HTTPStatus, str]


def link_refusal(error: DeskError) -> Page:
    if isinstance(error, (InvalidToken, PermissionDenied)):
        status = HTTPStatus.FORBIDDEN
    elif isinstance(error, NotFound):
        status = HTTPStatus.NOT_FOUND
    else:
        status = HTTPStatus.BAD_REQUEST
    return status, pages.refusal(error.message)


def follow_up_page(app: WebApp, number: str, token: str | None) -> Page:
    try:
        ticket = app.desk.ticket_by_link(number, token, identity.PURPOSE_TRACK)
    except DeskError as error:
        return link_refusal(error)
    return HTTPStatus.OK, pages.follow_up(ticket)


def link_form_page(
    app: WebApp, number: str, token: str | None,
    lookup: Callable[[str, str | None], tuple[dict[str, Any], str | None]],
    unavailable_page: Callable[[dict[str, Any], str, str], str],
    form_page: Callable[[dict[str, Any], str], str],
) -> Page:
    """The form an e-mail link opens, or why it can no longer be used (already evaluated, no longer waiting...)."""
    try:
        ticket, unavailable = lookup(number, token)
    except DeskError as error:
        return link_refusal(error)
    if unavailable:
        return HTTPStatus.OK, unavailable_page(ticket, unavailable, app.follow_path(ticket["number"]))
    return HTTPStatus.OK, form_page(ticket, token or "")


def evaluation_page(app: WebApp, number: str, token: str | None) -> Page:
    return link_form_page(app, number, token, app.desk.evaluation_by_link, pages.evaluation_unavailable,
                          pages.evaluation_form)


def answer_page(app: WebApp, number: str, token: str | None) -> Page:
    return link_form_page(app, number, token, app.desk.question_by_link, pages.answer_unavailable, pages.answer_form)


def answer_post(app: WebApp, number: str, form: dict[str, list[str]]) -> Page:
    token = _first(form, "t")  # the link's token must come in the body, as for the evaluation
    try:
        ticket, unavailable = app.desk.question_by_link(number, token)
    except DeskError as error:
        return link_refusal(error)
    follow = app.follow_path(ticket["number"])
    if unavailable:
        return HTTPStatus.CONFLICT, pages.answer_unavailable(ticket, unavailable, follow)
    text = (_first(form, "resposta") or "").strip()
    try:
        done = app.desk.answer_by_link(ticket["number"], token, text)
    except InvalidInput as error:
        return HTTPStatus.BAD_REQUEST, pages.answer_form(ticket, token or "", text, error.message)
    except InvalidTransition as error:
        return HTTPStatus.CONFLICT, pages.answer_unavailable(ticket, error.message, follow)
    except DeskError as error:
        return link_refusal(error)
    return HTTPStatus.OK, pages.answer_done(done, follow)


def evaluation_post(app: WebApp, number: str, form: dict[str, list[str]]) -> Page:
    # The link's token must come in the body: a form posted from elsewhere does not have it.
    token = _first(form, "t")
    try:
        ticket, unavailable = app.desk.evaluation_by_link(number, token)
    except DeskError as error:
        return link_refusal(error)
    follow = app.follow_path(ticket["number"])
    if unavailable:
        return HTTPStatus.CONFLICT, pages.evaluation_unavailable(ticket, unavailable, follow)
    answers = pages.EvaluationAnswers(
        score=(_first(form, "nota") or "").strip(),
        comment=(_first(form, "comentario") or "").strip(),
        decision=(_first(form, "decisao") or "").strip(),
        reason=(_first(form, "motivo") or "").strip(),
    )
    if answers.score not in {"1", "2", "3", "4", "5"}:
        answers.errors.append("Escolha uma nota de 1 a 5.")
    if answers.decision not in {"concordo", "discordo"}:
        answers.errors.append("Diga se você concorda ou discorda da solução.")
    elif answers.decision == "discordo" and not answers.reason:
        answers.errors.append("Para discordar da solução, informe o motivo da reabertura.")
    if not answers.errors:
        try:
            ticket = app.desk.evaluate_by_link(
                ticket["number"], token, int(answers.score), answers.comment or None,
                agrees=answers.decision == "concordo",
                reason=answers.reason if answers.decision == "discordo" else None,
            )
        except InvalidInput as error:
            answers.errors.append(error.message)
        except InvalidTransition as error:
            return HTTPStatus.CONFLICT, pages.evaluation_unavailable(ticket, error.message, follow)
        except DeskError as error:
            return link_refusal(error)
        else:
            return HTTPStatus.OK, pages.evaluation_done(ticket, follow)
    return HTTPStatus.BAD_REQUEST, pages.evaluation_form(ticket, token or "", answers)


def _first(values: dict[str, list[str]], key: str) -> str | None:
    found = values.get(key)
    return found[0] if found else None


# ---------------------------------------------------------------- HTTP


APP_KEY = web.AppKey("page_app", WebApp)
SESSION_KEY = web.AppKey("rasa_session", aiohttp.ClientSession)


def html(status: HTTPStatus, page: str) -> web.Response:
    return web.Response(status=status, text=page, content_type="text/html", charset="utf-8")


def json_response(status: HTTPStatus, data: Any) -> web.Response:
    return web.Response(status=status, text=json.dumps(data, ensure_ascii=False),
                        content_type="application/json", charset="utf-8")


def api_error(error: ApiError) -> web.Response:
    return json_response(error.status, {"error": {"code": error.code, "message": error.message}})


async def read_body(request: web.Request) -> bytes:
    """The request body, refused unread when its size is unknown or above MAX_BODY."""
    length = request.content_length
    if length is None:
        raise ApiError(HTTPStatus.LENGTH_REQUIRED, "tamanho", "Informe o tamanho do corpo.")
    if length > MAX_BODY:
        raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "tamanho", "Pedido grande demais.")
    return await request.read()


async def json_body(request: web.Request) -> dict[str, Any]:
    # Requiring JSON also keeps other sites out: a cross-site form cannot send it without a CORS preflight,
    # which this server never grants.
    if request.content_type.lower() != "application/json":
        raise ApiError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "tipo", "Envie JSON (Content-Type: application/json).")
    try:
        data = json.loads((await read_body(request)).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ApiError(HTTPStatus.BAD_REQUEST, "json_invalido", "JSON inválido.") from None
    if not isinstance(data, dict):
        raise ApiError(HTTPStatus.BAD_REQUEST, "json_invalido", "Esperava um objeto JSON.")
    return data


async def form_body(request: web.Request) -> dict[str, list[str]] | web.Response:
    """The fields of a posted link form, or the refusal page to answer."""
    if request.content_type.lower() != "application/x-www-form-urlencoded":
        return html(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, pages.bad_request("Envie o formulário pela página."))
    try:
        return parse_qs((await read_body(request)).decode("utf-8"), keep_blank_values=True)
    except (ApiError, UnicodeDecodeError):
        return html(HTTPStatus.BAD_REQUEST, pages.bad_request("Formulário inválido."))


# --- the page -------------------------------------------------------------------------------------


async def static_file(request: web.Request) -> web.Response:
    name, content_type = STATIC_FILES[request.path]
    try:
        body = (STATIC_DIR / name).read_bytes()
    except FileNotFoundError:
        return html(HTTPStatus.NOT_FOUND, pages.not_found())
    if name == "index.html":
        body = (body.replace(RETENTION_MARK.encode(), str(request.app[APP_KEY].retention_days).encode())
                .replace(ACCESS_BAR_MARK.encode(), pages.access_bar(contrast_switch=True).encode()))
    return web.Response(body=body, headers={"Content-Type": content_type})


async def healthz(_: web.Request) -> web.Response:
    return web.Response(text="ok\n", content_type="text/plain", charset="utf-8")


async def accessibility(_: web.Request) -> web.Response:
    return html(HTTPStatus.OK, pages.accessibility())


async def privacy(request: web.Request) -> web.Response:
    return html(HTTPStatus.OK, pages.privacy(request.app[APP_KEY].retention_days))


# --- the API of the widget ------------------------------------------------------------------------


async def api_personas(request: web.Request) -> web.Response:
    return json_response(HTTPStatus.OK, {"personas": request.app[APP_KEY].personas()})


async def api_sign_in(request: web.Request) -> web.Response:
    data = await json_body(request)
    return json_response(HTTPStatus.OK, await asyncio.to_thread(request.app[APP_KEY].sign_in, data.get("persona")))


async def api_message(request: web.Request) -> web.Response:
    data = await json_body(request)
    app = request.app[APP_KEY]
    replies = await app.forward(request.app[SESSION_KEY], data.get("sender"), data.get("message"), data.get("token"))
    return json_response(HTTPStatus.OK, {"replies": replies})


async def api_erase(request: web.Request) -> web.Response:
    data = await json_body(request)
    app = request.app[APP_KEY]
    try:
        removed = await asyncio.to_thread(app.erase, data.get("sender"))
    except ApiError:
        raise
    except Exception:  # noqa: BLE001 - the database may be down: say so, in Portuguese
        log.exception("não foi possível apagar uma conversa")
        raise ApiError(HTTPStatus.SERVICE_UNAVAILABLE, "indisponivel", NOT_ERASED) from None
    return json_response(HTTPStatus.OK, {"apagada": True, "eventos": removed.events})


# --- the e-mail links ------------------------------------------------------------------------------


def link_get(render: Callable[[WebApp, str, str | None], Page]) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        status, page = await asyncio.to_thread(
            render, request.app[APP_KEY], request.match_info["number"], request.query.get("t"))
        return html(status, page)
    return handler


def link_post(submit: Callable[[WebApp, str, dict[str, list[str]]], Page],
              ) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        form = await form_body(request)
        if isinstance(form, web.Response):
            return form
        status, page = await asyncio.to_thread(submit, request.app[APP_KEY], request.match_info["number"], form)
        return html(status, page)
    return handler


# --- errors, headers, log ---------------------------------------------------------------------------


@web.middleware
async def refusals(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
                   ) -> web.StreamResponse:
    """Every refusal in the page's own words: JSON under /api/, a page elsewhere; one broken request never takes
    the server down."""
    api = request.path.startswith("/api/")
    try:
        return await handler(request)
    except ApiError as error:
        return api_error(error)
    except web.HTTPException as error:
        if error.status == HTTPStatus.NOT_FOUND:
            return (api_error(ApiError(HTTPStatus.NOT_FOUND, "nao_encontrado", "Recurso não encontrado.")) if api
                    else html(HTTPStatus.NOT_FOUND, pages.not_found()))
        if error.status == HTTPStatus.METHOD_NOT_ALLOWED:
            return (api_error(ApiError(HTTPStatus.METHOD_NOT_ALLOWED, "metodo", "Método não permitido.")) if api
                    else html(HTTPStatus.METHOD_NOT_ALLOWED, pages.bad_request("Método não permitido.")))
        if error.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
            return (api_error(ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "tamanho", "Pedido grande demais.")) if api
                    else html(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, pages.bad_request("Pedido grande demais.")))
        raise
    except (asyncio.CancelledError, ConnectionResetError):
        raise  # the browser went away before the answer
    except Exception:  # noqa: BLE001
        log.exception("erro ao atender %s %s", request.method, request.path)
        if api:
            return json_response(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": {"code": "erro", "message": NO_REPLY}})
        return html(HTTPStatus.INTERNAL_SERVER_ERROR,
                    pages.bad_request("Ocorreu um erro inesperado. Tente de novo em instantes."))


async def security_headers(_: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)
    response.headers["Server"] = SERVER_NAME


class PathOnlyAccessLogger(AbstractAccessLogger):
    """`METHOD /path status` on stderr. Never the query string: the e-mail links carry their token there."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, elapsed: float) -> None:
        if request.path == "/healthz":  # the launcher polls it while starting
            return
        stamp = time.strftime("%d/%b/%Y %H:%M:%S")
        sys.stderr.write(f"{request.remote} - - [{stamp}] {request.method} {request.path} {response.status}\n")


def build_application(app: WebApp) -> web.Application:
    application = web.Application(client_max_size=MAX_BODY, middlewares=[refusals])
    application[APP_KEY] = app
    application.on_response_prepare.append(security_headers)  # type: ignore[arg-type]  # aiohttp 3.9 stub mistyped

    async def rasa_session(application: web.Application) -> Any:
        # Rasa is on loopback: never through a proxy from the environment (trust_env=False). Connections are kept
        # alive (a new one per message cost ~4 ms, measured by bench/page_proxy.py) but dropped after 10 s idle,
        # well before the other side does (Rasa keeps them 120 s, nginx in `make cluster` 75 s), so a message is
        # never sent on a connection the server is closing.
        connector = aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_S)
        async with aiohttp.ClientSession(connector=connector, trust_env=False) as session:
            application[SESSION_KEY] = session
            yield

    application.cleanup_ctx.append(rasa_session)
    routes = application.router
    for path in STATIC_FILES:
        routes.add_get(path, static_file)
    routes.add_get("/healthz", healthz)
    routes.add_get("/acessibilidade", accessibility)
    routes.add_get("/privacidade", privacy)
    routes.add_get("/api/personas", api_personas)
    routes.add_post("/api/entrar", api_sign_in)
    routes.add_post("/api/mensagem", api_message)
    routes.add_post("/api/apagar", api_erase)
    for kind, render, submit in (("acionamentos", follow_up_page, None),
                                 ("avaliacao", evaluation_page, evaluation_post),
                                 ("resposta", answer_page, answer_post)):
        for path in (f"/{kind}/{NUMBER}", f"/{kind}/{NUMBER}/"):
            routes.add_get(path, link_get(render))
            if submit is not None:
                routes.add_post(path, link_post(submit))
    return application


class PageServer:
    """The page server bound to its socket at construction (so a busy port fails at once, and port 0 gets a free
    one); `serve_forever()` runs it on an event loop of its own, in any thread, until `shutdown()`."""

    def __init__(self, host: str, port: int, app: WebApp, quiet: bool = False) -> None:
        self.app = app
        self.quiet = quiet
        self.socket = socket.create_server((host, port))
        self.server_address: tuple[str, int] = self.socket.getsockname()[:2]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._stopped = threading.Event()

    def serve_forever(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve(loop))
        finally:
            loop.close()
            self._stopped.set()

    async def _serve(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop, self._stop = loop, asyncio.Event()
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):  # stop cleanly: the mail loop and the pool end too
                loop.add_signal_handler(signum, self._stop.set)
        runner = web.AppRunner(build_application(self.app), handle_signals=False,
                               access_log_class=PathOnlyAccessLogger,
                               access_log=None if self.quiet else logging.getLogger("bot.web.access"))
        await runner.setup()
        await web.SockSite(runner, self.socket).start()
        self._started.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()

    def shutdown(self) -> None:
        """Stop serving (from another thread) and wait until the loop has finished."""
        self._started.wait(timeout=30)
        if self._loop is not None and self._stop is not None and not self._stopped.is_set():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._stopped.wait(timeout=30)

    def server_close(self) -> None:
        self.socket.close()
        self.app.close()


def make_server(host: str, port: int, app: WebApp, quiet: bool = False) -> PageServer:
    """Build (and bind) the page server; call `serve_forever()` on the result."""
    return PageServer(host, port, app, quiet)


def start_delivery(desk: ServiceDesk, settings: Settings, interval_s: float) -> threading.Event | None:
    """With SMTP_HOST set, deliver the outbox every `interval_s` in a background thread; the returned event
    stops it. None (mail stays queued) without SMTP_HOST."""
    smtp = outbox.smtp_settings(settings)
    if smtp is None:
        return None
    stop = threading.Event()
    thread = threading.Thread(
        target=outbox.run_delivery_loop, args=(desk.db, smtp, stop, interval_s),
        name="outbox-delivery", daemon=True,
    )
    thread.start()
    return stop


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Página da Central de Serviços Serpro.")
    parser.add_argument("--host", default="127.0.0.1", help="interface (padrão 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="porta da página")
    parser.add_argument("--rasa-port", type=int, default=DEFAULT_RASA_PORT, help="porta do servidor Rasa (loopback)")
    parser.add_argument("--reply-timeout", type=float, default=DEFAULT_REPLY_TIMEOUT,
                        help="segundos de espera por uma resposta do assistente")
    parser.add_argument("--outbox-interval", type=float, default=DEFAULT_OUTBOX_INTERVAL,
                        help="segundos entre entregas de e-mail (com SMTP_HOST definido)")
    parser.add_argument("--quiet", action="store_true", help="não registrar cada requisição")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    try:
        settings = load_settings()
    except RuntimeError as error:
        print(f"Erro: {error}", file=sys.stderr)
        return 1
    desk = ServiceDesk.from_settings(settings)
    app = WebApp(
        desk=desk,
        rasa_url=f"http://127.0.0.1:{args.rasa_port}/webhooks/rest/webhook",
        development=settings.is_development,
        reply_timeout=args.reply_timeout,
        conversations_url=settings.conversations_url,
        retention_days=settings.retention_days,
    )
    try:
        server = make_server(args.host, args.port, app, args.quiet)
    except OSError as error:
        print(
            f"Erro: não foi possível abrir a porta {args.port} ({os.strerror(error.errno or 0)}). / "
            f"Error: cannot listen on port {args.port}.",
            file=sys.stderr,
        )
        return 1
    print(f"Página da CSS em http://{args.host}:{args.port}/", flush=True)
    print("Modo desenvolvimento: seletor \"entrar como\" ligado." if settings.is_development
          else "Modo produção: seletor \"entrar como\" desligado.", flush=True)
    stop_delivery = start_delivery(desk, settings, args.outbox_interval)
    if stop_delivery is not None:
        print(f"E-mails: entregues via SMTP {settings.smtp_host}:{settings.smtp_port} "
              f"a cada {args.outbox_interval:g} s.", flush=True)
    else:
        print("E-mails: SMTP_HOST não definido; ficam na fila — veja `.venv/bin/python -m backend outbox list`.",
              flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if stop_delivery is not None:
            stop_delivery.set()
        server.server_close()
        desk.db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
