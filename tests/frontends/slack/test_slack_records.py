"""Votes, unanswered and answered questions recorded from real signed Slack requests, into the
real SQLite records, and nothing about people stored; the admins' report on the App Home.

The bot is served over HTTP on loopback (``bot_server`` from conftest_slack) with
``bot.records.store.Records`` in place of the in-memory stand-in; Slack's Web API is the fake one.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    new_ts,
)

from bot.engine import Engine
from bot.records.report import run_report
from bot.records.store import FILENAME, Records
from bot.settings import Settings

SOURCE = "phases/construction#duree"  # what answers Q_DURATION in the Slack test knowledge
STORED_DURATION = "combien dure la construction"
STORED_OUT_OF_SCOPE = "quelle est la recette des crepes"
ADMIN = "U0ADMIN01"  # in BOT_ADMINS for these tests
MEMBER = "U0USER01"  # not an admin


@pytest.fixture
def slack_settings(slack_settings: Settings) -> Settings:
    """The Slack test settings, with one admin (BOT_ADMINS)."""
    return dataclasses.replace(slack_settings, admins=frozenset({ADMIN}))


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


async def vote_down_on_a_command_answer(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    user: str = "U0USER01",
    channel: str = "C0GENERAL",
    reply_to: str = "v",
) -> None:
    """``/beta`` + the duration question by ``user`` in ``channel``, then 👎 on its answer."""
    body = (await slack.command(Q_DURATION, user_id=user, channel_id=channel)).json()
    await slack.click(
        buttons(body["blocks"])["feedback_down"],
        user_id=user,
        response_url=fake_slack.response_url(reply_to),
    )


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
        await vote_down_on_a_command_answer(slack, fake_slack, user, "C0PRIVATE9", user)
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
    await vote_down_on_a_command_answer(slack, fake_slack)
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
        with caplog.at_level(logging.ERROR, logger="bot.records.store"):
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


# --- answered questions and the answer rate ----------------------------------------------------


@pytest.mark.parametrize("answer_workers", [0, 1], ids=["in-process", "worker"])
async def test_answered_mentions_dms_and_beta_are_counted_in_the_report_answer_rate(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    bot_server: BotServer,
    slack_records: Records,
    slack_settings: Settings,
    answer_workers: int,
) -> None:
    await slack.event(mention(Q_DURATION))
    await slack.event(direct_message(Q_DURATION))
    body = await slack.command(Q_DURATION)
    assert body.status == 200 and "six mois" in body.text
    await slack.event(direct_message(Q_OUT_OF_SCOPE))
    await slack.command("")  # the help: no question was asked, nothing is counted
    await slack.event(mention("aide"))
    await fake_slack.wait_for("chat.postMessage", count=4)
    # the mention and the DMs were answered by the worker process when there is one
    assert (bot_server.app.answers.pid is not None) == (answer_workers > 0)
    rows = await settled(bot_server, slack_records)
    assert [(source, n) for _day, source, n in rows["answered"]] == [(SOURCE, 3)]
    assert [(q, n) for q, _d, n, _f, _l in rows["unanswered"]] == [(STORED_OUT_OF_SCOPE, 1)]

    out = io.StringIO()
    assert run_report(slack_settings, since="7d", fmt="text", out=out) == 0
    text = out.getvalue()
    assert "Questions reçues : 4 — répondues : 3, sans réponse : 1 (taux de réponse : 75 %)" in text
    by_day = text.split("Taux de réponse par jour")[1]
    assert "75 %" in by_day and "(3/4)" in by_day


async def test_a_reply_slack_refused_is_not_counted_as_answered(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer, slack_records: Records
) -> None:
    fake_slack.fail("chat.postMessage", status=200, error="channel_not_found", retry_after=None)
    await slack.event(mention(Q_DURATION))
    await fake_slack.wait_for("chat.postMessage")
    assert (await settled(bot_server, slack_records))["answered"] == []


# --- the admins' report on the App Home ----------------------------------------------------------


def home_opened(user: str) -> dict[str, Any]:
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D0DIRECT1",
        "tab": "home",
        "event_ts": new_ts(),
    }


def view_text(view: dict[str, Any]) -> str:
    """Every text of a view, one per line."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(view.get("blocks", []))
    return "\n".join(found)


async def published_home(slack: SlackDriver, fake_slack: FakeSlack, user: str) -> dict[str, Any]:
    before = len(fake_slack.calls_to("views.publish"))
    reply = await slack.event(home_opened(user))
    assert reply.status == 200
    calls = await fake_slack.wait_for("views.publish", count=before + 1)
    call = calls[before]
    assert call.args["user_id"] == user
    view = call.args["view"]
    assert view["type"] == "home" and 0 < len(view["blocks"]) <= 100
    return dict(view)


