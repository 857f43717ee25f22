"""Votes and unanswered questions recorded from real signed Slack requests, into the real
SQLite records, and nothing about people stored.

The bot is served over HTTP on loopback (``bot_server`` from conftest_slack) with
``bot.records.Records`` in place of the in-memory stand-in; Slack's Web API is the fake one.
"""

from __future__ import annotations

import io
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest_slack import Q_DURATION, Q_OUT_OF_SCOPE, BotServer
from slack_fakes import (
    BOT_USER_ID,
    TEAM_ID,
    FakeSlack,
    SlackDriver,
    buttons,
    direct_message,
    mention,
)

from bot.records import FILENAME, Records
from bot.report import run_report
from bot.settings import Settings

SOURCE = "phases/construction#duree"  # what answers Q_DURATION in the Slack test knowledge
STORED_DURATION = "combien dure la construction"
STORED_OUT_OF_SCOPE = "quelle est la recette des crepes"


@pytest.fixture
def slack_records(slack_settings: Settings) -> Iterator[Records]:
    """The real records in BOT_DATA_DIR, handed to ``create_app`` by ``bot_server``."""
    records = Records(slack_settings.data_dir / FILENAME, busy_timeout_ms=300)
    yield records
    records.close()


def stored(records: Records) -> dict[str, list[tuple[object, ...]]]:
    """Every row, once the bot's background work and the records writer are done."""
    assert records.flush()
    return records.dump()


async def settled(bot_server: BotServer, records: Records) -> dict[str, list[tuple[object, ...]]]:
    await bot_server.settle()
    return stored(records)


async def test_a_thumbs_down_on_a_mention_reply_is_stored_with_question_and_source(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer, slack_records: Records
) -> None:
    before = time.time()
    await slack.event(mention(Q_DURATION))
    [reply] = await fake_slack.wait_for("chat.postMessage")
    down = buttons(reply.args["blocks"])["feedback_down"]
    click = await slack.click(down, response_url=fake_slack.response_url("vote"))
    assert click.status == 200
    rows = (await settled(bot_server, slack_records))["votes"]
    [(ts, question, source, vote)] = rows
    assert (question, source, vote) == (STORED_DURATION, SOURCE, -1)
    assert before <= float(str(ts)) <= time.time()


async def test_a_thumbs_up_on_a_beta_answer_is_stored(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer, slack_records: Records
) -> None:
    body = (await slack.command(Q_DURATION)).json()
    up = buttons(body["blocks"])["feedback_up"]
    await slack.click(up, response_url=fake_slack.response_url("vote"), ephemeral=True)
    votes = (await settled(bot_server, slack_records))["votes"]
    assert [(q, s, v) for _, q, s, v in votes] == [(STORED_DURATION, SOURCE, 1)]


async def test_declined_questions_from_a_dm_a_mention_and_beta_are_counted(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer, slack_records: Records
) -> None:
    await slack.event(direct_message(Q_OUT_OF_SCOPE))
    await slack.event(mention(Q_OUT_OF_SCOPE.upper()))
    await slack.command("Quelle est la recette des crêpes")
    await fake_slack.wait_for("chat.postMessage", count=2)
    rows = (await settled(bot_server, slack_records))["unanswered"]
    assert [(q, n) for q, _day, n, _first, _last in rows] == [(STORED_OUT_OF_SCOPE, 3)]
    assert (await settled(bot_server, slack_records))["votes"] == []


async def test_an_answered_question_is_not_recorded_as_unanswered(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer, slack_records: Records
) -> None:
    await slack.event(direct_message(Q_DURATION))
    await fake_slack.wait_for("chat.postMessage")
    assert (await settled(bot_server, slack_records))["unanswered"] == []


