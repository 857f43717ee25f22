"""Records: what is stored (and what is not), retention, concurrency, broken files."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paths import PROJECT as PROJECT_ROOT

from bot.errors import RecordsError
from bot.records.store import FILENAME, Records, open_records, record_form
from bot.settings import Settings

DAY = 86400.0
NOW = 1_790_000_000.0  # a fixed "now" (2026-09-21), so that tests do not depend on the date
PROJECT = PROJECT_ROOT


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / FILENAME


@pytest.fixture
def records(db_path: Path, clock: Clock) -> Iterator[Records]:
    rec = Records(db_path, retention_days=90, clock=clock)
    yield rec
    rec.close()


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# -- what is stored -----------------------------------------------------------------------------


def test_vote_is_stored_with_normalised_question_source_vote_and_time(
    records: Records, db_path: Path
) -> None:
    records.record_vote("Combien dure la CONSTRUCTION ?", "phases/construction#0", -1)
    records.record_vote("c'est quoi le FAST", None, 1)
    assert records.flush()
    assert rows(db_path, "SELECT ts, question, source, vote FROM votes ORDER BY vote") == [
        (NOW, "combien dure la construction", "phases/construction#0", -1),
        (NOW, "est quoi le fast", "", 1),
    ]


def test_unanswered_question_is_counted_once_per_form_with_first_and_last_seen(
    records: Records, clock: Clock, db_path: Path
) -> None:
    records.record_unanswered("Recette de la tarte Tatin ?")
    clock.now += 3600
    records.record_unanswered("recette de la TARTE tatin")
    clock.now += 3600
    records.record_unanswered("  Recette   de la tarte tatin !! ")
    assert records.flush()
    summary = records.summary(timedelta(days=1))
    [top] = summary.top_unanswered
    assert top.question == "recette de la tarte [...]"  # "Tatin" could be a name
    assert top.count == 3
    assert top.first_seen.timestamp() == NOW
    assert top.last_seen.timestamp() == NOW + 7200
    assert summary.unanswered == 3


def test_an_empty_question_is_not_recorded(records: Records, db_path: Path) -> None:
    records.record_unanswered("   <@U024BE7LH>  ")
    assert records.flush()
    assert rows(db_path, "SELECT * FROM unanswered") == []


def test_vote_must_be_plus_or_minus_one(records: Records) -> None:
    with pytest.raises(ValueError, match="vote must be"):
        records.record_vote("question", "src", 0)


def test_schema_has_no_column_for_people_or_channels(records: Records, db_path: Path) -> None:
    columns = set()
    for table in ("votes", "unanswered", "answered"):
        columns |= {(table, r[1]) for r in rows(db_path, f"PRAGMA table_info({table})")}
    assert columns == {
        ("votes", "ts"),
        ("votes", "question"),
        ("votes", "source"),
        ("votes", "vote"),
        ("unanswered", "question"),
        ("unanswered", "day"),
        ("unanswered", "count"),
        ("unanswered", "first_seen"),
        ("unanswered", "last_seen"),
        ("answered", "day"),
        ("answered", "source"),
        ("answered", "count"),
    }


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("<@U024BE7LH> combien dure la construction ?", "combien dure la construction"),
        ("demande à U07ABCDEF12 pour le FAST", "demande a pour le fast"),
        ("dans <#C0123ABCD|general> on dit quoi ?", "dans general on dit quoi"),
        (
            "mon mail <mailto:jean.dupont@example.org|jean.dupont@example.org> svp",
            "mon mail [email] svp",
        ),
        ("écrivez-moi à marie.curie@gouv.fr", "ecrivez-moi a [email]"),
        ("appelez le 06 12 34 56 78 ou +33 6 12 34 56 78", "appelez le [telephone] ou [telephone]"),
        ("mon numéro fiscal 1234567890123", "mon numero fiscal [numero]"),
        ("les éditions 2023 et 2024 du FAST", "les editions 2023 et 2024 du fast"),
        ("est-ce que @jean.dupont est coach ?", "est-ce que est coach"),
        ("ping @here pour le FAST", "ping pour le fast"),
    ],
)
def test_personal_data_in_a_question_is_replaced_before_storing(typed: str, stored: str) -> None:
    assert record_form(typed) == stored


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=st.text(max_size=40),
    after=st.text(max_size=40),
    uid=st.from_regex(r"[UW][A-Z0-9]{10}", fullmatch=True).filter(
        lambda s: any(c.isdigit() for c in s)
    ),
    mention=st.booleans(),
)
def test_no_slack_user_id_survives_in_the_stored_form(
    before: str, after: str, uid: str, mention: bool
) -> None:
    typed = f"{before} {'<@' + uid + '>' if mention else uid} {after}"
    assert uid.casefold() not in record_form(typed).casefold()


# -- retention ---------------------------------------------------------------------------------


def test_retention_deletes_what_is_older_than_the_period_when_the_file_is_opened(
    db_path: Path, clock: Clock
) -> None:
    rec = Records(db_path, retention_days=90, clock=clock)
    rec.record_vote("vieille question", "a", -1)
    rec.record_unanswered("vieille question sans reponse")
    rec.record_answered("a")
    clock.now += 80 * DAY
    rec.record_vote("question recente", "b", 1)
    rec.record_unanswered("question recente sans reponse")
    rec.close()

    clock.now += 15 * DAY  # the first batch is now 95 days old, the second 15
    Records(db_path, retention_days=90, clock=clock).close()

    assert rows(db_path, "SELECT question FROM votes") == [("question recente",)]
    assert rows(db_path, "SELECT question FROM unanswered") == [("question recente sans reponse",)]
    assert rows(db_path, "SELECT count(*) FROM answered") == [(0,)]


def test_retention_is_enforced_periodically_while_the_bot_runs(db_path: Path, clock: Clock) -> None:
    rec = Records(db_path, retention_days=1, clock=clock, purge_every_s=0.2)
    try:
        rec.record_unanswered("question du jour")
        assert rec.flush()
        clock.now += 2 * DAY
        deadline = time.monotonic() + 10
        while rows(db_path, "SELECT count(*) FROM unanswered") != [(0,)]:
            assert time.monotonic() < deadline, "the hourly purge never ran"
            time.sleep(0.05)
    finally:
        rec.close()


def test_a_question_asked_again_keeps_only_its_recent_days(db_path: Path, clock: Clock) -> None:
    rec = Records(db_path, retention_days=30, clock=clock)
    rec.record_unanswered("combien coute un cafe")
    clock.now += 40 * DAY
    rec.record_unanswered("combien coute un cafe")
    assert rec.flush()
    assert rec.purge() == 1
    [top] = rec.summary(timedelta(days=365)).top_unanswered
    rec.close()
    assert (top.count, top.first_seen.timestamp()) == (1, NOW + 40 * DAY)


def test_open_records_uses_the_data_dir_and_retention_of_the_settings(tmp_path: Path) -> None:
    rec = open_records(Settings(data_dir=tmp_path / "data", retention_days=7))
    try:
        assert rec.path == tmp_path / "data" / FILENAME
        assert rec.retention_days == 7
        assert rec.path.exists()
        assert rows(rec.path, "PRAGMA journal_mode") == [("wal",)]
    finally:
        rec.close()


# -- concurrency -------------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from bot.records.store import Records
    rec = Records(Path(sys.argv[1]))
    for i in range(int(sys.argv[2])):
        rec.record_vote(f"question {i % 7}", "src", 1 if i % 2 else -1)
        rec.record_unanswered(f"inconnue {i % 5}")
    rec.close()
    """
)


