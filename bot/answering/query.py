"""The question as the pipeline reads it: markup out, and the sentence that asks, found
inside a long message ("Bonjour, je suis intra au ministère X, on a eu un souci... Combien
dure la construction ?")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.answering.text import deaccent, fold, strip_slack, words

# A long message is one with more content than a question needs; shorter ones are used whole.
LONG_WORDS = 18
# Where a sentence ends: a full stop, ! or ? before a space (not the dots of "beta.gouv.fr"),
# a line break, or an emoji shortcode (":tada:"), which ends a thought in chat.
_BOUNDARY = re.compile(r"(?<=[.!?])\s+|\n+|\s*:[a-z0-9_+'-]+:\s*")
_OPENERS = frozenset(
    """
    combien quand qui quoi quel quelle quels quelles comment ou pourquoi est-ce est-il
    what how who when which where why is are can could do does should will would
    """.split()
)
_ASKING = re.compile(
    r"\b(?:c est quoi|c est qui|ca dure|y a-t-il|existe-t-il|je cherche|je voudrais savoir|"
    r"savez-vous|vous savez|tu sais|any idea|i am looking for|i m looking for)\b"
)


# Where a message says who writes it, up to the clause's end: "je suis intra à la Fabrique X",
# "je bosse sur Y", "I work at Z".
_SELF_INTRO = re.compile(
    r"\b(?:je suis|je bosse|je travaille|j[' ]interviens|je viens d[' ]arriver|je fais partie|"
    r"i am|i[' ]m|i work)\b(?:(?! et | and | mais | but )[^.,!?;\n])*"
)
# How a question speaks of the writer's own service or incubator: "notre incubateur", "on en
# est où", "our service".
_OWN = re.compile(
    r"\b(?:notre|nos|chez nous|on est|on en est|nous sommes|our|we are|we re)\b"
    # asked for the writer: "nous accompagner", "pour nous", "help us"
    r"|\b(?:nous|me|m|us)\s+(?:accompagner|aider|suivre|incuber|prendre|conseiller|help|support"
    r"|host|guide)\b|\b(?:pour|for)\s+(?:nous|moi|us|me)\b"
)


# The verb of a self-introduction ("je travaille à", "on bosse sur", "I work at"): how people
# say where they are, not what they ask about ("travail" is not France Travail).
_WORKING = re.compile(
    r"\b(?:je|j|on|nous|i|we)\s+(?:travaille|travaillons|bosse|bossons|work|am working)\b",
    re.IGNORECASE,
)


def without_working(text: str) -> str:
    """``text`` without the verb its writer says where they work with."""
    return _WORKING.sub(" ", text)


def introduced(text: str) -> str:
    """The clauses of ``text`` (folded) where its writer says who they are."""
    return " ".join(m.group(0) for m in _SELF_INTRO.finditer(fold(text)))


def speaks_of_own(text: str) -> bool:
    """Whether ``text`` asks about the writer's own service or incubator, or for the writer."""
    return bool(_OWN.search(fold(text)))


# A question that points back at a thing its message named before it: "cette phase", "ce
# programme", "this scheme".
_POINTS_BACK = re.compile(
    r"\b(?:ce|cet|cette|ces|this|that) (?:phase|etape|programme|dispositif|appel|"
    r"accompagnement|formation|comite|scheme|programme|call|stage|step|training|committee)s?\b"
)
# So does whom one writes to, said by a pronoun ("une adresse pour leur écrire ?", "how do I
# reach them?"), in a sentence that names nobody itself (no capitalised name after its start).
_WRITES_TO_THEM = re.compile(
    r"\b(?:leur|lui|les|la|le) (?:ecrire|contacter|joindre|envoyer|parler|poser|ecris|contacte)\b"
    r"|\b(?:contact|reach|write to|email|e-mail|ask|call) (?:them|him|her)\b"
)


def _points_back(sentence: str) -> bool:
    """Whether an asking sentence is about what the sentence before it names."""
    folded = fold(sentence)
    if _POINTS_BACK.search(folded):
        return True
    names = any(w[:1].isupper() and w != "I" for w in sentence.split()[1:])
    return not names and bool(_WRITES_TO_THEM.search(folded))


