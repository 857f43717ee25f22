"""`python -m bot check` and Engine.reload: a maintainer's broken file is named with its
line, and a broken change never takes the bot down."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.errors import KnowledgeError

PROBLEM_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<message>\S.*)$")

VALID = """\
---
title: Page valide
permalink: /valide
kind: general
aliases:
  - page valide
---
Un résumé court et valide.
"""

# name -> (file text, line(s) a maintainer must be sent to, a word the message must carry)
BROKEN: dict[str, tuple[str, set[int], str]] = {
    "missing-title": (
        "---\npermalink: /a\nkind: phase\n---\nRésumé.\n",
        {1, 2, 3, 4},
        "title",
    ),
    "missing-kind": (
        "---\ntitle: A\npermalink: /a\n---\nRésumé.\n",
        {1, 2, 3, 4},
        "kind",
    ),
    "missing-permalink": (
        "---\ntitle: A\nkind: phase\n---\nRésumé.\n",
        {1, 2, 3, 4},
        "permalink",
    ),
    "plain-http-url": (
        "---\ntitle: A\nurl: http://example.org/page\nkind: general\n---\nRésumé.\n",
        {3},
        "url",
    ),
    "bad-contact-email": (
        "---\ntitle: A\npermalink: /a\nkind: contact\nfacts:\n  contact: contact-at-beta.gouv.fr\n---\nRésumé.\n",
        {5, 6},
        "contact",
    ),
    "unknown-key": (
        "---\ntitle: A\npermalink: /a\nkind: phase\nalaises:\n  - accel\n---\nRésumé.\n",
        {5},
        "alaises",
    ),
    "section-without-anchor": (
        "---\ntitle: A\npermalink: /a\nkind: phase\nsections:\n  nulle-part:\n    aliases: [x]\n---\nRésumé.\n\n## Une section {#ailleurs}\n\nTexte.\n",
        {5, 6},
        "nulle-part",
    ),
    "section-url-not-a-url": (
        "---\ntitle: A\npermalink: /a\nkind: phase\nsections:\n  s:\n    aliases: [x]\n    url: fast 17\n---\nRésumé.\n\n## S {#s}\n\nTexte.\n",
        {5, 6, 7, 8},
        "url",
    ),
    "no-front-matter": (
        "# Juste du markdown\n\nSans front matter.\n",
        {1},
        "front matter",
    ),
}

# YAML syntax errors: the line where the mistake is, in the file (line 1 is '---')
YAML_ERRORS: dict[str, tuple[str, int]] = {
    "colon-in-value": ("---\ntitle: A\npermalink: /a: b\nkind: phase\n---\nRésumé.\n", 3),
    "deep-in-a-list": (
        "---\ntitle: A\npermalink: /a\nkind: phase\naliases:\n  - un\n  - deux: trois: quatre\n---\nRésumé.\n",
        7,
    ),
    "tab-indent": (
        "---\ntitle: A\npermalink: /a\nkind: phase\nfacts:\n\tduration: 3 mois\n---\nRésumé.\n",
        6,
    ),
    "unclosed-quote": ('---\ntitle: "A\npermalink: /a\nkind: phase\n---\nRésumé.\n', 2),
    "unclosed-bracket": (
        "---\ntitle: A\npermalink: /a\nkind: phase\naliases: [un, deux\nfacts:\n  duration: 3 mois\n---\nRésumé.\n",
        5,
    ),
}


def problems(stdout: str) -> list[re.Match[str]]:
    lines = [line for line in stdout.splitlines() if line.strip()]
    matches = [PROBLEM_LINE.match(line) for line in lines]
    assert all(matches), f"not all lines are 'file:line: message':\n{stdout}"
    return [m for m in matches if m]


def test_the_projects_knowledge_passes_the_check(run_bot) -> None:
    result = run_bot("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""
    assert "Traceback" not in result.stderr


def test_a_valid_folder_passes_the_check(run_bot, tiny_knowledge: Path) -> None:
    result = run_bot("check", str(tiny_knowledge))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_file_is_named_with_its_line(
    run_bot, write_pages, tmp_path: Path, name: str
) -> None:
    text, lines, word = BROKEN[name]
    write_pages(tmp_path, {"ok.md": VALID, f"{name}.md": text})
    result = run_bot("check", str(tmp_path))
    assert result.returncode == 1
    found = problems(result.stdout)
    assert len(found) == 1, result.stdout
    assert Path(found[0]["file"]).name == f"{name}.md"
    assert int(found[0]["line"]) in lines, result.stdout
    assert word in found[0]["message"].lower()
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name", sorted(YAML_ERRORS))
def test_a_yaml_error_points_at_the_line_to_fix(
    run_bot, write_pages, tmp_path: Path, name: str
) -> None:
    text, line = YAML_ERRORS[name]
    write_pages(tmp_path, {f"{name}.md": text})
    result = run_bot("check", str(tmp_path / f"{name}.md"))
    assert result.returncode == 1
    found = problems(result.stdout)
    assert len(found) == 1, result.stdout
    assert Path(found[0]["file"]).name == f"{name}.md"
    assert int(found[0]["line"]) == line, result.stdout
    assert "yaml" in found[0]["message"].lower()


def test_every_problem_of_a_folder_gets_its_own_line(run_bot, write_pages, tmp_path: Path) -> None:
    write_pages(tmp_path, {"ok.md": VALID, **{f"{n}.md": t for n, (t, _, _) in BROKEN.items()}})
    write_pages(tmp_path, {f"yaml/{n}.md": t for n, (t, _) in YAML_ERRORS.items()})
    result = run_bot("check", str(tmp_path))
    assert result.returncode == 1
    named = sorted(Path(m["file"]).name for m in problems(result.stdout))
    expected = sorted([f"{n}.md" for n in BROKEN] + [f"{n}.md" for n in YAML_ERRORS])
    assert named == expected


def test_two_problems_in_one_file_give_two_lines(run_bot, write_pages, tmp_path: Path) -> None:
    write_pages(tmp_path, {"two.md": "---\npermalink: /a\nkind: nimporte\n---\nRésumé.\n"})
    result = run_bot("check", str(tmp_path))
    assert result.returncode == 1
    found = problems(result.stdout)
    assert len(found) == 2
    assert {Path(m["file"]).name for m in found} == {"two.md"}
    messages = " ".join(m["message"].lower() for m in found)
    assert "title" in messages and "kind" in messages


def test_an_alias_used_by_two_files_is_reported(run_bot, write_pages, tmp_path: Path) -> None:
    other = VALID.replace("/valide", "/autre").replace("Page valide", "Autre page")
    write_pages(tmp_path, {"a.md": VALID, "b.md": other})
    result = run_bot("check", str(tmp_path))
    assert result.returncode == 1
    found = problems(result.stdout)
    assert len(found) == 1
    names = {Path(found[0]["file"]).name, *re.findall(r"[\w-]+\.md", found[0]["message"])}
    assert names == {"a.md", "b.md"}
    assert "page valide" in found[0]["message"].lower()


def test_an_alias_differing_only_by_accents_and_case_is_still_a_duplicate(
    run_bot, write_pages, tmp_path: Path
) -> None:
    first = VALID.replace("- page valide", "- page validée")
    second = VALID.replace("/valide", "/autre").replace("Page valide", "Autre page")
    write_pages(
        tmp_path, {"a.md": first, "b.md": second.replace("- page valide", "- PAGE VALIDEE")}
    )
    result = run_bot("check", str(tmp_path))
    assert result.returncode == 1
    assert len(problems(result.stdout)) == 1


# --- Engine.reload: the last good knowledge keeps serving -------------------------------

QUESTION = "combien de temps dure la construction ?"
CONSTRUCTION = "https://beta.gouv.fr/approche/construction"


@pytest.fixture
def knowledge_copy(knowledge_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the project's knowledge, free to break."""
    return Path(shutil.copytree(knowledge_dir, tmp_path / "knowledge"))


