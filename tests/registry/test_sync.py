"""``python -m bot sync`` and the background refresh, against a real HTTP server on loopback
(``api_fakes.ApiServer``: the site's own documents when ../shared is here, the committed
fixture or small generated ones otherwise, with the faults a real API has).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from api_fakes import (
    ApiServer,
    corpus_documents,
    fixture_documents,
    small_documents,
    sync_documents,
)

from bot.errors import RegistryError
from bot.registry.model import Registry, load_registry, load_stored
from bot.registry.sync import fetch_registry, refresh_forever, run_sync, store, sync_once
from bot.settings import Settings

FAST: dict[str, Any] = {"timeout": 2.0, "retries": 2, "backoff": 0.01}


def settings_for(server: ApiServer, data_dir: Path, **extra: Any) -> Settings:
    return Settings(beta_api_url=server.base_url, data_dir=data_dir, **extra)


# --------------------------------------------------------------------------- fetching


async def test_fetch_returns_both_documents_from_the_api(api: ApiServer) -> None:
    startups, incubators = await fetch_registry(api.base_url, **FAST)
    assert isinstance(startups, dict) and isinstance(incubators, dict)
    assert [item["id"] for item in startups["data"]] == ["service-0", "service-1", "service-2"]
    assert "dinum" in incubators
    assert {name for name, _ in api.requests} == {"startups", "incubators"}
    assert all("betagouv-community-bot" in h.get("User-Agent", "") for _, h in api.requests)


async def test_the_real_registry_syncs_and_answers_without_a_site(tmp_path: Path) -> None:
    server = ApiServer(corpus_documents())
    server.start()
    try:
        result = await sync_once(server.base_url, tmp_path, **FAST)
    finally:
        server.stop()
    assert result.changed
    assert len(result.registry.startups) == 662
    registry = load_registry(None, tmp_path)
    assert registry is not None
    tchap = registry.startup("tchap")
    assert tchap is not None and tchap.contact == "tchap@beta.gouv.fr"
    incubator = registry.incubator_of(tchap)
    assert incubator is not None and incubator.title


def test_the_committed_fixture_syncs_whole_and_answers_without_a_site(tmp_path: Path) -> None:
    docs = fixture_documents()
    registry = sync_documents(docs, tmp_path)
    assert len(registry.startups) == len(json.loads(docs["startups"])["data"]) >= 40
    assert registry.problems == ()
    assert set(registry.incubators) == set(json.loads(docs["incubators"]))
    assert all(registry.incubator_of(s) is not None for s in registry.startups)
    tchap = registry.startup("tchap")
    assert tchap is not None and tchap.contact == "tchap@beta.gouv.fr"
    incubator = registry.incubator_of(tchap)
    assert incubator is not None and incubator.title
    loaded = load_registry(None, tmp_path)
    assert loaded is not None and loaded.startups == registry.startups


# --------------------------------------------------------------------------- the CLI


def test_sync_command_prints_counts_and_stores_the_copy(
    api: ApiServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_sync(settings_for(api, tmp_path)) == 0
    out, err = capsys.readouterr()
    assert out.startswith("registry synced: 3 services, 1 incubators")
    assert out.count("\n") == 1 and err == ""
    stored = load_stored(tmp_path)
    assert stored is not None and len(stored.startups) == 3


def test_second_sync_asks_if_changed_and_keeps_the_copy_on_304(
    api: ApiServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_sync(settings_for(api, tmp_path)) == 0
    before = (tmp_path / "registry.json").read_bytes()
    capsys.readouterr()
    assert run_sync(settings_for(api, tmp_path)) == 0
    out, _ = capsys.readouterr()
    assert "startups.json unchanged, incubators.json unchanged" in out
    second = [h for name, h in api.requests[2:] if name == "startups"]
    assert second and second[0].get("If-None-Match", "").startswith('"')
    assert second[0].get("If-Modified-Since") == "Thu, 20 Aug 2026 10:00:00 GMT"
    assert (tmp_path / "registry.json").read_bytes() == before


def test_a_changed_document_replaces_only_what_changed(api: ApiServer, tmp_path: Path) -> None:
    assert run_sync(settings_for(api, tmp_path)) == 0
    api.docs["startups"] = small_documents(5)["startups"]
    result = asyncio.run(sync_once(api.base_url, tmp_path, **FAST))
    assert result.changed
    assert result.statuses == {"startups": "updated", "incubators": "unchanged"}
    stored = load_stored(tmp_path)
    assert stored is not None and len(stored.startups) == 5 and "dinum" in stored.incubators


def test_api_down_fails_with_one_line_and_keeps_the_last_copy(
    api: ApiServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_sync(settings_for(api, tmp_path)) == 0
    before = (tmp_path / "registry.json").read_bytes()
    capsys.readouterr()
    api.fail("startups", "500", "500", "500")
    assert run_sync(settings_for(api, tmp_path)) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("sync failed: HTTP 500 from http://127.0.0.1:")
    assert err.count("\n") == 1 and "(3 attempts)" in err
    assert (tmp_path / "registry.json").read_bytes() == before
    assert api.hits("startups") == 4  # one good sync, then three attempts


def test_nothing_listening_fails_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ApiServer(small_documents())
    server.start()
    url = server.base_url
    server.stop()
    assert run_sync(Settings(beta_api_url=url, data_dir=tmp_path)) == 1
    _, err = capsys.readouterr()
    assert err.startswith("sync failed: cannot connect to 127.0.0.1:")
    assert err.count("\n") == 1
    assert not (tmp_path / "registry.json").exists()


# --------------------------------------------------------------------------- faults


async def test_a_passing_server_error_is_retried(api: ApiServer, tmp_path: Path) -> None:
    api.fail("startups", "503")
    api.fail("incubators", "dropped")
    result = await sync_once(api.base_url, tmp_path, **FAST)
    assert len(result.registry.startups) == 3
    assert api.hits("startups") == 2 and api.hits("incubators") == 2


async def test_a_slow_api_times_out_and_keeps_the_last_copy(api: ApiServer, tmp_path: Path) -> None:
    await sync_once(api.base_url, tmp_path, **FAST)
    before = (tmp_path / "registry.json").read_bytes()
    api.fail("startups", "slow", "slow")
    with pytest.raises(RegistryError) as err:
        await sync_once(api.base_url, tmp_path, timeout=0.3, retries=1, backoff=0.01)
    assert str(err.value).endswith("startups.json timed out (2 attempts)")
    assert (tmp_path / "registry.json").read_bytes() == before


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("truncated", "invalid JSON"),
        ("html", "invalid JSON"),
        ("wrong_shape", "startups.json: expected a 'data' list of services, got no data"),
        ("404", "HTTP 404"),
    ],
)
async def test_a_malformed_answer_is_refused_and_the_copy_kept(
    api: ApiServer, tmp_path: Path, fault: str, reason: str
) -> None:
    await sync_once(api.base_url, tmp_path, **FAST)
    before = (tmp_path / "registry.json").read_bytes()
    if fault == "404":
        api.docs["startups_backup"] = api.docs.pop("startups")
    else:
        api.fail("startups", fault)
    with pytest.raises(RegistryError) as err:
        await sync_once(api.base_url, tmp_path, **FAST)
    assert reason in str(err.value)
    assert "\n" not in str(err.value)
    assert (tmp_path / "registry.json").read_bytes() == before
    stored = load_stored(tmp_path)
    assert stored is not None and len(stored.startups) == 3


async def test_malformed_json_is_not_retried(api: ApiServer, tmp_path: Path) -> None:
    api.fail("startups", "truncated")
    with pytest.raises(RegistryError, match="invalid JSON"):
        await sync_once(api.base_url, tmp_path, **FAST)
    assert api.hits("startups") == 1


@pytest.mark.parametrize("fault", ["oversized", "oversized_stream"])
async def test_an_oversized_body_is_refused(api: ApiServer, tmp_path: Path, fault: str) -> None:
    api.fail("startups", fault)
    with pytest.raises(RegistryError, match="over the 1000000-byte limit"):
        await sync_once(api.base_url, tmp_path, max_bytes=1_000_000, **FAST)
    assert api.hits("startups") == 1
    assert not (tmp_path / "registry.json").exists()


# --------------------------------------------------------------------------- storing


def test_store_validates_before_writing_and_leaves_no_temp_file(tmp_path: Path) -> None:
    docs = small_documents()
    good = (json.loads(docs["startups"]), json.loads(docs["incubators"]))
    store(tmp_path, good)
    before = (tmp_path / "registry.json").read_bytes()
    with pytest.raises(RegistryError, match="expected a 'data' list"):
        store(tmp_path, ({"data": None}, {}))
    assert (tmp_path / "registry.json").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["registry.json"]


def test_an_unwritable_data_dir_fails_with_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    docs = small_documents()
    with pytest.raises(RegistryError, match="cannot write the registry copy"):
        store(blocker / "data", (json.loads(docs["startups"]), json.loads(docs["incubators"])))


# --------------------------------------------------------------------------- background refresh


async def test_background_refresh_updates_then_survives_failures(
    api: ApiServer, tmp_path: Path
) -> None:
    updates: list[Registry] = []
    settings = settings_for(api, tmp_path, refresh_hours=0.3 / 3600)  # every 0.3 s
    task = asyncio.create_task(refresh_forever(settings, updates.append, timeout=2.0, backoff=0.01))
    try:
        for _ in range(100):
            if updates:
                break
            await asyncio.sleep(0.05)
        assert len(updates) == 1 and len(updates[0].startups) == 3
        before = (tmp_path / "registry.json").read_bytes()
        api.fail("startups", *["500"] * 9)
        await asyncio.sleep(1.2)
        assert not task.done()  # failures are logged, the loop goes on
        assert (tmp_path / "registry.json").read_bytes() == before
        api.faults.clear()
        api.docs["startups"] = small_documents(4)["startups"]
        for _ in range(100):
            if len(updates) == 2:
                break
            await asyncio.sleep(0.05)
        assert len(updates) == 2 and len(updates[1].startups) == 4
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_background_refresh_is_off_at_zero_hours(api: ApiServer, tmp_path: Path) -> None:
    await asyncio.wait_for(refresh_forever(settings_for(api, tmp_path, refresh_hours=0), print), 1)
    assert api.requests == []


async def test_background_refresh_waits_while_the_copy_is_fresh(
    api: ApiServer, tmp_path: Path
) -> None:
    await sync_once(api.base_url, tmp_path, **FAST)
    calls = len(api.requests)
    settings = settings_for(api, tmp_path, refresh_hours=1.0)
    task = asyncio.create_task(refresh_forever(settings, print))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(api.requests) == calls
