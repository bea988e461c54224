"""Settings read from the environment, with `.env` as a fallback (a real variable wins)."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = PROJECT_ROOT / ".env"
DEFAULT_DATABASE_URL = "sqlite:///var/assistente.db"
DEFAULT_PUBLIC_BASE_URL = "http://localhost:8000"


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret: str
    environment: str
    smtp_host: str | None
    smtp_port: int
    smtp_from: str
    public_base_url: str

    @property
    def is_development(self) -> bool:
        return self.environment == "development"


def load_settings() -> Settings:
    """Read the settings; `.env` never overrides a variable already set."""
    load_dotenv(ENV_FILE, override=False)
    secret = os.environ.get("ASSISTENTE_SECRET", "")
    if not secret:
        raise RuntimeError(
            "ASSISTENTE_SECRET não definido: rode `python -m backend init-env` ou defina a variável."
        )
    return Settings(
        database_url=_absolute_sqlite(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL),
        secret=secret,
        environment=os.environ.get("ASSISTENTE_ENV", "production"),
        smtp_host=os.environ.get("SMTP_HOST") or None,
        smtp_port=int(os.environ.get("SMTP_PORT") or 25),
        smtp_from=os.environ.get("SMTP_FROM") or "Assistente Serpro <nao-responda@serpro.gov.br>",
        public_base_url=(os.environ.get("PUBLIC_BASE_URL") or DEFAULT_PUBLIC_BASE_URL).rstrip("/"),
    )


def _absolute_sqlite(url: str) -> str:
    """Relative SQLite paths are relative to the project, whatever the working directory."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str(PROJECT_ROOT / url[len(prefix):])
    return url


def ensure_env_file(path: Path = ENV_FILE) -> bool:
    """Create `.env` with a fresh development secret if it has none. Returns True if it wrote."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if any(line.startswith("ASSISTENTE_SECRET=") for line in text.splitlines()):
        return False
    if text and not text.endswith("\n"):
        text += "\n"
    text += f"ASSISTENTE_SECRET={secrets.token_urlsafe(32)}\n"
    path.write_text(text, encoding="utf-8")
    return True