async def test_an_admin_sees_the_report_on_the_app_home_and_a_member_does_not(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer, slack_records: Records
) -> None:
    await slack.event(direct_message(Q_OUT_OF_SCOPE))
    await slack.event(direct_message(Q_DURATION))
    await vote_down_on_a_command_answer(slack, fake_slack)
    await fake_slack.wait_for("chat.postMessage", count=2)
    await settled(bot_server, slack_records)

    admin = await published_home(slack, fake_slack, ADMIN)
    member = await published_home(slack, fake_slack, MEMBER)

    text = view_text(admin)
    assert "Rapport : 30 derniers jours" in text
    assert "*taux de réponse :* 67 %" in text  # two answered, one declined
    assert STORED_OUT_OF_SCOPE in text and SOURCE in text and STORED_DURATION in text
    # the report comes after the usual Home tab, which everyone gets unchanged
    assert admin["blocks"][: len(member["blocks"])] == member["blocks"]
    assert "La construction" in view_text(member)
    for secret in ("Rapport", "taux de réponse", STORED_OUT_OF_SCOPE, SOURCE, "BOT_ADMINS"):
        assert secret not in view_text(member), secret


@pytest.mark.parametrize("trouble", ["locked", "corrupted"])
async def test_an_unreadable_records_file_still_publishes_the_app_home(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    bot_server: BotServer,
    slack_records: Records,
    caplog: pytest.LogCaptureFixture,
    trouble: str,
) -> None:
    holder: sqlite3.Connection | None = None
    if trouble == "locked":  # another process holds the file, readers included
        holder = sqlite3.connect(slack_records.path, isolation_level=None)
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
    else:
        for extra in wal_files(slack_records.path):
            extra.unlink()
        slack_records.path.write_bytes(b"this is not an SQLite file\n" * 200)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.frontends.slack.app"):
            start = time.monotonic()
            admin = await published_home(slack, fake_slack, ADMIN)
            took = time.monotonic() - start
            member = await published_home(slack, fake_slack, MEMBER)
            await bot_server.settle()
    finally:
        if holder is not None:
            holder.execute("ROLLBACK")
            holder.close()
    assert took < 3.5
    assert admin["blocks"][: len(member["blocks"])] == member["blocks"]
    assert "La construction" in view_text(admin)
    text = view_text(admin)
    reason = {"locked": "locked by another process", "corrupted": "is corrupted"}[trouble]
    assert "Rapport indisponible" in text and reason in text
    assert "Rapport" not in view_text(member)
    assert "admin report not shown on the App Home" in caplog.text
    # and answers keep flowing
    await slack.event(direct_message(Q_DURATION))
    [reply] = await fake_slack.wait_for("chat.postMessage")
    assert "six mois" in str(reply.args)


def wal_files(path: Path) -> list[Path]:
    """The WAL and shared-memory files beside the records file, when there are any."""
    return [p for p in path.parent.glob(path.name + "-*") if p.name.endswith(("-wal", "-shm"))]


async def test_a_slow_records_file_delays_the_admin_home_at_most_a_few_seconds(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    bot_server: BotServer,
    slack_records: Records,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import bot.frontends.slack.app as slack_app_module

    monkeypatch.setattr(slack_app_module, "REPORT_TIMEOUT", 0.3)
    slack_records.busy_timeout_ms = 2000  # a reader waits this long on a locked file
    holder = sqlite3.connect(slack_records.path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        start = time.monotonic()
        admin = await published_home(slack, fake_slack, ADMIN)
        took = time.monotonic() - start
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert took < 2.5
    assert "La construction" in view_text(admin)
    assert "Rapport indisponible" in view_text(admin)


async def test_without_records_an_admin_home_says_the_report_is_off(
    slack_settings: Settings, slack_engine: Engine
) -> None:
    from bot.frontends.slack.app import create_app

    app = create_app(slack_settings, slack_engine, None, answer_workers=0)
    admin = await app.home_view(ADMIN)
    member = await app.home_view(MEMBER)
    assert "Rapport indisponible" in view_text(admin)
    assert admin["blocks"][: len(member["blocks"])] == member["blocks"]
    assert "Rapport" not in view_text(member)


def test_the_slack_test_knowledge_still_answers_as_these_tests_expect(
    slack_knowledge: Path,
) -> None:
    engine = Engine.load(slack_knowledge)
    answer = engine.answer(Q_DURATION)
    assert (answer.answered, answer.source_id) == (True, SOURCE)
    assert engine.answer(Q_OUT_OF_SCOPE).answered is False
