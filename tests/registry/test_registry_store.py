"""The registry copy in the shared store: a `sync` from any process reaches every process.

On Scalingo the filesystem is per container: `scalingo run python -m bot sync` writes into a
one-off container. With DATABASE_URL the copy goes to the database, and each serving process
brings it into its own BOT_DATA_DIR (at start and from the hot-reload watcher). The same tests
on SQLite (a store file shared by processes on one machine) and a real PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_sync import FAST, ApiServer

from bot.engine import Engine
from bot.records.store import FILENAME, SQLiteStore, Store, open_store
from bot.registry.model import load_stored
from bot.registry.sync import pull_stored, run_sync, sync_once
from bot.settings import Settings
from bot.watch import Watcher


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        store: Store = SQLiteStore(tmp_path / "shared" / FILENAME)
    else:
        from bot.records.postgres import PostgresStore

        store = PostgresStore(request.getfixturevalue("postgres_url"))
    yield store
    store.close()


async def test_a_sync_in_one_process_reaches_another_data_dir(
    api: ApiServer, db: Store, tmp_path: Path
) -> None:
    one_off, web_ = tmp_path / "one-off", tmp_path / "web"
    result = await sync_once(api.base_url, one_off, db=db, **FAST)
    assert result.changed
    assert load_stored(web_) is None
    assert pull_stored(db, web_)
    registry = load_stored(web_)
    assert registry is not None and len(registry.startups) == 3
    assert not pull_stored(db, web_)  # unchanged: nothing to bring


async def test_the_watcher_reloads_a_registry_synced_elsewhere(
    api: ApiServer, db: Store, tmp_path: Path
) -> None:
    data_dir = tmp_path / "web"
    engine = Engine.load(Path(__file__).parents[2] / "knowledge", None, data_dir)
    assert engine.registry is None
    watcher = Watcher(
        engine, data_dir=data_dir, poll_s=0.01, quiet_s=0.01, pull=lambda: pull_stored(db, data_dir)
    )
    await sync_once(api.base_url, tmp_path / "one-off", db=db, **FAST)
    [outcome] = await watcher.poll()
    assert outcome.what == "registry" and outcome.ok
    assert engine.registry is not None and len(engine.registry.startups) == 3


def test_the_sync_command_with_database_url_writes_the_database(
    api: ApiServer, postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        beta_api_url=api.base_url, data_dir=tmp_path / "one-off", database_url=postgres_url
    )
    assert run_sync(settings) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("registry synced: 3 services") and "and the database" in out
    elsewhere = Settings(data_dir=tmp_path / "web", database_url=postgres_url)
    store = open_store(elsewhere)
    try:
        assert pull_stored(store, elsewhere.data_dir)
    finally:
        store.close()
    assert not list((tmp_path / "web").glob("*.sqlite3"))


def test_a_sync_whose_database_is_unreachable_fails_with_one_line(
    api: ApiServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        beta_api_url=api.base_url,
        data_dir=tmp_path,
        database_url="postgresql://nobody:secret@127.0.0.1:1/none",
    )
    assert run_sync(settings) == 1
    _, err = capsys.readouterr()
    assert err.startswith("sync failed: cannot connect to the database") and err.count("\n") == 1
    assert "secret" not in err  # the password is never printed
