"""The Central de Serviços Serpro web page and its small server (standard library only).

`python -m bot.web --port 8000 --rasa-port 5005` serves, on one origin:

    GET  /                      the CSS page with the chat widget (bot/static/)
    GET  /healthz               readiness probe for the launcher
    POST /api/mensagem          the widget's messages, forwarded to Rasa's REST channel
    GET  /api/personas          demo personas for "entrar como"      (development only; 404 in production)
    POST /api/entrar            an identity token for a demo persona  (development only; 404 in production)
    GET  /acionamentos/<N>?t=   the ticket follow-up form linked from the e-mails
    GET  /avaliacao/<N>?t=      the quality-control form linked from the e-mails; POST sends it (t in the body)
    GET  /resposta/<N>?t=       the form to answer support's question (ticket waiting for the user); POST sends it

With SMTP_HOST set it also delivers the e-mail outbox in the background.

Why a proxy to the REST channel rather than socket.io in the browser: one request is one answer, so a missing or
empty answer is seen and told to the user; there is no socket.io session persistence to lose replies; the page
talks only to its own origin (no CORS, strict Content-Security-Policy). See README "The CSS page".
"""
from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import parse_qs, urlsplit

from backend import identity, outbox
from backend.config import Settings, load_settings
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

# Only these files are published; nothing else in the folder (or outside it) can be asked for.
STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/chat.js": ("chat.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
}
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
LINK_PATH = re.compile(r"^/(acionamentos|avaliacao|resposta)/([A-Za-z0-9-]{1,40})/?$")
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


