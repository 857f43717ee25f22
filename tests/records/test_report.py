"""The maintainers' report: text, CSV, the App Home blocks, and the CLI command."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from paths import PROJECT as PROJECT_ROOT

from bot.frontends.slack.report_blocks import build_admin_report_blocks
from bot.records.report import (
    format_csv,
    format_text,
    parse_since,
    run_report,
)
from bot.records.store import FILENAME, Records
from bot.settings import Settings

DAY = 86400.0
PROJECT = PROJECT_ROOT


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def write_records(settings: Settings) -> Iterator[Callable[[float], Records]]:
    """Records whose clock starts ``days_ago`` days before now (the report uses the real time)."""
    opened: list[Records] = []

    def make(days_ago: float) -> Records:
        rec = Records(settings.data_dir / FILENAME, clock=Clock(time.time() - days_ago * DAY))
        opened.append(rec)
        return rec

    yield make
    for rec in opened:
        rec.close()


@pytest.fixture
def history(write_records: Callable[[float], Records]) -> Records:
    """Two months of activity: unanswered questions, votes and answers, old and recent."""
    old = write_records(45)
    for _ in range(9):
        old.record_unanswered("question de l'an dernier")
    old.record_vote("combien dure l'investigation", "phases/investigation#0", -1)
    for _ in range(4):
        old.record_answered("phases/investigation#0")
    old.flush()

    rec = write_records(3)
    clock = rec.clock
    assert isinstance(clock, Clock)
    for _ in range(5):
        rec.record_unanswered("Comment réserver une salle à Ségur ?")
    for _ in range(2):
        rec.record_unanswered("quel est le wifi du bureau")
    rec.record_unanswered('=HYPERLINK("http://evil")')
    for _ in range(3):
        rec.record_vote("combien dure la construction", "phases/construction#0", -1)
    rec.record_vote("la construction dure combien de temps", "phases/construction#0", -1)
    rec.record_vote("combien dure la construction", "phases/construction#0", 1)
    rec.record_vote("c'est quoi le FAST", "programmes/fast-selection#0", -1)
    rec.record_vote("c'est quoi le FAST", "programmes/fast-selection#0", 1)
    rec.record_vote("c'est quoi le FAST", "programmes/fast-selection#0", 1)
    for _ in range(12):
        rec.record_answered("phases/construction#0")
    clock.now += DAY
    for _ in range(6):
        rec.record_answered("programmes/fast-selection#0")
    rec.record_unanswered("quel est le wifi du bureau")
    rec.flush()
    return rec


def report(settings: Settings, since: str = "30d", fmt: str = "text") -> tuple[int, str]:
    out = io.StringIO()
    code = run_report(settings, since=since, fmt=fmt, out=out)
    return code, out.getvalue()


def test_text_report_ranks_unanswered_questions_by_how_often_they_were_asked(
    settings: Settings, history: Records
) -> None:
    code, text = report(settings)
    assert code == 0
    section = text.split("Questions sans réponse les plus fréquentes")[1].split(
        "Réponses les moins"
    )[0]
    lines = [line.split() for line in section.strip().splitlines()[1:]]
    assert [(line[0], " ".join(line[3:])) for line in lines] == [
        ("5", "comment reserver une salle a segur"),
        ("3", "quel est le wifi du bureau"),
        ("1", "[...]"),
    ]


def test_text_report_lists_the_most_disliked_answers_with_the_questions_behind_them(
    settings: Settings, history: Records
) -> None:
    _, text = report(settings)
    section = text.split("Réponses les moins appréciées")[1].split("Taux de réponse")[0]
    first, second = section.strip().splitlines()[1:3]
    assert first.split()[:4] == ["4", "1", "12", "phases/construction#0"]
    assert "combien dure la construction | la construction dure combien de temps" in first
    assert second.split()[:4] == ["1", "2", "6", "programmes/fast-selection#0"]


def test_text_report_gives_totals_and_the_answer_rate_per_day(
    settings: Settings, history: Records
) -> None:
    _, text = report(settings)
    assert (
        "Questions reçues : 27 — répondues : 18, sans réponse : 9 (taux de réponse : 67 %)" in text
    )
    assert "Avis : 3 utile(s), 5 pas utile(s)" in text
    rate = text.split("Taux de réponse par jour")[1].strip().splitlines()
    assert "(12/20)" in rate[0] and "60 %" in rate[0]
    assert "(6/7)" in rate[1] and "86 %" in rate[1]
    assert "Données conservées 90 jours" in text


def test_a_longer_period_includes_older_records_and_counts_per_week(
    settings: Settings, history: Records
) -> None:
    _, text = report(settings, since="60d")
    assert "      9  " in text and "question de an dernier" in text
    assert "Taux de réponse par semaine" in text
    assert "phases/investigation#0" in text


def test_a_short_period_leaves_out_older_records(settings: Settings, history: Records) -> None:
    _, text = report(settings, since="30d")
    assert (
        "dernier"
        not in text.split("Questions sans réponse les plus fréquentes")[1].split("Réponses")[0]
    )
    assert "phases/investigation#0" not in text


def test_csv_report_is_one_table_with_a_section_column(
    settings: Settings, history: Records
) -> None:
    code, text = report(settings, fmt="csv")
    assert code == 0
    table = list(csv.DictReader(io.StringIO(text)))
    by_section: dict[str, list[dict[str, str]]] = {}
    for row in table:
        by_section.setdefault(row["section"], []).append(row)
    [total] = by_section["total"]
    assert (total["answered"], total["unanswered"], total["rate"]) == ("18", "9", "0.667")
    assert [(r["item"], r["count"]) for r in by_section["unanswered"]] == [
        ("comment reserver une salle a segur", "5"),
        ("quel est le wifi du bureau", "3"),
        ("[...]", "1"),
    ]
    assert by_section["disliked"][0]["item"] == "phases/construction#0"
    assert (by_section["disliked"][0]["down"], by_section["disliked"][0]["served"]) == ("4", "12")
    assert [r["count"] for r in by_section["answer_rate"]] == ["20", "7"]


def test_csv_cells_never_start_a_spreadsheet_formula() -> None:
    from datetime import UTC, datetime

    from bot.records.store import Summary, UnansweredQuestion

    now = datetime.now(UTC)
    summary = Summary(
        start=now, end=now, top_unanswered=(UnansweredQuestion("=cmd|' /c calc'!a0", 1, now, now),)
    )
    rows = list(csv.DictReader(io.StringIO(format_csv(summary))))
    assert rows[1]["item"] == "'=cmd|' /c calc'!a0"


def test_report_on_empty_records_says_so(settings: Settings) -> None:
    code, text = report(settings)
    assert code == 0
    assert "Questions reçues : 0" in text
    assert "taux de réponse : —" in text
    assert "(aucune sur la période)" in text
    assert "(aucun avis négatif sur la période)" in text


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("7", timedelta(days=7)),
        ("12w", timedelta(weeks=12)),
        ("2s", timedelta(weeks=2)),
        ("24h", timedelta(hours=24)),
        (" 10 j ", timedelta(days=10)),
    ],
)
def test_since_accepts_days_weeks_and_hours(since: str, expected: timedelta) -> None:
    assert parse_since(since) == expected


@pytest.mark.parametrize("since", ["", "xx", "30x", "-3d", "0d", "d30"])
def test_a_bad_since_exits_1_with_a_one_line_reason(
    settings: Settings, since: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = report(settings, since=since)
    err = capsys.readouterr().err
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    assert "--since must be a period such as 7d, 30d" in err


def test_corrupted_records_exit_1_with_a_clear_error(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / FILENAME).write_bytes(b"garbage" * 1000)
    code, out = report(settings)
    err = capsys.readouterr().err
    assert (code, out) == (1, "")
    assert err.startswith("error: records file ")
    assert "corrupted" in err


def test_cli_report_command_prints_the_report(settings: Settings, history: Records) -> None:
    env = {**os.environ, "BOT_DATA_DIR": str(settings.data_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "report", "--since", "30d", "--format", "csv"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "unanswered,comment reserver une salle a segur,5" in done.stdout


# -- App Home --------------------------------------------------------------------------------------


def test_admin_blocks_show_the_same_summary(settings: Settings, history: Records) -> None:
    blocks = build_admin_report_blocks(history.summary(timedelta(days=30)))
    text = json.dumps(blocks, ensure_ascii=False)
    assert "*taux de réponse :* 67 %" in text
    assert "`5×` comment reserver une salle a segur" in text
    assert "`phases/construction#0` : :thumbsdown: 4 · :thumbsup: 1" in text
    assert "Taux de réponse par jour" in text


def test_admin_blocks_respect_block_kit_limits_and_escape_markup() -> None:
    from datetime import UTC, datetime

    from bot.records.store import DislikedAnswer, Period, Summary, UnansweredQuestion

    now = datetime.now(UTC)
    long_q = "<!channel> & <@U123ABC456> " + "tres longue question " * 40
    summary = Summary(
        start=now - timedelta(days=30),
        end=now,
        top_unanswered=tuple(
            UnansweredQuestion(long_q + str(i), 100 - i, now, now) for i in range(20)
        ),
        disliked=tuple(DislikedAnswer(f"<src{i}>", 5, 1, 9, (long_q,) * 3) for i in range(20)),
        periods=tuple(Period(f"2026-01-{i:02d}", now.date(), i, 1) for i in range(1, 31)),
    )
    blocks = build_admin_report_blocks(summary)
    assert len(blocks) <= 10
    for block in blocks:
        assert block["type"] in {"divider", "header", "section", "context"}
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text" and len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    text = json.dumps(blocks)
    assert "<!channel>" not in text and "<@U123" not in text and "<src" not in text
    assert "&lt;!channel&gt; &amp;" in text


def test_text_format_is_stable_for_an_empty_summary() -> None:
    from datetime import UTC, datetime

    from bot.records.store import Summary

    now = datetime(2026, 3, 31, 12, tzinfo=UTC)
    text = format_text(Summary(start=now - timedelta(days=7), end=now))
    assert (
        text.splitlines()[0]
        == "Rapport du bot beta.gouv.fr : 7 derniers jours (2026-03-24 → 2026-03-31, UTC)"
    )
