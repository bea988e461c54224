"""The Central de Serviços Serpro web page: a small static server for bot/static/.

Run it with `python -m bot.web --port 8000 --rasa-port 5005`. Besides the static files it
serves `/healthz` (readiness probe for the launcher) and `/config.js`, which tells the page
on which port the Rasa REST channel listens (the page calls it on its own host name).
"""
from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Sequence

STATIC_DIR = Path(__file__).resolve().parent / "static"
DEFAULT_PORT = 8000
DEFAULT_RASA_PORT = 5005


class PageHandler(SimpleHTTPRequestHandler):
    """Static files plus two generated endpoints; no directory listings."""

    rasa_port: int = DEFAULT_RASA_PORT
    quiet: bool = False

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._send_bytes(b"ok\n", "text/plain; charset=utf-8")
        elif path == "/config.js":
            config = json.dumps({"rasaPort": self.rasa_port})
            body = f"window.ASSISTENTE_CONFIG = {config};\n".encode("utf-8")
            self._send_bytes(body, "text/javascript; charset=utf-8")
        else:
            super().do_GET()

    def do_HEAD(self) -> None:  # noqa: N802
        if self.path.split("?", 1)[0] in ("/healthz", "/config.js"):
            self.send_response(HTTPStatus.OK)
            self.end_headers()
        else:
            super().do_HEAD()

    def list_directory(self, path: str):  # type: ignore[override]
        # Only files are published; never show what else lives in the folder.
        self.send_error(HTTPStatus.NOT_FOUND, "Página não encontrada")
        return None

    def end_headers(self) -> None:
        # The page changes with the code; avoid stale copies during development.
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        # The launcher polls /healthz twice a second while starting; don't log that.
        if not self.quiet and not self.path.startswith("/healthz"):
            super().log_message(format, *args)

    def _send_bytes(self, body: bytes, content_type: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def make_server(
    host: str, port: int, rasa_port: int = DEFAULT_RASA_PORT, quiet: bool = False
) -> ThreadingHTTPServer:
    """Build (and bind) the page server; call `serve_forever()` on the result."""
    handler_class = type(
        "ConfiguredPageHandler", (PageHandler,), {"rasa_port": rasa_port, "quiet": quiet}
    )
    handler = partial(handler_class, directory=str(STATIC_DIR))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Página da Central de Serviços Serpro.")
    parser.add_argument("--host", default="127.0.0.1", help="interface (padrão 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="porta da página")
    parser.add_argument(
        "--rasa-port", type=int, default=DEFAULT_RASA_PORT, help="porta do servidor Rasa"
    )
    parser.add_argument("--quiet", action="store_true", help="não registrar cada requisição")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        server = make_server(args.host, args.port, args.rasa_port, args.quiet)
    except OSError as error:
        print(
            f"Erro: não foi possível abrir a porta {args.port} ({error.strerror}). / "
            f"Error: cannot listen on port {args.port}.",
            file=sys.stderr,
        )
        return 1
    print(f"Página da CSS em http://{args.host}:{args.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
