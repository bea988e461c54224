"""Settings: a real environment variable wins over .env; the dev secret is generated once."""
from __future__ import annotations

import pytest

from backend import config


def test_env_file_gets_a_secret_once(tmp_path) -> None:
    env = tmp_path / ".env"
    env.write_text("DATABASE_URL=sqlite:///var/x.db", encoding="utf-8")
    assert config.ensure_env_file(env) is True
    first = env.read_text(encoding="utf-8")
    assert config.ensure_env_file(env) is False
    assert env.read_text(encoding="utf-8") == first
    secret = [line for line in first.splitlines() if line.startswith("ASSISTENTE_SECRET=")][0].split("=", 1)[1]
    assert len(secret) >= 32 and first.startswith("DATABASE_URL=sqlite:///var/x.db\n")


def test_real_environment_wins_over_env_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / ".env"
    env.write_text("ASSISTENTE_SECRET=from-file\nPUBLIC_BASE_URL=http://file.example\n", encoding="utf-8")
    monkeypatch.setattr(config, "ENV_FILE", env)
    monkeypatch.setenv("ASSISTENTE_SECRET", "from-environment")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SMTP_HOST", raising=False)
    settings = config.load_settings()
    assert settings.secret == "from-environment"
    assert settings.public_base_url == "http://file.example"
    assert settings.database_url == f"sqlite:///{config.PROJECT_ROOT / 'var/assistente.db'}"
    assert settings.smtp_host is None


def test_missing_secret_is_a_clear_error(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "ENV_FILE", tmp_path / "absent.env")
    monkeypatch.delenv("ASSISTENTE_SECRET", raising=False)
    with pytest.raises(RuntimeError, match="ASSISTENTE_SECRET"):
        config.load_settings()


def test_production_is_the_default_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(config, "ENV_FILE", tmp_path / "absent.env")
    monkeypatch.setenv("ASSISTENTE_SECRET", "x" * 32)
    monkeypatch.delenv("ASSISTENTE_ENV", raising=False)
    assert config.load_settings().is_development is False
    monkeypatch.setenv("ASSISTENTE_ENV", "development")
    assert config.load_settings().is_development is True
