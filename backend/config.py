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
DEFAULT_RETENTION_DAYS = 30
CONVERSATIONS_SQLITE_FILE = "conversas.db"  # beside the service desk's SQLite file
# Keys `make run` generates into .env on first run (never committed); a real environment variable wins.
GENERATED_SECRETS = ("ASSISTENTE_SECRET", "RASA_API_TOKEN")


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret: str
    environment: str
    smtp_host: str | None
    smtp_port: int
    smtp_from: str
    public_base_url: str
    rasa_api_token: str = ""
    cors_origins: tuple[str, ...] = ()
    retention_days: int = DEFAULT_RETENTION_DAYS

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def conversations_url(self) -> str:
        """Where Rasa keeps conversations: a SQLite file beside the desk's own SQLite file, else the same database
        (PostgreSQL in a cluster and in production)."""
        return conversations_url(self.database_url)


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
        rasa_api_token=os.environ.get("RASA_API_TOKEN", ""),
        cors_origins=parse_origins(os.environ.get("CORS_ORIGINS", "")),
        retention_days=_positive_int("CONVERSATION_RETENTION_DAYS", DEFAULT_RETENTION_DAYS),
    )


def parse_origins(text: str) -> tuple[str, ...]:
    """`CORS_ORIGINS`: comma-separated web origins (scheme://host[:port]); a wildcard is refused, not widened."""
    origins = tuple(origin.strip().rstrip("/") for origin in text.split(",") if origin.strip())
    for origin in origins:
        if "*" in origin or "://" not in origin:
            raise RuntimeError(
                f"CORS_ORIGINS inválido ({origin!r}): use origens completas como https://portal.exemplo.gov.br, "
                "separadas por vírgula; '*' não é aceito."
            )
    return origins


def conversations_url(database_url: str) -> str:
    prefix = "sqlite:///"
    if database_url.startswith(prefix) and ":memory:" not in database_url:
        return prefix + str(Path(database_url[len(prefix):]).parent / CONVERSATIONS_SQLITE_FILE)
    return database_url


def _positive_int(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise RuntimeError(f"{name} inválido ({text!r}): use um número inteiro de dias maior que zero.")
    return int(text)


def _absolute_sqlite(url: str) -> str:
    """Relative SQLite paths are relative to the project, whatever the working directory."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str(PROJECT_ROOT / url[len(prefix):])
    return url


def ensure_env_file(path: Path = ENV_FILE) -> bool:
    """Add to `.env` a fresh random value for each generated secret it lacks. Returns True if it wrote."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    present = {line.split("=", 1)[0] for line in text.splitlines() if "=" in line and not line.startswith("#")}
    missing = [key for key in GENERATED_SECRETS if key not in present]
    if not missing:
        return False
    if text and not text.endswith("\n"):
        text += "\n"
    text += "".join(f"{key}={secrets.token_urlsafe(32)}\n" for key in missing)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return True
