"""A fake of beta.gouv.fr's API for tests, and the documents it serves.

``ApiServer`` is a real aiohttp.web server on 127.0.0.1 (port 0) in its own thread, serving
JSON:API documents with ETags and the faults a real API has (500s, slowness, truncated or
malformed JSON, a wrong shape, an oversized body, a dropped connection).

The documents: the site's own snapshot when ../shared is here (``corpus_documents``), the
small registry committed under tests/fixtures/api (``fixture_documents``: the services and
incubators the tests name, facts from the site and missions written by us), or a few
generated services (``small_documents``). ``sync_documents`` serves documents and syncs them
into a data folder exactly as ``python -m bot sync`` does.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from paths import PROJECT, SHARED

from bot.registry.model import Registry, load_stored
from bot.registry.sync import sync_once

CORPUS_API = SHARED / "corpus" / "beta.gouv.fr-api" / "v2.6"
FIXTURE_API = PROJECT / "tests" / "fixtures" / "api" / "v2.6"
DOCUMENTS = ("startups", "incubators")


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
    if not (CORPUS_API / "startups.json").is_file():
        pytest.skip("../shared/corpus is not here")
    return {name: (CORPUS_API / f"{name}.json").read_bytes() for name in DOCUMENTS}


def has_corpus() -> bool:
    """Whether the site's API snapshot is beside the project (../shared)."""
    return (CORPUS_API / "startups.json").is_file() and (CORPUS_API / "incubators.json").is_file()


def fixture_documents() -> dict[str, bytes]:
    """The small registry committed under tests/fixtures/api (always here)."""
    return {name: (FIXTURE_API / f"{name}.json").read_bytes() for name in DOCUMENTS}


def registry_documents(source: str) -> dict[str, bytes]:
    """``"corpus"`` (skips without ../shared) or ``"fixture"``."""
    return corpus_documents() if source == "corpus" else fixture_documents()


# The registries a test can run on here: the committed fixture always, the site's snapshot
# when ../shared is present (listed, not skipped, so that no test skips for it).
REGISTRY_SOURCES = ["fixture", *(["corpus"] if has_corpus() else [])]


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


def sync_documents(docs: dict[str, bytes], data_dir: Path) -> Registry:
    """Serve ``docs`` from an ApiServer and sync them into ``data_dir`` as ``python -m bot
    sync`` does; returns the stored registry as the bot would load it."""
    server = ApiServer(docs)
    server.start()
    try:
        asyncio.run(sync_once(server.base_url, data_dir, timeout=5.0, retries=1, backoff=0.01))
    finally:
        server.stop()
    registry = load_stored(data_dir)
    assert registry is not None
    return registry
