"""Everything no other listener took: acknowledged, so Slack neither retries nor shows an
error; and the one error handler. Registered last (Bolt tries listeners in order)."""

from __future__ import annotations

import json
import logging
import re

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.response import BoltResponse

from bot.frontends.slack.blocks import build_error_message, build_unknown_command
from bot.frontends.slack.kit import JsonDict

log = logging.getLogger(__name__)


async def on_unknown_command(ack: AsyncAck, command: JsonDict) -> None:
    name = str(command.get("command") or "")
    await ack(response_type="ephemeral", **build_unknown_command(name))


async def acknowledge(ack: AsyncAck) -> None:
    await ack()


async def no_options(ack: AsyncAck) -> None:
    """A type-ahead menu we never sent: no options."""
    await ack(options=[])


async def ignore_event() -> None:
    return None


async def on_error(
    error: Exception, body: JsonDict, response: BoltResponse | None
) -> BoltResponse | None:
    kind = body.get("type") or ("command" if body.get("command") else "?")
    log.error("Slack request failed (%s): %s", kind, error, exc_info=error)
    if (
        response is not None
        and kind != "event_callback"
        and (body.get("command") or kind == "block_actions")
    ):
        # Not acknowledged yet: acknowledge with an apology rather than Slack's red error.
        payload = {"response_type": "ephemeral", **build_error_message()}
        return BoltResponse(
            status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
        )
    return None


def register(app: AsyncApp) -> None:
    anything = re.compile(r".*")
    app.command(anything)(on_unknown_command)
    app.action(anything)(acknowledge)
    app.view(anything)(acknowledge)
    app.shortcut(anything)(acknowledge)
    app.options(anything)(no_options)
    app.event(anything)(ignore_event)
    app.error(on_error)
