"""The store interface, the same tests on both implementations: SQLite (the embedded default)
and PostgreSQL (a real server, tests/pgserver.py).

What the maintainers and users would notice: records kept (and nothing personal), the report,
retention, Slack retries recognised across processes, the registry copy shared, the schema
migrated once, and nothing acknowledged lost when a process is killed (``kill -9``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from paths import PROJECT

from bot.errors import RecordsError
from bot.records.schema import LATEST
from bot.records.store import FILENAME, SQLiteStore, Store, open_store
from bot.settings import Settings

DAY = 86400.0
NOW = 1_790_000_000.0

Opener = Callable[..., Store]


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store lives: a SQLite path, or the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / FILENAME)
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def opener(backend: str) -> Iterator[Opener]:
    opened: list[Store] = []

    def open_(**kwargs: object) -> Store:
        if backend.startswith("postgresql://"):
            from bot.records.postgres import PostgresStore

            store: Store = PostgresStore(backend, **kwargs)  # type: ignore[arg-type]
        else:
            store = SQLiteStore(Path(backend), **kwargs)  # type: ignore[arg-type]
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


def _settings(backend: str, tmp_path: Path) -> Settings:
    if backend.startswith("postgresql://"):
        return Settings(data_dir=tmp_path / "data", database_url=backend)
    return Settings(data_dir=Path(backend).parent)


# -- records ----------------------------------------------------------------------------------


def test_records_are_kept_normalised_without_personal_data(opener: Opener) -> None:
    store = opener(clock=Clock())
    assert store.record_vote("Combien dure la CONSTRUCTION ?", "phases/construction#0", -1).wait(5)
    assert store.record_vote("écrire à jean.dupont@example.org", None, 1).wait(5)
    assert store.record_unanswered("Tarte tatin ?").wait(5)
    assert store.record_unanswered("tarte   TATIN").wait(5)
    assert store.record_unanswered("appelez le 06 12 34 56 78").wait(5)
    assert store.record_answered("phases/construction#0").wait(5)
    rows = store.dump()
    assert [(q, s, v) for _ts, q, s, v in rows["votes"]] == [
        ("combien dure la construction", "phases/construction#0", -1),
        ("ecrire a [email]", "", 1),
    ]
    assert [(q, n) for q, _day, n, _f, _l in rows["unanswered"]] == [
        ("appelez le [telephone]", 1),
        ("tarte [...]", 2),  # a word that could be a name is not kept
    ]
    assert [(s, n) for _d, s, n in rows["answered"]] == [("phases/construction#0", 1)]
    assert "jean" not in repr(rows) and "06 12" not in repr(rows)


def test_a_bad_vote_is_refused_and_an_empty_question_is_not_kept(opener: Opener) -> None:
    store = opener()
    with pytest.raises(ValueError, match="vote must be"):
        store.record_vote("q", None, 2)
    assert store.record_unanswered("  ?  ").wait(5)  # nothing to keep, nothing lost
    assert store.dump()["unanswered"] == []


def test_the_report_counts_the_period(opener: Opener) -> None:
    clock = Clock()
    store = opener(clock=clock)
    for _ in range(3):
        store.record_unanswered("budget de la dinum")
    store.record_unanswered("pluie demain")
    store.record_answered("phases/construction#0")
    store.record_vote("combien dure la construction", "phases/construction#0", -1)
    store.record_vote("combien dure la construction", "phases/construction#0", 1)
    clock.now += 40 * DAY
    store.record_unanswered("pluie demain")
    assert store.flush()
    recent = store.summary(timedelta(days=30))
    assert recent.unanswered == 1 and recent.answered == 0 and recent.down == 0
    assert [q.question for q in recent.top_unanswered] == ["pluie demain"]
    whole = store.summary(timedelta(days=60))
    assert whole.unanswered == 5 and whole.answered == 1
    assert (whole.up, whole.down) == (1, 1)
    assert [(q.question, q.count) for q in whole.top_unanswered] == [
        ("budget de la dinum", 3),
        ("pluie demain", 2),
    ]
    assert [(d.source, d.down, d.up, d.served) for d in whole.disliked] == [
        ("phases/construction#0", 1, 1, 1)
    ]
    assert whole.disliked[0].questions == ("combien dure la construction",)


def test_retention_deletes_what_is_older_than_the_period(opener: Opener) -> None:
    clock = Clock()
    store = opener(clock=clock, retention_days=30)
    store.record_vote("vieux", "s", 1)
    store.record_unanswered("vieille question")
    store.record_answered("s")
    assert store.flush()
    clock.now += 31 * DAY
    store.record_unanswered("nouvelle question")
    assert store.flush()
    assert store.purge() >= 3
    rows = store.dump()
    assert rows["votes"] == [] and rows["answered"] == []
    assert [r[0] for r in rows["unanswered"]] == ["nouvelle question"]


# -- shared dedupe ----------------------------------------------------------------------------


def test_a_key_is_new_once_for_every_store_on_the_same_database(opener: Opener) -> None:
    first, second = opener(), opener()
    assert first.first_time("event:Ev1", 3600)
    assert not second.first_time("event:Ev1", 3600)
    assert not first.first_time("event:Ev1", 3600)
    assert second.first_time("event:Ev2", 3600)


def test_an_expired_key_is_new_again(opener: Opener) -> None:
    store = opener()
    assert store.first_time("click:1", -1)  # already expired when stored
    assert store.first_time("click:1", 3600)
    assert not store.first_time("click:1", 3600)


def test_concurrent_deliveries_of_one_event_pass_exactly_once(opener: Opener) -> None:
    stores = [opener(), opener()]
    wins: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def deliver(i: int) -> None:
        barrier.wait()
        for n in range(20):
            won = stores[i % 2].first_time(f"event:Ev{n}", 3600)
            with lock:
                wins.append(won)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 20


# -- the registry copy ------------------------------------------------------------------------


def test_the_registry_copy_is_shared_and_stamped(opener: Opener) -> None:
    writer, reader = opener(), opener()
    assert reader.load_registry() is None and reader.registry_stamp() is None
    stamp = writer.save_registry('{"format": 1}')
    assert reader.registry_stamp() == stamp
    assert reader.load_registry() == ('{"format": 1}', stamp)
    assert writer.save_registry('{"format": 1, "x": 2}') != stamp
    assert reader.load_registry() is not None


# -- schema -----------------------------------------------------------------------------------


def test_the_schema_is_migrated_once_and_a_newer_database_is_refused(
    opener: Opener, backend: str
) -> None:
    store = opener()
    assert store.schema_version() == LATEST
    assert store.migrate() == []
    store.close()
    if backend.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(backend, autocommit=True) as pg:
            pg.execute("INSERT INTO schema_version (version, description) VALUES (99, 'x')")
    else:
        import sqlite3

        lite = sqlite3.connect(backend)
        lite.execute("PRAGMA user_version = 99")
        lite.close()
    with pytest.raises(RecordsError, match="newer version of the bot"):
        opener()


def test_open_store_follows_database_url(backend: str, tmp_path: Path) -> None:
    settings = _settings(backend, tmp_path)
    store = open_store(settings)
    try:
        assert store.kind == ("postgres" if settings.database_url else "sqlite")
        assert store.schema_version() == LATEST
    finally:
        store.close()
    if settings.database_url:
        assert not (tmp_path / "data").exists()  # no SQLite file written


def test_migrate_command_migrates_and_says_so(backend: str, tmp_path: Path) -> None:
    settings = _settings(backend, tmp_path)
    env = {**os.environ, "BOT_DATA_DIR": str(settings.data_dir)}
    env.pop("DATABASE_URL", None)
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url
    run = [sys.executable, "-m", "bot", "migrate"]
    first = subprocess.run(run, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert f"schema version {LATEST}" in first.stdout and "applied" in first.stdout
    again = subprocess.run(run, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "up to date" in again.stdout


# -- durability -------------------------------------------------------------------------------

KILLED = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    target = sys.argv[1]
    if target.startswith("postgresql://"):
        from bot.records.postgres import PostgresStore
        store = PostgresStore(target)
    else:
        from bot.records.store import SQLiteStore
        store = SQLiteStore(Path(target))
    print("ready", flush=True)
    i = 0
    while True:
        receipt = (store.record_vote(f"vote {i}", "src", 1) if i % 2
                   else store.record_unanswered(f"question {i}"))
        if receipt.wait(30):
            print(i, flush=True)  # acknowledged: the reply would go now
        i += 1
    """
)


