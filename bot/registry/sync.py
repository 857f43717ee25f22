"""Keeping a local copy of the startups registry from beta.gouv.fr's public API.

``python -m bot sync`` fetches ``{BETA_API_URL}/startups.json`` and ``incubators.json`` with
aiohttp (timeouts, retries with backoff on 5xx and network errors, a size limit, conditional
requests with the ETag / Last-Modified stored beside the copy), checks that they parse into
a registry, then replaces the copy in ``BOT_DATA_DIR`` in one atomic rename. Any failure
leaves the last good copy untouched and reads as one line: ``sync failed: <reason>``.

``refresh_forever`` does the same in the background of ``serve``.

With ``DATABASE_URL`` the copy also goes to the shared store (``db``: any object with
``save_registry`` / ``registry_stamp`` / ``load_registry``, such as
``bot.records.store.Store``), so that a ``sync`` run by any process (a one-off
``scalingo run python -m bot sync``) reaches every one of them: each process brings the
database's copy into its own ``BOT_DATA_DIR`` with :func:`pull_stored` (at start, and from the
hot-reload watcher), where the engine and the watcher read it as before. Files stay the
default: without a store nothing changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TypedDict, Unpack

import aiohttp

from bot.errors import BotError, RegistryError, one_line
from bot.registry.model import (
    STORED_FORMAT,
    Registry,
    parse_api_documents,
    read_stored,
    stored_path,
)
from bot.settings import Settings

log = logging.getLogger(__name__)

DOCUMENTS = ("startups", "incubators")
TIMEOUT = 20.0  # seconds per request
RETRIES = 2  # extra attempts after the first, on 5xx / 429 / timeouts / network errors
BACKOFF = 0.5  # seconds before the first retry, doubled each time (with jitter)
MAX_BYTES = 32 * 1024 * 1024  # the real startups.json is ~4 MB
RETRY_AFTER_FAILURE = 15 * 60  # background refresh: seconds before trying again
USER_AGENT = "betagouv-community-bot/0.1 (+https://beta.gouv.fr)"
STAMP_FILE = "registry.stamp"  # beside registry.json: the stamp of the store's copy it holds


class RegistryStore(Protocol):
    """Where the shared registry copy lives (``bot.records.store.Store``)."""

    def save_registry(self, payload: str, name: str = ...) -> str: ...

    def registry_stamp(self, name: str = ...) -> str | None: ...

    def load_registry(self, name: str = ...) -> tuple[str, str] | None: ...


@dataclass(frozen=True)
class Fetched:
    """One document as fetched: ``doc`` is None when the server answered 304."""

    name: str
    doc: object
    etag: str = ""
    last_modified: str = ""
    not_modified: bool = False


@dataclass(frozen=True)
class SyncResult:
    registry: Registry
    changed: bool  # False when both documents were 304 Not Modified
    path: Path
    statuses: dict[str, str]  # name -> "updated" | "unchanged"

    def summary(self) -> str:
        parts = ", ".join(f"{name}.json {status}" for name, status in self.statuses.items())
        return f"registry synced: {self.registry.summary()} ({parts}) -> {self.path}"


class _Retry(Exception):
    """A transient failure worth another attempt."""


async def _read_limited(resp: aiohttp.ClientResponse, url: str, max_bytes: int) -> bytes:
    if resp.content_length is not None and resp.content_length > max_bytes:
        raise RegistryError(
            f"{url}: response of {resp.content_length} bytes is over the {max_bytes}-byte limit"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise RegistryError(f"{url}: response is over the {max_bytes}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


async def _get_once(
    session: aiohttp.ClientSession,
    name: str,
    url: str,
    previous: Fetched | None,
    max_bytes: int,
) -> Fetched:
    headers = {"Accept": "application/vnd.api+json, application/json", "User-Agent": USER_AGENT}
    if previous is not None and previous.doc is not None:
        if previous.etag:
            headers["If-None-Match"] = previous.etag
        if previous.last_modified:
            headers["If-Modified-Since"] = previous.last_modified
    try:
        async with session.get(url, headers=headers, allow_redirects=True) as resp:
            if resp.status == 304 and previous is not None and previous.doc is not None:
                return Fetched(name, previous.doc, previous.etag, previous.last_modified, True)
            if resp.status >= 500 or resp.status == 429:
                raise _Retry(f"HTTP {resp.status} from {url}")
            if resp.status != 200:
                raise RegistryError(f"HTTP {resp.status} from {url}")
            body = await _read_limited(resp, url, max_bytes)
            etag = resp.headers.get("ETag", "")
            modified = resp.headers.get("Last-Modified", "")
    except TimeoutError:
        raise _Retry(f"{url} timed out") from None
    except aiohttp.ClientPayloadError as exc:
        raise _Retry(f"{url}: incomplete response ({one_line(exc)})") from None
    except aiohttp.ClientConnectorError as exc:
        reason = exc.os_error.strerror or one_line(exc.os_error)
        raise _Retry(f"cannot connect to {exc.host}:{exc.port} ({reason})") from None
    except aiohttp.ClientError as exc:
        raise _Retry(f"cannot reach {url}: {one_line(exc)}") from None
    try:
        doc = json.loads(body)
    except UnicodeDecodeError:
        raise RegistryError(f"{url}: the response is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise RegistryError(
            f"{url}: invalid JSON ({exc.msg} at byte {exc.pos} of {len(body)})"
        ) from None
    return Fetched(name, doc, etag, modified)


async def _get(
    session: aiohttp.ClientSession,
    name: str,
    url: str,
    previous: Fetched | None,
    *,
    retries: int,
    max_bytes: int,
    backoff: float,
) -> Fetched:
    last = ""
    for attempt in range(retries + 1):
        try:
            return await _get_once(session, name, url, previous, max_bytes)
        except _Retry as exc:
            last = str(exc)
            if attempt < retries:
                delay = backoff * (2**attempt) * random.uniform(0.8, 1.2)
                log.info("%s; retrying in %.1f s", last, delay)
                await asyncio.sleep(delay)
    tries = f"{retries + 1} attempts" if retries else "1 attempt"
    raise RegistryError(f"{last} ({tries})")


async def fetch_documents(
    base_url: str,
    *,
    timeout: float = TIMEOUT,
    retries: int = RETRIES,
    max_bytes: int = MAX_BYTES,
    backoff: float = BACKOFF,
    previous: dict[str, Fetched] | None = None,
) -> dict[str, Fetched]:
    """Both documents, fetched concurrently; 304 answers reuse ``previous``."""
    base = base_url.rstrip("/")
    previous = previous or {}
    client_timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 10.0))
    async with aiohttp.ClientSession(timeout=client_timeout) as session:
        tasks = [
            asyncio.ensure_future(
                _get(
                    session,
                    name,
                    f"{base}/{name}.json",
                    previous.get(name),
                    retries=retries,
                    max_bytes=max_bytes,
                    backoff=backoff,
                )
            )
            for name in DOCUMENTS
        ]
        try:
            results = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
    return {f.name: f for f in results}


class FetchOptions(TypedDict, total=False):
    """The options of :func:`fetch_documents`, for the functions that pass them on."""

    timeout: float
    retries: int
    max_bytes: int
    backoff: float
    previous: dict[str, Fetched] | None


async def fetch_registry(base_url: str, **options: Unpack[FetchOptions]) -> tuple[object, object]:
    """(startups_doc, incubators_doc) from the API; RegistryError with one line on failure."""
    docs = await fetch_documents(base_url, **options)
    return docs["startups"].doc, docs["incubators"].doc


def stored_documents(data_dir: Path) -> dict[str, Fetched] | None:
    """The stored copy's documents with their validators (None when absent or unreadable)."""
    try:
        stored = read_stored(data_dir)
    except RegistryError as exc:
        log.warning("%s", exc)
        return None
    if stored is None:
        return None
    out = {}
    for name in DOCUMENTS:
        entry = stored.documents[name]
        out[name] = Fetched(
            name,
            entry.get("doc"),
            str(entry.get("etag") or ""),
            str(entry.get("last_modified") or ""),
        )
    return out


