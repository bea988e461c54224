"""The Alembic migrations build exactly the schema the models describe, on a fresh database (SQLite and
PostgreSQL: types, constraints and indexes are compared by each dialect's own inspector)."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from backend import migrate
from backend.db import make_engine
from backend.models import Base


@pytest.fixture
def empty_url(database: str, tmp_path, request) -> str:  # type: ignore[no-untyped-def]
    """A database with nothing in it, not even the schema."""
    if database == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create_database()
    yield url
    server.drop_database(url)


def test_upgrade_creates_every_table_and_matches_the_models(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    migrate.upgrade(empty_url)  # running it again is a no-op
    engine = make_engine(empty_url)
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        revision = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables and revision is not None
    assert diff == []
