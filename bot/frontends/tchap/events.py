"""Reading Matrix events: pure functions over the event's JSON, testable without a homeserver.

- :func:`read_message` turns an ``m.room.message`` into an :class:`Incoming` (or None for what
  the bot never answers: its own messages, notices and other bots' messages, edits, empty text);
- :func:`conversation_key` keys a conversation: ``(room_id, thread root)`` in rooms, ``(room_id,)``
  in DMs; the answering call receives it (follow-ups will use it);
- :func:`mentions_bot` and :func:`question_text` find and remove the mention of the bot;
- :func:`parse_command` reads ``!beta``, ``!eligibilite``, ``!aide``;
- :func:`vote_of` reads a 👍/👎 ``m.reaction``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.answering.text import fold

JsonDict = dict[str, object]
ConversationKey = tuple[str, ...]

THUMBS_UP = frozenset({"👍", "👍️", "+1", ":+1:", "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿"})
THUMBS_DOWN = frozenset({"👎", "👎️", "-1", ":-1:", "👎🏻", "👎🏼", "👎🏽", "👎🏾", "👎🏿"})
COMMANDS = {
    "!beta": "beta",
    "!eligibilite": "eligibilite",
    "!eligibility": "eligibilite",
    "!aide": "aide",
    "!help": "aide",
}
MAX_TEXT = 4000

_REPLY_FALLBACK = re.compile(r"\A(?:>[^\n]*\n)+\n?")
_MX_REPLY = re.compile(r"<mx-reply>.*?</mx-reply>", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class Incoming:
    """A person's text message, as the handlers need it."""

    room_id: str
    event_id: str
    sender: str
    body: str  # the text without a reply fallback
    thread_root: str | None  # the thread it was written in, if any
    mentions: bool  # it mentions the bot
    is_dm: bool

    @property
    def key(self) -> ConversationKey:
        return conversation_key(self.room_id, self.is_dm, self.event_id, self.thread_root)

    @property
    def reply_root(self) -> str | None:
        """Where the bot answers: in rooms, the thread (started on the message when it is not in
        one); in DMs, in the conversation itself unless the person wrote in a thread."""
        if self.is_dm:
            return self.thread_root
        return self.thread_root or self.event_id


def conversation_key(
    room_id: str, is_dm: bool, event_id: str, thread_root: str | None
) -> ConversationKey:
    """``(room_id, thread root)`` for a room (the message starts a thread when not in one),
    ``(room_id,)`` for a DM (one conversation, threads included)."""
    if is_dm:
        return (room_id,)
    return (room_id, thread_root or event_id)


def relation(content: JsonDict) -> JsonDict:
    rel = content.get("m.relates_to")
    return rel if isinstance(rel, dict) else {}


def is_edit(content: JsonDict) -> bool:
    return relation(content).get("rel_type") == "m.replace" or "m.new_content" in content


def thread_root(content: JsonDict) -> str | None:
    rel = relation(content)
    if rel.get("rel_type") == "m.thread" and isinstance(rel.get("event_id"), str):
        return str(rel["event_id"])
    return None


def strip_reply_fallback(body: str) -> str:
    """The text without the quoted ``> <@user> ...`` lines a reply starts with."""
    return _REPLY_FALLBACK.sub("", body)


def _name_pattern(name: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w@])@?" + re.escape(name) + r"(?![\w])", re.IGNORECASE)


def mentions_bot(content: JsonDict, user_id: str, display_name: str | None) -> bool:
    """The message mentions the bot: in ``m.mentions``, a pill in the HTML, or its user id or
    display name in the text."""
    mentions = content.get("m.mentions")
    if isinstance(mentions, dict):
        ids = mentions.get("user_ids")
        if isinstance(ids, list) and user_id in ids:
            return True
    body = strip_reply_fallback(str(content.get("body") or ""))
    html = _MX_REPLY.sub("", str(content.get("formatted_body") or ""))
    if f"matrix.to/#/{user_id}" in html or user_id.lower() in body.lower():
        return True
    return bool(display_name) and _name_pattern(str(display_name)).search(body) is not None


def question_text(body: str, user_id: str, display_name: str | None) -> str:
    """The question without the bot's mention (its user id or display name)."""
    text = strip_reply_fallback(body)
    for name in sorted({user_id, *([display_name] if display_name else [])}, key=len, reverse=True):
        text = _name_pattern(name).sub(" ", text)
    text = re.sub(r"^[\s,:;]+", "", text)
    return " ".join(text.split())[:MAX_TEXT]


def parse_command(text: str) -> tuple[str, str] | None:
    """``("beta"|"eligibilite"|"aide", rest)`` for a ``!command``; None for anything else."""
    text = text.strip()
    if not text.startswith("!"):
        return None
    word, _, rest = text.partition(" ")
    name = COMMANDS.get(fold(word).lower())
    if name is None:
        return None
    return name, rest.strip()


def read_message(
    event: JsonDict,
    room_id: str,
    *,
    bot_user_id: str,
    display_name: str | None,
    is_dm: bool,
) -> Incoming | None:
    """A person's new text message, or None when the bot must not react to it (its own
    messages, notices and other bots', emotes, edits, redactions, empty or malformed)."""
    if event.get("type") != "m.room.message":
        return None
    sender = event.get("sender")
    event_id = event.get("event_id")
    content = event.get("content")
    if (
        not isinstance(sender, str)
        or not isinstance(event_id, str)
        or not isinstance(content, dict)
    ):
        return None
    if sender == bot_user_id or content.get("msgtype") != "m.text":
        return None  # m.notice is what bots send; emotes, files, ... are not questions
    unsigned = event.get("unsigned")
    if is_edit(content) or (isinstance(unsigned, dict) and "redacted_because" in unsigned):
        return None
    body = content.get("body")
    if not isinstance(body, str) or not body.strip():
        return None
    return Incoming(
        room_id=room_id,
        event_id=event_id,
        sender=sender,
        body=strip_reply_fallback(body)[:MAX_TEXT],
        thread_root=thread_root(content),
        mentions=mentions_bot(content, bot_user_id, display_name),
        is_dm=is_dm,
    )


def vote_of(event: JsonDict, bot_user_id: str) -> tuple[str, int] | None:
    """``(the reacted event id, +1 | -1)`` for a 👍/👎 reaction by someone else; else None."""
    if event.get("type") != "m.reaction" or event.get("sender") == bot_user_id:
        return None
    content = event.get("content")
    rel = relation(content) if isinstance(content, dict) else {}
    if rel.get("rel_type") != "m.annotation" or not isinstance(rel.get("event_id"), str):
        return None
    key = str(rel.get("key") or "").strip()
    if key in THUMBS_UP:
        return str(rel["event_id"]), 1
    if key in THUMBS_DOWN:
        return str(rel["event_id"]), -1
    return None


_MXID = re.compile(r"[@\uff20][^\s:@]+:[\w.\-]+(?::\d+)?")


def without_user_ids(text: str) -> str:
    """The text with Matrix user ids (``@jean:serveur``) removed, before anything is stored."""
    return _MXID.sub(" ", text)


def server_of(user_id: str) -> str:
    return user_id.split(":", 1)[1].lower() if ":" in user_id else ""
