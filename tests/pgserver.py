"""A throw-away PostgreSQL 15 server for the tests, started from Debian's binaries (no pre-existing server).

One server per test session: `initdb` once into a temporary directory (password authentication, no fsync),
then `postgres` itself as our child process on a free loopback port — not daemonized by `pg_ctl`, so that it
dies with the test process however that ends (Ctrl-C, SIGTERM, even SIGKILL: a parent-death signal). Tests get
databases of their own (`CREATE DATABASE ... TEMPLATE ...`), or a reused one reset between tests
(`ReusableDatabase`, the unit suite's choice: cheaper). PostgreSQL refuses to run as root, so under root the
server runs as the `postgres` user (`runuser` for initdb, setuid for the server), in a directory owned by it.

Reuse from any suite:

    from tests import pgserver
    url = pgserver.fresh_database_url()          # empty database: postgresql+psycopg2://...
    pgserver.drop_database(url)                  # optional; everything goes when the server stops

or, in pytest, the `postgres_server` session fixture of tests/conftest.py (a `PostgresServer`).
A missing PostgreSQL raises `PostgresUnavailable` with an install hint: a loud failure, never a skip.
"""
from __future__ import annotations

import atexit
import ctypes
import itertools
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg2
from sqlalchemy.engine import make_url

PG_BIN = Path(os.environ.get("POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
USER = "assistente"
INSTALL_HINT = ("instale/install: sudo apt-get install postgresql  (Debian 12: PostgreSQL 15 em "
                "/usr/lib/postgresql/15/bin; outro diretório: POSTGRES_BIN=...)")
# Durability is worthless for a throw-away cluster; speed is not.
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_connections": "200",  # 50 processes at once, each with its own pool, plus the tests
    "log_min_messages": "warning",
    "timezone": "'UTC'",
}


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL binaries (or the user to run them as) are missing, or the server did not start."""


def _run_as() -> list[str]:
    """Prefix that runs a command as `postgres` when we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable(f"usuário 'postgres' não existe (rodando como root); {INSTALL_HINT}") from None
    return ["runuser", "-u", "postgres", "--"]


_PR_SET_PDEATHSIG = 1


def _as_postgres_dying_with_parent() -> None:  # runs in the child between fork and exec
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.setgroups([])
        os.setgid(owner.pw_gid)
        os.setuid(owner.pw_uid)
    # After the uid change (which clears it): SIGQUIT, PostgreSQL's immediate shutdown, when our thread dies.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGQUIT, 0, 0, 0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory, listening on 127.0.0.1:<port>."""

    def __init__(self) -> None:
        self.password = secrets.token_hex(16)
        self.port = 0
        self.base: Path | None = None
        self._admin = None  # psycopg2 connection (autocommit) for CREATE/DROP DATABASE
        self._lock = threading.Lock()
        self._names = itertools.count(1)
        self._templates: dict[str, str] = {}
        self._process: subprocess.Popen | None = None

    # --- life -------------------------------------------------------------------------------
    def start(self) -> "PostgresServer":
        # The parent-death signal follows the thread that starts the server: a worker thread ending would stop it.
        assert threading.current_thread() is threading.main_thread(), "start the PostgreSQL server from the main thread"
        for tool in ("initdb", "postgres"):
            if not os.access(PG_BIN / tool, os.X_OK):
                raise PostgresUnavailable(f"PostgreSQL não encontrado ({PG_BIN / tool}); {INSTALL_HINT}")
        prefix = _run_as()
        self.base = Path(tempfile.mkdtemp(prefix="assistente-pg-"))
        if prefix:
            owner = pwd.getpwnam("postgres")
            os.chown(self.base, owner.pw_uid, owner.pw_gid)
        os.chmod(self.base, 0o700)
        password_file = self.base / "password"
        password_file.write_text(self.password + "\n", encoding="utf-8")
        if prefix:
            os.chown(password_file, owner.pw_uid, owner.pw_gid)
        self._pg(prefix, "initdb", "-D", str(self.data), "-U", USER, f"--pwfile={password_file}",
                 "-A", "scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions")
        password_file.unlink()
        for attempt in range(3):  # a free port can be taken between the probe and the bind
            self.port = _free_port()
            options = {**SETTINGS, "port": str(self.port), "unix_socket_directories": f"'{self.base}'"}
            (self.data / "postgresql.auto.conf").write_text(
                "".join(f"{key} = {value}\n" for key, value in options.items()), encoding="utf-8")
            if self._launch():
                break
            if attempt == 2:
                raise PostgresUnavailable(f"postgres não subiu/did not start: {self._log_tail()}")
        self._admin = psycopg2.connect(self.dsn("postgres"))
        self._admin.autocommit = True
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        """Stop the server and delete its directory; safe to call twice."""
        if self.base is None:
            return
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGQUIT)  # immediate shutdown: nothing here is worth keeping
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        shutil.rmtree(self.base, ignore_errors=True)
        self.base = None

    @property
    def data(self) -> Path:
        assert self.base is not None, "server not started"
        return self.base / "data"

    def _launch(self) -> bool:
        """Run `postgres` as our child (as `postgres` under root). It gets SIGQUIT if this process dies in any
        way (Ctrl-C, SIGTERM, SIGKILL): no server outlives its test session. True once it accepts connections."""
        with open(self.base / "server.log", "ab") as log:
            self._process = subprocess.Popen(
                [str(PG_BIN / "postgres"), "-D", str(self.data)], cwd=self.base, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=log, preexec_fn=_as_postgres_dying_with_parent,
                start_new_session=True)  # a Ctrl-C in the terminal reaches pytest, which stops the server in order
        for _ in range(600):
            if self._process.poll() is not None:
                return False
            try:
                psycopg2.connect(self.dsn("postgres"), connect_timeout=2).close()
                return True
            except psycopg2.OperationalError:
                time.sleep(0.05)
        self._process.kill()
        return False

    def _log_tail(self) -> str:
        log = self.base / "server.log" if self.base else None
        return log.read_text(errors="replace")[-2000:] if log and log.exists() else ""

    def _pg(self, prefix: list[str], tool: str, *args: str) -> None:
        done = subprocess.run([*prefix, str(PG_BIN / tool), *args], capture_output=True, text=True, timeout=120,
                              cwd=self.base)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{tool} falhou/failed ({done.returncode}): {done.stderr.strip()}")

    # --- databases --------------------------------------------------------------------------
    def dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={USER} password={self.password} dbname={database}"

    def url(self, database: str) -> str:
        """SQLAlchemy URL of one database of this server."""
        return f"postgresql+psycopg2://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, template: str | None = None) -> str:
        """A new database (empty, or a copy of `template`); returns its URL."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        self._execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def drop_database(self, url_or_name: str) -> None:
        """Drop a database, closing any connection still open to it."""
        name = make_url(url_or_name).database if "://" in url_or_name else url_or_name
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def refuse_connections(self, url: str, refused: bool) -> None:
        """An outage of one database: new connections refused and open ones cut (or service back)."""
        name = make_url(url).database
        self._execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {"false" if refused else "true"}')
        if refused:
            self._execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")

    def template(self, name: str, build: Callable[[str], None]) -> str:
        """A template database built once by `build(url)` (e.g. migrations); returns its name.

        `build` must close its connections (dispose its engine): PostgreSQL copies only an unused template.
        """
        with self._lock:
            if name not in self._templates:
                self._execute(f'CREATE DATABASE "{name}"', locked=True)
                build(self.url(name))
                self._execute(f"ALTER DATABASE \"{name}\" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false",
                              locked=True)
                self._templates[name] = name
        return name

    def _execute(self, sql: str, locked: bool = False) -> None:
        if self._admin is None:
            raise PostgresUnavailable("servidor PostgreSQL de teste não está rodando")
        if locked:
            with self._admin.cursor() as cursor:
                cursor.execute(sql)
            return
        with self._lock, self._admin.cursor() as cursor:
            cursor.execute(sql)


_shared: PostgresServer | None = None
_shared_lock = threading.Lock()


def _remove_stale_directories() -> None:
    """Directories of sessions killed outright (the server died with them, the directory stayed)."""
    for base in Path(tempfile.gettempdir()).glob("assistente-pg-*"):
        try:
            if time.time() - base.stat().st_mtime < 600:
                continue  # maybe another session's server being set up right now
            pid = int((base / "data" / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 0)
            continue  # alive: another session's server
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            shutil.rmtree(base, ignore_errors=True)
        except OSError:
            continue


def _stop_on_sigterm() -> None:
    """SIGTERM (e.g. a CI timeout) cleans up like Ctrl-C does, then terminates as SIGTERM would have."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def handler(signum, _frame):  # type: ignore[no-untyped-def]
        stop_shared_server()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    signal.signal(signal.SIGTERM, handler)


