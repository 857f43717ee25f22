"""Production on one PostgreSQL (``DATABASE_URL``): two real ``python -m bot serve`` processes,
as Scalingo runs them, share the records, the dedupe of Slack's retries and nothing else.

- a retry delivered to the other process gets no second reply;
- no SQLite file is written;
- 40 questions answered, then ``kill -9``: all 40 are in the database; votes likewise;
- ``/metrics`` serves the counters.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import psycopg
import pytest
from conftest_slack import Q_DURATION, Q_OUT_OF_SCOPE
from paths import PROJECT
from slack_fakes import BOT_TOKEN, SIGNING_SECRET, FakeSlack, SlackDriver, buttons, mention

START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    data_dir: Path
    log: Path

    def kill9(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


async def _serve(
    tmp_path: Path, name: str, database_url: str, knowledge: Path, fake: FakeSlack
) -> Served:
    port = _free_port()
    data_dir = tmp_path / f"data-{name}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "SLACK_"))}
    env.update(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "PORT": str(port),
            "BOT_HOST": "127.0.0.1",
            "BOT_DATA_DIR": str(data_dir),
            "BOT_KNOWLEDGE_DIR": str(knowledge),
            "BOT_REFRESH_HOURS": "0",
            "DATABASE_URL": database_url,
        }
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / f"{name}.log", "wb"),  # noqa: SIM115 (the child owns it)
    )
    url = f"http://127.0.0.1:{port}"
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT
    async with aiohttp.ClientSession() as session:
        while True:
            if process.poll() is not None:
                raise AssertionError((tmp_path / f"{name}.log").read_text())
            try:
                async with session.get(url + "/health") as resp:
                    if resp.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                process.kill()
                raise AssertionError("serve did not start in time")
            await asyncio.sleep(0.1)
    return Served(process, url, data_dir, tmp_path / f"{name}.log")


@pytest.fixture
async def two_processes(
    tmp_path: Path, postgres_url: str, slack_knowledge: Path, fake_slack: FakeSlack
) -> AsyncIterator[tuple[Served, Served]]:
    first, second = await asyncio.gather(
        _serve(tmp_path, "web", postgres_url, slack_knowledge, fake_slack),
        _serve(tmp_path, "worker", postgres_url, slack_knowledge, fake_slack),
    )
    try:
        yield first, second
    finally:
        first.kill9()
        second.kill9()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def _metric(session: aiohttp.ClientSession, served: Served, name: str) -> float:
    async with session.get(served.url + "/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
    pattern = re.compile(rf"^{re.escape(name)} ([0-9.e+]+)$", re.M)
    found = pattern.search(text)
    return float(found.group(1)) if found else 0.0


async def _wait_metric(
    session: aiohttp.ClientSession, served: Served, name: str, value: float
) -> float:
    """The metric once it reaches ``value`` (events are handled after their acknowledgement),
    or what it is after a few seconds."""
    for _ in range(100):
        seen = await _metric(session, served, name)
        if seen >= value:
            return seen
        await asyncio.sleep(0.05)
    return seen


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return list(conn.execute(sql.encode()).fetchall())


async def test_a_retry_delivered_to_the_other_process_gets_no_second_reply(
    two_processes: tuple[Served, Served],
    fake_slack: FakeSlack,
    session: aiohttp.ClientSession,
    postgres_url: str,
) -> None:
    web_, worker = two_processes
    event = mention(Q_DURATION)
    first = await SlackDriver(web_.url, session).event(event, event_id="EvShared1")
    assert first.status == 200
    [reply] = await fake_slack.wait_for("chat.postMessage")
    assert "six mois" in str(reply.args)
    retry = await SlackDriver(worker.url, session).event(event, event_id="EvShared1", retry_num=1)
    assert retry.status == 200
    hits = 'bot_dedupe_hits_total{where="store"}'
    assert await _wait_metric(session, worker, hits, 1.0) == 1.0
    # the other process answers a new question, and that is its only reply
    await SlackDriver(worker.url, session).event(mention(Q_OUT_OF_SCOPE), event_id="EvOther")
    calls = await fake_slack.wait_for("chat.postMessage", count=2)
    assert len(calls) == 2 and "six mois" not in str(calls[1].args)
    answers = 'bot_answers_total{surface="event"}'
    declines = 'bot_declines_total{reason="out_of_scope",surface="event"}'
    assert await _metric(session, web_, answers) == 1.0
    assert await _metric(session, worker, declines) == 1.0
    # everything is in PostgreSQL: no SQLite file anywhere
    for served in two_processes:
        assert not list(served.data_dir.rglob("*.sqlite3*")), list(served.data_dir.rglob("*"))
    assert _rows(postgres_url, "SELECT count(*) FROM dedupe") == [(2,)]
    # BOT_HOST is honoured, and Bolt's "token will be unused" warning is gone
    for served in two_processes:
        log = served.log.read_text()
        assert f"serving Slack on {served.url}/slack/events" in log
        assert "will be unused" not in log, log


async def test_kill_9_after_40_answers_and_votes_loses_none(
    two_processes: tuple[Served, Served],
    fake_slack: FakeSlack,
    session: aiohttp.ClientSession,
    postgres_url: str,
) -> None:
    web_, worker = two_processes
    driver = [SlackDriver(web_.url, session), SlackDriver(worker.url, session)]
    questions = [Q_DURATION if i % 2 else f"{Q_OUT_OF_SCOPE} {i}" for i in range(40)]
    for i, question in enumerate(questions):
        assert (await driver[i % 2].event(mention(question))).status == 200
    replies = await fake_slack.wait_for("chat.postMessage", count=40, timeout=30)
    voted = [r for r in replies if "feedback_down" in buttons(r.args.get("blocks", []))][:10]
    assert len(voted) == 10
    for i, reply in enumerate(voted):
        down = buttons(reply.args["blocks"])["feedback_down"]
        click = await driver[i % 2].click(down, response_url=fake_slack.response_url(f"v{i}"))
        assert click.status == 200
    for i in range(10):
        await fake_slack.wait_for(f"response_url:v{i}", timeout=10)
    web_.kill9()
    worker.kill9()
    answered = _rows(postgres_url, "SELECT COALESCE(SUM(count), 0) FROM answered")[0][0]
    unanswered = _rows(postgres_url, "SELECT COALESCE(SUM(count), 0) FROM unanswered")[0][0]
    assert (answered, unanswered) == (20, 20)
    assert _rows(postgres_url, "SELECT count(*) FROM votes WHERE vote = -1") == [(10,)]
