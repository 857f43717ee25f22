"""``python -m bot sync`` and the background refresh, against a real HTTP server on loopback.

The server is aiohttp.web on 127.0.0.1 (port 0) in its own thread, serving JSON:API
documents (the site's own when ../shared is here, small realistic ones otherwise) with
ETags, and the faults a real API has: 500s, slowness, truncated or malformed JSON, a wrong
shape, an oversized body, a dropped connection.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from paths import SHARED as SHARED_ROOT

from bot.errors import RegistryError
from bot.registry.model import Registry, load_registry, load_stored
from bot.registry.sync import fetch_registry, refresh_forever, run_sync, store, sync_once
from bot.settings import Settings

SHARED = SHARED_ROOT
API = SHARED / "corpus" / "beta.gouv.fr-api" / "v2.6"
FAST = {"timeout": 2.0, "retries": 2, "backoff": 0.01}


def startup_item(sid: str, name: str, incubator: str, phase: str, start: str) -> dict[str, Any]:
    return {
        "id": sid,
        "type": "startup",
        "attributes": {
            "name": name,
            "pitch": f"Mission de {name}",
            "stats_url": "",
            "contact": f"contact@{sid}.beta.gouv.fr",
            "content_url_encoded_markdown": quote(f"# {name}\n\nUn service public numérique."),
            "events": [],
            "phases": [{"name": phase, "start": start, "end": ""}],
            "sponsors": [],
            "thematiques": [],
            "technos": [],
            "link": f"https://{sid}.beta.gouv.fr",
        },
        "relationships": {"incubator": {"data": {"type": "incubator", "id": incubator}}},
    }


def small_documents(count: int = 3) -> dict[str, bytes]:
    startups = {
        "links": {"self": "https://beta.gouv.fr/startups"},
        "data": [
            startup_item(f"service-{i}", f"Service {i}", "dinum", "construction", "2024-02-01")
            for i in range(count)
        ],
        "included": [
            {
                "id": "/incubateurs/dinum",
                "type": "incubator",
                "attributes": {"title": "Incubateur DINUM", "contact": "contact@beta.gouv.fr"},
            }
        ],
    }
    incubators = {
        "dinum": {
            "title": "Incubateur DINUM",
            "contact": "contact@beta.gouv.fr",
            "address": "20 avenue de Ségur",
            "owner": "/organisations/dinum",
            "website": "https://beta.gouv.fr/",
            "github": "",
            "startups": [],
        }
    }
    return {
        "startups": json.dumps(startups).encode(),
        "incubators": json.dumps(incubators).encode(),
    }


def corpus_documents() -> dict[str, bytes]:
    if not (API / "startups.json").is_file():
        pytest.skip("../shared/corpus is not here")
    return {name: (API / f"{name}.json").read_bytes() for name in ("startups", "incubators")}


@dataclass
class ApiServer:
    """A real aiohttp server playing beta.gouv.fr's API, with faults queued per document."""

    docs: dict[str, bytes]
    faults: dict[str, list[str]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v2.6"

    def fail(self, name: str, *faults: str) -> None:
        self.faults.setdefault(name, []).extend(faults)

    def hits(self, name: str) -> int:
        return sum(1 for n, _ in self.requests if n == name)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.requests.append((name, dict(request.headers)))
        if name not in self.docs:
            return web.Response(status=404, text="Not found")
        body = self.docs[name]
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        queue = self.faults.get(name) or []
        fault = queue.pop(0) if queue else "ok"
        if fault == "500":
            return web.Response(status=500, text="Internal Server Error")
        if fault == "503":
            return web.Response(status=503, text="Service Unavailable")
        if fault == "slow":
            await asyncio.sleep(1.5)
        if fault == "truncated":
            return web.Response(body=body[: len(body) // 2], content_type="application/json")
        if fault == "html":
            return web.Response(text="<html>maintenance</html>", content_type="text/html")
        if fault == "wrong_shape":
            return web.json_response({"errors": [{"status": "500", "title": "oops"}]})
        if fault == "oversized":
            return web.Response(
                body=b"[" + b"0," * 600_000 + b"0]", content_type="application/json"
            )
        if fault == "oversized_stream":
            resp = web.StreamResponse()
            resp.content_type = "application/json"
            await resp.prepare(request)
            for _ in range(40):
                await resp.write(b" " * 32_768)
            await resp.write_eof()
            return resp
        if fault == "dropped":
            resp = web.StreamResponse(headers={"Content-Length": str(len(body))})
            resp.content_type = "application/json"
            await resp.prepare(request)
            await resp.write(body[:100])
            assert request.transport is not None
            request.transport.close()
            return resp
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=body,
            content_type="application/vnd.api+json",
            headers={"ETag": etag, "Last-Modified": "Thu, 20 Aug 2026 10:00:00 GMT"},
        )

    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop

            async def boot() -> None:
                app = web.Application()
                app.router.add_get("/api/v2.6/{name}.json", self.handle)
                self._runner = web.AppRunner(app, shutdown_timeout=0.2)
                await self._runner.setup()
                site = web.TCPSite(self._runner, "127.0.0.1", 0)
                await site.start()
                self.port = self._runner.addresses[0][1]

            loop.run_until_complete(boot())
            ready.set()
            loop.run_forever()
            loop.close()

        threading.Thread(target=run, daemon=True).start()
        assert ready.wait(10), "test API server did not start"

    def stop(self) -> None:
        loop, runner = self._loop, self._runner
        if loop is None or runner is None:
            return
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)


@pytest.fixture
def api() -> Iterator[ApiServer]:
    server = ApiServer(small_documents())
    server.start()
    yield server
    server.stop()


def settings_for(server: ApiServer, data_dir: Path, **extra: Any) -> Settings:
    return Settings(beta_api_url=server.base_url, data_dir=data_dir, **extra)


# --------------------------------------------------------------------------- fetching


async def test_fetch_returns_both_documents_from_the_api(api: ApiServer) -> None:
    startups, incubators = await fetch_registry(api.base_url, **FAST)
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
