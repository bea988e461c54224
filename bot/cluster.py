"""The scaled topology on one machine: `make cluster` (`python -m bot.launcher --cluster`).

PostgreSQL (DATABASE_URL, refused otherwise) for the service desk and the conversations, Redis (REDIS_URL) for the
per-conversation lock, RASA_REPLICAS Rasa servers and ACTION_REPLICAS action servers on loopback ports, nginx
(deploy/nginx.conf.template, rendered into a temporary directory) on :5005 balancing the Rasa replicas round-robin
and, on a loopback port, the action servers; the page on :8000 talks to nginx; the scheduled jobs. Every child is
started, supervised and stopped by bot.launcher's own machinery (Service, supervise, stop_all).

Every Rasa replica calls the action servers through nginx (not one action server per replica): they are stateless,
so any of them can serve any replica, a dead one is skipped instead of failing every turn of "its" replica, and the
two counts scale independently (README, "make cluster").
"""
from __future__ import annotations

import argparse
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bot import launcher
from bot.launcher import PROJECT_ROOT, LaunchError, Service, http_ok

DEPLOY_DIR = PROJECT_ROOT / "deploy"
NGINX_TEMPLATE = DEPLOY_DIR / "nginx.conf.template"
CLUSTER_ENDPOINTS = DEPLOY_DIR / "endpoints.cluster.yml"
NGINX = os.environ.get("NGINX_BIN", "/usr/sbin/nginx")
DEFAULT_REPLICAS = 2
MIGRATE_TIMEOUT = 300.0


@dataclass(frozen=True)
class RedisTarget:
    host: str
    port: int
    db: int
    password: str


@dataclass(frozen=True)
class Ports:
    """Where everything listens: nginx's two front ports, then one port per replica."""

    rasa: int
    actions: int
    web: int
    rasa_replicas: tuple[int, ...]
    action_replicas: tuple[int, ...]


def replica_count(env: dict[str, str], name: str) -> int:
    raw = env.get(name, str(DEFAULT_REPLICAS)).strip() or str(DEFAULT_REPLICAS)
    if not raw.isdigit() or not 1 <= int(raw) <= 32:
        raise LaunchError(f"Erro: {name} inválido ({raw!r}; de 1 a 32). / Error: invalid {name}.")
    return int(raw)


def require_postgresql(env: dict[str, str]) -> str:
    url = env.get("DATABASE_URL", "")
    if not url.startswith(("postgresql://", "postgresql+psycopg2://", "postgres://")):
        shown = url.split("://", 1)[0] or "vazio"
        raise LaunchError(
            f"Erro: `make cluster` exige PostgreSQL em DATABASE_URL (recebido: {shown}); várias réplicas não "
            "compartilham um SQLite. / Error: make cluster needs a PostgreSQL DATABASE_URL."
        )
    return url


def parse_redis_url(url: str) -> RedisTarget:
    """redis://[:password@]host[:port][/db] — the one line the user reads when it is missing or malformed."""
    if not url:
        raise LaunchError("Erro: REDIS_URL não definido (ex.: redis://127.0.0.1:6379/0); `make cluster` precisa do "
                          "Redis para as travas das conversas. / Error: REDIS_URL is not set.")
    parts = urlsplit(url)
    path = parts.path.lstrip("/") or "0"
    try:
        port = parts.port or 6379
    except ValueError:
        port = -1
    if parts.scheme != "redis" or not parts.hostname or port < 1 or not path.isdigit():
        raise LaunchError(f"Erro: REDIS_URL inválido ({parts.scheme}://...); use redis://[:senha@]host:porta/db. / "
                          "Error: invalid REDIS_URL (only redis:// is supported).")
    return RedisTarget(parts.hostname, port, int(path), unquote(parts.password or ""))


def cluster_environment(actions_port: int) -> dict[str, str]:
    """The launcher's child environment, with the Redis variables deploy/endpoints.cluster.yml reads."""
    env = launcher.child_environment(actions_port)
    require_postgresql(env)
    redis = parse_redis_url(env.get("REDIS_URL", ""))
    env.update(REDIS_HOST=redis.host, REDIS_PORT=str(redis.port), REDIS_DB=str(redis.db),
               REDIS_PASSWORD=redis.password)
    return env


def prepare_database(env: dict[str, str], python: str) -> None:
    """Migrate and seed like `make run` (Makefile `db`), and create the conversation tables once: replicas that
    start together would race to create them."""
    steps = (
        ([python, "-m", "backend", "db", "upgrade"], "migrar o banco / migrate the database"),
        ([python, "-m", "backend", "seed", "--if-empty"], "carregar os dados de demonstração / seed"),
        ([python, "-m", "bot.conversation_store"], "criar as tabelas de conversas / create the conversation tables"),
    )
    for command, what in steps:
        done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                              timeout=MIGRATE_TIMEOUT)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(sem mensagem)"])[-1]
            raise LaunchError(f"Erro: não foi possível {what}: {last}")


def server_lines(ports: tuple[int, ...]) -> str:
    return "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in ports)


def render_nginx(run_dir: Path, host: str, ports: Ports) -> Path:
    """deploy/nginx.conf.template with its placeholders filled, written to run_dir/nginx.conf."""
    values = {
        "RUN_DIR": str(run_dir),
        "LISTEN_HOST": host,
        "RASA_PORT": str(ports.rasa),
        "ACTIONS_PORT": str(ports.actions),
        "RASA_SERVERS": server_lines(ports.rasa_replicas),
        "ACTION_SERVERS": server_lines(ports.action_replicas),
        "USER_DIRECTIVE": "user root;" if os.geteuid() == 0 else "",
    }
    text = NGINX_TEMPLATE.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    if "{{" in text:
        raise LaunchError(
            "Erro: deploy/nginx.conf.template tem um marcador desconhecido. / Error: unknown placeholder.")
    config = run_dir / "nginx.conf"
    config.write_text(text, encoding="utf-8")
    return config


