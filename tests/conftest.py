"""Shared fixtures: the project's paths, the shared corpus (skipped when absent), a tiny
knowledge folder, an engine over the project's knowledge, and a runner for ``python -m bot``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
PYTHON = PROJECT / ".venv" / "bin" / "python"

TINY_PAGES = {
    "phases/investigation.md": """\
---
title: L'investigation
permalink: /approche/investigation
kind: phase
aliases:
  - investig
  - discovery phase
facts:
  duration: 9 semaines
sections:
  qui:
    aliases: [combien de temps, how long]
---
L'investigation est la première étape : un agent public explore un problème pendant 9 semaines.
EN: The investigation is the first stage: a public servant explores a problem for 9 weeks.

## Qui est impliqué {#qui}

Un intrapreneur et son coach, pendant 9 semaines en général.
EN: An intrapreneur and a coach, usually for 9 weeks.
""",
    "general/contact.md": """\
---
title: Nous contacter
permalink: /contact/
kind: contact
aliases:
  - nous contacter
facts:
  contact: contact@beta.gouv.fr
---
Pour joindre l'équipe, écrire à contact@beta.gouv.fr.
""",
}


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT


@pytest.fixture(scope="session")
def knowledge_dir() -> Path:
    return PROJECT / "knowledge"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (seeds, corpus, eval); the test is skipped when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"shared folder absent: {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def corpus_dir(shared_dir: Path) -> Path:
    """The snapshot of the site's source, or skip."""
    site = shared_dir / "corpus" / "beta.gouv.fr"
    if not (site / "_pages").is_dir():
        pytest.skip(f"site corpus absent: {site}")
    return site


def _write_pages(root: Path, pages: dict[str, str]) -> Path:
    for rel, text in pages.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def write_pages() -> Callable[[Path, dict[str, str]], Path]:
    """Write {relative path: text} files under a folder; returns the folder."""
    return _write_pages


@pytest.fixture
def tiny_knowledge(tmp_path: Path) -> Path:
    """A small valid knowledge folder: an investigation page and a contact page."""
    return _write_pages(tmp_path / "knowledge", TINY_PAGES)


@pytest.fixture(scope="session")
def engine(knowledge_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One engine over the project's own knowledge (no site), shared by the session."""
    from bot.engine import Engine

    return Engine.load(knowledge_dir, None, tmp_path_factory.mktemp("engine-data"))


@pytest.fixture(scope="session")
def site_engine(knowledge_dir: Path, corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One engine over our knowledge and the site's snapshot (skipped without ../shared)."""
    from bot.engine import Engine

    return Engine.load(knowledge_dir, corpus_dir, tmp_path_factory.mktemp("site-engine-data"))


@pytest.fixture(scope="session")
def bot_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment for ``python -m bot``: no Slack or bot settings leaking in, a
    private data folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "SLACK_"))}
    env["BOT_DATA_DIR"] = str(tmp_path_factory.mktemp("bot-data"))
    # never the real API from the tests: a port nobody listens on (the console's first
    # fetch of the registry fails at once and says how to get it later)
    env["BETA_API_URL"] = "http://127.0.0.1:9/api/v2.6"
    env["PYTHONIOENCODING"] = "utf-8"
    env.pop("PYTHONPATH", None)
    return env


@pytest.fixture(scope="session")
def run_bot(bot_env: dict[str, str]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m bot ARGS`` from the project root, optionally with standard input."""
    python = str(PYTHON) if PYTHON.exists() else sys.executable

    def run(
        *args: str, stdin: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [python, "-m", "bot", *args],
            cwd=PROJECT,
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=bot_env,
            timeout=timeout,
        )

    return run


# Slack front end (issue 3): fake Slack, the bot over HTTP, signed requests.
from conftest_slack import *  # noqa: E402, F403


# A registry without ../shared (issue 10): the small registry committed under tests/fixtures/api,
# served by api_fakes.ApiServer and synced as `python -m bot sync` does, then an engine over
# knowledge/ plus that copy, as `python -m bot ask` runs after a sync.
@pytest.fixture(scope="session")
def fixture_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding the committed fixture registry, synced from a local API."""
    from api_fakes import fixture_documents, sync_documents

    data_dir = tmp_path_factory.mktemp("fixture-registry")
    sync_documents(fixture_documents(), data_dir)
    return data_dir


@pytest.fixture(scope="session")
def fixture_engine(knowledge_dir: Path, fixture_data_dir: Path):  # type: ignore[no-untyped-def]
    """One engine over our knowledge and the synced fixture registry (no ../shared needed)."""
    from bot.engine import Engine

    return Engine.load(knowledge_dir, None, fixture_data_dir)


# A real PostgreSQL server (session-scoped) and a fresh database per test: tests/pgserver.py.
from pgserver import postgres_server, postgres_url  # noqa: E402, F401
