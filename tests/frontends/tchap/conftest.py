"""Fixtures for the Tchap front end: a real Synapse on loopback (session-scoped), its users, and
``python -m bot tchap`` running against it as a real process.

Skipped, saying why, where matrix-synapse (the test extra) is not installed; in CI (``CI`` set)
a missing or broken homeserver fails loudly instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from matrix_homeserver import Synapse, start_synapse, synapse_installed
from paths import PROJECT

BOT_NAME = "beta-bot"
READY = "listening"
START_WAIT = 120.0


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    if not synapse_installed():
        message = (
            "matrix-synapse is not installed: the Tchap tests need a real homeserver "
            "(pip install -e '.[test]')"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = start_synapse(tmp_path_factory.mktemp("synapse"))
    try:
        for name in (BOT_NAME, "alice", "bob"):
            server.register(name)
        server.register("admin", admin=True)
        yield server
    finally:
        server.stop()


class BotProcess:
    """``python -m bot tchap`` against the test homeserver, its log in a file."""

    def __init__(self, server: Synapse, data_dir: Path, user: str = BOT_NAME) -> None:
        self.server = server
        self.data_dir = data_dir
        self.user_id = server.user_id(user)
        self.log = data_dir / "bot.log"
        self.process: subprocess.Popen[bytes] | None = None
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "SLACK_", "TCHAP_"))
        }
        env.update(
            BOT_DATA_DIR=str(data_dir),
            BOT_REFRESH_HOURS="0",
            TCHAP_HOMESERVER=server.url,
            TCHAP_USER=self.user_id,
            TCHAP_PASSWORD=server.users[self.user_id],
            PYTHONIOENCODING="utf-8",
        )
        env.pop("PYTHONPATH", None)
        self.env = env

    def start(self) -> None:
        data_dir = self.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "tchap"],
                cwd=PROJECT,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + START_WAIT
        while time.monotonic() < deadline:
            text = self.log.read_text(encoding="utf-8", errors="replace")[offset:]
            if READY in text:
                return
            if self.process.poll() is not None:
                raise AssertionError(f"python -m bot tchap exited:\n{text[-3000:]}")
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"python -m bot tchap did not start:\n{self.output()[-3000:]}")

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        return code

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def report(self) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "bot", "report", "--since", "1d"],
            cwd=PROJECT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout


@pytest.fixture(scope="module")
def tchap_bot(synapse: Synapse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    bot = BotProcess(synapse, tmp_path_factory.mktemp("tchap-bot-data"))
    bot.start()
    try:
        yield bot
    finally:
        bot.stop()
