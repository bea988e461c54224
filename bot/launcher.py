"""Run the whole assistant in the foreground: action server, Rasa server, the CSS page and the scheduled jobs.

`python -m bot.launcher [--rasa-port 5005] [--actions-port 5055] [--web-port 8000]`
`python -m bot.launcher --cluster` (`make cluster`): replicas behind nginx, same supervision — see bot/cluster.py.
(`--endpoints PATH` serves another endpoints file than the project's endpoints.yml, e.g. for bench/runtime_memory.py.)

Each child runs in its own process group, so stopping it also stops anything it spawned. Before anything starts,
the ports must be free and the model present (else one line and exit 1). Until every child is ready, a child that
dies stops everything (a configuration error would only repeat). After that the launcher supervises: a child that
dies is restarted with back-off (1 s doubling to 30 s, reset after a minute up), with a line in the log, and the
others keep running; the page tells users meanwhile. Ctrl-C (SIGINT) or SIGTERM stops all (SIGTERM, then SIGKILL
after a timeout) and exits 0. Children inherit the environment (DATABASE_URL, ASSISTENTE_SECRET, RASA_API_TOKEN...).

Rasa's HTTP API is enabled only with `--auth-token` (RASA_API_TOKEN), CORS only for CORS_ORIGINS, and the action
server listens on loopback: only the page's port is meant to face users.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from backend.config import parse_origins

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_ROOT / "models"
DEFAULT_MODEL = MODELS_DIR / "assistente.tar.gz"
DEFAULT_ENDPOINTS = PROJECT_ROOT / "endpoints.yml"
POLL_INTERVAL = 0.5
EXIT_OK = 0
EXIT_FAILURE = 1
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0
STABLE_AFTER = 60.0  # seconds up after which a restarted child's back-off starts again from FIRST_BACKOFF
REQUEST_MAX_BYTES = 1024 * 1024  # Rasa's webhook bodies (Sanic's default is 100 MB)


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
    url: str  # shown to the user when ready; empty for background jobs
    listens: tuple[tuple[str, int], ...] = ()  # (interface, port) it binds
    process: subprocess.Popen | None = field(default=None, repr=False)
    backoff: float = FIRST_BACKOFF
    restart_at: float | None = None  # monotonic time of the scheduled restart
    started_at: float = 0.0
    back: bool = True  # ready since its last start

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Inicia o servidor de ações, o servidor Rasa e a página da CSS."
    )
    parser.add_argument("--rasa-port", type=int, default=5005)
    parser.add_argument("--actions-port", type=int, default=5055)
    parser.add_argument("--web-port", type=int, default=8000)
    parser.add_argument("--cluster", action="store_true",
                        help="várias réplicas atrás do nginx (make cluster): PostgreSQL, Redis, RASA_REPLICAS...")
    parser.add_argument("--rasa-replica-port", type=int, default=5010,
                        help="com --cluster: porta da primeira réplica Rasa (as seguintes +1), em loopback")
    parser.add_argument("--action-replica-port", type=int, default=5060,
                        help="com --cluster: porta do primeiro servidor de ações (os seguintes +1), em loopback")
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
        "--endpoints",
        type=Path,
        default=DEFAULT_ENDPOINTS,
        help="arquivo de endpoints do Rasa (padrão: endpoints.yml do projeto)",
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
    """The launcher's environment (with `.env` read, a real variable winning) plus what the children need to find
    each other."""
    from dotenv import dotenv_values

    env = {key: value for key, value in dotenv_values(PROJECT_ROOT / ".env").items() if value is not None}
    env.update(os.environ)
    # endpoints.yml reads ${ACTION_ENDPOINT_URL} and Rasa fails if it is unset; point it
    # at the action server this launcher runs, so Rasa never talks to a stale one.
    env["ACTION_ENDPOINT_URL"] = f"http://127.0.0.1:{actions_port}/webhook"
    # A public service's assistant should not phone home (and there is no network here).
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def rasa_server_command(python: str, model: Path, host: str, port: int, env: dict[str, str],
                        endpoints: Path = DEFAULT_ENDPOINTS) -> list[str]:
    """`rasa run` with its HTTP API closed by RASA_API_TOKEN and CORS limited to CORS_ORIGINS."""
    token = env.get("RASA_API_TOKEN", "")
    if not token:
        raise LaunchError(
            "Erro: RASA_API_TOKEN não definido (rode `python -m backend init-env`). / Error: RASA_API_TOKEN is not set."
        )
    command = [python, "-m", "rasa", "run", "--enable-api", "--auth-token", token,
               "--interface", host, "--port", str(port), "--model", str(model),
               "--credentials", str(PROJECT_ROOT / "credentials.yml"),
               "--endpoints", str(endpoints)]
    try:
        origins = parse_origins(env.get("CORS_ORIGINS", ""))
    except RuntimeError as error:
        raise LaunchError(f"Erro: {error}") from None
    if origins:
        command += ["--cors", *origins]
    return command


def rasa_status_ok(base: str, token: str) -> bool:
    """Rasa's /status (behind the token) answers with a loaded model."""
    from urllib.parse import quote

    return http_ok(f"{base}/status?token={quote(token)}", _rasa_has_model)


