"""Facets: what a question asks for (a budget, a team's size, an opinion...), declared in
``data/facets.yaml``, and whether an answer's text gives it."""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path

import yaml

from bot.answering.query import asks
from bot.answering.text import MONTHS_EN, MONTHS_FR, fold, normalize, unslang

FACETS_FILE = Path(__file__).with_name("data") / "facets.yaml"


@dataclass(frozen=True)
class Facet:
    name: str
    label_fr: str
    label_en: str
    cues: tuple[re.Pattern[str], ...]
    evidence: re.Pattern[str] | None
    never: bool
    personal: bool = False  # a person's own fact: given only by an answer naming them
    looks: str = ""  # how the fact looks in a section's folded text (a pattern; see ``want``)
    titled: re.Pattern[str] | None = None  # how a section about it is titled
    facts: tuple[str, ...] = ()  # the knowledge facts that state it
    ranks: bool = True  # sections are ranked by whether they hold it
    excludes: tuple[str, ...] = ()
    things: tuple[tuple[frozenset[str], str], ...] = ()  # count: counted words -> page stem
    anywhere: bool = False  # asked in a long message's context as well as in its question
    future: bool = False  # a date to come: only a date after today gives it
    summary: bool = False  # a page's opening section gives it (what a thing is, in short)
    alone: bool = False  # asked only when no other facet is ("c'est quoi la durée" is one)

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_fr

    def asked(self, normalised_question: str) -> bool:
        return any(cue.search(normalised_question) for cue in self.cues)

    @cached_property
    def any_cue(self) -> re.Pattern[str]:
        """One pattern for all of the facet's cues (one scan of the question, not several)."""
        # named groups ("thing" of a count) are read from each cue, not from the union
        unnamed = (re.sub(r"\(\?P<\w+>", "(?:", c.pattern) for c in self.cues)
        return re.compile("|".join(f"(?:{p})" for p in unnamed) or r"(?!)")

    def given(self, text: str, today: date | None = None) -> bool:
        """Whether ``text`` gives this facet (always, for a facet without evidence); for a
        date to come, a date after ``today`` (a page's past dates do not give it)."""
        if self.evidence is None:
            return True
        found = self.evidence.finditer(normalize(text))
        if not self.future:
            return next(found, None) is not None
        when = today or date.today()
        return any(day >= when for m in found if (day := date_of(m.group(0))) is not None)


_MONTHS = {fold(m): i % 12 + 1 for i, m in enumerate((*MONTHS_FR, *MONTHS_EN))}
_A_DATE = re.compile(r"(?:(\d{1,2})(?:er)? )?([a-z]+) (\d{4})|(\d{1,2})/(\d{1,2})/(\d{4})")


def date_of(text: str) -> date | None:
    """ "21 juin 2026", "mars 2027" (its last day), "23/11/2022": the date written."""
    m = _A_DATE.search(fold(text))
    if m is None:
        return None
    try:
        if m.group(6):
            return date(int(m.group(6)), int(m.group(5)), int(m.group(4)))
        month = _MONTHS.get(m.group(2))
        if month is None:
            return None
        year = int(m.group(3))
        return date(year, month, int(m.group(1)) if m.group(1) else monthrange(year, month)[1])
    except ValueError:
        return None


