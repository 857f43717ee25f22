"""The buttons under an answer: share it in the channel, and the 👍/👎 feedback votes."""

from __future__ import annotations

import logging
import re

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.frontends.slack.blocks import (
    ACTION_SHARE,
    ACTION_VOTE_DOWN,
    ACTION_VOTE_UP,
    build_expired,
    build_notice,
    build_vote_thanks,
    decode_value,
)
from bot.frontends.slack.kit import JsonDict
from bot.frontends.slack.listeners import beta_of, tell

log = logging.getLogger(__name__)

NOT_RECORDED = {
    "fr": "Merci ! Votre avis n'a pas pu être enregistré (incident technique), "
    "vous pouvez réessayer dans un moment.",
    "en": "Thanks! Your feedback could not be recorded (technical incident); "
    "please try again in a moment.",
}


async def on_share(
    ack: AsyncAck,
    body: JsonDict,
    action: JsonDict,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()
    beta = beta_of(context)
    user = _dict(body.get("user")).get("id")
    container = _dict(body.get("container"))
    data = decode_value(action.get("value"))
    question = str((data or {}).get("q") or "").strip()

    async def share() -> None:
        if not question:
            await tell(
                respond, response_type="ephemeral", replace_original=False, **build_expired()
            )
            return
        if not beta.clicks.first_time(("share", user, container.get("message_ts"), question)):
            return  # a double click: the answer is already in the channel
        message, _ = beta.compose(question, show_question=True, shared_by=user)
        await tell(respond, response_type="in_channel", delete_original=True, **message)

    beta.tasks.spawn(share(), name=f"share by {user}")


async def on_vote(
    ack: AsyncAck,
    body: JsonDict,
    action: JsonDict,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()
    beta = beta_of(context)
    vote = 1 if action.get("action_id") == ACTION_VOTE_UP else -1
    data = decode_value(action.get("value"))
    if data is None:
        log.warning("feedback button with an unreadable value ignored")
        return
    user = _dict(body.get("user")).get("id")
    container = _dict(body.get("container"))
    question = str(data.get("q") or "")
    source = data.get("s") if isinstance(data.get("s"), str) else None
    lang = "en" if data.get("l") == "en" else "fr"
    first = beta.clicks.first_time(("vote", user, container.get("message_ts"), source, question))

    async def record() -> None:
        # The thanks waits until the vote is durable, and says so when it could not be kept.
        recorded = await beta.record_vote(question, source, vote) if first else True
        thanks = (
            build_vote_thanks(vote, lang, already=not first)
            if recorded or beta.records is None
            else build_notice(NOT_RECORDED["en" if lang == "en" else "fr"])
        )
        await tell(respond, response_type="ephemeral", replace_original=False, **thanks)

    beta.tasks.spawn(record(), name=f"vote by {user}")


def _dict(value: object) -> JsonDict:
    return value if isinstance(value, dict) else {}


def register(app: AsyncApp) -> None:
    app.action(ACTION_SHARE)(on_share)
    app.action(re.compile(f"^({ACTION_VOTE_UP}|{ACTION_VOTE_DOWN})$"))(on_vote)