def shared_server() -> PostgresServer:
    """This process's server, started on first use and stopped at exit (or by `stop_shared_server`)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _remove_stale_directories()
            _stop_on_sigterm()
            server = PostgresServer()
            try:
                server.start()
            except BaseException:
                server.stop()
                raise
            _shared = server
        return _shared


def stop_shared_server() -> None:
    global _shared
    with _shared_lock:
        if _shared is not None:
            _shared.stop()
            _shared = None


class ReusableDatabase:
    """One database reused test after test: `reset()` empties it, or brings back a recorded state, in one round
    trip (DELETE + INSERT from a snapshot schema + sequences): about 2 ms, against 40 ms and more for a new
    database per test (and its DROP's checkpoint)."""

    def __init__(self, server: PostgresServer, url: str) -> None:
        self.server, self.url = server, url
        self._connection = psycopg2.connect(server.dsn(make_url(url).database))
        self._empty_sql = self._restore_sql = ""

    def snapshot(self) -> None:
        """Record the current content (schema `snapshot`); `reset(restore=True)` brings it back."""
        with self._connection, self._connection.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
            tables = [name for (name,) in cursor.fetchall()]
            cursor.execute("SELECT table_name, column_name FROM information_schema.columns "
                           "WHERE table_schema = 'public' AND column_default LIKE 'nextval(%'")
            serials = cursor.fetchall()
            cursor.execute("DROP SCHEMA IF EXISTS snapshot CASCADE; CREATE SCHEMA snapshot;" + "".join(
                f'CREATE TABLE snapshot."{t}" AS TABLE public."{t}";' for t in tables))
            filled = []
            for table in tables:
                cursor.execute(f'SELECT EXISTS (SELECT 1 FROM snapshot."{table}")')
                if cursor.fetchone()[0]:
                    filled.append(table)
        # DELETE, not TRUNCATE: on tables this small it is some 30 times faster (TRUNCATE swaps every file).
        # The replica role switches the foreign-key triggers off, so the order of the tables does not matter.
        empty = ("SET LOCAL lock_timeout = '10s';"  # a test that left a transaction open fails, not hangs
                 "SET LOCAL session_replication_role = replica;" + "".join(f'DELETE FROM public."{t}";' for t in tables))
        sequences = "".join(
            f"SELECT setval(pg_get_serial_sequence('public.\"{t}\"', '{c}'), "
            f'COALESCE((SELECT max("{c}") FROM public."{t}"), 0) + 1, false);' for t, c in serials)
        self._empty_sql = empty + sequences
        self._restore_sql = empty + "".join(
            f'INSERT INTO public."{t}" SELECT * FROM snapshot."{t}";' for t in filled) + sequences

    def reset(self, restore: bool) -> str:
        """Empty every table (restore=False) or bring back the snapshot (restore=True); returns the URL."""
        assert self._empty_sql, "snapshot() first"
        with self._connection, self._connection.cursor() as cursor:
            cursor.execute(self._restore_sql if restore else self._empty_sql)
        return self.url

    def close(self) -> None:
        self._connection.close()


def fresh_database_url(template: str | None = None) -> str:
    """URL of a brand-new database on the shared server (empty unless a template name is given)."""
    return shared_server().create_database(template)


def drop_database(url: str) -> None:
    shared_server().drop_database(url)
