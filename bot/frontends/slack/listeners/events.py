"""The Events API surface: mentions in channels, direct messages, the App Home, and the
deduplication of Slack's retries."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.frontends.slack.escape import from_slack
from bot.frontends.slack.kit import JsonDict
from bot.frontends.slack.listeners import beta_of, bounded
from bot.frontends.slack.web import SEND_ERRORS

log = logging.getLogger(__name__)

REPLY_SUBTYPES = (None, "file_share", "thread_broadcast")  # new messages written by a person


def thread_for(event: JsonDict) -> str | None:
    """Where to reply: in channels, the message's thread (or start one on it); in a direct
    message, in the conversation itself unless the person wrote in a thread."""
    channel = str(event.get("channel") or "")
    if event.get("channel_type") == "im" or channel.startswith("D"):
        return event.get("thread_ts")
    return event.get("thread_ts") or event.get("ts")


def from_person(event: JsonDict, bot_user_id: str | None) -> bool:
    if event.get("bot_id") or event.get("bot_profile"):
        return False
    if event.get("subtype") not in REPLY_SUBTYPES:
        return False  # edits, deletions, joins, bot messages, ...
    user = event.get("user")
    return bool(user) and user != bot_user_id


async def drop_duplicate_events(
    request: AsyncBoltRequest,
    body: JsonDict,
    context: AsyncBoltContext,
    next: Callable[[], Awaitable[Any]],
) -> BoltResponse | None:
    """Acknowledge, and go no further, an Events API delivery already seen (same event_id):
    Slack's retries (X-Slack-Retry-Num) and repeated deliveries, whichever process of the app
    saw it first (``BetaApp.first_event``). A retry of an event no process saw (the first
    delivery was lost) is handled normally."""
    if isinstance(body, dict) and body.get("type") == "event_callback":
        event_id = body.get("event_id")
        retry = (request.headers.get("x-slack-retry-num") or [""])[0]
        if event_id and not await beta_of(context).first_event(str(event_id)):
            reason = (request.headers.get("x-slack-retry-reason") or [""])[0]
            log.info("duplicate event %s dropped (retry %s %s)", event_id, retry, reason)
            return BoltResponse(status=200, body="")
        if retry:
            log.info("retry %s of event %s not seen before: handling it", retry, event_id)
    await next()
    return None


def _addressed(event: JsonDict) -> bool:
    """The event names the channel and message to answer (a hostile one may not)."""
    if isinstance(event.get("channel"), str) and isinstance(event.get("ts"), str):
        return True
    log.warning("event %s without a channel or ts ignored", str(event.get("type"))[:40])
    return False


def _answer_in_background(
    event: JsonDict, context: AsyncBoltContext, client: AsyncWebClient, where: str
) -> None:
    """Reply to a person's message once, off the acknowledgement."""
    beta = beta_of(context)
    if not from_person(event, context.bot_user_id) or not _addressed(event):
        return
    if not beta.first_reply(event):
        return
    question = from_slack(bounded(event.get("text")), context.bot_user_id)
    beta.tasks.spawn(
        beta.reply(client, event["channel"], thread_for(event), question),
        name=f"{where} {event.get('channel')}/{event.get('ts')}",
    )


async def on_mention(event: JsonDict, context: AsyncBoltContext, client: AsyncWebClient) -> None:
    """A mention in a channel: answered in a thread on the message."""
    _answer_in_background(event, context, client, "mention")


async def on_message(event: JsonDict, context: AsyncBoltContext, client: AsyncWebClient) -> None:
    """A direct message (subscribed for message.im only); anything else is acknowledged."""
    if event.get("channel_type") == "im":
        _answer_in_background(event, context, client, "dm")


async def on_home(event: JsonDict, context: AsyncBoltContext, client: AsyncWebClient) -> None:
    """The App Home tab: what the bot knows, and the report for admins."""
    beta = beta_of(context)
    user = event.get("user")
    if event.get("tab", "home") != "home" or not user:
        return

    async def publish() -> None:
        try:
            view = await beta.home_view(str(user))
            await client.views_publish(user_id=str(user), view=view)
        except SEND_ERRORS as exc:
            log.warning("could not publish the App Home: %s", exc)

    beta.tasks.spawn(publish(), name=f"home {user}")


def register(app: AsyncApp) -> None:
    app.middleware(drop_duplicate_events)
    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
    app.event("app_home_opened")(on_home)
