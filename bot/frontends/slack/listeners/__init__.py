"""Slack listeners, one module per surface, each with a ``register(app)``.

Listeners are plain named functions: Bolt passes them what they name (``ack``, ``event``,
``context``, ``client``...). The app's own state (engine, records, dedupers, background tasks)
reaches them through ``context["beta"]``, which :class:`bot.frontends.slack.app.BetaApp` sets
on every request; a test calls a listener directly with a fake ``ack``/``client`` and a context.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.frontends.slack.web import SEND_ERRORS

if TYPE_CHECKING:
    from bot.frontends.slack.app import BetaApp


log = logging.getLogger(__name__)

MAX_INPUT = 8000  # characters of user text read at all (questions are then bounded at 2,000)


def bounded(text: object) -> str:
    """User text cut to :data:`MAX_INPUT` before any processing (text of any type: Slack sends
    strings, a hostile request anything)."""
    return (text if isinstance(text, str) else "")[:MAX_INPUT]


async def tell(respond: AsyncRespond, **message: Any) -> bool:
    """``respond(**message)`` when the request came with a ``response_url``; one warning line
    otherwise or when Slack cannot be reached. True when sent."""
    if not respond.response_url:
        log.warning("no response_url in the request: the reply was not sent")
        return False
    try:
        await respond(**message)
    except (TimeoutError, *SEND_ERRORS, ValueError) as exc:
        log.warning("could not reply through the response_url: %s", exc)
        return False
    return True


def beta_of(context: AsyncBoltContext) -> BetaApp:
    """The app a request belongs to (set by ``BetaApp.provide_beta``)."""
    return cast("BetaApp", context["beta"])
