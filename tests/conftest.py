"""Shared fixtures: a seeded in-memory service desk and the demo personas."""
from __future__ import annotations

import os
import secrets

import pytest

from backend.db import Database
from backend.desk import ServiceDesk

# Tests never read the developer's .env or database.
os.environ.setdefault("ASSISTENTE_SECRET", secrets.token_urlsafe(32))
TEST_SECRET = "test-secret-with-at-least-32-bytes-of-length"
BASE_URL = "http://css.test"


@pytest.fixture
def db() -> Database:
    database = Database("sqlite://")
    database.create_all()
    yield database
    database.dispose()


@pytest.fixture
def desk(db: Database) -> ServiceDesk:
    service_desk = ServiceDesk(db, TEST_SECRET, BASE_URL)
    service_desk.seed()
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
