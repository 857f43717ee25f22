"""Settings from the environment and from .env (the real environment wins)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import SettingsError
from bot.settings import DEFAULT_HOST, Settings, read_env


def test_env_file_fills_what_the_environment_does_not_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "# comment\nPORT=4100\nBOT_HOST=127.0.0.1\nSLACK_BOT_TOKEN='xoxb-from-file'\n"
        'BOT_ADMINS="U1,U2"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-environment")
    for name in ("PORT", "BOT_HOST", "BOT_ADMINS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert settings.port == 4100 and settings.host == "127.0.0.1"
    assert settings.slack_bot_token == "xoxb-from-environment"  # the real environment wins
    assert settings.admins == frozenset({"U1", "U2"})


def test_without_env_file_the_environment_alone_is_read(tmp_path: Path) -> None:
    env = read_env(tmp_path / "missing.env")
    assert "PATH" in env


def test_host_defaults_to_all_interfaces_for_containers() -> None:
    assert Settings.from_env({}).host == DEFAULT_HOST == "0.0.0.0"


def test_database_url_must_be_postgresql() -> None:
    url = "postgresql://bot:pw@db:5432/bot"
    assert Settings.from_env({"DATABASE_URL": url}).database_url == url
    assert Settings.from_env({}).database_url is None
    with pytest.raises(SettingsError, match="DATABASE_URL must be a PostgreSQL URL"):
        Settings.from_env({"DATABASE_URL": "mysql://x"})
