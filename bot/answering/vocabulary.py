"""The programme's vocabulary, computed from what the bot holds, not kept by hand.

A word is the programme's when our knowledge, the site's pages or the registry use it and it
is rare in general French and English (``wordfreq``'s Zipf frequency below
:data:`GENERAL_ZIPF`), or when it is part of a knowledge page's title and not among the most
common words (:data:`TITLE_ZIPF`: "investigation", "construction" are common words, but
naming a page makes them ours; "temps" or "service" stay everyday words).
A question none of whose words are the programme's is about something else unless it names
a service or a page outright.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import wordfreq

from bot.answering.text import tokens

GENERAL_ZIPF = 3.2  # about one use in 100,000 words: rarer than this is not everyday language
TITLE_ZIPF = 5.3  # a page title's word, unless it is among the commonest words
MIN_LENGTH = 4
OVERUSE = 2.0  # used 100 times more often in what the bot holds than in general language
MIN_OWN_ZIPF = 6.0  # ... and not a word met once in a small knowledge base
_RAW_WORD = re.compile(r"[^\W\d_]{3,}")


@lru_cache(maxsize=1)
def _frequencies() -> tuple[dict[str, float], dict[str, float]]:
    """General-language word frequencies (French, English), loaded once per process, and only
    when a word is not in the cache (:class:`ZipfCache`)."""
    return wordfreq.get_frequency_dict("fr"), wordfreq.get_frequency_dict("en")


def general_zipf(word: str) -> float:
    """How common ``word`` (lower case, accents kept) is in general French or English, on the
    Zipf scale (log10 of uses per billion words), the higher of both; 0 when unknown."""
    fr, en = _frequencies()
    freq = max(fr.get(word, 0.0), en.get(word, 0.0))
    return math.log10(freq * 1e9) if freq > 0 else 0.0


@lru_cache(maxsize=65536)
def english_zipf(word: str) -> float:
    """How common ``word`` is in general English (Zipf scale; 0 when unknown). Loads the
    English list only (about half the memory of both), the first time a word is asked."""
    return float(wordfreq.zipf_frequency(word, "en"))


class ZipfCache:
    """:func:`general_zipf` of the words the bot has met, kept in a file between runs so that
    a start does not load the frequency lists (a quarter of a second) for words it knows."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.zipf: dict[str, float] = {}
        self._dirty = False
        if path is not None:
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    self.zipf = {str(k): float(v) for k, v in loaded.items()}
            except (OSError, ValueError, TypeError):
                pass

    def __call__(self, word: str) -> float:
        found = self.zipf.get(word)
        if found is None:
            found = self.zipf[word] = general_zipf(word)
            self._dirty = True
        return found

    def save(self) -> None:
        if self.path is None or not self._dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.zipf, ensure_ascii=False), encoding="utf-8")
            tmp.replace(self.path)
            self._dirty = False
        except OSError:
            pass  # a cache that cannot be written only costs time


def _zipf_by_stem(
    texts: Iterable[str], zipf_of: ZipfCache
) -> tuple[dict[str, float], dict[str, float]]:
    """For every word of ``texts``, by search stem: the highest general Zipf of its written
    forms, and its own Zipf in ``texts`` (the same scale, counted here)."""
    general: dict[str, float] = {}
    stems: dict[str, str] = {}  # a written form -> its stem ("" for a stop word)
    counts: dict[str, int] = {}
    total = 0
    for text in texts:
        found = _RAW_WORD.findall(text.lower())
        total += len(found)
        for raw in found:
            key = stems.get(raw)
            if key is None:
                stem = tokens(raw)
                key = stems[raw] = stem[0] if stem else ""
                if key:
                    general[key] = max(general.get(key, -1.0), zipf_of(raw))
            if key:
                counts[key] = counts.get(key, 0) + 1
    own = {k: math.log10(c / max(total, 1) * 1e9) for k, c in counts.items()}
    return general, own


@dataclass(frozen=True)
class Vocabulary:
    """The programme's words, as search stems (see :func:`bot.answering.text.tokens`), and how
    common in general language each word the bot has met is (``zipf``)."""

    domain: frozenset[str]
    zipf: dict[str, float]

    @classmethod
    def build(
        cls,
        texts: Iterable[str],
        titles: Iterable[str],
        others: Iterable[str] = (),
        cache: Path | None = None,
    ) -> Vocabulary:
        """``texts``: what the bot holds of the programme; ``titles``: its pages' titles;
        ``others``: texts met but not the programme's own (the services' pitches)."""
        texts, titles = list(texts), list(titles)
        zipf_of = ZipfCache(cache)
        zipf, own = _zipf_by_stem(texts + titles, zipf_of)
        _zipf_by_stem(others, zipf_of)
        zipf_of.save()
        domain = {
            w
            for w, z in zipf.items()
            if len(w) >= MIN_LENGTH
            and not w.isdigit()
            and (z < GENERAL_ZIPF or (own[w] - z >= OVERUSE and own[w] >= MIN_OWN_ZIPF))
        }
        for title in titles:
            domain.update(
                w for w in tokens(title) if len(w) >= MIN_LENGTH and zipf.get(w, 0.0) < TITLE_ZIPF
            )
        return cls(frozenset(domain), zipf_of.zipf)

    def is_everyday(self, text: str) -> bool:
        """Whether every word of ``text`` is common in general language (a word never met
        counts as rare)."""
        found = _RAW_WORD.findall(text.lower())
        return bool(found) and all(self.zipf.get(w, 0.0) >= GENERAL_ZIPF for w in found)

    def share(self, question: str) -> float:
        """The share of the question's content words that are the programme's (0 when none)."""
        content = [w for w in tokens(question) if len(w) >= MIN_LENGTH]
        if not content:
            return 0.0
        return sum(w in self.domain for w in content) / len(content)

    def domain_words(self, question: str) -> list[str]:
        return [w for w in tokens(question) if w in self.domain]
