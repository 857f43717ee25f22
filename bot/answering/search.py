"""Ranking: BM25 over section text, boosted by titles and aliases, with typo correction.

rapidfuzz is used where it shines: correcting one query word against the index
vocabulary (short strings). Whole sections are never fuzzy-matched.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from operator import itemgetter

from rapidfuzz import fuzz, process

from bot.answering.text import tokens, words

K1 = 1.2
B = 0.75
TITLE_WEIGHT = 2.0
ALIAS_WEIGHT = 2.0
PAGE_ALIAS_WEIGHT = 1.5
SUMMARY_BONUS = 1.0


@dataclass(frozen=True)
class Doc:
    """A searchable unit: a knowledge section, a site section, a registry record."""

    id: str
    url: str
    title: str
    text: str
    text_en: str = ""
    kind: str = "general"
    source: str = "knowledge"  # knowledge | site
    page_id: str = ""
    page_title: str = ""
    aliases: tuple[str, ...] = ()
    page_aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    status: str = "current"
    is_summary: bool = False


@dataclass(frozen=True)
class Hit:
    doc: Doc
    score: float
    coverage: float  # share of the question's weight the doc accounts for
    matched: frozenset[str] = field(default_factory=frozenset)
    specific: float = 0.0  # the part of the score owed to the section itself, not its page


@lru_cache(maxsize=4096)
def counted_numbers(question: str) -> frozenset[str]:
    """The numbers of ``question`` that count things ("les 3 piliers", "2 ateliers"): a
    number right before a plural noun. A number after a noun names one ("pilier 3", "FAST
    17"), as does an ordinal ("la 17e édition", read "17 edition")."""
    said = words(question)
    return frozenset(
        n
        for n, w in pairwise(said)
        if n.isdigit() and len(w) > 3 and w.endswith(("s", "x")) and not w.isdigit()
    )


@lru_cache(maxsize=65536)
def alias_keys(alias: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tokens(alias)))


