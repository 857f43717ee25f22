"""Fixtures for the Tchap front end: a real Synapse on loopback (session-scoped), its users, and
``python -m bot tchap`` running against it as a real process.

Skipped, saying why, where matrix-synapse (the test extra) is not installed; in CI (``CI`` set)
a missing or broken homeserver fails loudly instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from bot_process import BOT_NAME, BotProcess
from matrix_homeserver import Synapse, start_synapse, synapse_installed


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


@pytest.fixture(scope="module")
def tchap_bot(synapse: Synapse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    bot = BotProcess(synapse, tmp_path_factory.mktemp("tchap-bot-data"))
    bot.start()
    try:
        yield bot
    finally:
        bot.stop()
