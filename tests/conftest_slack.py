"""Fixtures for the Slack front end: a fake Slack on loopback, the bot served over real HTTP,
and a driver that signs requests the way Slack does. Imported by ``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_fakes import BOT_TOKEN, SIGNING_SECRET, FakeSlack, SlackDriver

from bot.engine import Engine
from bot.settings import Settings

SLACK_PAGES = {
    "phases/construction.md": """\
---
title: La construction
permalink: /approche/construction
kind: phase
aliases:
  - phase de construction
facts:
  duration: six mois à un an
sections:
  duree:
    aliases: [combien de temps, durée, how long]
---
La construction transforme l'idée validée en service utilisé par de vrais usagers.
EN: Construction turns the validated idea into a service used by real users.

## Durée {#duree}

La construction dure de six mois à un an, avec une équipe de 2 à 4 personnes & un coach.
EN: Construction lasts six months to a year, with a team of 2 to 4 people and a coach.
""",
    # A file whose text and title carry markup and mentions: they must reach Slack inert.
    "programmes/fast.md": """\
---
title: Le FAST <programme> & co
permalink: /fast
kind: programme
aliases:
  - fonds d'accélération
facts:
  contact: fast@beta.gouv.fr
sections:
  contact:
    aliases: [écrire, contacter, candidature fast]
---
Le FAST finance des startups d'État.
EN: The FAST funds startups d'État.

## Contact {#contact}

Pour le FAST, écrivez à fast@beta.gouv.fr (réponse sous <b>5 jours</b>), pas à @channel ni <!here>.
""",
}
# Questions the tiny knowledge answers, and one it declines.
Q_DURATION = "combien dure la construction ?"
Q_DURATION_EN = "how long is construction?"
Q_FAST_CONTACT = "à qui écrire pour le fast"
Q_OUT_OF_SCOPE = "quelle est la recette des crêpes ?"


@dataclass
class RecordingRecords:
    """The records contract (bot/records.py), remembered in memory."""

    votes: list[tuple[str, str | None, int]] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)

    def record_vote(self, question: str, source: str | None, vote: int) -> None:
        self.votes.append((question, source, vote))

    def record_unanswered(self, question: str) -> None:
        self.unanswered.append(question)


@dataclass
class BotServer:
    """The bot served over HTTP on loopback."""

    url: str
    app: Any  # bot.frontends.slack.app.BetaApp
    web_app: web.Application

    async def settle(self) -> None:
        """Wait for every reply started so far (Web API calls included)."""
        await self.app.tasks.drain(timeout=10)


@pytest.fixture
def slack_knowledge(tmp_path: Path) -> Path:
    root = tmp_path / "slack-knowledge"
    for rel, text in SLACK_PAGES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def slack_engine(slack_knowledge: Path, tmp_path: Path) -> Engine:
    return Engine.load(slack_knowledge, None, tmp_path / "data")


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def slack_settings(fake_slack: FakeSlack, tmp_path: Path) -> Settings:
    return Settings(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        port=0,
        data_dir=tmp_path / "data",
    )


@pytest.fixture
def slack_records() -> RecordingRecords:
    return RecordingRecords()


@pytest.fixture
def answer_workers() -> int:
    """Answer worker processes of the served bot: none by default (fast tests); tests of the
    worker path override it with ``@pytest.mark.parametrize("answer_workers", [1])``."""
    return 0


@pytest.fixture
async def bot_server(
    slack_settings: Settings,
    slack_engine: Engine,
    slack_records: RecordingRecords,
    answer_workers: int,
) -> AsyncIterator[BotServer]:
    from bot.frontends.slack.app import create_app
    from bot.frontends.slack.server import create_web_app

    slack_app = create_app(
        slack_settings, slack_engine, slack_records, answer_workers=answer_workers
    )
    web_app = create_web_app(slack_app, slack_engine)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield BotServer(f"http://127.0.0.1:{port}", slack_app, web_app)
    await runner.cleanup()


@pytest.fixture
async def slack(bot_server: BotServer) -> AsyncIterator[SlackDriver]:
    async with aiohttp.ClientSession() as session:
        yield SlackDriver(bot_server.url, session)
