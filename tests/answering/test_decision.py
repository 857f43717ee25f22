"""The decision stage: a fitted model says whether the best hit is good enough to answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answering.decision import (
    FEATURES,
    SECTION_FEATURES,
    SECTIONS_FILE,
    Evidence,
    Model,
    SectionEvidence,
    by_rules,
)
from bot.errors import KnowledgeError


def evidence(score: float, coverage: float, unknown: int = 0, other: float = 0.0) -> Evidence:
    return Evidence.of(score, coverage, unknown, other, 0.5, True, 4)


def test_the_committed_model_weighs_every_piece_of_evidence() -> None:
    model = Model.load()
    assert len(model.weights) == len(FEATURES)
    assert 0.0 < model.threshold < 1.0


def test_a_strong_match_covering_the_question_is_answered() -> None:
    model = Model.load()
    assert model.sure(evidence(40.0, 0.9, other=8.0))
    assert by_rules(evidence(40.0, 0.9, other=8.0))


def test_a_weak_match_full_of_words_our_pages_never_use_is_declined() -> None:
    model = Model.load()
    weak = evidence(4.0, 0.15, unknown=3, other=3.5)
    assert not model.sure(weak)
    assert not by_rules(weak)


def test_more_of_the_question_covered_is_never_less_sure() -> None:
    model = Model.load()
    chances = [model.probability(evidence(15.0, c, other=10.0)) for c in (0.1, 0.3, 0.6, 0.9)]
    assert chances == sorted(chances)


def test_a_model_file_missing_a_weight_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "decision.yaml"
    broken.write_text("weights:\n  coverage: 1.0\nbias: 0\nthreshold: 0.5\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"decision\.yaml:1: no weight for log_score"):
        Model.load(broken)


def test_an_unreadable_model_file_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "decision.yaml"
    broken.write_text("weights: [1, 2\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"decision\.yaml:1: unreadable decision model"):
        Model.load(broken)


def section(hand: float, best: bool, carried: float, summary: bool = False) -> SectionEvidence:
    return SectionEvidence(
        hand=hand,
        hand_best=1.0 if best else 0.0,
        log_score=3.0,
        coverage=0.5,
        named=1.0,
        carried=carried,
        summary=1.0 if summary else 0.0,
        first=0.5,
    )


def test_the_committed_section_model_weighs_every_piece_of_evidence() -> None:
    model = Model.load(SECTIONS_FILE, SECTION_FEATURES)
    assert len(model.weights) == len(SECTION_FEATURES)


def test_a_section_holding_the_fact_asked_is_likelier() -> None:
    model = Model.load(SECTIONS_FILE, SECTION_FEATURES)
    holding = section(0.8, False, 1.0).vector()
    lacking = section(0.8, False, 0.0).vector()
    assert model.chance(holding) > model.chance(lacking)


def test_a_section_model_file_missing_a_weight_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "sections.yaml"
    broken.write_text("weights:\n  hand: 1.0\nbias: 0\nthreshold: 0.5\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"sections\.yaml:1: no weight for hand_best"):
        Model.load(broken, SECTION_FEATURES)
