"""``python -m bot tchap`` as a real process against the test homeserver (tests and bench)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from matrix_homeserver import Synapse

PROJECT = Path(__file__).resolve().parents[3]
BOT_NAME = "beta-bot"
READY = "listening"
START_WAIT = 120.0


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
