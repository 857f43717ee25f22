"""Eligibility engine: the project's scheme files, verdicts (table-driven), finding a scheme,
next steps, and the validation of broken scheme files (file:line, never served)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paths import KNOWLEDGE

from bot.eligibility.schemes import (
    ELIGIBLE,
    NOT_YET,
    PAST,
    Scheme,
    check_schemes,
    find_scheme,
    format_verdict,
    load_schemes,
    parse_scheme,
    verdict,
)
from bot.errors import KnowledgeError

SCHEMES_DIR = KNOWLEDGE / "schemes"
BEFORE_CONSOLIDATION_DEADLINE = dt.date(2026, 3, 1)
AFTER_EVERY_DEADLINE = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def schemes() -> dict[str, Scheme]:
    return load_schemes(SCHEMES_DIR)


# --------------------------------------------------------------------------- the files

# What the issue asks each scheme to contain (ids of its groups, number of criteria, status).
EXPECTED = {
    "fast": (("impact", "maturite", "ambition", "soutien"), 9, "closed"),
    "consolidation": (("obligatoires", "complementaires"), 9, "open"),
    "investigation": (("conditions",), 7, "open"),
    "transfert": (("signal",), 4, "open"),
    "intrapreneur": (("profil",), 10, "open"),
    "sponsor": (("profil",), 7, "open"),
    "gamma": (("conditions",), 4, "past"),
}
# Criteria that are not needed one by one: any one of them is enough.
ONE_OF = {
    "consolidation": {
        "portage-organisation",
        "interministerialisation",
        "integrations",
        "mutualisation",
    },
}


def test_the_project_schemes_are_valid_and_complete(schemes: dict[str, Scheme]) -> None:
    assert check_schemes(SCHEMES_DIR) == []
    assert sorted(schemes) == sorted(EXPECTED)
    for sid, (groups, count, status) in EXPECTED.items():
        s = schemes[sid]
        assert tuple(g.id for g in s.groups) == groups, sid
        assert len(s.criteria) == count, sid
        assert s.status == status, sid


def test_every_criterion_has_help_and_an_anchored_source(schemes: dict[str, Scheme]) -> None:
    for s in schemes.values():
        assert s.contact.endswith("@beta.gouv.fr"), s.id
        for c in s.criteria:
            assert c.source.startswith("https://beta.gouv.fr/") and "#" in c.source, (s.id, c.id)
            assert len(c.help) > 30, (s.id, c.id)
            assert len(c.label) <= 75 and len(c.hint) <= 75, (s.id, c.id)


def test_facts_from_the_site_are_carried(schemes: dict[str, Scheme]) -> None:
    fast, conso = schemes["fast"], schemes["consolidation"]
    assert fast.contact == "fast@beta.gouv.fr"
    assert fast.deadline == dt.date(2025, 6, 6)
    assert {c.source.split("#")[1] for c in fast.criteria} == {
        "impact",
        "maturité",
        "ambition",
        "soutien",
    }
    assert conso.deadline == dt.date(2026, 6, 21)
    assert conso.apply is not None and "programme-de-consolidation" in conso.apply.url
    assert schemes["investigation"].source.endswith("/approche/investigation#condition")
    assert any("2 jours" in c.label for c in schemes["investigation"].criteria)
    assert any("30 %" in c.hint for c in schemes["transfert"].criteria)
    assert schemes["gamma"].replaced_by == "fast"


# --------------------------------------------------------------------------- verdict tables


def _all(s: Scheme) -> dict[str, bool]:
    return {c.id: True for c in s.criteria}


@pytest.mark.parametrize("sid", sorted(EXPECTED))
def test_all_met_is_eligible_except_a_past_programme(schemes: dict[str, Scheme], sid: str) -> None:
    v = verdict(schemes[sid], _all(schemes[sid]), today=AFTER_EVERY_DEADLINE)
    assert v.outcome == (PAST if sid == "gamma" else ELIGIBLE)
    assert v.missing == ()


@pytest.mark.parametrize("sid", sorted(EXPECTED))
def test_none_met_is_not_yet_and_names_every_blocking_criterion(
    schemes: dict[str, Scheme], sid: str
) -> None:
    s = schemes[sid]
    v = verdict(s, {}, today=AFTER_EVERY_DEADLINE)
    if sid == "gamma":
        assert v.outcome == PAST
        return
    assert v.outcome == NOT_YET
    assert not v.eligible
    assert {c.id for c in v.missing} == {c.id for c in s.criteria}


def _single_missing_cases() -> list[tuple[str, str]]:
    return [
        (sid, c.id) for sid in sorted(EXPECTED) for c in load_schemes(SCHEMES_DIR)[sid].criteria
    ]


@pytest.mark.parametrize(("sid", "missing"), _single_missing_cases())
def test_each_single_criterion_missing(schemes: dict[str, Scheme], sid: str, missing: str) -> None:
    s = schemes[sid]
    answers = {**_all(s), missing: False}
    v = verdict(s, answers, today=AFTER_EVERY_DEADLINE)
    if sid == "gamma":
        assert v.outcome == PAST
    elif missing in ONE_OF.get(sid, set()):
        assert v.outcome == ELIGIBLE, "one complementary criterion is enough"
        assert v.missing == ()
    else:
        assert v.outcome == NOT_YET
        assert [c.id for c in v.missing] == [missing]
        text = format_verdict(v)
        assert s.criterion(missing).label in text  # type: ignore[union-attr]
        assert s.criterion(missing).source in text  # type: ignore[union-attr]


MANDATORY = [
    "impact-demontre",
    "standards-fin-incubation",
    "objectifs-partages",
    "lettre-de-mission",
    "responsable-disponible",
]
COMPLEMENTARY = sorted(ONE_OF["consolidation"])


@pytest.mark.parametrize(
    ("ticked", "outcome", "missing"),
    [
        (MANDATORY, NOT_YET, COMPLEMENTARY),
        ([*MANDATORY, "integrations"], ELIGIBLE, []),
        ([*MANDATORY, "mutualisation"], ELIGIBLE, []),
        ([*MANDATORY, "portage-organisation", "interministerialisation"], ELIGIBLE, []),
        (MANDATORY + COMPLEMENTARY, ELIGIBLE, []),
        (COMPLEMENTARY, NOT_YET, MANDATORY),
        ([*MANDATORY[1:], "integrations"], NOT_YET, ["impact-demontre"]),
        (MANDATORY[:-1], NOT_YET, ["responsable-disponible", *COMPLEMENTARY]),
        ([], NOT_YET, MANDATORY + COMPLEMENTARY),
    ],
)
def test_consolidation_needs_every_mandatory_and_at_least_one_complementary(
    schemes: dict[str, Scheme], ticked: list[str], outcome: str, missing: list[str]
) -> None:
    s = schemes["consolidation"]
    v = verdict(s, {cid: True for cid in ticked})
    assert v.outcome == outcome
    assert sorted(c.id for c in v.missing) == sorted(missing)


def test_at_least_one_complementary_is_explained_as_a_choice(schemes: dict[str, Scheme]) -> None:
    v = verdict(schemes["consolidation"], {cid: True for cid in MANDATORY})
    (failing,) = v.failing
    assert failing.clause.kind == "at_least" and failing.needed == 1 and failing.met == ()
    text = format_verdict(v)
    assert "au moins 1" in text
    for cid in COMPLEMENTARY:
        assert schemes["consolidation"].criterion(cid).label in text  # type: ignore[union-attr]


def test_only_true_counts_as_met(schemes: dict[str, Scheme]) -> None:
    s = schemes["transfert"]
    answers: dict[str, bool] = {c.id: True for c in s.criteria}
    answers["maturite"] = "oui"  # type: ignore[assignment]
    answers["not-a-criterion"] = True
    v = verdict(s, answers)
    assert v.outcome == NOT_YET and [c.id for c in v.missing] == ["maturite"]


# --------------------------------------------------------------------------- rules on a synthetic scheme

RULE_SCHEME = """\
id: demo
title: Démo
short: Démo
status: open
summary: Un dispositif de démonstration.
source: /demo
contact: contact@beta.gouv.fr
apply: {url: /demo/candidater, how: en ligne.}
groups:
  - {id: a, title: Groupe A}
  - {id: b, title: Groupe B}
