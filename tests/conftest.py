"""Shared fixtures: a seeded service desk on SQLite and on a real PostgreSQL, and the demo personas.

Every test that uses `db` or `desk` runs twice, `[sqlite]` and `[postgresql]`, unless its module opts out with
`pytestmark = pytest.mark.databases("sqlite")` (and says why). PostgreSQL is a throw-away server started once per
session from Debian's binaries (tests/pgserver.py); if it cannot start, those tests fail loudly — never skip.
"""
from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING, Iterator

import pytest

from backend import migrate
from backend.db import Database
from backend.desk import ServiceDesk
from tests import pgserver

if TYPE_CHECKING:
    from tests.test_integration_conversations import Assistant

# Tests never read the developer's .env or database.
os.environ.setdefault("ASSISTENTE_SECRET", secrets.token_urlsafe(32))
TEST_SECRET = "test-secret-with-at-least-32-bytes-of-length"
BASE_URL = "http://css.test"
DATABASES = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "databases(*names): run the db/desk tests of a module only on these databases")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("databases")
        names = marker.args if marker else DATABASES
        metafunc.parametrize("database", [
            pytest.param(name, marks=[pytest.mark.postgresql] if name == "postgresql" else []) for name in names
        ], indirect=True)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:  # tests that ask for the server by name are PostgreSQL tests too (`-m postgresql`)
        if "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgresql)
    # `make servers` runs the server stages on two workers (--dist loadgroup): a module's tests stay together, in file
    # order, on one worker; the modules that talk to the session's launcher (`bot`) share one worker.
    servers = [item for item in items if item.get_closest_marker("integration") or item.get_closest_marker("browser")]
    with_bot = {item.path for item in servers if "bot" in getattr(item, "fixturenames", ())}
    for item in servers:
        item.add_marker(pytest.mark.xdist_group("bot" if item.path in with_bot else item.path.name))


@pytest.fixture
def database(request: pytest.FixtureRequest) -> str:
    """Which database engine this run of the test uses: 'sqlite' or 'postgresql'."""
    return request.param


@pytest.fixture(scope="session")
def postgres_server() -> pgserver.PostgresServer:
    """The session's PostgreSQL 15 server; a missing PostgreSQL fails every test that needs it, loudly."""
    try:
        server = pgserver.shared_server()
    except pgserver.PostgresUnavailable as error:
        problem = str(error)
    else:
        yield server
        pgserver.stop_shared_server()
        return
    pytest.fail(f"\n{'#' * 78}\n#  FALHA: PostgreSQL indisponível — FAILED: PostgreSQL unavailable\n#  {problem}\n"
                f"{'#' * 78}", pytrace=False)


def _seeded(url: str) -> None:
    migrate.upgrade(url)
    desk = ServiceDesk(Database(url), TEST_SECRET, BASE_URL)
    desk.seed()
    desk.db.dispose()


@pytest.fixture(scope="session")
def postgres_unit_database(postgres_server: pgserver.PostgresServer) -> pgserver.ReusableDatabase:
    """One migrated database reused by the unit tests, emptied or re-seeded before each one."""
    url = postgres_server.create_database()
    _seeded(url)
    reusable = pgserver.ReusableDatabase(postgres_server, url)
    reusable.snapshot()
    yield reusable
    reusable.close()


@pytest.fixture
def postgres_url(postgres_server: pgserver.PostgresServer) -> str:
    """A brand-new migrated (empty) PostgreSQL database of its own, for tests that open many connections."""
    url = postgres_server.create_database(postgres_server.template("template_migrated", migrate.upgrade))
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def db(request: pytest.FixtureRequest, database: str) -> Database:
    """An empty schema; when the test also uses `desk`, already holding the demo data (see `desk`)."""
    if database == "sqlite":
        database_ = Database("sqlite://")
        database_.create_all()
    else:
        reusable = request.getfixturevalue("postgres_unit_database")
        database_ = Database(reusable.reset(restore="desk" in request.fixturenames))
    yield database_
    database_.dispose()


@pytest.fixture
def desk(db: Database, database: str) -> ServiceDesk:
    service_desk = ServiceDesk(db, TEST_SECRET, BASE_URL)
    if database == "sqlite":
        service_desk.seed()  # PostgreSQL: `db` restored the snapshot taken right after the same seed()
    return service_desk


@pytest.fixture
def personas(desk: ServiceDesk) -> dict[str, int]:
    """Persona name -> contact id, from the demo data."""
    from backend.seed import PERSONAS

    ids = {}
    for persona, (_name, _email, cpf, cnpj, _profiles, _phone) in PERSONAS.items():
        token = desk.issue_token(cpf, cnpj)
        ids[persona] = desk.identify(token)["id"]
    return ids


@pytest.fixture(scope="session")
def bot(tmp_path_factory: pytest.TempPathFactory, postgres_server: pgserver.PostgresServer) -> Iterator[Assistant]:
    """The assistant (`python -m bot.launcher`, production mode, PostgreSQL) for the REST conversation modules,
    started once per session: conversations take their own senders and compare backend snapshots, so they share it."""
    from tests.test_integration_conversations import running_assistant

    with running_assistant(tmp_path_factory, postgres_server) as assistant:
        yield assistant
