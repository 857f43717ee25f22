"""Settings, read once from the environment into a frozen object.

Errors name the variable and say how to fix it. Nothing here reads the environment
at import time: call :meth:`Settings.from_env`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import SettingsError

_MXID = re.compile(r"^@[^:\s]+:[^\s]+$")
DEFAULT_BETA_API_URL = "https://beta.gouv.fr/api/v2.6"
DEFAULT_PORT = 3000
DEFAULT_HOST = "0.0.0.0"  # containers (Scalingo, Docker) route to the process from outside
ENV_FILE = ".env"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"


def default_data_dir(env: Mapping[str, str]) -> Path:
    """A per-user data folder (XDG on Linux), used when BOT_DATA_DIR is not set."""
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "betagouv-bot"


def read_env(env_file: Path | None = None) -> dict[str, str]:
    """The process environment over ``.env`` (in the current folder) when there is one: the real
    environment wins, ``.env`` only fills what is unset (Scalingo sets the real one)."""
    path = Path(ENV_FILE) if env_file is None else env_file
    values: dict[str, str] = {}
    if path.is_file():
        from dotenv import dotenv_values

        try:
            values = {k: v for k, v in dotenv_values(path).items() if v is not None}
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"cannot read {path}: {exc}") from None
    values.update(os.environ)
    return values


def _database_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("DATABASE_URL", "").strip()
    if not raw:
        return None
    if not raw.startswith(("postgres://", "postgresql://")):
        raise SettingsError(
            "DATABASE_URL must be a PostgreSQL URL (postgresql://user:password@host:port/db), "
            f"got one starting with {raw.split(':', 1)[0]!r}"
        )
    return raw


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _url(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must be an http(s) URL, got {raw!r}")
    return raw.rstrip("/")


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str | None = None
    port: int = DEFAULT_PORT
    beta_api_url: str = DEFAULT_BETA_API_URL
    data_dir: Path = field(default_factory=lambda: default_data_dir(os.environ))
    knowledge_dir: Path = DEFAULT_KNOWLEDGE_DIR
    site_path: Path | None = None
    admin_channel: str | None = None
    admins: frozenset[str] = frozenset()
    refresh_hours: float = 6.0
    retention_days: int = 90
    host: str = DEFAULT_HOST
    database_url: str | None = None
    tchap_homeserver: str | None = None
    tchap_user: str | None = None
    tchap_password: str | None = None
    tchap_access_token: str | None = None
    tchap_allowed_servers: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = read_env() if env is None else env
        data_dir = env.get("BOT_DATA_DIR", "").strip()
        knowledge = env.get("BOT_KNOWLEDGE_DIR", "").strip()
        site = env.get("BOT_SITE_PATH", "").strip()
        refresh_raw = env.get("BOT_REFRESH_HOURS", "").strip()
        try:
            refresh = float(refresh_raw) if refresh_raw else 6.0
        except ValueError:
            raise SettingsError(
                f"BOT_REFRESH_HOURS must be a number of hours, got {refresh_raw!r}"
            ) from None
        if refresh < 0:
            raise SettingsError("BOT_REFRESH_HOURS must be 0 (off) or more")
        admins = frozenset(a.strip() for a in env.get("BOT_ADMINS", "").split(",") if a.strip())
        return cls(
            slack_bot_token=env.get("SLACK_BOT_TOKEN", "").strip() or None,
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET", "").strip() or None,
            slack_app_token=env.get("SLACK_APP_TOKEN", "").strip() or None,
            slack_api_url=_url(env, "SLACK_API_URL", None),
            port=_int(env, "PORT", DEFAULT_PORT, 1, 65535),
            beta_api_url=_url(env, "BETA_API_URL", DEFAULT_BETA_API_URL) or DEFAULT_BETA_API_URL,
            data_dir=Path(data_dir) if data_dir else default_data_dir(env),
            knowledge_dir=Path(knowledge) if knowledge else DEFAULT_KNOWLEDGE_DIR,
            site_path=Path(site) if site else None,
            admin_channel=env.get("BOT_ADMIN_CHANNEL", "").strip() or None,
            admins=admins,
            refresh_hours=refresh,
            retention_days=_int(env, "BOT_RETENTION_DAYS", 90, 1, 3650),
            host=env.get("BOT_HOST", "").strip() or DEFAULT_HOST,
            database_url=_database_url(env),
            tchap_homeserver=_url(env, "TCHAP_HOMESERVER", None),
            tchap_user=env.get("TCHAP_USER", "").strip() or None,
            tchap_password=env.get("TCHAP_PASSWORD", "") or None,
            tchap_access_token=env.get("TCHAP_ACCESS_TOKEN", "").strip() or None,
            tchap_allowed_servers=frozenset(
                s.strip().lower()
                for s in env.get("TCHAP_ALLOWED_SERVERS", "").split(",")
                if s.strip()
            ),
        )

    def require_slack(self) -> None:
        """Raise SettingsError naming the first Slack variable ``serve`` needs and lacks."""
        if not self.slack_bot_token:
            raise SettingsError(
                "SLACK_BOT_TOKEN is not set: copy the bot token (xoxb-...) of your Slack app"
            )
        if not self.slack_bot_token.startswith("xoxb-"):
            raise SettingsError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
        if self.slack_app_token:
            if not self.slack_app_token.startswith("xapp-"):
                raise SettingsError(
                    "SLACK_APP_TOKEN must be an app-level token starting with xapp-"
                )
        elif not self.slack_signing_secret:
            raise SettingsError(
                "SLACK_SIGNING_SECRET is not set: copy the signing secret of your Slack app "
                "(or set SLACK_APP_TOKEN for Socket Mode)"
            )

    def require_tchap(self) -> None:
        """Raise SettingsError naming the first Tchap variable ``tchap`` needs and lacks."""
        if not self.tchap_homeserver:
            raise SettingsError(
                "TCHAP_HOMESERVER is not set: the URL of the bot's homeserver, "
                "e.g. https://matrix.agent.dinum.tchap.gouv.fr"
            )
        if not self.tchap_user:
            raise SettingsError(
                "TCHAP_USER is not set: the bot's full Matrix id, e.g. @bot-beta:agent.dinum.tchap.gouv.fr"
            )
        if not _MXID.match(self.tchap_user):
            raise SettingsError(
                f"TCHAP_USER must be a full Matrix id such as @bot:example.org, got {self.tchap_user!r}"
            )
        if not (self.tchap_password or self.tchap_access_token):
            raise SettingsError(
                "TCHAP_PASSWORD is not set (nor TCHAP_ACCESS_TOKEN): give the bot account's password "
                "or an access token"
            )
