"""Engine and sessions. SQLite gets WAL, a busy timeout and write-locking transactions so that
concurrent writers (threads or processes) queue up instead of failing. PostgreSQL gets a connect timeout.
`check_database` turns an unreachable database or an unusable URL into one Portuguese line."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from backend.errors import DatabaseUnavailable

SQLITE_BUSY_TIMEOUT_S = 30
CONNECT_TIMEOUT_S = 10  # a server that does not answer (a dropped packet, a wrong address) is "down", not a hang
URL_EXAMPLE = "postgresql+psycopg2://usuario:senha@servidor:5432/banco ou sqlite:///var/assistente.db"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite URLs get the settings that make concurrent writes safe."""
    if not url.startswith("sqlite"):
        parsed = make_url(url)
        connect_args = {}
        if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
        return create_engine(url, future=True, pool_pre_ping=True, connect_args=connect_args)
    memory = url in ("sqlite://", "sqlite:///:memory:")
    if not memory:
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        future=True,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
        **({"poolclass": StaticPool} if memory else {}),
    )
    _make_sqlite_transactions_immediate(engine, wal=not memory)
    return engine


def _make_sqlite_transactions_immediate(engine: Engine, wal: bool) -> None:
    # pysqlite's own BEGIN handling is lazy and deferred: two writers that both read first
    # then write deadlock. Taking the write lock at BEGIN makes them queue (SQLAlchemy recipe).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Owns the engine and hands out transactional sessions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, future=True, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def create_all(self) -> None:
        """Create the schema straight from the models (tests); real databases use `db upgrade`."""
        from backend.models import Base

        Base.metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***, fit for messages and logs (also when it does not parse)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # unparsable: mask whatever sits between "user:" and "@"
        return re.sub(r"(://[^/@:]*:)[^@]*@", r"\1***@", url)


def check_database(url: str) -> None:
    """Connect once; DatabaseUnavailable (one Portuguese line, password masked) if the URL or the server fails."""
    shown = mask_url(url)
    try:
        engine = make_engine(url)
    except ImportError as error:
        raise DatabaseUnavailable(f"DATABASE_URL ({shown}) pede um driver que não está instalado ({error.name}); "
                                  f"use, por exemplo, {URL_EXAMPLE}.") from None
    except (ArgumentError, ValueError):
        raise DatabaseUnavailable(f"DATABASE_URL inválido ({shown}); use, por exemplo, {URL_EXAMPLE}.") from None
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except DBAPIError as error:
        raise DatabaseUnavailable(connection_failure(error, url)) from None
    finally:
        engine.dispose()


def is_connection_failure(error: BaseException) -> bool:
    """A DBAPI error raised while connecting (no statement), e.g. the server went down mid-command."""
    return isinstance(error, DBAPIError) and error.statement is None


def connection_failure(error: DBAPIError, url: str) -> str:
    """One line saying why the database at `url` could not be used, without the password."""
    text = str(error.orig).lower()
    reasons = (
        (("password authentication failed", "no password supplied", "role \"", "authentication failed"),
         "usuário ou senha recusados pelo servidor"),
        (("could not translate host name", "name or service not known", "name resolution", "nodename nor servname"),
         "servidor desconhecido (o nome do host não existe)"),
        (("connection refused", "no such file or directory", "timeout expired", "timed out", "could not connect",
          "server closed the connection", "network is unreachable", "no route to host"),
         "o servidor não responde (fora do ar, ou endereço/porta errados)"),
        (("database \"",), "o banco de dados não existe nesse servidor"),
        (("unable to open database file",), "o arquivo do banco não pôde ser aberto"),
    )
    reason = next((why for needles, why in reasons if any(n in text for n in needles)), None)
    if reason is None:  # unexpected: the driver's first line, with the password taken out just in case
        reason = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else type(error.orig).__name__
        password = _password(url)
        if password:
            reason = reason.replace(password, "***")
    return f"não foi possível conectar ao banco de dados {mask_url(url)}: {reason}. Verifique DATABASE_URL."


def _password(url: str) -> str | None:
    try:
        return make_url(url).password
    except Exception:
        return None