def store(
    data_dir: Path,
    docs: tuple[object, object] | dict[str, Fetched],
    *,
    base_url: str = "",
    db: RegistryStore | None = None,
) -> Registry:
    """Validate the documents by parsing them, then write the copy atomically.

    ``docs`` is (startups_doc, incubators_doc), or fetched documents with their
    validators. The previous copy stays in place until the new one is complete on disk.
    With ``db`` the copy is saved there first (one transaction), for every process.
    """
    if isinstance(docs, dict):
        fetched = docs
    else:
        fetched = {name: Fetched(name, doc) for name, doc in zip(DOCUMENTS, docs, strict=True)}
    registry = parse_api_documents(fetched["startups"].doc, fetched["incubators"].doc)
    payload = {
        "format": STORED_FORMAT,
        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "base_url": base_url,
        **{
            name: {"doc": f.doc, "etag": f.etag, "last_modified": f.last_modified}
            for name, f in fetched.items()
        },
    }
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    stamp = ""
    if db is not None:
        try:
            stamp = db.save_registry(text)
        except BotError as exc:
            raise RegistryError(f"cannot save the registry copy in the database: {exc}") from None
    _write_copy(data_dir, text, stamp)
    return registry


def _write_copy(data_dir: Path, text: str, stamp: str) -> None:
    """Write ``registry.json`` atomically (and its stamp when it comes from the store)."""
    target = stored_path(data_dir)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".registry.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        stamp_path = target.parent / STAMP_FILE
        if stamp:
            stamp_path.write_text(stamp, encoding="utf-8")
        else:
            stamp_path.unlink(missing_ok=True)
    except OSError as exc:
        raise RegistryError(
            f"cannot write the registry copy in {target.parent}: {exc.strerror or exc}"
        ) from None


