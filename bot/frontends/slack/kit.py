"""Block Kit primitives shared by every Slack surface (answers, forms, App Home, report).

Each cuts its text to Slack's limit for that element, so no builder can produce a block that
Slack refuses. Text given to ``mrkdwn``/``section``/``context`` must already be safe mrkdwn
(see :mod:`bot.frontends.slack.escape`); ``plain`` text needs no escaping.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from bot.frontends.slack.escape import clip

# A JSON object as Slack sends and receives it (blocks, views, payloads, event bodies).
JsonDict: TypeAlias = dict[str, Any]

SECTION_LIMIT = 3000  # characters in a section's text object
CONTEXT_LIMIT = 3000  # characters in one context element
CONTEXT_ELEMENTS = 10
PLAIN_LIMIT = 3000
HEADER_LIMIT = 150
BUTTON_LIMIT = 75


def plain(text: str, limit: int = PLAIN_LIMIT) -> JsonDict:
    """A plain_text object on one line, cut to ``limit`` (never empty: Slack refuses that)."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return {"type": "plain_text", "text": text or " ", "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_LIMIT) -> JsonDict:
    return {"type": "mrkdwn", "text": clip(text, limit) or " "}


def section(text: str, limit: int = SECTION_LIMIT) -> JsonDict:
    """A section whose text is already safe mrkdwn; clipped to Slack's limit."""
    return {"type": "section", "text": mrkdwn(text, limit)}


def context(*elements: str) -> JsonDict:
    items = [mrkdwn(e, CONTEXT_LIMIT) for e in elements if e][:CONTEXT_ELEMENTS]
    return {"type": "context", "elements": items or [mrkdwn(" ")]}