@pytest.fixture
def live_engine(knowledge_copy: Path, tmp_path: Path) -> Engine:
    return Engine.load(knowledge_copy, None, tmp_path / "data")


def page_of(url: str) -> str:
    return url.split("#")[0].rstrip("/")


def test_reload_refuses_a_broken_change_and_keeps_answering(
    live_engine: Engine, knowledge_copy: Path
) -> None:
    before = live_engine.answer(QUESTION)
    assert before.answered
    assert page_of(before.links[0].url) == CONSTRUCTION
    page = knowledge_copy / "phases" / "construction.md"
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("kind: phase", "kind: phase: oops", 1), encoding="utf-8")
    line = text.splitlines().index("kind: phase") + 1

    error = live_engine.reload()

    assert isinstance(error, KnowledgeError)
    assert [(Path(p.path).name, p.line) for p in error.problems] == [("construction.md", line)]
    after = live_engine.answer(QUESTION)
    assert after.answered
    assert (after.text, after.links) == (before.text, before.links)


def test_reload_refuses_a_duplicate_alias_added_in_a_new_file(
    live_engine: Engine, knowledge_copy: Path, write_pages
) -> None:
    before = live_engine.answer(QUESTION)
    write_pages(
        knowledge_copy,
        {
            "phases/doublon.md": "---\ntitle: Doublon\npermalink: /doublon\nkind: phase\n"
            "aliases:\n  - phase de construction\n---\nUne copie.\n"
        },
    )

    error = live_engine.reload()

    assert isinstance(error, KnowledgeError)
    assert any("phase de construction" in p.message for p in error.problems)
    assert live_engine.answer(QUESTION).links == before.links