# Words a message opens with to say a new question starts: "autre question :", "sinon,",
# "by the way, ...": they say nothing of the subject.
NEW_TOPIC = re.compile(
    r"^(?:(?:\w+\s+){0,2}(?:sinon|autre question|autre chose|autre sujet|rien a voir|"
    r"changement de sujet|changeons de sujet|nouvelle question|petite question|question bete|"
    r"by the way|btw|unrelated|different (?:topic|question|subject)|another (?:question|thing|topic)|"
    r"on another (?:note|topic)|side question|new question|also unrelated|"
    r"separate (?:question|topic|thing)|other question|off topic|hors sujet|question a part|"
    r"autre point|autre truc))\b"
)


# ... and, to be left out of the question, said first (after two words at most) and set apart
# by a punctuation mark or a "mais": "autre question : ...", "ok, different topic: ...",
# "désolé question bête mais ..." (not "is it unrelated to the FAST?", "on peut sinon
# candidater ?")
_ANNOUNCEMENT = re.compile(
    r"^\W*(?:[\w']+\W+){0,2}?"
    + NEW_TOPIC.pattern.removeprefix("^(?:(?:\\w+\\s+){0,2}").removesuffix(")\\b")
    + r"(?:\s+(?:bete|rapide|idiote))?(?:\s*[:,;.!\u2014\u2013-]+\s*|\s+(?:mais|but)\s+)",
    re.IGNORECASE,
)


def without_announcement(text: str) -> str:
    """``text`` without the words announcing a new question ("autre question : c'est quoi le
    mail général ?" -> "c'est quoi le mail général ?"); unchanged when nothing follows them."""
    plain = deaccent(text)
    found = _ANNOUNCEMENT.match(plain) if len(plain) == len(text) else None
    if found is None:
        return text
    rest = text[found.end() :]
    return rest if words(rest) else text


@dataclass(frozen=True)
class Query:
    """``text``: the whole message without markup; ``focus``: the sentences that ask (the
    whole text for a short message, or when no sentence reads as a question)."""

    raw: str
    text: str
    focus: str

    @property
    def focused(self) -> bool:
        return self.focus != self.text


def is_question(sentence: str) -> bool:
    s = sentence.strip()
    if s.endswith("?"):
        return True
    folded = fold(s)
    first = folded.split(" ", 1)[0] if folded else ""
    return first in _OPENERS or bool(_ASKING.search(folded))


def sentences(text: str) -> list[str]:
    """The sentences of a text, as written."""
    return [s for part in _BOUNDARY.split(text) if (s := part.strip())]


def sentences_of(query: Query) -> list[str]:
    """The sentences of a long message (none for a short one: it is read whole)."""
    if len(words(query.text)) <= LONG_WORDS:
        return []
    found = sentences(query.text)
    return found if len(found) > 1 else []


def parse(raw: str) -> Query:
    text = without_announcement(strip_slack(raw).strip())
    if len(words(text)) <= LONG_WORDS:
        return Query(raw, text, text)
    found = sentences(text)
    asking = [s for s in found if is_question(s)]
    if any(s.endswith("?") for s in found):
        # who writes question marks marks every question: "Quand on doit désigner un expert,
        # beaucoup refusent." is a statement
        asking = [s for s in asking if s.endswith("?") or _ASKING.search(fold(s))]
    if not asking or len(asking) == len(found):
        return Query(raw, text, text)
    first = found.index(asking[0])
    if first > 0 and _points_back(asking[0]):
        # "on me propose de porter une investigation. Ça dure combien, cette phase ?": the
        # sentence before says which phase
        asking = [found[first - 1], *asking]
    return Query(raw, text, " ".join(asking))


# Where a question's second ask starts: a new question sentence, or "et"/"and" before a
# question word ("combien de temps, et c'est pour qui ?").
_ASK_SPLIT = re.compile(
    r"(?<=\?)\s+|[,;]?\s+(?:et|and|puis|also)\s+(?=(?:c est|c'est|qui|quand|comment|combien|"
    r"ou|où|quel|quelle|quels|quelles|ca|ça|il|elle|ils|elles|on|y a|est-ce|pour qui|"
    r"what|how|who|when|which|where|is|are|does|do|can|should|will)\b)"
    # ", et je dois le libérer combien de jours ?": a clause after a comma that asks further on
    r"|[,;]\s+(?:et|and)\s+(?=[^?.!,;]*\b(?:combien|quand|comment|quel|quelle|quels|quelles|où|"
    r"how|what|when|which|where)\b[^.!]*\?)",
    re.IGNORECASE,
)


def asks(text: str) -> list[str]:
    """The asks of a question, in order ("X dure combien de temps et c'est pour qui ?" ->
    two): each new question sentence, or "et"/"and" before a question word."""
    return [p.strip() for p in _ASK_SPLIT.split(text) if p and len(p.strip()) > 3]
