"""Other names of incubators and services (knowledge/names.yaml): read, checked, and used by
the name finder and the engine."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from paths import KNOWLEDGE

from bot.engine import Engine, build_state
from bot.errors import KnowledgeError
from bot.registry.model import Incubator, Registry, Startup
from bot.registry.names import NAMES_FILE, check_names, load_names
from bot.registry.startups import StartupFinder

REGISTRY = Registry(
    (Startup("phare", "Phare Libre", "Signaler les feux éteints", "mer", "equipe@phare.fr"),),
    {
        "mer": Incubator("mer", "La Fabrique numérique de la Mer", contact="fabrique@mer.gouv.fr"),
        "terre": Incubator("terre", "L'Atelier de la Terre", contact="atelier@terre.gouv.fr"),
    },
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / NAMES_FILE
    path.write_text(text, encoding="utf-8")
    return path


def test_the_projects_names_file_is_valid() -> None:
    names, problems = check_names(KNOWLEDGE / NAMES_FILE)
    assert problems == []
    assert "incubator:kube" in names


def test_other_names_find_an_incubator_in_english_and_by_its_ministry(tmp_path: Path) -> None:
    names = load_names(write(tmp_path, "incubators:\n  mer: [Sea ministry, ministère de la Mer]\n"))
    finder = StartupFinder(REGISTRY, today=date(2026, 9, 1), names=names)
    for question in (
        "who do I email at the Sea ministry incubator?",
        "je bosse au ministère de la Mer, vous avez un incubateur ?",
    ):
        found = finder.match(question)
        assert found is not None and (found.kind, found.id) == ("incubator", "mer"), question
    assert finder.match("who do I email at the Earth ministry?") is None


def test_an_unknown_id_is_ignored(tmp_path: Path) -> None:
    names = load_names(write(tmp_path, "incubators:\n  gone: [Old ministry]\n"))
    finder = StartupFinder(REGISTRY, names=names)
    assert finder.match("the Old ministry incubator") is None


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("incubators:\n  mer: Sea ministry\n", 2, "list of names"),
        ("labs:\n  mer: [Sea]\n", 1, "unknown section"),
        ("incubators: [mer]\n", 1, "map ids"),
        ("incubators:\n  mer: [Sea\n", 2, ""),
    ],
)
def test_a_malformed_names_file_is_named_with_its_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    _, problems = check_names(write(tmp_path, text))
    assert len(problems) == 1
    assert problems[0].line >= line - 1 and words in problems[0].message
    with pytest.raises(KnowledgeError):
        load_names(tmp_path / NAMES_FILE)


def test_the_engine_reads_the_projects_names_file() -> None:
    """The project's knowledge/names.yaml, read by the engine: the Armed Forces' incubator."""
    kube = Incubator("kube", "Le KUBE, incubateur du ministère des Armées", contact="kube@def.fr")
    registry = Registry(REGISTRY.startups, {**REGISTRY.incubators, "kube": kube})
    engine = Engine(build_state(KNOWLEDGE, registry=registry), KNOWLEDGE)
    answer = engine.answer("Who do I email to reach the Armed Forces ministry incubator?")
    assert answer.answered and "kube@def.fr" in answer.text
    assert answer.links[0].url.endswith("/incubateurs/kube.html")


def test_a_ministrys_short_name_finds_its_incubator() -> None:
    """Short forms of a ministry ("l'Éduc nat", "Balard") are names the team keeps."""
    menj = Incubator("menj", "L'incubateur de l'Éducation nationale et de la Jeunesse")
    kube = Incubator("kube", "Le KUBE, incubateur du ministère des Armées")
    registry = Registry(REGISTRY.startups, {**REGISTRY.incubators, "menj": menj, "kube": kube})
    finder = build_state(KNOWLEDGE, registry=registry).finder
    assert finder is not None
    found = finder.match("au fait l'incubateur de l'éduc nat il est où ?")
    assert found is not None and found.id == "menj"
