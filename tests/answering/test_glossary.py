"""Services described in English are found among pitches written in French, through the
glossary's translations of the pitches' words (on the committed fixture registry, whose
pitches are ours)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answering.glossary import GLOSSARY_FILE, Glossary
from bot.answering.pipeline import Stages
from bot.engine import Engine
from bot.errors import KnowledgeError

# Services described in English by what they do, as a newcomer would, never named.
DESCRIBED_IN_ENGLISH = [
    (
        "Which service helps tenants put together a complete rental file? What phase is it in?",
        "dossierfacile",
    ),
    (
        "Hi, I'm a safety officer at a waste treatment site. Is there a state tool to track "
        "hazardous waste from production to treatment? Who do I contact?",
        "trackdechets",
    ),
    ("what's the name of the app where volunteers and charities get matched?", "jeveuxaider"),
    ("which beta service helps households get rid of bedbugs", "stop-punaises"),
]


@pytest.mark.parametrize(("question", "service"), DESCRIBED_IN_ENGLISH)
def test_a_service_described_in_english_is_found_by_its_french_pitch(
    fixture_engine: Engine, question: str, service: str
) -> None:
    answer = fixture_engine.answer(question)
    assert answer.answered and answer.source_id == f"startup:{service}"
    assert answer.lang == "en"


def test_without_the_glossary_most_english_descriptions_are_not_found(
    fixture_engine: Engine,
) -> None:
    fixture_engine.stages = Stages(glossary=False)
    try:
        found = [fixture_engine.answer(q).source_id for q, _ in DESCRIBED_IN_ENGLISH]
    finally:
        fixture_engine.stages = Stages()
    # only words spelled alike in both languages are left ("production", "treatment")
    assert (
        sum(f == f"startup:{s}" for f, (_, s) in zip(found, DESCRIBED_IN_ENGLISH, strict=True)) <= 1
    )


@pytest.mark.parametrize(
    "question",
    [
        "Is there a beta.gouv service about trees and the weather today?",
        "how do I renew my passport?",
        "what's the best way to learn French quickly?",
    ],
)
def test_english_words_of_no_pitch_find_no_service(fixture_engine: Engine, question: str) -> None:
    answer = fixture_engine.answer(question)
    assert not (answer.source_id or "").startswith("startup:")


def test_the_glossary_reads_pairs_and_single_words() -> None:
    glossary = Glossary(
        {("second", "hand"): frozenset({"occasion"}), ("car",): frozenset({"voitur"})}
    )
    assert glossary.groups(["second", "hand", "car", "histori"]) == [
        ("occasion",),
        ("car", "voitur"),
        ("histori",),
    ]


def test_the_shipped_glossary_translates_words_of_pitches() -> None:
    glossary = Glossary.load(GLOSSARY_FILE)
    assert "arbr" in glossary.ways[("tree",)]
    assert "dechet" in glossary.ways[("wast",)]


def test_a_glossary_line_that_is_not_one_french_word_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "glossary.yaml"
    path.write_text("les: [the]\narbres: [trees]\ndeux mots: [two]\n", encoding="utf-8")
    assert Glossary.load(path).ways == {("tree",): frozenset({"arbr"})}


def test_a_broken_glossary_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "glossary.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"glossary\.yaml:1: a mapping"):
        Glossary.load(path)
    path.write_text("arbres: [trees\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"glossary\.yaml:1: unreadable glossary"):
        Glossary.load(path)


def test_a_word_in_capitals_is_a_name_not_an_english_word(site_engine: Engine) -> None:
    from bot.answering.pipeline import _searched

    state = site_engine.state
    assert state.service_index is not None and state.glossary is not None
    shouted = _searched(state.service_index, state.glossary, "the FAST team")
    quick = _searched(state.service_index, state.glossary, "a fast team")
    assert not any("rapid" in group for group in shouted)  # FAST as written, a name
    assert any("rapid" in group for group in quick)  # "fast" the English word