def build_services(args: argparse.Namespace, model: Path) -> list[Service]:
    env = child_environment(args.actions_port)
    python = sys.executable
    shown = _display_host(args.host)
    actions_env = dict(env, SANIC_HOST="127.0.0.1")  # only Rasa talks to it
    rasa_env = dict(env, SANIC_REQUEST_MAX_SIZE=str(REQUEST_MAX_BYTES))
    if not args.endpoints.is_file():
        raise LaunchError(f"Erro: arquivo não encontrado / Error: file not found: {args.endpoints}")
    rasa_command = rasa_server_command(python, model, args.host, args.rasa_port, env, args.endpoints.resolve())
    token = env["RASA_API_TOKEN"]
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
            listens=(("127.0.0.1", args.actions_port),),
        ),
        Service(
            label="o servidor Rasa",
            label_en="the Rasa server",
            command=rasa_command,
            env=rasa_env,
            ready=lambda: rasa_status_ok(rasa_base, token),
            url=f"http://{shown}:{args.rasa_port}/webhooks/rest/webhook",
            listens=((args.host, args.rasa_port),),
        ),
        Service(
            label="a página da CSS",
            label_en="the web page",
            command=[python, "-m", "bot.web", "--host", args.host,
                     "--port", str(args.web_port), "--rasa-port", str(args.rasa_port)],
            env=env,
            ready=lambda: http_ok(f"{web_base}/healthz"),
            url=f"http://{shown}:{args.web_port}/",
            listens=((args.host, args.web_port),),
        ),
        Service(
            label="as tarefas agendadas",
            label_en="the scheduled jobs",
            command=[python, "-m", "backend", "schedule"],
            env=env,
            ready=lambda: True,
            url="",
        ),
    ]


def check_topology(endpoints: Path, env: dict[str, str], rasa_processes: int = 1) -> None:
    """More than one Rasa process (replicas or SANIC_WORKERS) needs a shared tracker store and a lock store that
    all of them see; Rasa 3.6 itself only logs at debug level and silently runs one worker. Refuse instead."""
    import yaml

    workers = env.get("SANIC_WORKERS", "1").strip() or "1"
    if not workers.isdigit() or int(workers) < 1:
        raise LaunchError(f"Erro: SANIC_WORKERS inválido ({workers!r}). / Error: invalid SANIC_WORKERS.")
    processes = rasa_processes * int(workers)
    if processes == 1:
        return
    config = yaml.safe_load(endpoints.read_text(encoding="utf-8")) or {}
    tracker = str((config.get("tracker_store") or {}).get("type", "in_memory")).lower()
    lock = str((config.get("lock_store") or {}).get("type", "in_memory")).lower()
    if tracker in ("in_memory", "inmemorytrackerstore") or lock in ("in_memory", "inmemorylockstore"):
        raise LaunchError(
            f"Erro: {processes} processos Rasa exigem conversas e travas compartilhadas (tracker store SQL e lock "
            f"store Redis em {endpoints.name}); com armazenamento em memória cada processo teria sua própria "
            "conversa. Use SANIC_WORKERS=1 ou `make cluster`. / Error: several Rasa processes need a shared "
            "tracker store and a Redis lock store."
        )


def check_ports_free(services: Sequence[Service]) -> None:
    """One clear line instead of a child dying on 'address in use'."""
    import socket

    for service in services:
        for host, port in service.listens:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind((host, port))
                except OSError:
                    raise LaunchError(
                        f"Erro: a porta {port} ({service.label}) já está em uso — outro `make run` ou `make shell` "
                        f"rodando? / Error: port {port} ({service.label_en}) is already in use."
                    ) from None


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the launcher itself is killed (Linux only)."""
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def start(service: Service) -> None:
    service.started_at = time.monotonic()
    service.restart_at = None
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
    lines += [f"  {s.url}  — {s.label} ({s.label_en})" for s in services if s.url]
    lines += ["Ctrl-C encerra tudo / stops everything.", ""]
    say("\n".join(lines))


def supervise(services: Sequence[Service], now: float) -> None:
    """One round of supervision: schedule a restart for a child that died, start those whose time has come, and
    say when a restarted child is serving again."""
    for service in services:
        if service.restart_at is None and service.process is not None and service.process.poll() is not None:
            if now - service.started_at >= STABLE_AFTER:
                service.backoff = FIRST_BACKOFF
            service.restart_at = now + service.backoff
            say(f"Aviso: {service.label} terminou (código {service.process.returncode}); reiniciando em "
                f"{service.backoff:.0f} s. / Warning: {service.label_en} exited; restarting.", sys.stderr)
            service.backoff = min(service.backoff * 2, MAX_BACKOFF)
            service.back = False
        elif service.restart_at is not None and now >= service.restart_at:
            start(service)
        elif not service.back and service.alive() and service.ready():
            service.back = True
            say(f"{service.label} voltou a responder. / {service.label_en} is back.")


def build_single(args: argparse.Namespace, model: Path) -> list[Service]:
    """`make run`'s children: one of each, after the topology and port checks."""
    services = build_services(args, model)
    check_topology(args.endpoints, child_environment(args.actions_port))
    check_ports_free(services)
    return services


def run(args: argparse.Namespace, build: Callable[[Path], list[Service]] | None = None) -> int:
    """Start what `build` returns (default: `make run`'s children), supervise it until a stop is asked, stop all."""
    stop = StopRequested()
    services: list[Service] = []
    try:
        model = find_model(args.model)
        services = build(model) if build is not None else build_single(args, model)
        say(f"Iniciando com o modelo / starting with model {model.name} ...")
        for service in services:
            start(service)
        if wait_until_ready(services, stop, args.ready_timeout):
            print_ready(services)
            while not stop:
                supervise(services, time.monotonic())
                time.sleep(POLL_INTERVAL)
        say(f"\nEncerrando ({stop.signal_name}) / stopping ...")
        return EXIT_OK
    except LaunchError as error:
        say(str(error), sys.stderr)
        return EXIT_FAILURE
    finally:
        stop_all(services, args.stop_timeout)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.cluster:
        from bot.cluster import run_cluster

        return run_cluster(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
