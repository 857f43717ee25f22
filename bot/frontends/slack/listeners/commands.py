"""``/beta <question>``: the answer comes back in the acknowledgement itself (ephemeral), once
what the report keeps of it (the declined question, or the answered count) is durable."""

from __future__ import annotations

import logging
import time

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext

from bot.answering.answer import Answer
from bot.answering.text import detect_lang
from bot.frontends.slack.blocks import build_error_message
from bot.frontends.slack.escape import from_slack
from bot.frontends.slack.kit import JsonDict
from bot.frontends.slack.listeners import beta_of, bounded

log = logging.getLogger(__name__)


async def on_beta(ack: AsyncAck, command: JsonDict, context: AsyncBoltContext) -> None:
    beta = beta_of(context)
    question = from_slack(bounded(command.get("text")))
    answer: Answer | None
    started = time.perf_counter()
    failed = False
    try:
        message, answer = beta.compose(question, show_question=True, shareable=True)
    except Exception:
        log.exception("the engine failed on %r", question[:200])
        message, answer = build_error_message(detect_lang(question)), None
        failed = True
    if answer is not None or failed:
        beta.metrics.observe_answer(answer, time.perf_counter() - started, "command")
    await beta.record_outcome(question, answer)  # durable before the answer is shown
    await ack(response_type="ephemeral", **message)


def register(app: AsyncApp) -> None:
    app.command("/beta")(on_beta)