def test_reload_serves_a_fixed_change(live_engine: Engine, knowledge_copy: Path) -> None:
    page = knowledge_copy / "phases" / "construction.md"
    good = page.read_text(encoding="utf-8")
    page.write_text("plus de front matter\n", encoding="utf-8")
    assert live_engine.reload() is not None
    assert page_of(live_engine.answer(QUESTION).links[0].url) == CONSTRUCTION

    page.write_text(good.replace("six mois à un an", "sept mois à un an"), encoding="utf-8")

    assert live_engine.reload() is None
    assert live_engine.last_error is None
    answer = live_engine.answer(QUESTION)
    assert "sept mois à un an" in answer.text
    assert "six mois à un an" not in answer.text


def test_a_broken_folder_refuses_to_load_with_every_problem(write_pages, tmp_path: Path) -> None:
    write_pages(tmp_path, {"ok.md": VALID, **{f"{n}.md": t for n, (t, _, _) in BROKEN.items()}})
    with pytest.raises(KnowledgeError) as caught:
        Engine.load(tmp_path, None, tmp_path / "data")
    assert {Path(p.path).name for p in caught.value.problems} == {f"{n}.md" for n in BROKEN}
    assert "bot check" in str(caught.value)


def test_a_section_the_site_gives_no_anchor_takes_aliases_by_its_heading(
    write_pages, tmp_path: Path
) -> None:
    page = (
        "---\ntitle: Les statuts\npermalink: /approche/\nkind: phase\n"
        "sections:\n  Services arrêtés:\n    aliases: [statut abandon, service stoppé]\n---\n"
        "Chaque startup d'État porte un statut.\n\n"
        "## Transféré\n\nLe service est sorti du programme et reste accessible.\n\n"
        "## Services arrêtés\n\nLe service n'est plus accessible à ses utilisateurs.\n"
    )
    root = write_pages(tmp_path / "k", {"statuts.md": page, "ok.md": VALID})
    engine = Engine.load(root, None, tmp_path / "data")
    answer = engine.answer("une startup en service stoppé ?")
    assert answer.answered, answer.text
    assert "plus accessible" in answer.text
    assert answer.links[0].url == "https://beta.gouv.fr/approche/"


def test_a_section_can_cite_the_page_its_facts_come_from(write_pages, tmp_path: Path) -> None:
    page = (
        "---\ntitle: Lauréats du FAST\npermalink: /fast/lauréats\nkind: programme\n"
        "sections:\n  FAST 17:\n    aliases: [dix-septième FAST]\n"
        "    url: /fast/lauréats#17_fast\n---\n"
        "Le FAST compte 17 éditions.\n\n"
        "## FAST 17\n\nHuit projets retenus, pour 1 100 000 euros.\n"
    )
    root = write_pages(tmp_path / "k", {"laureats.md": page, "ok.md": VALID})
    engine = Engine.load(root, None, tmp_path / "data")
    answer = engine.answer("le dix-septième FAST a retenu combien de projets ?")
    assert answer.answered, answer.text
    assert "Huit projets" in answer.text
    assert answer.links[0].url == "https://beta.gouv.fr/fast/lauréats#17_fast"