class Index:
    """An immutable index over docs; ``search`` is pure and fast."""

    def __init__(self, docs: list[Doc]) -> None:
        self.docs = docs
        self._body: list[Counter[str]] = []
        self._head: list[Counter[str]] = []
        self._own: list[Counter[str]] = []
        self._len: list[int] = []
        df: Counter[str] = Counter()
        postings: dict[str, list[int]] = {}
        self._aliases: list[list[tuple[tuple[str, ...], float]]] = []
        for i, doc in enumerate(docs):
            body = Counter(tokens(doc.text + "\n" + doc.text_en))
            head = Counter(tokens(doc.title + " " + doc.page_title))
            own = Counter(tokens(doc.title)) if not doc.is_summary else Counter()
            # aliases that reduce to the same words count once (the strongest wins)
            best: dict[tuple[str, ...], float] = {}
            for alias in doc.aliases:
                keys = alias_keys(alias)
                if keys:
                    best[keys] = max(best.get(keys, 0.0), ALIAS_WEIGHT)
                    head.update(keys)
                    own.update(keys)
            for alias in doc.page_aliases:
                keys = alias_keys(alias)
                if keys:
                    best[keys] = max(best.get(keys, 0.0), PAGE_ALIAS_WEIGHT)
                    if doc.is_summary:
                        head.update(keys)
            alias_sets = sorted(best.items())
            self._aliases.append(alias_sets)
            self._body.append(body)
            self._head.append(head)
            self._own.append(own)
            self._len.append(sum(body.values()) or 1)
            for term in set(body) | set(head):
                df[term] += 1
                postings.setdefault(term, []).append(i)
        n = max(len(docs), 1)
        self._avglen = sum(self._len) / n if docs else 1.0
        self._idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self._max_idf = math.log(1 + (n + 0.5) / 0.5)
        # each term's contribution to each doc's score is fixed once the index is built: it
        # is computed the first time a question uses the term, so a search only adds numbers
        # up and a rebuild stays as short as it was
        self._docs_of = postings
        self._postings: dict[str, tuple[tuple[int, float, float], ...]] = {}
        self._alias_index: dict[str, list[tuple[int, frozenset[str], float, bool]]] = {}
        for i, sets in enumerate(self._aliases):
            for keys, weight in sets:
                bonus = weight * (1.0 + sum(self.idf(k) for k in keys))
                own_alias = weight >= ALIAS_WEIGHT
                entry = (i, frozenset(keys), bonus, own_alias)
                self._alias_index.setdefault(keys[0], []).append(entry)
        self._summaries = tuple(i for i, doc in enumerate(docs) if doc.is_summary)
        self._words = [
            frozenset(body) | frozenset(head)
            for body, head in zip(self._body, self._head, strict=True)
        ]
        # what our pages are called (titles, aliases), as words: a question naming one of
        # these is about the page, even where a service bears the same name
        self.topic_names = frozenset(
            key
            for doc in docs
            for name in (doc.title, doc.page_title, *doc.aliases, *doc.page_aliases)
            if (key := alias_keys(name))
        )
        self.vocabulary = sorted(t for t in df if len(t) >= 4 and not t.isdigit())
        self._by_initial: dict[str, list[str]] = {}
        for word in self.vocabulary:
            self._by_initial.setdefault(word[0], []).append(word)
        self._corrections: dict[str, str | None] = {}
        self._by_id = {doc.id: doc for doc in docs}

    def doc(self, doc_id: str | None) -> Doc | None:
        """The unit ``doc_id`` (an answer's ``source_id``), or None."""
        return self._by_id.get(doc_id or "")

    def page_terms(self, page_id: str) -> frozenset[str]:
        """The search terms of every section of the page ``page_id``."""
        return frozenset().union(
            *(self._words[i] for i, doc in enumerate(self.docs) if doc.page_id == page_id)
        )

    def _scored(self, term: str) -> tuple[tuple[int, float, float], ...]:
        """(doc, its score for ``term``, the part owed to the doc's own title), computed once."""
        idf = self._idf.get(term)
        if idf is None:
            return ()
        row = []
        for i in self._docs_of.get(term, ()):
            tf = self._body[i].get(term, 0)
            norm = K1 * (1 - B + B * self._len[i] / self._avglen)
            s = idf * tf * (K1 + 1) / (tf + norm) if tf else 0.0
            mine = s
            h = self._head[i].get(term, 0)
            if h:
                s += TITLE_WEIGHT * idf * min(h, 2) / (min(h, 2) + 0.5)
            o = self._own[i].get(term, 0)
            if o:
                mine += TITLE_WEIGHT * idf * min(o, 2) / (min(o, 2) + 0.5)
            row.append((i, s, mine))
        scored = self._postings[term] = tuple(row)
        return scored

    def idf(self, term: str) -> float:
        return self._idf.get(term, self._max_idf)

    def known(self, term: str) -> bool:
        return term in self._idf

    def correct(self, term: str) -> str | None:
        """The vocabulary word a misspelt query word most likely means, or None."""
        if term in self._idf:
            return term
        if len(term) < 4 or term.isdigit():
            return None
        if term in self._corrections:
            return self._corrections[term]
        # a truncated word ("constru", "accel") stands for the most common word it begins
        starts = [w for w in self._by_initial.get(term[0], ()) if w.startswith(term)]
        if len(term) >= 5 and starts:
            fixed: str | None = min(starts, key=lambda w: (self._idf.get(w, 0.0), w))
        else:
            found = process.extractOne(
                term,
                [w for w in self._by_initial.get(term[0], ()) if abs(len(w) - len(term)) <= 2],
                scorer=fuzz.ratio,
                score_cutoff=86 if len(term) >= 6 else 88,
            )
            fixed = str(found[0]) if found is not None else None
        if len(self._corrections) < 100_000:
            self._corrections[term] = fixed
        return fixed

    def query_terms(self, question: str) -> list[str]:
        out = []
        for term in tokens(question):
            fixed = self.correct(term)
            out.append(fixed if fixed else term)
        return list(dict.fromkeys(out))

    def search(
        self,
        question: str,
        limit: int = 5,
        terms: list[str] | None = None,
        groups: list[tuple[str, ...]] | None = None,
    ) -> list[Hit]:
        """The ``limit`` best units for ``question`` (or its ``terms``). ``groups``: words each
        said in several ways (an English word's French translations): a unit scores the best
        way it holds, and the word weighs once in the coverage, as its commonest way (with
        ``groups``, ``terms`` is not read)."""
        if groups is None:
            terms = terms if terms is not None else self.query_terms(question)
            groups = [(t,) for t in terms]
        if not groups:
            return []
        qset = {t for group in groups for t in group}
        weights = [min(self.idf(t) for t in group) for group in groups]
        total_weight = sum(weights) or 1.0
        scores: dict[int, float] = {}
        specific: dict[int, float] = {}
        via_alias: dict[int, set[str]] = {}
        get_score, get_specific = scores.get, specific.get
        for group, weight in zip(groups, weights, strict=True):
            if len(group) == 1:
                rows = self._postings.get(group[0]) or self._scored(group[0])
            else:  # the best of the ways per unit, each weighing as the commonest way
                best: dict[int, tuple[int, float, float]] = {}
                for term in group:
                    scale = weight / self.idf(term)
                    for i, s, own in self._postings.get(term) or self._scored(term):
                        seen = best.get(i)
                        if seen is None or s * scale > seen[1]:
                            best[i] = (i, s * scale, own * scale)
                rows = tuple(best.values())
            for i, s, own in rows:
                scores[i] = get_score(i, 0.0) + s
                specific[i] = get_specific(i, 0.0) + own
        # "les 3 piliers" counts pillars: it does not name "pilier 3"
        naming = qset - counted_numbers(question)
        for term in dict.fromkeys(t for group in groups for t in group):  # in the words' order
            for i, keys, bonus, own_alias in self._alias_index.get(term, ()):
                if keys <= naming:
                    scores[i] = scores.get(i, 0.0) + bonus
                    if own_alias:
                        specific[i] = specific.get(i, 0.0) + bonus
                    via_alias.setdefault(i, set()).update(keys)
        for i in self._summaries:
            if i in scores:
                scores[i] += SUMMARY_BONUS
        ranked = heapq.nlargest(limit, scores.items(), key=itemgetter(1))
        hits = []
        for i, score in ranked:
            present = frozenset(qset & self._words[i] | (qset & via_alias.get(i, set())))
            held = sum(
                w for group, w in zip(groups, weights, strict=True) if present.intersection(group)
            )
            hits.append(
                Hit(self.docs[i], score, held / total_weight, present, specific.get(i, 0.0))
            )
        return hits
