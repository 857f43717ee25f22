"""Escaping for Slack mrkdwn, and neutralising mentions. Pure, total functions.

Slack reads ``<...>`` as a control sequence (``<!channel>``, ``<@U123>``, ``<url|label>``) and
``&`` as the start of an entity, so every piece of text that comes from a user or a file goes
through :func:`safe_text` before it reaches a message: ``&``, ``<`` and ``>`` are escaped, and a
bare ``@here`` / ``@channel`` / ``@everyone`` / ``@name`` gets an invisible word joiner after the
``@`` so that no automatic parsing can turn it into a ping. E-mail addresses are left alone
(``fast@beta.gouv.fr`` has a word character before its ``@``).

Incoming Slack text goes the other way through :func:`from_slack`: mentions, channel links and
URL markup become plain words, and Slack's own ``&amp;`` / ``&lt;`` / ``&gt;`` are decoded, so the
engine reads the same question a console user would type.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from bot.answering.text import strip_slack

WORD_JOINER = "\u2060"
ELLIPSIS = "…"

# Any "@" not glued to an ASCII letter or digit before it could start a mention ("@here",
# "_@here_" in italics, "(@channel)"); an e-mail's "@" follows its local part ("fast@...").
# The word joiner is inserted once: text that already carries it is left as it is.
_AT_MENTION = re.compile("(?<![A-Za-z0-9])@(?!" + WORD_JOINER + ")")
# Full-width commercial at is not parsed by Slack, but treat it the same (defence in depth).
_FULLWIDTH_AT = re.compile("(?<![A-Za-z0-9])\uff20(?!" + WORD_JOINER + ")")
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
_SAFE_URL = re.compile(r"^(?:https?://|mailto:)[^\s<>|]+$", re.IGNORECASE)


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack reserves: ``&``, ``<``, ``>``."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape_mrkdwn(text: str) -> str:
    """Undo :func:`escape_mrkdwn` (Slack sends user text with these three entities)."""
    return str(text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def neutralize_mentions(text: str) -> str:
    """Put a word joiner after every ``@`` that could be read as a mention.

    ``@here`` becomes ``@\u2060here``: it still reads the same but no longer pings anyone.
    Idempotent: an ``@`` already followed by the joiner is left alone.
    """
    text = _FULLWIDTH_AT.sub("\uff20" + WORD_JOINER, str(text))
    return _AT_MENTION.sub("@" + WORD_JOINER, text)


def safe_text(text: str) -> str:
    """Text from a user or a file, ready for a mrkdwn or plain_text field."""
    return neutralize_mentions(escape_mrkdwn(text))


def clip(text: str, limit: int) -> str:
    """Cut already-escaped text to at most ``limit`` characters, never inside an entity or a
    ``<url|label>`` link.

    The cut ends with an ellipsis so readers know something was left out.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - len(ELLIPSIS))]
    cut = _PARTIAL_ENTITY.sub("", cut)
    opened = cut.rfind("<")
    if opened > cut.rfind(">"):
        cut = cut[:opened]  # never inside one of our own <url|label> links
    if cut.endswith(("@", "\uff20")):
        cut = cut[:-1]  # never leave an "@" without its word joiner
    return cut.rstrip() + ELLIPSIS


def url_for_slack(url: str) -> str:
    """Percent-encode what Slack might choke on (accents: /fast/sélection)."""
    return quote(str(url).strip(), safe=":/?#[]@!$&'()*+,;=%~-._")


def safe_url(url: str) -> str | None:
    """An http(s) or mailto URL fit for ``<url|label>``, or None when it is not one."""
    url = str(url).strip()
    if not _SAFE_URL.match(url):
        return None
    return url.replace("&", "&amp;")


def link(url: str, title: str) -> str:
    """A mrkdwn link ``<url|title>`` with both halves made safe; the bare title when the URL is
    not an http(s)/mailto URL."""
    label = safe_text(title).replace("|", "¦").strip() or safe_text(url)
    target = safe_url(url)
    if target is None:
        return label
    return f"<{url_for_slack(target)}|{label}>"


def from_slack(text: str, bot_user_id: str | None = None) -> str:
    """Slack message text to the plain text a person typed (see
    :func:`bot.answering.text.strip_slack`, which does the work).

    ``<@U123>`` mentions disappear (the bot's own mention carries no meaning, and other people's
    IDs are noise to the engine), ``<@U123|jean>`` becomes ``@jean``, ``<!here>`` becomes
    ``@here``, ``<#C123|general>`` becomes ``#general``, ``<https://x|label>`` becomes ``label``,
    ``<https://x>`` becomes ``https://x``; entities are decoded; spaces are collapsed and empty
    lines dropped.
    """
    plain = strip_slack(str(text), keep_mentions=True, bot_user_id=bot_user_id)
    lines = (" ".join(line.split()) for line in plain.splitlines())
    return "\n".join(line for line in lines if line)


def is_safe(text: str) -> bool:
    """True when ``text`` cannot ping anyone nor break out of a mrkdwn field.

    Used by the tests and as a last guard: no ``<`` or ``>``, every ``&`` starts one of the three
    entities, and no ``@`` that could be read as a mention.
    """
    if "<" in text or ">" in text:
        return False
    for m in re.finditer("&", text):
        if not text.startswith(("&amp;", "&lt;", "&gt;"), m.start()):
            return False
    return _AT_MENTION.search(text) is None and _FULLWIDTH_AT.search(text) is None