@lru_cache(maxsize=1)
def load_facets(path: Path = FACETS_FILE) -> tuple[Facet, ...]:
    """The declared facets (the file ships with the code: an error in it is a bug)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    facets = []
    for name, spec in raw.items():
        label = spec.get("label") or {}
        evidence = spec.get("evidence")
        facets.append(
            Facet(
                name=str(name),
                label_fr=str(label.get("fr", name)),
                label_en=str(label.get("en", name)),
                cues=tuple(re.compile(c) for c in spec.get("cues") or ()),
                evidence=re.compile(evidence) if evidence else None,
                never=bool(spec.get("never", False)),
                personal=bool(spec.get("personal", False)),
                looks=str(spec.get("looks") or ""),
                titled=re.compile(spec["titled"]) if spec.get("titled") else None,
                facts=tuple(str(f) for f in spec.get("facts") or ()),
                ranks=bool(spec.get("ranks", True)),
                anywhere=bool(spec.get("anywhere", False)),
                future=bool(spec.get("future", False)),
                summary=bool(spec.get("summary", False)),
                alone=bool(spec.get("alone", False)),
                excludes=tuple(str(f) for f in spec.get("excludes") or ()),
                things=tuple(
                    (frozenset(str(k).split()), str(v))
                    for k, v in (spec.get("thing") or {}).items()
                ),
            )
        )
    return tuple(facets)


@dataclass(frozen=True)
class Want:
    """A kind of fact a question asks for, as sections show it: a value in their text
    (``looks``), or their subject (``titled``)."""

    name: str
    looks: re.Pattern[str] | None
    titled: re.Pattern[str] | None
    facts: tuple[str, ...]
    ranks: bool
    summary: bool = False


def _want(facet: Facet, normal: str) -> Want | None:
    looks = facet.looks
    if "{thing}" in looks:
        found = next(
            (m for c in facet.cues if (m := c.search(normal)) and "thing" in c.groupindex), None
        )
        if found is None:
            return None
        thing = found.group("thing")
        stem = next((v for ws, v in facet.things if thing in ws), re.escape(thing[:5]))
        if not stem:
            return None  # "combien de temps": not a count
        looks = looks.replace("{thing}", stem)
    return Want(
        facet.name,
        re.compile(looks) if looks else None,
        facet.titled,
        facet.facts,
        facet.ranks,
        facet.summary,
    )


@lru_cache(maxsize=4096)
def wanted(question: str) -> tuple[Want, ...]:
    """The kinds of fact ``question`` asks for that sections can be ranked by (the facets
    with ``looks`` or ``titled``), in the file's order, without those another one excludes
    in the same ask ("combien de jours par semaine" is a share, not a duration; "ça dure
    combien de temps, et combien de jours par semaine ?" asks both)."""
    parts = asks(question)
    if len(parts) < 2:
        return _wanted_in(question)
    found = dict.fromkeys(w for part in parts for w in _wanted_in(part))
    order = {f.name: i for i, f in enumerate(load_facets())}
    return tuple(sorted(found, key=lambda w: order[w.name]))


def _wanted_in(question: str) -> tuple[Want, ...]:
    normal = unslang(normalize(question))
    found = [(f, _want(f, normal)) for f in _asked(question) if f.looks or f.titled or f.summary]
    excluded = {e for f, w in found if w is not None for e in f.excludes}
    return tuple(w for f, w in found if w is not None and f.name not in excluded)


def asking_words(question: str, only: frozenset[str] | None = None) -> set[str]:
    """The words of ``question`` that ask for a facet ("qui contacter", "combien de temps"),
    of the facets named ``only`` when given."""
    normal = unslang(normalize(question))
    found: set[str] = set()
    for facet in load_facets():
        if only is not None and facet.name not in only:
            continue
        for cue in facet.cues:
            for m in cue.finditer(normal):
                found.update(m.group(0).split())
    return found


@lru_cache(maxsize=4096)
def cue_words(question: str, facet: str) -> frozenset[str]:
    """The words of ``question`` that ask for the facet named ``facet`` (none: not asked)."""
    return frozenset(asking_words(question, frozenset({facet})))


@lru_cache(maxsize=4096)
def _asked(question: str) -> tuple[Facet, ...]:
    normal = unslang(normalize(question))
    found = tuple(f for f in load_facets() if f.any_cue.search(normal))
    # "c'est quoi le FAST ?" asks what it is; "c'est quoi le mail du FAST ?" asks a mail
    return tuple(f for f in found if not f.alone or len(found) == 1)


@lru_cache(maxsize=4096)
def asked_anywhere(text: str) -> tuple[Facet, ...]:
    """The facets asked in a long message's context as much as in its question
    (``anywhere``): only those are read over the whole text."""
    normal = unslang(normalize(text))
    return tuple(f for f in load_facets() if f.anywhere and f.any_cue.search(normal))


def asked_facets(question: str) -> list[Facet]:
    """The facets ``question`` asks for, in the file's order."""
    return list(_asked(question))