class ApiError(Exception):
    """A refusal of the page's API: HTTP status, a code for programs and a pt-BR message for people."""

    def __init__(self, status: HTTPStatus, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class WebApp:
    """What the page server does, apart from HTTP: talk to Rasa and to the service desk."""

    desk: ServiceDesk
    rasa_url: str
    development: bool
    reply_timeout: float = DEFAULT_REPLY_TIMEOUT

    # --- the chat -------------------------------------------------------------------------------
    def forward(self, sender: Any, message: Any, token: Any) -> list[dict[str, Any]]:
        """One user message to Rasa's REST channel; the assistant's answers (text and buttons only).
        ApiError when the message is malformed or the assistant does not answer."""
        if not isinstance(sender, str) or not SENDER.match(sender):
            raise ApiError(HTTPStatus.BAD_REQUEST, "remetente_invalido", "Conversa não identificada. Recarregue a página.")
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
        request = urllib.request.Request(
            self.rasa_url, data=json.dumps(body).encode("utf-8"), method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with _DIRECT.open(request, timeout=self.reply_timeout) as response:
                data = json.loads(response.read().decode("utf-8"))
        except TimeoutError:
            raise ApiError(HTTPStatus.GATEWAY_TIMEOUT, "sem_resposta", SLOW_REPLY) from None
        except urllib.error.HTTPError as error:
            log.warning("Rasa respondeu %s", error.code)
            raise ApiError(HTTPStatus.BAD_GATEWAY, "sem_resposta", NO_REPLY) from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise ApiError(HTTPStatus.GATEWAY_TIMEOUT, "sem_resposta", SLOW_REPLY) from None
            log.warning("Rasa inacessível: %s", error.reason)
            raise ApiError(HTTPStatus.BAD_GATEWAY, "sem_resposta", NO_REPLY) from None
        except (OSError, ValueError) as error:  # connection reset, broken JSON...
            log.warning("resposta do Rasa inutilizável: %s", error)
            raise ApiError(HTTPStatus.BAD_GATEWAY, "sem_resposta", NO_REPLY) from None
        replies = clean_replies(data)
        if not replies:
            # Rasa answers 200 and [] when an action failed (e.g. the action server is down).
            log.warning("Rasa não produziu resposta para %s", sender)
            raise ApiError(HTTPStatus.BAD_GATEWAY, "sem_resposta", NO_REPLY)
        return replies

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


# Rasa is on loopback: never route it through an HTTP proxy from the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class PageHandler(BaseHTTPRequestHandler):
    app: WebApp
    quiet: bool = False
    server_version = "AssistenteSerpro"

    def version_string(self) -> str:
        return self.server_version  # no Python version in the Server header

    # --- routing ----------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._route("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._route("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        self._route("POST")

    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path
        query = parse_qs(url.query)
        try:
            if path == "/healthz" and method in ("GET", "HEAD"):
                self._send(HTTPStatus.OK, b"ok\n", "text/plain; charset=utf-8")
            elif path in STATIC_FILES and method in ("GET", "HEAD"):
                self._static(path)
            elif path.startswith("/api/"):
                self._api(method, path)
            elif match := LINK_PATH.match(path):
                kind, number = match.groups()
                if kind == "acionamentos" and method in ("GET", "HEAD"):
                    self._follow_up(number, _first(query, "t"))
                elif kind == "avaliacao" and method in ("GET", "HEAD"):
                    self._evaluation(number, _first(query, "t"))
                elif kind == "avaliacao" and method == "POST":
                    self._evaluation_post(number)
                elif kind == "resposta" and method in ("GET", "HEAD"):
                    self._answer(number, _first(query, "t"))
                elif kind == "resposta" and method == "POST":
                    self._answer_post(number)
                else:
                    self._method_not_allowed()
            else:
                self._html(HTTPStatus.NOT_FOUND, pages.not_found())
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away before the answer
        except Exception:  # noqa: BLE001 - one broken request must not take the page down
            log.exception("erro ao atender %s %s", method, path)
            if path.startswith("/api/"):
                self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": {"code": "erro", "message": NO_REPLY}})
            else:
                self._html(HTTPStatus.INTERNAL_SERVER_ERROR, pages.bad_request(
                    "Ocorreu um erro inesperado. Tente de novo em instantes."))

    # --- the page ---------------------------------------------------------------------------------
    def _static(self, path: str) -> None:
        name, content_type = STATIC_FILES[path]
        try:
            body = (STATIC_DIR / name).read_bytes()
        except FileNotFoundError:
            self._html(HTTPStatus.NOT_FOUND, pages.not_found())
            return
        self._send(HTTPStatus.OK, body, content_type)

    # --- the API of the widget --------------------------------------------------------------------
    def _api(self, method: str, path: str) -> None:
        try:
            if path == "/api/personas" and method == "GET":
                self._json(HTTPStatus.OK, {"personas": self.app.personas()})
            elif path == "/api/entrar" and method == "POST":
                data = self._json_body()
                self._json(HTTPStatus.OK, self.app.sign_in(data.get("persona")))
            elif path == "/api/mensagem" and method == "POST":
                data = self._json_body()
                replies = self.app.forward(data.get("sender"), data.get("message"), data.get("token"))
                self._json(HTTPStatus.OK, {"replies": replies})
            elif path in ("/api/personas", "/api/entrar", "/api/mensagem"):
                raise ApiError(HTTPStatus.METHOD_NOT_ALLOWED, "metodo", "Método não permitido.")
            else:
                raise ApiError(HTTPStatus.NOT_FOUND, "nao_encontrado", "Recurso não encontrado.")
        except ApiError as error:
            self._json(error.status, {"error": {"code": error.code, "message": error.message}})

    def _json_body(self) -> dict[str, Any]:
        # Requiring JSON also keeps other sites out: a cross-site form cannot send it without a CORS preflight,
        # which this server never grants.
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise ApiError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "tipo", "Envie JSON (Content-Type: application/json).")
        try:
            data = json.loads(self._body().decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ApiError(HTTPStatus.BAD_REQUEST, "json_invalido", "JSON inválido.") from None
        if not isinstance(data, dict):
            raise ApiError(HTTPStatus.BAD_REQUEST, "json_invalido", "Esperava um objeto JSON.")
        return data

    def _body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise ApiError(HTTPStatus.LENGTH_REQUIRED, "tamanho", "Informe o tamanho do corpo.") from None
        if length < 0 or length > MAX_BODY:
            raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "tamanho", "Pedido grande demais.")
        return self.rfile.read(length)

    # --- the e-mail links -------------------------------------------------------------------------
    def _follow_up(self, number: str, token: str | None) -> None:
        try:
            ticket = self.app.desk.ticket_by_link(number, token, identity.PURPOSE_TRACK)
        except DeskError as error:
            self._link_refusal(error)
            return
        self._html(HTTPStatus.OK, pages.follow_up(ticket))

    def _evaluation(self, number: str, token: str | None) -> None:
        try:
            ticket, unavailable = self.app.desk.evaluation_by_link(number, token)
        except DeskError as error:
            self._link_refusal(error)
            return
        if unavailable:
            self._html(HTTPStatus.OK, pages.evaluation_unavailable(
                ticket, unavailable, self.app.follow_path(ticket["number"])))
        else:
            self._html(HTTPStatus.OK, pages.evaluation_form(ticket, token or ""))

    def _answer(self, number: str, token: str | None) -> None:
        try:
            ticket, unavailable = self.app.desk.question_by_link(number, token)
        except DeskError as error:
            self._link_refusal(error)
            return
        if unavailable:
            self._html(HTTPStatus.OK, pages.answer_unavailable(
                ticket, unavailable, self.app.follow_path(ticket["number"])))
        else:
            self._html(HTTPStatus.OK, pages.answer_form(ticket, token or ""))

    def _answer_post(self, number: str) -> None:
        form = self._form()
        if form is None:
            return
        token = _first(form, "t")  # the link's token must come in the body, as for the evaluation
        try:
            ticket, unavailable = self.app.desk.question_by_link(number, token)
        except DeskError as error:
            self._link_refusal(error)
            return
        follow = self.app.follow_path(ticket["number"])
        if unavailable:
            self._html(HTTPStatus.CONFLICT, pages.answer_unavailable(ticket, unavailable, follow))
            return
        text = (_first(form, "resposta") or "").strip()
        try:
            done = self.app.desk.answer_by_link(ticket["number"], token, text)
        except InvalidInput as error:
            self._html(HTTPStatus.BAD_REQUEST, pages.answer_form(ticket, token or "", text, error.message))
        except InvalidTransition as error:
            self._html(HTTPStatus.CONFLICT, pages.answer_unavailable(ticket, error.message, follow))
        except DeskError as error:
            self._link_refusal(error)
        else:
            self._html(HTTPStatus.OK, pages.answer_done(done, follow))

    def _form(self) -> dict[str, list[str]] | None:
        """The fields of a posted link form, or None after answering the refusal."""
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            self._html(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, pages.bad_request("Envie o formulário pela página."))
            return None
        try:
            return parse_qs(self._body().decode("utf-8"), keep_blank_values=True)
        except (ApiError, UnicodeDecodeError):
            self._html(HTTPStatus.BAD_REQUEST, pages.bad_request("Formulário inválido."))
            return None

    def _evaluation_post(self, number: str) -> None:
        form = self._form()
        if form is None:
            return
        # The link's token must come in the body: a form posted from elsewhere does not have it.
        token = _first(form, "t")
        try:
            ticket, unavailable = self.app.desk.evaluation_by_link(number, token)
        except DeskError as error:
            self._link_refusal(error)
            return
        follow = self.app.follow_path(ticket["number"])
        if unavailable:
            self._html(HTTPStatus.CONFLICT, pages.evaluation_unavailable(ticket, unavailable, follow))
            return
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
                ticket = self.app.desk.evaluate_by_link(
                    ticket["number"], token, int(answers.score), answers.comment or None,
                    agrees=answers.decision == "concordo",
                    reason=answers.reason if answers.decision == "discordo" else None,
                )
            except InvalidInput as error:
                answers.errors.append(error.message)
            except InvalidTransition as error:
                self._html(HTTPStatus.CONFLICT, pages.evaluation_unavailable(ticket, error.message, follow))
                return
            except DeskError as error:
                self._link_refusal(error)
                return
            else:
                self._html(HTTPStatus.OK, pages.evaluation_done(ticket, follow))
                return
        self._html(HTTPStatus.BAD_REQUEST, pages.evaluation_form(ticket, token or "", answers))

    def _link_refusal(self, error: DeskError) -> None:
        if isinstance(error, (InvalidToken, PermissionDenied)):
            status = HTTPStatus.FORBIDDEN
        elif isinstance(error, NotFound):
            status = HTTPStatus.NOT_FOUND
        else:
            status = HTTPStatus.BAD_REQUEST
        self._html(status, pages.refusal(error.message))

    def _method_not_allowed(self) -> None:
        self._html(HTTPStatus.METHOD_NOT_ALLOWED, pages.bad_request("Método não permitido."))

    # --- responses --------------------------------------------------------------------------------
    def _json(self, status: HTTPStatus, data: Any) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")

    def _html(self, status: HTTPStatus, page: str) -> None:
        self._send(status, page.encode("utf-8"), "text/html; charset=utf-8")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Never the query string: the e-mail links carry their token there.
        path = urlsplit(self.path).path
        if self.quiet or path == "/healthz":  # the launcher polls it while starting
            return
        code_value = code.value if isinstance(code, HTTPStatus) else code
        self.log_message("%s %s %s", self.command, path, code_value)


def _first(values: dict[str, list[str]], key: str) -> str | None:
    found = values.get(key)
    return found[0] if found else None


def make_server(host: str, port: int, app: WebApp, quiet: bool = False) -> ThreadingHTTPServer:
    """Build (and bind) the page server; call `serve_forever()` on the result."""
    handler = type("ConfiguredPageHandler", (PageHandler,), {"app": app, "quiet": quiet})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


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
    )
    try:
        server = make_server(args.host, args.port, app, args.quiet)
    except OSError as error:
        print(
            f"Erro: não foi possível abrir a porta {args.port} ({error.strerror}). / "
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