rule:
  - all: a
  - at_least: 2
    of: b
criteria:
  - {id: a1, group: a, label: A1, help: Aide A1., source: /demo#a}
  - {id: b1, group: b, label: B1, help: Aide B1., source: /demo#b}
  - {id: b2, group: b, label: B2, help: Aide B2., source: /demo#b}
  - {id: b3, group: b, label: B3, help: Aide B3., source: /demo#b}
"""


@pytest.mark.parametrize(
    ("ticked", "outcome", "missing"),
    [
        ({"a1", "b1", "b2"}, ELIGIBLE, set()),
        ({"a1", "b2", "b3"}, ELIGIBLE, set()),
        ({"a1", "b1", "b2", "b3"}, ELIGIBLE, set()),
        ({"a1", "b1"}, NOT_YET, {"b2", "b3"}),
        ({"b1", "b2"}, NOT_YET, {"a1"}),
        ({"b1"}, NOT_YET, {"a1", "b2", "b3"}),
        (set(), NOT_YET, {"a1", "b1", "b2", "b3"}),
    ],
)
def test_at_least_n_of_a_group(
    tmp_path: Path, ticked: set[str], outcome: str, missing: set[str]
) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(RULE_SCHEME, encoding="utf-8")
    scheme, problems = parse_scheme(path)
    assert problems == [] and scheme is not None
    v = verdict(scheme, {cid: True for cid in ticked})
    assert v.outcome == outcome
    assert {c.id for c in v.missing} == missing


# --------------------------------------------------------------------------- next steps


def test_eligible_before_the_deadline_says_how_to_apply_and_until_when(
    schemes: dict[str, Scheme],
) -> None:
    s = schemes["consolidation"]
    v = verdict(s, _all(s), today=BEFORE_CONSOLIDATION_DEADLINE)
    assert v.accepting
    steps = " ".join(v.next_steps)
    assert s.apply is not None and s.apply.url in steps
    assert "21 juin 2026" in steps and "contact@beta.gouv.fr" in steps


def test_eligible_after_the_deadline_says_it_passed_and_whom_to_write_to(
    schemes: dict[str, Scheme],
) -> None:
    for sid, day, email in (
        ("consolidation", "21 juin 2026", "contact@"),
        ("fast", "6 juin 2025", "fast@"),
    ):
        s = schemes[sid]
        v = verdict(s, _all(s), today=AFTER_EVERY_DEADLINE)
        assert v.eligible and not v.accepting
        steps = " ".join(v.next_steps)
        assert day in steps and "passée" in steps and email in steps


def test_not_yet_points_back_to_the_check_and_the_contact(schemes: dict[str, Scheme]) -> None:
    v = verdict(schemes["investigation"], {})
    steps = " ".join(v.next_steps)
    assert "/eligibilite investigation" in steps and "contact@beta.gouv.fr" in steps


def test_gamma_says_it_is_past_and_points_to_the_fast(schemes: dict[str, Scheme]) -> None:
    v = verdict(schemes["gamma"], _all(schemes["gamma"]))
    assert v.outcome == PAST and not v.eligible
    text = format_verdict(v)
    assert "terminé" in text and "/eligibilite fast" in text and "fast@beta.gouv.fr" in text


def test_english_framing(schemes: dict[str, Scheme]) -> None:
    text = format_verdict(verdict(schemes["fast"], {}), lang="en")
    assert "Not eligible yet" in text and "Next steps" in text


# --------------------------------------------------------------------------- finding a scheme


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fast", "fast"),
        ("FAST", "fast"),
        ("conso", "consolidation"),
        ("consolidaton", "consolidation"),
        ("programme de consolidation", "consolidation"),
        ("investig", "investigation"),
        ("investigaton", "investigation"),
        ("intra", "intrapreneur"),
        ("intrapreneurs", "intrapreneur"),
        ("sponsor", "sponsor"),
        ("transfert", "transfert"),
        ("trans", "transfert"),
        ("phase de consolidation", "transfert"),
        ("gamma", "gamma"),
        ("suis-je éligible au FAST ?", "fast"),
        ("Quels sont les critères du programme de consolidation ?", "consolidation"),
        ("fonds d'accélération", "fast"),
        ("", None),
        ("pizza", None),
        ("ma startup est-elle éligible ?", None),
        ("programme", None),
    ],
)
def test_find_scheme(schemes: dict[str, Scheme], text: str, expected: str | None) -> None:
    found = find_scheme(schemes, text)
    assert (found.id if found else None) == expected


def test_find_scheme_with_no_schemes() -> None:
    assert find_scheme({}, "fast") is None


# --------------------------------------------------------------------------- broken files

VALID = """\
id: demo
title: Démo
short: Démo
status: open
summary: Un dispositif de démonstration.
source: /demo
contact: contact@beta.gouv.fr
apply:
  url: https://example.gouv.fr/candidater
  how: en ligne.
groups:
  - id: a
    title: Groupe A
  - id: b
    title: Groupe B
rule:
  - all: a
  - at_least: 1
    of: b
criteria:
  - id: a1
    group: a
    label: Critère A1
    help: Ce que veut dire A1.
    source: /demo#a
  - id: b1
    group: b
    label: Critère B1
    help: Ce que veut dire B1.
    source: /demo#b
  - id: b2
    group: b
    label: Critère B2
    help: Ce que veut dire B2.
    source: /demo#b
"""


def _line(text: str, needle: str, occurrence: int = 1) -> int:
    count = 0
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            count += 1
            if count == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in the sample")


BROKEN = [
    # (name, text replaced, replacement, text of the line the problem must name, message part)
    (
        "impossible rule",
        "  - at_least: 1",
        "  - at_least: 3",
        "at_least: 3",
        "impossible rule: at least 3 of group 'b', which has 2",
    ),
    (
        "zero in a rule",
        "  - at_least: 1",
        "  - at_least: 0",
        "at_least: 0",
        "impossible rule: at least 0",
    ),
    ("unknown group in rule", "  - all: a", "  - all: c", "all: c", "rule names unknown group 'c'"),
    ("rule clause typo", "  - all: a", "  - tous: a", "tous: a", "unknown key 'tous'"),
    (
        "rule not a list",
        "rule:\n  - all: a\n  - at_least: 1\n    of: b\n",
        "rule: most\n",
        "rule: most",
        "'rule' must be 'all' or a list",
    ),
    (
        "group never used",
        "  - at_least: 1\n    of: b\n",
        "",
        "rule:",
        "the rule never uses group 'b'",
    ),
    (
        "unknown group in criterion",
        "    group: b\n    label: Critère B2",
        "    group: z\n    label: Critère B2",
        "group: z",
        "criterion 'b2' has unknown group 'z'",
    ),
    (
        "duplicate criterion id",
        "  - id: b2",
        "  - id: a1",
        "- id: a1",
        "duplicate criterion id 'a1'",
    ),
    (
        "bad url",
        "    source: /demo#b\n  - id: b2",
        "    source: http://demo.fr/x\n  - id: b2",
        "http://demo.fr/x",
        "'source' must be a permalink",
    ),
    (
        "url with a space",
        "  url: https://example.gouv.fr/candidater",
        "  url: https://example.gouv.fr/can didater",
        "can didater",
        "'url' must be",
    ),
    (
        "bad email",
        "contact: contact@beta.gouv.fr",
        "contact: contact-at-beta",
        "contact-at-beta",
        "'contact' must be an e-mail",
    ),
    ("unknown top key", "short: Démo", "short: Démo\nshrot: Démo", "shrot:", "unknown key 'shrot'"),
    (
        "unknown criterion key",
        "    help: Ce que veut dire A1.",
        "    help: Ce que veut dire A1.\n    halp: oops",
        "halp:",
        "unknown key 'halp' in a criterion",
    ),
    (
        "unknown apply key",
        "  how: en ligne.",
        "  how: en ligne.\n  when: demain",
        "when: demain",
        "unknown key 'when' in 'apply'",
    ),
    ("bad status", "status: open", "status: ouvert", "status: ouvert", "'status' must be one of"),
    (
        "modal title too long",
        "short: Démo",
        "short: Un nom bien trop long pour un titre",
        "short: Un nom",
        "keep it within 24",
    ),
    (
        "label too long",
        "    label: Critère A1",
        "    label: " + "x" * 80,
        "x" * 80,
        "keep it within 75",
    ),
    ("missing help", "    help: Ce que veut dire B1.\n", "", "- id: b1", "'help' is required"),
    (
        "invalid yaml",
        "title: Démo",
        "title: Démo: la suite",
        "title: Démo: la suite",
        "invalid YAML",
    ),
    ("unclosed bracket", "title: Démo", "title: [Démo", "title: [Démo", "started on line 2"),
    (
        "duplicate key",
        "title: Démo",
        "title: Démo\ntitle: Autre",
        "title: Autre",
        "'title' is written twice",
    ),
    (
        "deadline not a date",
        "status: open",
        "status: open\ndeadline: 21 juin 2026",
        "deadline:",
        "YYYY-MM-DD",
    ),
    (
        "past needs no apply but open does",
        "apply:\n  url: https://example.gouv.fr/candidater\n  how: en ligne.\n",
        "",
        "id: demo",
        "'apply' is required",
    ),
]


@pytest.mark.parametrize(
    ("name", "old", "new", "needle", "message"), BROKEN, ids=[b[0] for b in BROKEN]
)
def test_a_broken_scheme_is_reported_with_file_and_line_and_never_loaded(
    tmp_path: Path, name: str, old: str, new: str, needle: str, message: str
) -> None:
    assert old in VALID, name
    broken = VALID.replace(old, new, 1)
    folder = tmp_path / "schemes"
    folder.mkdir()
    path = folder / "demo.yaml"
    path.write_text(broken, encoding="utf-8")
    problems = check_schemes(folder)
    hits = [p for p in problems if message in p.message]
    assert hits, [str(p) for p in problems]
    occurrence = 2 if name == "duplicate criterion id" else 1
    line = _line(broken, needle, occurrence)
    assert str(hits[0]).startswith(f"{path}:{line}: "), [str(p) for p in problems]
    with pytest.raises(KnowledgeError) as caught:
        load_schemes(folder)
    assert caught.value.problems == problems
    assert str(path) in str(caught.value)


def test_the_valid_sample_is_valid(tmp_path: Path) -> None:
    (tmp_path / "demo.yaml").write_text(VALID, encoding="utf-8")
    assert check_schemes(tmp_path) == []
    assert list(load_schemes(tmp_path)) == ["demo"]


def test_a_group_of_more_than_ten_criteria_is_refused(tmp_path: Path) -> None:
    extra = "".join(
        f"  - id: b{i}\n    group: b\n    label: B{i}\n    help: Aide.\n    source: /demo#b\n"
        for i in range(3, 12)
    )
    (tmp_path / "demo.yaml").write_text(VALID + extra, encoding="utf-8")
    problems = check_schemes(tmp_path)
    group_line = next(n for n, line in enumerate(VALID.splitlines(), 1) if line == "  - id: b")
    assert [(p.line, p.message) for p in problems] == [
        (group_line, "group 'b' has 11 criteria; a form shows at most 10 per group: split it")
    ]


def test_problems_across_files(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "two.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "three.yaml").write_text(
        VALID.replace("id: demo", "id: other").replace(
            "status: open", "status: past\nreplaced_by: nowhere"
        ),
        encoding="utf-8",
    )
    (tmp_path / "notes.md").write_text("# not a scheme\n", encoding="utf-8")
    (tmp_path / "README.md").write_text("# ignored\n", encoding="utf-8")
    messages = [str(p) for p in check_schemes(tmp_path)]
    assert any("notes.md:1: scheme files are YAML" in m for m in messages)
    assert any("two.yaml:1: duplicate scheme id 'demo'" in m for m in messages)
    assert any("three.yaml:5: 'replaced_by' names unknown scheme 'nowhere'" in m for m in messages)
    assert not any(m.startswith(str(tmp_path / "README.md")) for m in messages)


def test_an_alias_used_by_two_schemes_is_refused(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text(
        VALID.replace("short: Démo", "short: Démo\naliases: [essai]"), encoding="utf-8"
    )
    (tmp_path / "two.yaml").write_text(
        VALID.replace("id: demo", "id: other").replace(
            "short: Démo", "short: Autre\naliases: [autre, essai]"
        ),
        encoding="utf-8",
    )
    (problem,) = check_schemes(tmp_path)
    assert str(problem).startswith(f"{tmp_path / 'two.yaml'}:4: alias 'essai' is also used by")


def test_an_absent_folder_has_no_schemes_and_no_problems(tmp_path: Path) -> None:
    assert load_schemes(tmp_path / "nowhere") == {}
    assert check_schemes(tmp_path / "nowhere") == []


def test_check_accepts_a_single_file(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(VALID.replace("status: open", "status: nope"), encoding="utf-8")
    (problem,) = check_schemes(path)
    assert problem.path == str(path) and problem.line == _line(VALID, "status: open")


# --------------------------------------------------------------------------- never served


def test_a_broken_scheme_never_reaches_serving(tmp_path: Path) -> None:
    from bot.engine import Engine

    knowledge = tmp_path / "knowledge"
    shutil.copytree(SCHEMES_DIR.parent, knowledge)
    engine = Engine.load(knowledge, None, tmp_path / "data")
    assert "consolidation" in engine.schemes
    path = knowledge / "schemes" / "consolidation.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  - at_least: 1", "  - at_least: 5"), encoding="utf-8")
    error = engine.reload()
    assert isinstance(error, KnowledgeError)
    line = _line(path.read_text(encoding="utf-8"), "at_least: 5")
    assert str(error.problems[0]).startswith(f"{path}:{line}: impossible rule")
    # the last good schemes keep serving
    kept = engine.schemes["consolidation"]
    assert kept.rule.clauses[1].count == 1
    with pytest.raises(KnowledgeError):
        Engine.load(knowledge, None, tmp_path / "data2")


def test_bot_check_reports_a_broken_scheme(tmp_path: Path, run_bot) -> None:  # type: ignore[no-untyped-def]
    knowledge = tmp_path / "knowledge"
    shutil.copytree(SCHEMES_DIR.parent, knowledge)
    ok = run_bot("check", str(knowledge))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    path = knowledge / "schemes" / "fast.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "rule: all", "rule:\n  - at_least: 3\n    of: soutien"
        ),
        encoding="utf-8",
    )
    bad = run_bot("check", str(knowledge))
    assert bad.returncode == 1
    line = _line(path.read_text(encoding="utf-8"), "at_least: 3")
    assert (
        f"{path}:{line}: impossible rule: at least 3 of group 'soutien', which has 2 criteria"
        in bad.stdout
    )


# --------------------------------------------------------------------------- property


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(MANDATORY + COMPLEMENTARY + ["unknown"]), st.booleans()))
def test_consolidation_rule_for_any_answers(answers: dict[str, bool]) -> None:
    s = load_schemes(SCHEMES_DIR)["consolidation"]
    yes = {k for k, v in answers.items() if v}
    expected = set(MANDATORY) <= yes and bool(yes & set(COMPLEMENTARY))
    v = verdict(s, answers)
    assert v.eligible is expected
    if expected:
        assert v.missing == ()
    else:
        assert v.missing and not ({c.id for c in v.missing} & yes)