@pytest.mark.parametrize("after", [1, 40, 300])
def test_kill_9_loses_nothing_that_was_acknowledged(
    backend: str, opener: Opener, after: int
) -> None:
    opener().close()  # the schema exists, as after `serve` started once
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED, backend],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    acknowledged: list[int] = []
    try:
        assert child.stdout.readline().strip() == "ready"
        while len(acknowledged) < after:
            acknowledged.append(int(child.stdout.readline()))
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    # Whatever was printed before the kill reached us too: all of it was acknowledged.
    acknowledged += [int(line) for line in child.stdout.read().split()]
    rows = opener().dump()
    kept_questions = {q for q, *_ in rows["unanswered"]}
    kept_votes = {q for _ts, q, _s, _v in rows["votes"]}
    for i in acknowledged:
        if i % 2:
            assert f"vote {i}" in kept_votes
        else:
            assert f"question {i}" in kept_questions


def test_a_claim_through_the_writer_says_whether_the_key_is_new(opener: Opener) -> None:
    first, second = opener(), opener()
    mine = first.claim("event:Ev9", 3600)
    assert mine.wait(5) and mine.value is True
    theirs = second.claim("event:Ev9", 3600)
    assert theirs.wait(5) and theirs.value is False
    assert not first.first_time("event:Ev9", 3600)


def test_a_dedupe_key_is_stored_as_a_digest_not_as_the_ids_it_carries(opener: Opener) -> None:
    store = opener()
    assert store.first_time("slack:event:EvC0PRIV0001U0ALICE001", 3600)
    assert store.claim("slack:event:EvHU0BOB00002", 3600) is not None
    assert store.flush()
    with store._connection() as conn:
        keys = [str(r[0]) for r in store._execute(conn, "SELECT key FROM dedupe")]
    assert len(keys) == 2
    assert not any("ALICE" in k or "BOB" in k or "PRIV" in k for k in keys)
    assert not store.first_time("slack:event:EvC0PRIV0001U0ALICE001", 3600)
