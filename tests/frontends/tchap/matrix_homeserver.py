"""A real Synapse homeserver on loopback, for the Tchap tests and bench/tchap_load.py.

:func:`start_synapse` writes a config in a folder (a free port, a registration shared secret,
relaxed rate limits, no federation, SQLite), generates the signing key, starts
``python -m synapse.app.homeserver`` and waits for it to answer. Users are registered with
Synapse's own ``register_new_matrix_user``. :meth:`Synapse.restart` stops and starts it again on
the same port and database.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SERVER_NAME = "localhost"
START_TIMEOUT = 90.0
FAST = {"per_second": 10000, "burst_count": 10000}

LOG_CONFIG = """\
version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(message)s'
handlers:
  file:
    class: logging.FileHandler
    formatter: precise
    filename: {log}
root:
  level: WARNING
  handlers: [file]
disable_existing_loggers: false
"""


def synapse_installed() -> bool:
    try:
        import synapse  # noqa: F401
    except ImportError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(folder: Path, port: int, secret: str) -> dict[str, Any]:
    return {
        "server_name": SERVER_NAME,
        "pid_file": str(folder / "homeserver.pid"),
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(folder / "homeserver.db")}},
        "log_config": str(folder / "log.config"),
        "media_store_path": str(folder / "media"),
        "registration_shared_secret": secret,
        "report_stats": False,
        "macaroon_secret_key": secrets.token_hex(16),
        "form_secret": secrets.token_hex(16),
        "signing_key_path": str(folder / "signing.key"),
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "enable_metrics": False,
        "url_preview_enabled": False,
        "presence": {"enabled": False},
        "rc_message": FAST,
        "rc_registration": FAST,
        "rc_login": {"address": FAST, "account": FAST, "failed_attempts": FAST},
        "rc_joins": {"local": FAST, "remote": FAST},
        "rc_joins_per_room": FAST,
        "rc_invites": {"per_room": FAST, "per_user": FAST, "per_issuer": FAST},
        "rc_key_requests": FAST,
        "rc_room_creation": FAST,
        "rc_profile": FAST,
        "rc_3pid_validation": FAST,
        "rc_admin_redaction": FAST,
    }


@dataclass
class Synapse:
    folder: Path
    port: int
    secret: str
    process: subprocess.Popen[bytes] | None = None
    users: dict[str, str] = field(default_factory=dict)  # user id -> password

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.folder / "homeserver.yaml"

    def user_id(self, name: str) -> str:
        return f"@{name}:{SERVER_NAME}"

    def start(self) -> None:
        log = (self.folder / "stderr.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
            cwd=self.folder,
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"Synapse exited with {self.process.returncode}; see {self.folder}/stderr.log "
                    f"and homeserver.log:\n{self.tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Synapse did not answer within {START_TIMEOUT:.0f} s:\n{self.tail()}")

    def tail(self) -> str:
        out = []
        for name in ("stderr.log", "homeserver.log"):
            path = self.folder / name
            if path.exists():
                out.append(path.read_text(errors="replace")[-3000:])
        return "\n".join(out)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def register(self, name: str, *, admin: bool = False) -> tuple[str, str]:
        """Register ``@name:localhost`` with register_new_matrix_user; (user id, password)."""
        password = "pw" + secrets.token_hex(8)  # never starts with "-" (an option)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "synapse._scripts.register_new_matrix_user",
                "-u",
                name,
                "-p",
                password,
                "-a" if admin else "--no-admin",
                "-c",
                str(self.config_path),
                self.url,
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        user_id = self.user_id(name)
        self.users[user_id] = password
        return user_id, password

    def request(
        self, method: str, path: str, token: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """One client-server or admin API call (for tests' set-up)."""
        req = urllib.request.Request(
            self.url + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            data = resp.read()
        return json.loads(data) if data else {}

    def login(self, user_id: str) -> str:
        req = urllib.request.Request(
            self.url + "/_matrix/client/v3/login",
            data=json.dumps(
                {
                    "type": "m.login.password",
                    "identifier": {"type": "m.id.user", "user": user_id},
                    "password": self.users[user_id],
                }
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return str(json.loads(resp.read())["access_token"])


def start_synapse(folder: Path) -> Synapse:
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = Synapse(folder, port, secrets.token_hex(24))
    (folder / "log.config").write_text(LOG_CONFIG.format(log=folder / "homeserver.log"))
    server.config_path.write_text(json.dumps(config(folder, port, server.secret), indent=1))
    env = dict(os.environ)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "synapse.app.homeserver",
            "-c",
            str(server.config_path),
            "--generate-keys",
        ],
        check=True,
        capture_output=True,
        cwd=folder,
        env=env,
        timeout=120,
    )
    server.start()
    return server
