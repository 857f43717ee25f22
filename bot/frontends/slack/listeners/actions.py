"""The buttons under an answer: share it in the channel, and the 👍/👎 feedback votes."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from bot.frontends.slack.app import BetaApp

log = logging.getLogger(__name__)

ButtonListener = Callable[
    [AsyncAck, JsonDict, JsonDict, AsyncRespond, AsyncBoltContext], Awaitable[None]
]

NOT_RECORDED = {
    "fr": "Merci ! Votre avis n'a pas pu être enregistré (incident technique), "
    "vous pouvez réessayer dans un moment.",
    "en": "Thanks! Your feedback could not be recorded (technical incident); "
    "please try again in a moment.",
}


@dataclass(frozen=True)
class Click:
    """A click on a button under an answer, once acknowledged."""

    beta: BetaApp
    user: str | None  # who clicked
    message_ts: object  # the message the button is under
    action: JsonDict
    respond: AsyncRespond


def _button(handle: Callable[[Click], Awaitable[None]]) -> ButtonListener:
    """The Bolt listener of a button: acknowledge, then ``handle`` the click."""

    async def listener(
        ack: AsyncAck,
        body: JsonDict,
        action: JsonDict,
        respond: AsyncRespond,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        user = _dict(body.get("user")).get("id")
        await handle(
            Click(
                beta_of(context),
                user if isinstance(user, str) else None,
                _dict(body.get("container")).get("message_ts"),
                action,
                respond,
            )
        )

    # Bolt passes what the listener's parameters name: keep them, and take the handler's name.
    listener.__name__ = listener.__qualname__ = handle.__name__
    return listener


@_button
async def on_share(click: Click) -> None:
    beta, user, respond = click.beta, click.user, click.respond
    data = decode_value(click.action.get("value"))
    question = str((data or {}).get("q") or "").strip()

    async def share() -> None:
        if not question:
            await tell(
                respond, response_type="ephemeral", replace_original=False, **build_expired()
            )
            return
        if not beta.clicks.first_time(("share", user, click.message_ts, question)):
            return  # a double click: the answer is already in the channel
        message, _ = beta.compose(question, show_question=True, shared_by=user)
        await tell(respond, response_type="in_channel", delete_original=True, **message)

    beta.tasks.spawn(share(), name=f"share by {user}")


@_button
async def on_vote(click: Click) -> None:
    beta, user, action = click.beta, click.user, click.action
    vote = 1 if action.get("action_id") == ACTION_VOTE_UP else -1
    data = decode_value(action.get("value"))
    if data is None:
        log.warning("feedback button with an unreadable value ignored")
        return
    question = str(data.get("q") or "")
    source = data.get("s") if isinstance(data.get("s"), str) else None
    lang = "en" if data.get("l") == "en" else "fr"
    first = beta.clicks.first_time(("vote", user, click.message_ts, source, question))

    async def record() -> None:
        # The thanks waits until the vote is durable, and says so when it could not be kept.
        recorded = await beta.record_vote(question, source, vote) if first else True
        thanks = (
            build_vote_thanks(vote, lang, already=not first)
            if recorded or beta.records is None
            else build_notice(NOT_RECORDED["en" if lang == "en" else "fr"])
        )
        await tell(click.respond, response_type="ephemeral", replace_original=False, **thanks)

    beta.tasks.spawn(record(), name=f"vote by {user}")


def _dict(value: object) -> JsonDict:
    return value if isinstance(value, dict) else {}


def register(app: AsyncApp) -> None:
    app.action(ACTION_SHARE)(on_share)
    app.action(re.compile(f"^({ACTION_VOTE_UP}|{ACTION_VOTE_DOWN})$"))(on_vote)
