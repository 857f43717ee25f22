"""The eligibility check in the console: yes/no questions fed from a script, then the verdict."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from paths import KNOWLEDGE

from bot.eligibility.schemes import Scheme, load_schemes
from bot.frontends.console.eligibility import (
    build_scheme_list_text,
    parse_yes_no,
    run_console_check,
)

SCHEMES_DIR = KNOWLEDGE / "schemes"
TODAY = dt.date(2026, 3, 1)  # before the consolidation deadline


@pytest.fixture(scope="module")
def schemes() -> dict[str, Scheme]:
    return load_schemes(SCHEMES_DIR)


class Script:
    """Feeds scripted replies to ``ask`` and collects everything said."""

    def __init__(self, replies: Iterable[str]) -> None:
        self.replies = list(replies)
        self.prompts: list[str] = []
        self.said: list[str] = []

    def ask(self, prompt: str) -> str | None:
        self.prompts.append(prompt)
        return self.replies.pop(0) if self.replies else None

    def say(self, text: str) -> None:
        self.said.append(text)

    @property
    def output(self) -> str:
        return "\n".join(self.said)


def run(scheme: Scheme, replies: Iterable[str]) -> Script:
    script = Script(replies)
    run_console_check(scheme, script.ask, script.say, today=TODAY)
    return script


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("o", True), ("oui", True), ("Oui", True), ("OUI !", True), ("y", True), ("yes", True),
        ("n", False), ("non", False), ("No", False), ("N.", False),
        ("peut-être", None), ("", None), ("ouiiii", None),
    ],
)  # fmt: skip
def test_yes_no_replies(reply: str, expected: bool | None) -> None:
    assert parse_yes_no(reply) is expected


def test_all_yes_gives_eligible_with_how_to_apply(schemes: dict[str, Scheme]) -> None:
    s = schemes["consolidation"]
    script = run(s, ["oui"] * len(s.criteria))
    assert len(script.prompts) == len(s.criteria)
    assert script.prompts[0].startswith("[1/9] ") and script.prompts[0].endswith("? (o/n)")
    out = script.output
    assert "Éligible" in out
    assert s.apply is not None and s.apply.url in out
    assert "21 juin 2026" in out


def test_one_no_names_the_missing_criterion_with_help_and_link(schemes: dict[str, Scheme]) -> None:
    s = schemes["fast"]
    order = s.ordered()
    replies = ["o"] * len(order)
    replies[2] = "n"  # statistiques publiques
    out = run(s, replies).output
    missing = order[2]
    assert "Pas encore éligible" in out
    assert f"✗ {missing.label}" in out
    assert missing.help[:40] in out and missing.source in out
    for other in order:
        if other is not missing:
            assert f"✗ {other.label}" not in out


def test_questions_follow_the_groups(schemes: dict[str, Scheme]) -> None:
    s = schemes["consolidation"]
    script = run(s, ["n"] * len(s.criteria))
    out = script.output
    assert out.index("Critères obligatoires") < out.index("Critères complémentaires")
    assert "au moins 1 sur 4" in out


def test_help_then_answer_and_unclear_replies_are_asked_again(schemes: dict[str, Scheme]) -> None:
    s = schemes["transfert"]
    first = s.ordered()[0]
    script = run(s, ["?", "bof", "o", "o", "o", "o"])
    assert script.prompts[0] == script.prompts[1] == script.prompts[2]
    assert first.help in script.output and first.source in script.output
    assert "Répondez par o (oui) ou n (non)" in script.output
    assert "Les conditions sont réunies" in script.output


def test_end_of_input_stops_cleanly_without_a_verdict(schemes: dict[str, Scheme]) -> None:
    s = schemes["fast"]
    script = run(s, ["o", "o"])
    assert len(script.prompts) == 3
    assert "interrompue" in script.output
    assert "éligible" not in script.output.lower().split("interrompue")[-1]


def test_quit_stops_without_a_verdict(schemes: dict[str, Scheme]) -> None:
    script = run(schemes["sponsor"], ["o", "q", "o"])
    assert len(script.prompts) == 2 and "arrêtée" in script.output
    assert "Le profil correspond" not in script.output and "ne correspond pas" not in script.output


def test_a_past_programme_asks_nothing_and_points_to_the_fast(schemes: dict[str, Scheme]) -> None:
    script = run(schemes["gamma"], ["o"] * 10)
    assert script.prompts == []
    assert "terminé" in script.output and "/eligibilite fast" in script.output


def test_scheme_list(schemes: dict[str, Scheme]) -> None:
    text = build_scheme_list_text(schemes)
    for sid in schemes:
        assert f"  {sid} " in text
    assert "/eligibilite fast" in text
    assert text.index("gamma") > text.index("transfert")  # past programmes last
    assert "Aucune" in build_scheme_list_text({})


def test_the_console_chat_runs_the_check(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """/eligibilite fast in the console chat (bot/console.py) asks the questions, then answers."""
    from bot.frontends.console.chat import Console

    fast = engine.schemes["fast"]
    replies = iter(["o"] * len(fast.criteria))
    out = io.StringIO()
    ask: Callable[[str], str | None] = lambda prompt: next(replies, None)  # noqa: E731
    console = Console(engine, out, ask)
    assert console.handle("/eligibilite fast")
    text = out.getvalue()
    assert "Éligible" in text and "fast@beta.gouv.fr" in text
    out.truncate(0)
    assert console.handle("/eligibilite pizza")
    assert "pizza" in out.getvalue() and "/eligibilite fast" in out.getvalue()


def test_python_m_bot_console_with_piped_answers(run_bot) -> None:  # type: ignore[no-untyped-def]
    answers = "\n".join(["/eligibilite conso"] + ["o"] * 5 + ["n"] * 4) + "\n"
    result = run_bot(stdin=answers)
    assert result.returncode == 0, result.stderr
    assert "Critères complémentaires — il en faut au moins 1 (vous en avez 0)" in result.stdout
