"""``/beta <question>``: the answer comes back in the acknowledgement itself (ephemeral)."""

from __future__ import annotations

import logging

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
    try:
        message, answer = beta.compose(question, show_question=True, shareable=True)
    except Exception:
        log.exception("the engine failed on %r", question[:200])
        message, answer = build_error_message(detect_lang(question)), None
    await ack(response_type="ephemeral", **message)
    if answer is not None and not answer.answered:
        beta.tasks.spawn(beta.record_unanswered(question), name="record unanswered")
    elif answer is not None:
        beta.tasks.spawn(beta.record_answered(answer.source_id), name="record answered")


def register(app: AsyncApp) -> None:
    app.command("/beta")(on_beta)