async def test_nothing_about_people_reaches_the_records_file(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    bot_server: BotServer,
    slack_records: Records,
    slack_settings: Settings,
) -> None:
    people = {"U0ALICE01": "D0ALICE01", "U0BOB0002": "D0BOB0002"}
    for user, dm in people.items():
        await slack.event(
            direct_message(
                f"<@U0CAROL03|carol> m'a dit d'écrire à carol.martin@example.org, {Q_OUT_OF_SCOPE}",
                user=user,
                channel=dm,
            )
        )
        await slack.event(mention(Q_OUT_OF_SCOPE, user=user, channel="C0PRIVATE9"))
        body = (await slack.command(Q_DURATION, user_id=user, channel_id="C0PRIVATE9")).json()
        await slack.click(
            buttons(body["blocks"])["feedback_down"],
            user_id=user,
            response_url=fake_slack.response_url(user),
        )
    await fake_slack.wait_for("chat.postMessage", count=4)
    rows = await settled(bot_server, slack_records)
    assert len(rows["votes"]) == 2 and rows["unanswered"]
    slack_records.close()  # checkpoint: everything is in the main file now

    values = "\n".join(str(v) for table in rows.values() for row in table for v in row).casefold()
    raw = b"".join(p.read_bytes() for p in slack_settings.data_dir.glob(FILENAME + "*"))
    for secret in [
        *people,
        *people.values(),
        "U0USER01",
        "U0CAROL03",
        "carol",
        "camille",
        "C0PRIVATE9",
        "C0GENERAL",
        BOT_USER_ID,
        TEAM_ID,
        "example.org",
    ]:
        assert secret.casefold() not in values, secret
        assert secret.encode() not in raw and secret.casefold().encode() not in raw, secret
    assert "[email]" in values


async def test_votes_and_unanswered_questions_land_in_the_report(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    bot_server: BotServer,
    slack_records: Records,
    slack_settings: Settings,
) -> None:
    for _ in range(2):
        await slack.event(direct_message(Q_OUT_OF_SCOPE))
    body = (await slack.command(Q_DURATION)).json()
    await slack.click(
        buttons(body["blocks"])["feedback_down"], response_url=fake_slack.response_url("v")
    )
    await fake_slack.wait_for("chat.postMessage", count=2)
    await settled(bot_server, slack_records)

    out = io.StringIO()
    assert run_report(slack_settings, since="7d", fmt="text", out=out) == 0
    text = out.getvalue()
    unanswered = text.split("Questions sans réponse les plus fréquentes")[1].split("Réponses")[0]
    [line] = [line for line in unanswered.splitlines() if STORED_OUT_OF_SCOPE in line]
    assert line.split()[0] == "2"
    disliked = text.split("Réponses les moins appréciées")[1].split("Taux de réponse")[0]
    assert SOURCE in disliked and STORED_DURATION in disliked


async def test_answers_keep_flowing_when_the_records_file_is_locked(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    bot_server: BotServer,
    slack_records: Records,
    caplog: pytest.LogCaptureFixture,
) -> None:
    holder = sqlite3.connect(slack_records.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the file
    try:
        with caplog.at_level(logging.ERROR, logger="bot.records"):
            acks = [await slack.event(direct_message(Q_OUT_OF_SCOPE)) for _ in range(3)]
            body = await slack.command(Q_DURATION)
            replies = await fake_slack.wait_for("chat.postMessage", count=3, timeout=3.0)
            await bot_server.settle()
            assert slack_records.flush()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert all(a.status == 200 and a.ms < 3000 for a in acks)
    assert body.status == 200 and "six mois" in body.text
    assert all("contact@beta.gouv.fr" in str(r.args) for r in replies)
    assert "locked by another process" in caplog.text

    await slack.event(direct_message(Q_OUT_OF_SCOPE))  # once released, recording resumes
    await fake_slack.wait_for("chat.postMessage", count=4)
    rows = (await settled(bot_server, slack_records))["unanswered"]
    assert [(q, n) for q, _d, n, _f, _l in rows] == [(STORED_OUT_OF_SCOPE, 1)]


def test_the_slack_test_knowledge_still_answers_as_these_tests_expect(
    slack_knowledge: Path,
) -> None:
    from bot.engine import Engine

    engine = Engine.load(slack_knowledge)
    answer = engine.answer(Q_DURATION)
    assert (answer.answered, answer.source_id) == (True, SOURCE)
    assert engine.answer(Q_OUT_OF_SCOPE).answered is False