def nginx_command(config: Path) -> list[str]:
    if not Path(NGINX).is_file():
        raise LaunchError(f"Erro: nginx não encontrado em {NGINX} (instale: sudo apt-get install nginx). / "
                          "Error: nginx is missing.")
    run_dir = str(config.parent)
    return [NGINX, "-p", run_dir + "/", "-e", f"{run_dir}/error.log", "-c", str(config), "-g", "daemon off;"]


def check_nginx_config(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run([*command, "-t", "-q"], env=env, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[0]
        raise LaunchError(f"Erro: configuração do nginx recusada: {last} / Error: nginx refused its configuration.")


def allocate_ports(args: argparse.Namespace, rasa_replicas: int, action_replicas: int) -> Ports:
    return Ports(
        rasa=args.rasa_port, actions=args.actions_port, web=args.web_port,
        rasa_replicas=tuple(args.rasa_replica_port + i for i in range(rasa_replicas)),
        action_replicas=tuple(args.action_replica_port + i for i in range(action_replicas)),
    )


def action_services(python: str, env: dict[str, str], ports: Ports) -> list[Service]:
    actions_env = dict(env, SANIC_HOST="127.0.0.1")
    return [
        Service(
            label=f"o servidor de ações {n}", label_en=f"action server {n}",
            command=[python, "-m", "rasa", "run", "actions", "--port", str(port), "--actions", "actions"],
            env=actions_env,
            ready=functools.partial(http_ok, f"http://127.0.0.1:{port}/health"),
            url="", listens=(("127.0.0.1", port),),
        )
        for n, port in enumerate(ports.action_replicas, start=1)
    ]


def rasa_services(python: str, env: dict[str, str], ports: Ports, model: Path) -> list[Service]:
    rasa_env = dict(env, SANIC_REQUEST_MAX_SIZE=str(launcher.REQUEST_MAX_BYTES))
    token = env["RASA_API_TOKEN"]
    services = []
    for n, port in enumerate(ports.rasa_replicas, start=1):
        command = launcher.rasa_server_command(python, model, "127.0.0.1", port, env)
        command[command.index("--endpoints") + 1] = str(CLUSTER_ENDPOINTS)
        services.append(Service(
            label=f"o servidor Rasa {n}", label_en=f"Rasa replica {n}", command=command, env=rasa_env,
            ready=functools.partial(launcher.rasa_status_ok, f"http://127.0.0.1:{port}", token),
            url="", listens=(("127.0.0.1", port),),
        ))
    return services


def front_services(python: str, env: dict[str, str], ports: Ports, host: str, nginx: list[str]) -> list[Service]:
    shown = launcher._display_host(host)
    token = env["RASA_API_TOKEN"]
    return [
        Service(
            label="o nginx", label_en="nginx", command=nginx, env=env,
            ready=lambda: launcher.rasa_status_ok(f"http://127.0.0.1:{ports.rasa}", token),
            url=f"http://{shown}:{ports.rasa}/webhooks/rest/webhook",
            listens=((host, ports.rasa), ("127.0.0.1", ports.actions)),
        ),
        Service(
            label="a página da CSS", label_en="the web page",
            command=[python, "-m", "bot.web", "--host", host, "--port", str(ports.web),
                     "--rasa-port", str(ports.rasa)],
            env=env, ready=lambda: http_ok(f"http://127.0.0.1:{ports.web}/healthz"),
            url=f"http://{shown}:{ports.web}/", listens=((host, ports.web),),
        ),
        Service(
            label="as tarefas agendadas", label_en="the scheduled jobs",
            command=[python, "-m", "backend", "schedule"], env=env, ready=lambda: True, url="",
        ),
    ]


def build_cluster(args: argparse.Namespace, model: Path, run_dir: Path) -> list[Service]:
    """Every child of the cluster, in start order; checks the topology and prepares the database first."""
    env = cluster_environment(args.actions_port)
    rasa_replicas = replica_count(env, "RASA_REPLICAS")
    ports = allocate_ports(args, rasa_replicas, replica_count(env, "ACTION_REPLICAS"))
    launcher.check_topology(CLUSTER_ENDPOINTS, env, rasa_processes=rasa_replicas)
    python = sys.executable
    nginx = nginx_command(render_nginx(run_dir, args.host, ports))
    services = [*action_services(python, env, ports), *rasa_services(python, env, ports, model),
                *front_services(python, env, ports, args.host, nginx)]
    launcher.check_ports_free(services)
    check_nginx_config(nginx, env)
    prepare_database(env, python)
    launcher.say(f"nginx: configuração e registros em / configuration and logs in {run_dir}")
    return services


def nginx_run_dir() -> Path:
    """Pid, temp files and logs of nginx; readable by its workers when they run as another user."""
    run_dir = Path(tempfile.mkdtemp(prefix="assistente-nginx-"))
    run_dir.chmod(0o755)
    return run_dir


def run_cluster(args: argparse.Namespace) -> int:
    """Like bot.launcher.run, over the cluster's children; nginx's directory goes when everything stopped."""
    run_dir = nginx_run_dir()
    try:
        return launcher.run(args, lambda model: build_cluster(args, model, run_dir))
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