def pull_stored(db: RegistryStore, data_dir: Path) -> bool:
    """Bring the store's registry copy into ``data_dir`` when it differs from the one there;
    True when a new copy was written. RegistryError when the store cannot be read."""
    try:
        stamp = db.registry_stamp()
        if stamp is None:
            return False
        try:
            local = (Path(data_dir) / STAMP_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            local = ""
        if local == stamp and stored_path(data_dir).exists():
            return False
        loaded = db.load_registry()
    except BotError as exc:
        raise RegistryError(f"cannot read the registry copy from the database: {exc}") from None
    if loaded is None:
        return False
    text, stamp = loaded
    _write_copy(data_dir, text, stamp)
    log.info("registry copy %s brought from the database into %s", stamp[:8], data_dir)
    return True


async def sync_once(
    base_url: str,
    data_dir: Path,
    *,
    timeout: float = TIMEOUT,
    retries: int = RETRIES,
    max_bytes: int = MAX_BYTES,
    backoff: float = BACKOFF,
    db: RegistryStore | None = None,
) -> SyncResult:
    """Fetch (conditionally), validate and store; the stored copy is kept on any failure.
    With ``db``, the shared copy is the reference (pulled first) and receives the new one."""
    if db is not None:
        await asyncio.to_thread(pull_stored, db, data_dir)
    previous = await asyncio.to_thread(stored_documents, data_dir)
    fetched = await fetch_documents(
        base_url,
        timeout=timeout,
        retries=retries,
        max_bytes=max_bytes,
        backoff=backoff,
        previous=previous,
    )
    statuses = {name: "unchanged" if f.not_modified else "updated" for name, f in fetched.items()}
    path = stored_path(data_dir)
    if all(f.not_modified for f in fetched.values()):
        registry = await asyncio.to_thread(
            parse_api_documents, fetched["startups"].doc, fetched["incubators"].doc
        )
        with contextlib.suppress(OSError):
            os.utime(path)  # remember when the copy was last confirmed fresh
        return SyncResult(registry, False, path, statuses)
    registry = await asyncio.to_thread(store, data_dir, fetched, base_url=base_url, db=db)
    return SyncResult(registry, True, path, statuses)


def run_sync(settings: Settings) -> int:
    """``python -m bot sync``: 0 and a one-line summary, or 1 and ``sync failed: <reason>``.
    With ``DATABASE_URL`` the copy goes to the database too (every process picks it up)."""
    db = None
    try:
        if settings.database_url:
            from bot.records.store import open_store

            db = open_store(settings)
        result = asyncio.run(sync_once(settings.beta_api_url, settings.data_dir, db=db))
    except BotError as exc:
        print(f"sync failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if db is not None:
            db.close()
    where = " and the database" if db is not None else ""
    print(result.summary() + where)
    return 0


def _seconds_until_due(data_dir: Path, interval: float) -> float:
    try:
        age = time.time() - stored_path(data_dir).stat().st_mtime
    except OSError:
        return 0.0
    return max(0.0, interval - age)


async def refresh_forever(
    settings: Settings,
    on_update: Callable[[Registry], None],
    *,
    timeout: float = TIMEOUT,
    retries: int = RETRIES,
    backoff: float = BACKOFF,
    db: RegistryStore | None = None,
    on_result: Callable[[str], None] | None = None,
) -> None:
    """Serve's background refresh: sync every ``settings.refresh_hours`` (0 = off).

    Run it as a task beside the server: the fetch is async, and the parsing and
    ``on_update`` (which typically rebuilds indexes, then swaps them in with one
    assignment) run in a worker thread, so answers are never blocked. ``on_update`` is
    called with the new registry only when the data changed. Never raises (except on
    cancellation): a failure is logged and the last copy keeps serving. ``on_result`` hears
    ``updated``, ``unchanged`` or ``failed`` after each attempt (metrics).
    """
    report = on_result or (lambda _result: None)
    interval = settings.refresh_hours * 3600.0
    if interval <= 0:
        return
    delay = _seconds_until_due(settings.data_dir, interval)
    while True:
        await asyncio.sleep(delay)
        try:
            result = await sync_once(
                settings.beta_api_url,
                settings.data_dir,
                timeout=timeout,
                retries=retries,
                backoff=backoff,
                db=db,
            )
        except RegistryError as exc:
            log.warning("registry refresh failed, keeping the last copy: %s", exc)
            report("failed")
            delay = min(interval, RETRY_AFTER_FAILURE)
            continue
        except Exception:
            log.exception("registry refresh failed unexpectedly, keeping the last copy")
            report("failed")
            delay = min(interval, RETRY_AFTER_FAILURE)
            continue
        report("updated" if result.changed else "unchanged")
        delay = interval
        if result.changed:
            log.info("%s", result.summary())
            try:
                await asyncio.to_thread(on_update, result.registry)
            except Exception:
                log.exception("registry update callback failed")
