"""Slack's Web API as this front end uses it: one client factory, one list of send errors."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.frontends.slack.kit import JsonDict
from bot.settings import Settings

# What a Web API call may raise when Slack (or the network) fails us: logged, never fatal.
SEND_ERRORS = (SlackApiError, SlackClientError, aiohttp.ClientError, OSError)


def api_client(settings: Settings, *, retries: bool = True) -> AsyncWebClient:
    """A Web API client on the bot token, at ``SLACK_API_URL`` when set (tests, gateways)."""
    kwargs: JsonDict = {}
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url.rstrip("/") + "/"
    if retries:
        kwargs["retry_handlers"] = [
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),  # 429: waits Retry-After
        ]
    return AsyncWebClient(token=settings.slack_bot_token, timeout=10, **kwargs)
