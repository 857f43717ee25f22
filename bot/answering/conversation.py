"""Conversations: a follow-up that names no subject continues the previous turn's.

"c'est quoi la phase de construction ?" then "et ça dure combien ?": the second turn inherits
the subject (the construction page). "combien dure l'investigation ?" then "et pour la
construction ?": the second names a new subject and inherits what was asked (a duration).
A turn also remembers the entities its answer introduced (a service's incubator, a page the
answer names), so that "et cet incubateur ?" or "the incubator in question" reaches the last
one of that kind. A message that stands on its own is answered on its own, and an off-topic
follow-up is still declined.

Context lives in memory only (:class:`Conversations`: bounded, least recently used evicted,
expired after :data:`TTL_S` of silence); nothing of it is written anywhere.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from bot.answering.query import NEW_TOPIC as _NEW_TOPIC
from bot.answering.text import SLANG, STOP_WORDS, fold, words

TURNS = 4  # turns kept per conversation
CONVERSATIONS = 5000  # conversations kept in all
TTL_S = 30 * 60.0  # a conversation silent this long is forgotten
FOLLOWUP_WORDS = 14  # longer messages stand on their own
ENTITIES = 6  # entities kept per turn (its subject, then those its answer introduced)

# How a follow-up opens ("et pour…", "what about…") or refers back ("ça", "son", "its").
_OPENING = re.compile(
    r"^(?:et|and|mais|but|ok|d accord|merci|thanks|so|alors|donc)\b|^(?:what|how) about\b"
    r"|\b(?:du coup|en question|dans ce cas|in that case)\b"
)
# How a message says it changes the subject ("sinon, …", "autre question : …", "by the way,
# …", "different topic: …"): it is answered on its own.
SHORT_WORDS = 6  # a question this short, in a thread, continues it unless it names its subject
_REFERRING = frozenset(
    """
    ca cela celle celui ceux celles elle elles il ils son sa ses leur leurs lui eux
    it its they their them
    """.split()
)
# "le site, il dépose des cookies ?", "le FAST ça dure combien ?": a French subject pronoun
# right after a noun takes that noun up, as spoken French does; it does not point back.
_TAKING_UP = frozenset("ca cela elle elles il ils".split())
_INTRODUCING = frozenset("celui celle ceux celles".split())
_OF = frozenset("de du des d".split())
# "il fait beau", "il faut", "it's raining": a pronoun that stands for nothing said before.
_IMPERSONAL = re.compile(
    r"\b(?:il|it)\s+(?:fait|fera|faisait|pleut|pleuvra|neige|y a|faut|faudra|s agit|"
    r"rains|snows|is raining|is sunny|s raining|s sunny)\b"
)
_MARKERS = frozenset(
    "et and pour about what how mais but sinon cote niveau ok alors".split()
    # question words say what is asked, not what about
    + """lequel laquelle lesquels lesquelles duquel auquel quoi quel quelle quels quelles
    combien quand comment pourquoi which whom whose when why where""".split()
)

# The nouns by which a follow-up names an entity by its kind ("cet incubateur", "la startup",
# "this programme"), by the kind of entity they name (a page's kind from its front matter).
KIND_NOUNS: dict[str, frozenset[str]] = {
    "startup": frozenset(
        """startup startups service services produit produits se appli application outil
        outils plateforme logiciel simulateur product tool app platform website""".split()
    ),
    "incubator": frozenset(
        "incubateur incubateurs incubator incubators fabrique lab labo laboratoire".split()
    ),
    "phase": frozenset("phase etape stage".split()),
    "programme": frozenset("programme dispositif program scheme fonds fund formation".split()),
    "eligibility": frozenset("programme dispositif program scheme fonds fund".split()),
}
# every noun that names an entity by its kind
KIND_WORDS = frozenset(n for ns in KIND_NOUNS.values() for n in ns)
_ALL_NOUNS = sorted(KIND_WORDS, key=len, reverse=True)
_NOUN = r"(?P<noun>[a-z]{2,})"
# "cet incubateur", "this programme": a demonstrative always points back.
_DEMONSTRATIVE = re.compile(rf"\b(?:ce|cet|cette|ces|this|that|these|those)\s+{_NOUN}\b")
# "l'incubateur en question", "the service mentioned": so does a definite noun said to be known.
_MENTIONED = re.compile(
    rf"\b(?:le|la|l|les|the)\s+{_NOUN}\s+(?:en question|dont on parle|dont tu parles|"
    r"dont vous parlez|mentionne\w*|cite\w*|in question|mentioned|you mentioned)\b"
)
# "et l'incubateur, il a quel mail ?": a definite noun points back when the last answer
# introduced an entity of that kind.
# So does a possessive ("son incubateur", "their incubator"): the subject's own.
_DEFINITE = re.compile(rf"\b(?:le|la|l|les|the|son|sa|ses|leur|leurs|its|their)\s+{_NOUN}\b")
_RAW_WORDS = re.compile(r"[a-z0-9]+")
# Words after "ce"/"that" that make it a pronoun, beyond the stop words ("ce dont on parle")
_PRONOUN_AFTER = frozenset("dont lequel laquelle lesquels lesquelles".split())


@dataclass(frozen=True)
class Entity:
    """Something a turn was about or its answer introduced: a service, an incubator or a page.

    ``kind`` is "startup", "incubator" or the page's kind ("phase", "programme"...); ``name``
    the words that name it in a question; ``noun`` the head noun of its title, by which it can
    be referred to as well ("le comité" for "Le comité d'investissement")."""

    kind: str
    id: str
    name: str
    noun: str = ""

    def called(self, noun: str) -> bool:
        return noun in KIND_NOUNS.get(self.kind, frozenset()) or noun == self.noun


@dataclass(frozen=True)
class Turn:
    """What one turn was about: its subject (a service, an incubator or a page) as the words
    that name it, what it asked (the question without its subject's words), and the entities
    its answer named (the subject's first)."""

    subject: str
    asked: str
    answered: bool
    entities: tuple[Entity, ...] = ()


@dataclass
class Conversation:
    turns: deque[Turn] = field(default_factory=lambda: deque(maxlen=TURNS))
    seen: float = field(default_factory=time.monotonic)

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    @property
    def current(self) -> Turn | None:
        """The last turn that was answered about something: a declined turn in between does
        not end the subject ("…?" declined, then "et qui décide ?" still continues it)."""
        for turn in reversed(self.turns):
            if turn.answered and turn.subject:
                return turn
        return None

    def add(self, turn: Turn) -> None:
        self.turns.append(turn)
        self.seen = time.monotonic()

    def entity(self, noun: str, *, last_only: bool = False) -> Entity | None:
        """The last entity called ``noun`` ("incubateur") that an answer named, most recent
        turn first, and in a turn its subject first ("cette phase" after the construction's
        page is the construction, not the phase its answer says comes next); ``last_only``:
        in the last answered turn only."""
        turns = [t for t in reversed(self.turns) if t.answered]
        for turn in turns[:1] if last_only else turns:
            for found in turn.entities:
                if found.called(noun):
                    return found
        return None


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


def changes_subject(text: str) -> bool:
    """ "sinon, c'est quoi le FAST ?", "autre question : …", "by the way, …": a message that
    says it starts a new subject (and has one of its own)."""
    said = " ".join(words(text))
    found = _NEW_TOPIC.search(said)
    if found is None:
        return False
    rest = said[found.end() :]
    return bool(content_words(rest)) and not _points_back_first(rest)


def _points_back_first(text: str) -> bool:
    """Whether a pronoun comes before anything ``text`` names: "sinon elle dure combien ?"
    points back; "unrelated: there was a programme called Gamma, what was its email?" names
    its own subject first."""
    folded = _IMPERSONAL.sub(" ", " ".join(words(text)))
    for w in folded.split():
        if w in _REFERRING:
            return True
        if _is_content(w):
            return False
    return False


def is_followup(text: str) -> bool:
    """A short message that opens like a follow-up or refers back to something said."""
    folded = fold(text)
    ws = words(text)
    if not ws or len(ws) > FOLLOWUP_WORDS or changes_subject(text):
        return False
    return bool(_OPENING.search(folded)) or refers_back(text) or len(ws) <= SHORT_WORDS


def is_short(text: str) -> bool:
    """Short enough to be a turn of a conversation rather than a question of its own."""
    return 0 < len(words(text)) <= FOLLOWUP_WORDS


def opens_as_followup(text: str) -> bool:
    """ "et pour…", "what about…", "du coup…": a message that continues, whatever it names."""
    return bool(_OPENING.search(fold(text)))


def refers_back(text: str) -> bool:
    """A pronoun standing for what was just discussed ("elle", "son", "leur", "its"); the
    impersonal "il" of "il fait beau" or "il faut" stands for nothing."""
    folded = _IMPERSONAL.sub(" ", " ".join(words(text)))
    named = False  # the word before is a noun the pronoun takes up
    said = folded.split()
    for i, w in enumerate(said):
        following = said[i + 1] if i + 1 < len(said) else ""
        if (
            w in _REFERRING
            and not (named and w in _TAKING_UP)
            # "celui du ministère de la Culture" introduces what it names
            and not (w in _INTRODUCING and following in _OF)
        ):
            return True
        named = _is_content(w)
    return False


_ORDINALS = {
    "premier": 0, "premiere": 0, "1er": 0, "1ere": 0, "first": 0,
    "deuxieme": 1, "seconde": 1, "second": 1, "2e": 1, "2eme": 1,
    "troisieme": 2, "third": 2, "3e": 2, "3eme": 2,
    "quatrieme": 3, "fourth": 3, "4e": 3, "4eme": 3,
    "dernier": -1, "derniere": -1, "last": -1,
}  # fmt: skip
# "la première elle dure combien ?", "and the last one?": an item of the list an answer gave,
# by its rank (not "la première saison de Gamma", which names its own thing)
_ORDINAL = re.compile(
    r"\b(?:la|le|l|the)\s+(?P<rank>" + "|".join(_ORDINALS) + r")\b"
    r"(?:\s+(?:one|phase|etape|step|stage))?"
    # then nothing, or what is asked of it ("elle dure", "ça coûte", "who decides"): not a
    # noun of its own ("la première fois", "la première saison de Gamma")
    r"(?=\s*$|\s+(?:elle|il|elles|ils|ca|c|on|se|est|dure|coute|and|it|who|how|what|when|"
    r"which|where|lasts|takes|qui|que|quoi|combien|comment|quand|ou|aussi|alors)\b)"
)


def ordinal_reference(text: str) -> tuple[int, str] | None:
    """The rank of the listed item ``text`` points at (0 first, -1 last) and the text without
    the words that do it, or None."""
    folded = " ".join(_RAW_WORDS.findall(fold(text).replace("'", " ")))
    found = _ORDINAL.search(folded)
    if found is None:
        return None
    rest = folded[: found.start()] + folded[found.end() :]
    return _ORDINALS[found.group("rank")], " ".join(rest.split())


def kind_reference(text: str) -> tuple[str, str, bool] | None:
    """How ``text`` names an entity by its kind: (the noun, the text without the words that
    do it, whether those words point back by themselves: a demonstrative or "en question"),
    or None.

    "l'incubateur en question il a quel mail ?" -> ("incubateur", "il a quel mail", True);
    "et la startup, elle a quel mail ?" -> ("startup", "et elle a quel mail", False)."""
    raw = _RAW_WORDS.findall(fold(text).replace("'", " ").replace("\u2019", " "))
    folded = " ".join(SLANG.get(w, w) for w in raw)  # "l'incub" is "l'incubateur"
    for pattern, pointing in ((_MENTIONED, True), (_DEMONSTRATIVE, True), (_DEFINITE, False)):
        for m in pattern.finditer(folded):
            noun = m.group("noun")
            if noun not in KIND_WORDS and (noun in STOP_WORDS or noun in _PRONOUN_AFTER):
                continue  # "ce qui se passe", "that is": a pronoun, not "ce programme"
            if noun in _ALL_NOUNS or pointing:
                rest = folded[: m.start()] + folded[m.end() :]
                return noun, " ".join(rest.split()), pointing
    return None


def content_words(text: str) -> list[str]:
    """The words that carry meaning: no stop words, no follow-up markers ("du coup")."""
    folded = _OPENING.sub(" ", " ".join(words(text)))
    return [w for w in folded.split() if _is_content(w)]


def _is_content(word: str) -> bool:
    """A word that carries meaning (see :func:`content_words`)."""
    return word not in STOP_WORDS and word not in _MARKERS and len(word) > 2


def without(text: str, name: str) -> str:
    """``text`` without the words of ``name`` (what was asked of a subject)."""
    # the kind of entity stays: "l'adresse de l'incubateur X" asks an incubator's address
    drop = set(words(name)) - KIND_WORDS
    # the question marks stay: "il est où ?" asks a place, "il est où dans le cycle" does not
    parts = [" ".join(w for w in words(part) if w not in drop) for part in text.split("?")]
    return " ? ".join(parts).strip()
