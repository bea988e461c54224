"""Run the whole assistant in the foreground: action server, Rasa server and the CSS page.

`python -m bot.launcher [--rasa-port 5005] [--actions-port 5055] [--web-port 8000]`

Each child runs in its own process group, so stopping it also stops anything it spawned.
Ctrl-C (SIGINT) or SIGTERM stops all three (SIGTERM, then SIGKILL after a timeout) and
exits 0. If any child dies on its own, the others are stopped and the launcher exits 1
with a one-line reason. Children inherit the environment (DATABASE_URL, ASSISTENTE_SECRET...).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_ROOT / "models"
DEFAULT_MODEL = MODELS_DIR / "assistente.tar.gz"
POLL_INTERVAL = 0.5
EXIT_OK = 0
EXIT_FAILURE = 1


class LaunchError(Exception):
    """A reason to stop, already worded as the one line the user will read."""


@dataclass
class Service:
    """One child process: how to start it and how to tell that it is ready."""

    label: str  # pt-BR, used in messages
    label_en: str
    command: list[str]
    env: dict[str, str]
    ready: Callable[[], bool]
    url: str
    process: subprocess.Popen | None = field(default=None, repr=False)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Inicia o servidor de ações, o servidor Rasa e a página da CSS."
    )
    parser.add_argument("--rasa-port", type=int, default=5005)
    parser.add_argument("--actions-port", type=int, default=5055)
    parser.add_argument("--web-port", type=int, default=8000)
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface do servidor Rasa e da página (use 0.0.0.0 para expor na rede)",
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="modelo treinado (padrão: models/assistente.tar.gz ou o mais recente em models/)",
    )
    parser.add_argument(
        "--ready-timeout",
        type=float,
        default=300.0,
        help="segundos para esperar os três servidores ficarem prontos",
    )
    parser.add_argument(
        "--stop-timeout",
        type=float,
        default=15.0,
        help="segundos entre SIGTERM e SIGKILL ao encerrar",
    )
    return parser.parse_args(argv)


def find_model(requested: Path | None) -> Path:
    """The model to serve: the one asked for, else the fixed name, else the newest."""
    if requested is not None:
        if requested.is_file():
            return requested.resolve()
        raise LaunchError(
            f"Erro: modelo não encontrado / Error: model not found: {requested}"
        )
    if DEFAULT_MODEL.is_file():
        return DEFAULT_MODEL
    candidates = sorted(MODELS_DIR.glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    if candidates:
        return candidates[-1]
    raise LaunchError(
        "Erro: nenhum modelo treinado em models/ (rode `make run` ou `rasa train`) / "
        "Error: no trained model in models/"
    )


def http_ok(url: str, check: Callable[[bytes], bool] | None = None) -> bool:
    """True when `url` answers 200 (and `check` accepts the body)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            body = response.read()
            return response.status == 200 and (check is None or check(body))
    except (OSError, urllib.error.URLError, ValueError):
        return False


def _rasa_has_model(body: bytes) -> bool:
    # /status answers before a model is loaded in some setups; wait for the model too.
    try:
        return bool(json.loads(body).get("model_id"))
    except (ValueError, AttributeError):
        return False


def _display_host(host: str) -> str:
    return "localhost" if host in ("127.0.0.1", "0.0.0.0", "") else host


