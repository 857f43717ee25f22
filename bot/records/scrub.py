"""The personal-data scrubber: what the bot keeps of a question holds nobody's data.

:func:`scrub` runs before anything is stored (unanswered questions, feedback). In time linear in
the text's length (every pattern scans forward without nested repetition), it removes:

- chat markup and user ids: ``<@U123>``, ``<@U123|jean>``, ``<!here>`` (via
  :func:`bot.answering.text.strip_slack`), bare Slack ids in any case (``U012ABCDEF3``,
  ``u012abcdef3``), Matrix ids (``@jean:tchap.gouv.fr``), ``@jean.dupont``;
- e-mail addresses, plain or obfuscated (``jean(at)exemple.fr``, ``jean [at] exemple [dot] fr``,
  ``jean at exemple.fr``, ``jean arobase exemple.fr``);
- IBANs (``FR76 3000 6000 0112 3456 7890 189``, any country, grouped or not), French social
  security numbers (NIR, ``1 85 05 78 006 084 36``, Corsican ``2A``/``2B`` included);
- phone numbers in the common French and international shapes (``06 12 34 56 78``,
  ``06.12.34.56.78``, ``+33 (0)6 12 34 56 78``, ``(0)6 12 34 56 78``, ``0033 6 ...``,
  ``+1 (555) 123-4567``) and any other long number.

Then person names: the question is kept as written only when it holds the programme's words
(:func:`programme_words`) and no capitalised name pair ("Jean Dupont", "Bonjour Camille");
otherwise the words that could name someone become ``[...]`` (:func:`redacted`): capitalised
words inside the question and rare words; the programme's words, grammatical words and everyday
words in lower case stay.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from bot.answering.text import STOP_WORDS, strip_slack, tokens

MAX_TEXT = 4000  # characters looked at: longer texts are cut first
REDACTED = "[...]"

_SEP = r"[ .\-/\u00a0\u202f]"
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ \-\u00a0]?[A-Za-z0-9]{4}){2,7}"
    r"(?:[ \-\u00a0]?[A-Za-z0-9]{1,3})?(?![A-Za-z0-9])"
)
_NIR = re.compile(
    rf"(?<![A-Za-z0-9])[1278]{_SEP}?\d{{2}}{_SEP}?\d{{2}}{_SEP}?(?:\d{{2}}|2[ABab])"
    rf"{_SEP}?\d{{3}}{_SEP}?\d{{3}}(?:{_SEP}?\d{{2}})?(?![A-Za-z0-9])"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_AT_WORD = r"(?:at|arobase|chez)"
_DOT_WORD = r"(?:dot|point)"
_OBFUSCATED_EMAIL = re.compile(
    r"(?<![\w.+-])([\w.+-]+)\s*"
    rf"(?:[(\[{{<]\s*(?:{_AT_WORD}|@)\s*[)\]}}>]|\s{_AT_WORD}\s|@)"
    r"\s*[\w-]+"
    rf"(?:\s*(?:[(\[{{<]\s*(?:{_DOT_WORD}|\.)\s*[)\]}}>]|\s{_DOT_WORD}\s|\.)\s*[\w-]+)+",
    re.IGNORECASE,
)
_MATRIX_ID = re.compile(r"@[\w.=/+-]+:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::\d+)?")
_SLACK_ID = re.compile(
    r"(?<![A-Za-z0-9])[UWBCGDTEuwbcgdte](?=[A-Za-z0-9]*\d)[A-Za-z0-9]{8,}(?![A-Za-z0-9])"
)
_AT_NAME = re.compile(r"(?<![\w.])[@\uff20]\u2060?[\w.\-]+")
# A run of digits with single separators and parenthesised groups: phones, ids, card numbers.
_DIGITS = re.compile(
    rf"(?<![\w+])\+?(?:\(\d{{1,4}}\){_SEP}?)*\d(?:{_SEP}{{0,2}}(?:\(\d{{1,4}}\){_SEP}?)?\d)*"
)
_DATE = re.compile(
    r"^(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}|\d{4} ?[-/] ?\d{4})$"
)
_WORD = re.compile(r"\S+")
_EDGE = re.compile(r"^[^\w]+|[^\w]+$")


def _iban(m: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in m.group(0))
    return " [iban] " if digits >= 10 else m.group(0)


def _email(m: re.Match[str]) -> str:
    local = m.group(1).lower()
    if local in STOP_WORDS:
        return m.group(0)  # "is at beta.gouv.fr": words, not an address
    return " [email] "


def _number(m: re.Match[str]) -> str:
    run = m.group(0)
    digits = sum(c.isdigit() for c in run)
    longest = max(len(x) for x in re.findall(r"\d+", run))
    if _DATE.match(run.strip()):
        return run
    if digits >= 8 and (run.startswith(("+", "0", "(")) and digits <= 15):
        return " [telephone] "
    if digits >= 8 or longest >= 6:
        return " [numero] "
    return run


def scrub_identifiers(text: str) -> str:
    """``text`` without ids, addresses and numbers that point at a person (names are left)."""
    text = strip_slack(str(text)[:MAX_TEXT])
    text = _IBAN.sub(_iban, text)
    text = _NIR.sub(" [numero] ", text)
    text = _EMAIL.sub(" [email] ", text)
    text = _OBFUSCATED_EMAIL.sub(_email, text)
    text = _MATRIX_ID.sub(" ", text)
    text = _SLACK_ID.sub(" ", text)
    text = _AT_NAME.sub(" ", text)
    text = _DIGITS.sub(_number, text)
    return " ".join(text.split())


def _bare(word: str) -> str:
    return _EDGE.sub("", word)


def _is_capitalised(word: str) -> bool:
    """ "Jean", "Dupont", "Jean-Pierre", "D'Artagnan": a capital, then lower case letters."""
    letters = [c for c in word if c.isalpha()]
    return (
        len(letters) >= 2
        and letters[0].isupper()
        and any(c.islower() for c in letters[1:])
        and not any(c.isupper() for c in letters[1:2])
    )


def _ours(word: str, vocabulary: frozenset[str]) -> bool:
    found = tokens(word, keep_stop=True)
    return bool(found) and all(w in vocabulary for w in found)


def _grammatical(word: str) -> bool:
    """A stop word ("le", "combien", "bonjour"), whatever its case."""
    return bool(tokens(word, keep_stop=True)) and not tokens(word)


def _name_pairs(words: list[str], vocabulary: frozenset[str]) -> set[int]:
    """Indices of the words in capitalised pairs that hold a word neither the programme's nor
    grammatical ("Jean Dupont", "Bonjour Camille")."""
    found: set[int] = set()
    for i, (first, second) in enumerate(itertools.pairwise(words)):
        if not (_is_capitalised(first) and _is_capitalised(second)):
            continue
        if any(not _ours(w, vocabulary) and not _grammatical(w) for w in (first, second)):
            found.update((i, i + 1))
    return found


def has_name_pair(text: str, vocabulary: frozenset[str]) -> bool:
    """Two capitalised words in a row, one of them neither the programme's nor grammatical."""
    return bool(_name_pairs([_bare(w) for w in _WORD.findall(text)], vocabulary))