def test_concurrent_writers_in_processes_and_threads_lose_nothing(db_path: Path) -> None:
    per_writer = 300
    Records(db_path).close()  # create the file once, as serve does at start
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(db_path), str(per_writer)], cwd=PROJECT)
        for _ in range(3)
    ]
    shared = Records(db_path)
    own = [Records(db_path) for _ in range(2)]

    def write(rec: Records) -> None:
        for i in range(per_writer):
            rec.record_vote(f"question {i % 7}", "src", 1)
            rec.record_unanswered(f"inconnue {i % 5}")

    threads = [threading.Thread(target=write, args=(r,)) for r in [shared, shared, *own]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for rec in [shared, *own]:
        rec.close()
    for p in procs:
        assert p.wait(timeout=60) == 0

    writers = 3 + 4
    assert rows(db_path, "SELECT count(*) FROM votes") == [(writers * per_writer,)]
    assert rows(db_path, "SELECT sum(count) FROM unanswered") == [(writers * per_writer,)]
    assert rows(db_path, "SELECT count(DISTINCT question) FROM unanswered") == [(5,)]


# -- broken or locked files --------------------------------------------------------------------


def test_a_corrupted_file_gives_a_clear_records_error(db_path: Path) -> None:
    db_path.write_bytes(b"this is not a database, just some bytes" * 100)
    with pytest.raises(RecordsError) as caught:
        Records(db_path)
    message = str(caught.value)
    assert str(db_path) in message
    assert "corrupted" in message
    assert "move it aside or delete it" in message


def test_a_damaged_database_is_reported_as_corrupted(db_path: Path, clock: Clock) -> None:
    rec = Records(db_path, clock=clock)
    for i in range(2000):
        rec.record_unanswered(f"question numero {i} " + "x" * 50)
    rec.close()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(db_path.read_bytes())
    page = 4096
    for offset in range(2 * page, len(data), page):  # scribble over every b-tree page but the first
        data[offset : offset + 64] = b"\xff" * 64
    db_path.write_bytes(bytes(data))
    with pytest.raises(RecordsError, match="corrupted"):
        Records(db_path, clock=clock)


def test_a_file_from_a_newer_bot_is_refused(db_path: Path) -> None:
    Records(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(RecordsError, match="newer version"):
        Records(db_path)


@pytest.fixture
def locked(db_path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's connection holding the write lock of the records file."""
    Records(db_path).close()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    yield conn
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


def test_a_locked_file_gives_a_clear_records_error_on_open(
    db_path: Path, locked: sqlite3.Connection
) -> None:
    with pytest.raises(RecordsError) as caught:
        Records(db_path, busy_timeout_ms=200)
    assert "locked by another process" in str(caught.value)
    assert str(db_path) in str(caught.value)


def test_records_written_while_locked_are_logged_and_never_block_the_caller(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rec = Records(db_path, busy_timeout_ms=300)
    try:
        holder = sqlite3.connect(db_path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        with caplog.at_level(logging.ERROR, logger="bot.records.store"):
            t0 = time.perf_counter()
            rec.record_vote("question pendant le verrou", "src", -1)
            rec.record_unanswered("autre question pendant le verrou")
            assert time.perf_counter() - t0 < 0.5  # queued: the caller never waits on the lock
            assert rec.flush()
        assert isinstance(rec.last_error, RecordsError)
        assert "locked by another process" in caplog.text
        holder.execute("ROLLBACK")
        holder.close()

        rec.record_vote("question apres le verrou", "src", 1)  # the writer recovers by itself
        assert rec.flush()
        assert rec.last_error is None
        assert rows(db_path, "SELECT question FROM votes") == [("question apres le verrou",)]
    finally:
        rec.close()


def test_a_missing_data_dir_is_created_and_an_unwritable_one_is_a_clear_error(
    tmp_path: Path,
) -> None:
    rec = Records(tmp_path / "a" / "b" / FILENAME)
    rec.close()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(RecordsError, match="BOT_DATA_DIR"):
        Records(blocker / FILENAME)
