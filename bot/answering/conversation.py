"""Conversations: a follow-up that names no subject continues the previous turn's.

"c'est quoi la phase de construction ?" then "et ça dure combien ?": the second turn inherits
the subject (the construction page). "combien dure l'investigation ?" then "et pour la
construction ?": the second names a new subject and inherits what was asked (a duration).
A message that stands on its own is answered on its own, and an off-topic follow-up is
still declined.

Context lives in memory only (:class:`Conversations`: bounded, least recently used evicted,
expired after :data:`TTL_S` of silence); nothing of it is written anywhere.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from bot.answering.text import STOP_WORDS, fold, words

TURNS = 4  # turns kept per conversation
CONVERSATIONS = 5000  # conversations kept in all
TTL_S = 30 * 60.0  # a conversation silent this long is forgotten
FOLLOWUP_WORDS = 14  # longer messages stand on their own

# How a follow-up opens ("et pour…", "what about…") or refers back ("ça", "son", "its").
_OPENING = re.compile(
    r"^(?:et|and|mais|but|sinon|ok|d accord|merci|thanks|so|alors|donc)\b|^(?:what|how) about\b"
    r"|\b(?:du coup|en question|dans ce cas|in that case)\b"
)
SHORT_WORDS = 6  # a question this short, in a thread, continues it unless it names its subject
_REFERRING = frozenset(
    """
    ca cela celle celui ceux celles elle elles il ils son sa ses leur leurs lui eux
    it its they their them
    """.split()
)
_MARKERS = frozenset("et and pour about what how mais but sinon cote niveau ok alors".split())


@dataclass(frozen=True)
class Turn:
    """What one turn was about: its subject (a service, an incubator or a page) as the words
    that name it, and what it asked (the question without its subject's words)."""

    subject: str
    asked: str
    answered: bool


@dataclass
class Conversation:
    turns: deque[Turn] = field(default_factory=lambda: deque(maxlen=TURNS))
    seen: float = field(default_factory=time.monotonic)

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def add(self, turn: Turn) -> None:
        self.turns.append(turn)
        self.seen = time.monotonic()


class Conversations:
    """Conversations by key (a console session, a Slack or Matrix thread, a DM), in memory."""

    def __init__(self, limit: int = CONVERSATIONS, ttl_s: float = TTL_S) -> None:
        self.limit = limit
        self.ttl_s = ttl_s
        self._items: OrderedDict[str, Conversation] = OrderedDict()

    def get(self, key: str) -> Conversation:
        now = time.monotonic()
        found = self._items.pop(key, None)
        if found is None or now - found.seen > self.ttl_s:
            found = Conversation()
        self._items[key] = found
        while len(self._items) > self.limit:
            self._items.popitem(last=False)
        return found

    def __len__(self) -> int:
        return len(self._items)


def is_followup(text: str) -> bool:
    """A short message that opens like a follow-up or refers back to something said."""
    folded = fold(text)
    ws = words(text)
    if not ws or len(ws) > FOLLOWUP_WORDS:
        return False
    return bool(_OPENING.search(folded)) or refers_back(text) or len(ws) <= SHORT_WORDS


def opens_as_followup(text: str) -> bool:
    """ "et pour…", "what about…", "du coup…": a message that continues, whatever it names."""
    return bool(_OPENING.search(fold(text)))


def refers_back(text: str) -> bool:
    """A pronoun standing for what was just discussed ("elle", "son", "leur", "its")."""
    return any(w in _REFERRING for w in words(text))


def content_words(text: str) -> list[str]:
    """The words that carry meaning: no stop words, no follow-up markers."""
    return [w for w in words(text) if w not in STOP_WORDS and w not in _MARKERS and len(w) > 2]


def without(text: str, name: str) -> str:
    """``text`` without the words of ``name`` (what was asked of a subject)."""
    drop = set(words(name))
    return " ".join(w for w in words(text) if w not in drop)
