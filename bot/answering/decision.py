"""Decide: whether the best section found is good enough to answer with, or the bot declines.

The evidence is a handful of numbers about the best hit (:class:`Evidence`); a logistic model
whose weights were fitted offline on the labelled question sets (``bench/fit_decision.py``,
cross-validated) turns them into a probability that the hit's page is the right one, and the
bot answers above the threshold stored beside the weights (``data/decision.yaml``). With the
``decision`` stage switched off, :func:`by_rules` decides with the hand-set thresholds the
model replaced, for comparison (``bench/ablation.py``).
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import yaml

from bot.errors import KnowledgeError, Problem

MODEL_FILE = Path(__file__).parent / "data" / "decision.yaml"


@dataclass(frozen=True)
class Evidence:
    """What the decision sees of the best hit (each field is one feature of the model)."""

    log_score: float  # log(1 + BM25F score of the hit, its page's other sections credited)
    coverage: float  # share of the question's term weight the hit's page matches
    unknown: float  # words our pages never use (0..3)
    margin: float  # log of the hit's score over the best other page's
    domain: float  # share of the question's terms that are the programme's own words
    facet: float  # 1 when the kind of fact asked (a duration, an amount...) is in the hit
    terms: float  # log(1 + number of search terms)

    @classmethod
    def of(
        cls,
        score: float,
        coverage: float,
        unknown: int,
        other: float,
        domain_share: float,
        facet_found: bool,
        n_terms: int,
    ) -> Evidence:
        return cls(
            log_score=math.log1p(max(score, 0.0)),
            coverage=coverage,
            unknown=float(min(unknown, 3)),
            margin=math.log((score + 1.0) / (other + 1.0)),
            domain=domain_share,
            facet=1.0 if facet_found else 0.0,
            terms=math.log1p(n_terms),
        )

    def vector(self) -> tuple[float, ...]:
        return astuple(self)


FEATURES = tuple(f.name for f in fields(Evidence))


@dataclass(frozen=True)
class SectionEvidence:
    """What the choice of a page's section sees of one candidate section (one feature each)."""

    hand: float  # the hand-set value of the section (words beyond the page's names...), 0..1
    hand_best: float  # 1 for the section the hand-set value picks
    log_score: float  # log(1 + its BM25F score)
    coverage: float  # share of the question's term weight it matches
    named: float  # log(1 + idf of the question's words its own title and aliases say)
    carried: float  # how well it holds the kind of fact asked (1, 0.5, 0; 0 when none asked)
    summary: float  # 1 for the page's opening section
    first: float  # 1 / (1 + its rank among the page's sections found)

    def vector(self) -> tuple[float, ...]:
        return astuple(self)


SECTION_FEATURES = tuple(f.name for f in fields(SectionEvidence))
SECTIONS_FILE = Path(__file__).parent / "data" / "sections.yaml"


@dataclass(frozen=True)
class Model:
    """A logistic model over a fixed list of features (:class:`Evidence` or
    :class:`SectionEvidence`), and the probability above which it answers."""

    weights: tuple[float, ...]
    bias: float
    threshold: float

    def chance(self, vector: tuple[float, ...]) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, vector, strict=True))
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def probability(self, evidence: Evidence) -> float:
        return self.chance(evidence.vector())

    def sure(self, evidence: Evidence) -> bool:
        return self.probability(evidence) >= self.threshold

    @classmethod
    def load(cls, path: Path = MODEL_FILE, features: tuple[str, ...] = FEATURES) -> Model:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            named = {str(k): float(v) for k, v in data["weights"].items()}
            missing = [f for f in features if f not in named]
            if missing:
                raise KnowledgeError([Problem(str(path), 1, f"no weight for {', '.join(missing)}")])
            return cls(
                tuple(named[f] for f in features), float(data["bias"]), float(data["threshold"])
            )
        except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
            problem = Problem(str(path), 1, f"unreadable decision model ({exc})")
            raise KnowledgeError([problem]) from exc


def by_rules(evidence: Evidence) -> bool:
    """The hand-set thresholds the model replaced: a strong match answers; otherwise the hit
    must cover enough of the question's weight; several unknown words mean another subject."""
    score = math.expm1(evidence.log_score)
    coverage, unknown = evidence.coverage, evidence.unknown
    if unknown >= 3 and score < 40:
        return False
    if coverage >= 0.5 and score >= 6:
        return True
    if score >= 10 and coverage >= 0.25 and unknown <= 1:
        return True
    if score >= 20 and unknown == 0:
        return True
    return score >= 20 and coverage >= 0.3
