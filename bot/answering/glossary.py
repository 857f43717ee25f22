"""English ways of saying the words services are described with, to find a service described
in English among pitches written in French ("lets students see a psychologist for free" is
Santé Psy Étudiant's "consultations avec des psychologues ... sans avance de frais").

The French side comes from the registry: the words of the services' names and pitches, listed
by ``bench/glossary_words.py`` (which also lists the words still untranslated when the registry
grows). The English side is ours: the usual translations someone would use for the same idea.
Words spelled alike in both languages ("transport") and names are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.answering.text import tokens
from bot.errors import KnowledgeError, Problem

GLOSSARY_FILE = Path(__file__).parent / "data" / "glossary.yaml"


@dataclass(frozen=True)
class Glossary:
    """English words (one or two, stemmed as queries are) -> the French stems they stand for."""

    ways: Mapping[tuple[str, ...], frozenset[str]]

    @classmethod
    def load(cls, path: Path = GLOSSARY_FILE) -> Glossary:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise KnowledgeError([Problem(str(path), 1, f"unreadable glossary ({exc})")]) from exc
        if not isinstance(raw, dict):
            problem = Problem(str(path), 1, "a mapping of French words to English ones expected")
            raise KnowledgeError([problem])
        ways: dict[tuple[str, ...], set[str]] = {}
        for french, english in raw.items():
            stems = tokens(str(french))
            if len(stems) != 1:
                continue  # a stop word, or not one word
            for phrase in english if isinstance(english, list) else [english]:
                key = tuple(tokens(str(phrase)))
                if 0 < len(key) <= 2:
                    ways.setdefault(key, set()).add(stems[0])
        return cls({key: frozenset(found) for key, found in ways.items()})

    def groups(self, terms: list[str]) -> list[tuple[str, ...]]:
        """``terms`` (a query's stemmed words, in order) in groups, one per word said: an
        English word with the French words it stands for beside it, or a pair of English words
        ("second hand") replaced by the French words the pair stands for."""
        out: list[tuple[str, ...]] = []
        i = 0
        while i < len(terms):
            pair = self.ways.get(tuple(terms[i : i + 2])) if i + 1 < len(terms) else None
            if pair:
                out.append(tuple(sorted(pair)))
                i += 2
                continue
            one = self.ways.get((terms[i],), frozenset())
            out.append((terms[i], *sorted(one - {terms[i]})))
            i += 1
        return out