def _everyday(word: str) -> bool:
    """Common in general French or English (wordfreq), as written (accents kept)."""
    from bot.answering.vocabulary import GENERAL_ZIPF, general_zipf

    return general_zipf(word.lower()) >= GENERAL_ZIPF


def redacted(text: str, vocabulary: frozenset[str]) -> str:
    """The question with every word that could name someone replaced by ``[...]``.

    Kept: placeholders, short numbers, the programme's words, grammatical words, and everyday
    words (wordfreq) written in lower case or opening the question. Capitalised words inside the
    question and rare words go ("tarte Tatin" -> "tarte [...]", "Jean Dupont" -> "[...]").
    """
    out: list[str] = []
    words = _WORD.findall(text)
    pairs = _name_pairs([_bare(w) for w in words], vocabulary)
    for index, word in enumerate(words):
        bare = _bare(word)
        keep = (
            not bare
            or word.startswith("[")
            or (bare.isdigit() and len(bare) <= 4)
            or _ours(bare, vocabulary)
            or _grammatical(bare)
            or (
                index not in pairs and (index == 0 or not _is_capitalised(bare)) and _everyday(bare)
            )
        )
        piece = word if keep else REDACTED
        if piece == REDACTED and out and out[-1] == REDACTED:
            continue
        out.append(piece)
    return " ".join(out)


def scrub(text: str, vocabulary: Iterable[str] | None = None) -> str:
    """What may be stored of ``text``: identifiers removed, and the question kept as written only
    when it holds the programme's words and no capitalised name pair (otherwise
    :func:`redacted`). ``vocabulary`` is the programme's words as search stems (default:
    :func:`programme_words` of the project's knowledge)."""
    words = frozenset(vocabulary) if vocabulary is not None else programme_words()
    clean = scrub_identifiers(text)
    holds_ours = any(w in words for w in tokens(clean))
    if holds_ours and not has_name_pair(clean, words):
        return clean
    return redacted(clean, words)


@lru_cache(maxsize=4)
def programme_words(knowledge_dir: Path | None = None) -> frozenset[str]:
    """The programme's words (search stems of four letters or more) computed from the knowledge
    folder: the titles and aliases of its pages and sections, and the titles, aliases and
    criteria of its schemes. Empty when the folder cannot be read, in which case every question
    is stored in its redacted form."""
    from bot.eligibility.schemes import check_schemes, load_schemes
    from bot.errors import BotError
    from bot.knowledge.pages import check_knowledge
    from bot.settings import DEFAULT_KNOWLEDGE_DIR

    root = Path(knowledge_dir or DEFAULT_KNOWLEDGE_DIR)
    knowledge, _problems = check_knowledge(root)
    texts: list[str] = []
    for page in knowledge.pages:
        texts.extend((page.title, *page.aliases))
        for section in page.sections:
            texts.extend((section.title, *section.aliases))
    try:
        if not check_schemes(root / "schemes"):
            for scheme in load_schemes(root / "schemes").values():
                texts.extend((scheme.title, scheme.short, *scheme.aliases))
                texts.extend(c.label for c in scheme.criteria)
    except BotError:
        pass
    return frozenset(w for text in texts for w in tokens(text) if len(w) >= 4)