def child_environment(actions_port: int) -> dict[str, str]:
    """The launcher's environment plus what the children need to find each other."""
    env = dict(os.environ)
    # endpoints.yml reads ${ACTION_ENDPOINT_URL} and Rasa fails if it is unset; point it
    # at the action server this launcher runs, so Rasa never talks to a stale one.
    env["ACTION_ENDPOINT_URL"] = f"http://127.0.0.1:{actions_port}/webhook"
    # A public service's assistant should not phone home (and there is no network here).
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def build_services(args: argparse.Namespace, model: Path) -> list[Service]:
    env = child_environment(args.actions_port)
    python = sys.executable
    shown = _display_host(args.host)
    actions_env = dict(env, SANIC_HOST="127.0.0.1")  # only Rasa talks to it
    actions_base = f"http://127.0.0.1:{args.actions_port}"
    rasa_base = f"http://127.0.0.1:{args.rasa_port}"
    web_base = f"http://127.0.0.1:{args.web_port}"
    return [
        Service(
            label="o servidor de ações",
            label_en="the action server",
            command=[python, "-m", "rasa", "run", "actions",
                     "--port", str(args.actions_port), "--actions", "actions"],
            env=actions_env,
            ready=lambda: http_ok(f"{actions_base}/health"),
            url=f"http://localhost:{args.actions_port}/webhook",
        ),
        Service(
            label="o servidor Rasa",
            label_en="the Rasa server",
            command=[python, "-m", "rasa", "run", "--enable-api", "--cors", "*",
                     "--interface", args.host, "--port", str(args.rasa_port),
                     "--model", str(model),
                     "--credentials", str(PROJECT_ROOT / "credentials.yml"),
                     "--endpoints", str(PROJECT_ROOT / "endpoints.yml")],
            env=env,
            ready=lambda: http_ok(f"{rasa_base}/status", _rasa_has_model),
            url=f"http://{shown}:{args.rasa_port}/webhooks/rest/webhook",
        ),
        Service(
            label="a página da CSS",
            label_en="the web page",
            command=[python, "-m", "bot.web", "--host", args.host,
                     "--port", str(args.web_port), "--rasa-port", str(args.rasa_port)],
            env=env,
            ready=lambda: http_ok(f"{web_base}/healthz"),
            url=f"http://{shown}:{args.web_port}/",
        ),
    ]


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the launcher itself is killed (Linux only)."""
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def start(service: Service) -> None:
    try:
        service.process = subprocess.Popen(
            service.command,
            cwd=PROJECT_ROOT,
            env=service.env,
            start_new_session=True,  # own process group: stopped as a whole; Ctrl-C is ours
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
    except OSError as error:
        raise LaunchError(
            f"Erro: não foi possível iniciar {service.label} ({error}). / "
            f"Error: cannot start {service.label_en}."
        ) from error


def _signal_groups(services: Sequence[Service], sig: int) -> None:
    for service in services:
        if service.process is None:
            continue
        try:
            # The group outlives its leader if the leader spawned workers; signal it anyway.
            os.killpg(service.process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def stop_all(services: Sequence[Service], timeout: float) -> None:
    """SIGTERM every group, wait up to `timeout`, then SIGKILL what is left and reap."""
    _signal_groups(services, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(s.alive() for s in services):
        time.sleep(0.1)
    _signal_groups([s for s in services if s.alive()], signal.SIGKILL)
    for service in services:
        if service.process is not None:
            try:
                service.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


class StopRequested:
    """Turns SIGINT/SIGTERM into a flag the main loop polls."""

    def __init__(self) -> None:
        self.signal_name: str | None = None
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, _frame: object) -> None:
        self.signal_name = signal.Signals(signum).name

    def __bool__(self) -> bool:
        return self.signal_name is not None


def _check_alive(services: Sequence[Service]) -> None:
    for service in services:
        if service.process is not None and service.process.poll() is not None:
            code = service.process.returncode
            raise LaunchError(
                f"Erro: {service.label} terminou inesperadamente (código {code}). / "
                f"Error: {service.label_en} exited unexpectedly (code {code})."
            )


def wait_until_ready(
    services: Sequence[Service], stop: StopRequested, timeout: float
) -> bool:
    """Poll until every service is ready. False if a stop was requested meanwhile."""
    pending = list(services)
    deadline = time.monotonic() + timeout
    while pending:
        if stop:
            return False
        _check_alive(services)
        pending = [service for service in pending if not service.ready()]
        if not pending:
            break
        if time.monotonic() > deadline:
            raise LaunchError(
                f"Erro: não ficou pronto em {timeout:.0f} s: "
                f"{', '.join(service.label for service in pending)}. / "
                f"Error: not ready after {timeout:.0f} s: "
                f"{', '.join(service.label_en for service in pending)}."
            )
        time.sleep(POLL_INTERVAL)
    return True


def say(text: str, stream=None) -> None:
    """Print without dying if the terminal or pipe went away (e.g. `| tee` got Ctrl-C too)."""
    target = stream or sys.stdout
    try:
        print(text, file=target, flush=True)
    except (BrokenPipeError, OSError):
        # Point the dead stream at /dev/null so the exit-time flush cannot fail either.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), target.fileno())
        except (OSError, ValueError):
            pass


def print_ready(services: Sequence[Service]) -> None:
    lines = ["", "Assistente Serpro pronto / ready:"]
    lines += [f"  {s.url}  — {s.label} ({s.label_en})" for s in services]
    lines += ["Ctrl-C encerra os três / stops all three.", ""]
    say("\n".join(lines))


def run(args: argparse.Namespace) -> int:
    stop = StopRequested()
    services: list[Service] = []
    try:
        model = find_model(args.model)
        services = build_services(args, model)
        say(f"Iniciando com o modelo / starting with model {model.name} ...")
        for service in services:
            start(service)
        if wait_until_ready(services, stop, args.ready_timeout):
            print_ready(services)
            while not stop:
                _check_alive(services)
                time.sleep(POLL_INTERVAL)
        say(f"\nEncerrando ({stop.signal_name}) / stopping ...")
        return EXIT_OK
    except LaunchError as error:
        say(str(error), sys.stderr)
        return EXIT_FAILURE
    finally:
        stop_all(services, args.stop_timeout)


def main(argv: Sequence[str] | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
