"""Replies computed in worker processes are the engine's own answers, follow reloads, and
survive a dead worker."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest_slack import Q_DURATION, Q_DURATION_EN, Q_FAST_CONTACT, Q_OUT_OF_SCOPE

from bot.engine import Engine
from bot.frontends.slack.answering import AnswerPool


@pytest.fixture
async def pool(slack_engine: Engine) -> AsyncIterator[AnswerPool]:
    answers = AnswerPool(slack_engine, workers=1)
    await answers.start()
    yield answers
    await answers.close()


async def test_a_worker_gives_exactly_the_engines_answer(
    pool: AnswerPool, slack_engine: Engine
) -> None:
    for question in (Q_DURATION, Q_DURATION_EN, Q_FAST_CONTACT, Q_OUT_OF_SCOPE, "", "x" * 5000):
        got, expected = await pool.answer(question), slack_engine.answer(question)
        assert (got.text, got.links, got.answered, got.source_id, got.lang) == (
            expected.text,
            expected.links,
            expected.answered,
            expected.source_id,
            expected.lang,
        )
    assert not pool.in_process


async def test_after_a_reload_the_workers_answer_from_the_new_knowledge(
    pool: AnswerPool, slack_engine: Engine, slack_knowledge: Path
) -> None:
    before = await pool.answer(Q_DURATION)
    assert "six mois à un an" in before.text
    page = slack_knowledge / "phases" / "construction.md"
    page.write_text(
        page.read_text(encoding="utf-8").replace("de six mois à un an", "de 7 à 11 mois"),
        encoding="utf-8",
    )
    assert slack_engine.reload() is None
    after = await pool.answer(Q_DURATION)
    assert "7 à 11 mois" in after.text
    assert after.text == slack_engine.answer(Q_DURATION).text


async def test_a_refused_reload_keeps_the_workers_on_the_last_good_knowledge(
    pool: AnswerPool, slack_engine: Engine, slack_knowledge: Path
) -> None:
    (slack_knowledge / "phases" / "broken.md").write_text(
        "---\ntitle: [unclosed\n---\n", encoding="utf-8"
    )
    assert slack_engine.reload() is not None
    assert "six mois à un an" in (await pool.answer(Q_DURATION)).text


async def test_a_dead_worker_does_not_lose_the_answer(
    pool: AnswerPool, slack_engine: Engine
) -> None:
    await pool.answer(Q_DURATION)
    first = pool.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    got = await pool.answer(Q_DURATION)
    assert got.text == slack_engine.answer(Q_DURATION).text
    again = await pool.answer(Q_DURATION)  # a fresh worker takes over
    assert again.text == got.text
    assert not pool.in_process
    assert pool.pid not in (None, first)


async def test_an_engine_error_in_the_worker_reaches_the_caller() -> None:
    from types import SimpleNamespace

    from bot.errors import EngineFailed

    class Broken:
        state = SimpleNamespace(nothing=True)  # the worker's Engine cannot answer from this

        def answer(self, question: str) -> None:
            raise AssertionError("the worker must answer, not the parent")

    pool = AnswerPool(Broken(), workers=1)
    try:
        with pytest.raises(EngineFailed):
            await pool.answer(Q_DURATION)
        assert not pool.in_process  # an engine error is not a worker failure
    finally:
        await pool.close()


async def test_no_workers_means_answers_in_process(slack_engine: Engine) -> None:
    pool = AnswerPool(slack_engine, workers=0)
    assert pool.in_process
    assert (await pool.answer(Q_DURATION)).text == slack_engine.answer(Q_DURATION).text
    await pool.close()


async def test_an_engine_without_a_state_to_copy_falls_back_to_in_process() -> None:
    class Plain:
        def answer(self, question: str):  # type: ignore[no-untyped-def]
            return Engine.answer  # any object: the pool must hand back what the engine returns

    plain = Plain()
    pool = AnswerPool(plain, workers=1)
    for _ in range(3):
        assert await pool.answer("q") is Engine.answer
    assert pool.in_process
    await pool.close()
