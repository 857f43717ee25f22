"""Slack listeners, one module per surface, each with a ``register(app)``.

Listeners are plain named functions: Bolt passes them what they name (``ack``, ``event``,
``context``, ``client``...). The app's own state (engine, records, dedupers, background tasks)
reaches them through ``context["beta"]``, which :class:`bot.frontends.slack.app.BetaApp` sets
on every request; a test calls a listener directly with a fake ``ack``/``client`` and a context.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from slack_bolt.context.async_context import AsyncBoltContext

if TYPE_CHECKING:
    from bot.frontends.slack.app import BetaApp


def beta_of(context: AsyncBoltContext) -> BetaApp:
    """The app a request belongs to (set by ``BetaApp.provide_beta``)."""
    return cast("BetaApp", context["beta"])
