"""Hot reload: watch ``knowledge/`` and the stored registry, reload the engine on a change.

A background asyncio task polls file stamps (path, mtime, size, inode) about once a second.
A change is debounced (the files must stay still for a moment, so that an editor's or git's
burst of writes gives one reload), then the engine is rebuilt in a worker thread so answers
keep flowing on the event loop. The engine swaps its state in one assignment: an answer in
flight sees the old state or the new one, never a mix. A broken change is refused as a whole:
the last good knowledge keeps serving, the problems are logged as ``file:line: message`` and
handed to ``notify`` as a :class:`ReloadNote` (the Slack front end posts it to
``BOT_ADMIN_CHANNEL``: ``bot.frontends.slack.notify``).

A successful reload logs one line with what is now served (pages, sections, schemes,
startups). ``observe(what, ok)`` hears every outcome (metrics). With a shared store
(``DATABASE_URL``), ``pull`` brings a registry copy synced by another process into
``BOT_DATA_DIR`` first, where the file watch sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import BotError, one_line
from bot.registry.model import Registry, load_stored

if TYPE_CHECKING:
    from bot.engine import Engine
    from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReloadNote:
    """What the maintainers are told about a reload: ``kind`` is ``refused`` (broken knowledge,
    ``problems`` as ``file:line: message``), ``failed`` (an unexpected error) or ``recovered``
    (the knowledge is live again after a refusal, ``pages`` of it)."""

    kind: str
    problems: tuple[str, ...] = ()
    pages: int = 0


Notify = Callable[[ReloadNote], Awaitable[None]]
Observe = Callable[[str, bool], None]
Stamps = dict[str, tuple[int, int, int]]

POLL_S = 1.0
QUIET_S = 0.5
NOTIFY_TIMEOUT_S = 10.0
# The stored registry copy in BOT_DATA_DIR (``registry.json``, written by `python -m bot sync`).
REGISTRY_GLOBS = ("registry*.json", "registry/*.json")


def knowledge_stamps(root: Path) -> Stamps:
    """(mtime, size, inode) of every file under ``root`` except hidden and editor temp files."""
    stamps: Stamps = {}
    try:
        paths: Iterable[Path] = root.rglob("*") if root.is_dir() else [root]
        for path in paths:
            rel = path.relative_to(root) if root.is_dir() else Path(path.name)
            name = path.name
            if any(part.startswith(".") for part in rel.parts) or name.endswith(("~", ".swp")):
                continue
            try:
                st = path.stat()
            except OSError:
                continue
            if path.is_file():
                stamps[str(path)] = (st.st_mtime_ns, st.st_size, st.st_ino)
    except OSError as exc:
        log.warning("cannot scan %s: %s", root, exc)
    return stamps


def registry_stamps(data_dir: Path | None) -> Stamps:
    stamps: Stamps = {}
    if data_dir is None:
        return stamps
    for pattern in REGISTRY_GLOBS:
        for path in data_dir.glob(pattern):
            try:
                st = path.stat()
            except OSError:
                continue
            stamps[str(path)] = (st.st_mtime_ns, st.st_size, st.st_ino)
    return stamps


def _changed(old: Stamps, new: Stamps) -> str:
    names = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    return ", ".join(Path(n).name for n in names[:5]) + (" …" if len(names) > 5 else "")


def default_registry_loader(data_dir: Path | None) -> Callable[[], Registry] | None:
    """Load the copy ``python -m bot sync`` stores (``bot.registry.model.load_stored``): a broken
    copy raises RegistryError naming the file, and the current registry keeps serving."""
    if data_dir is None:
        return None

    def load() -> Registry:
        registry = load_stored(data_dir)
        if registry is None:
            raise BotError(f"no registry copy in {data_dir} any more; keeping the current one")
        return registry

    return load


def served_counts(engine: Engine) -> str:
    """What the engine serves now, for the reload log line."""
    state = engine.state
    pages = list(getattr(getattr(state, "knowledge", None), "pages", ()))
    sections = sum(len(getattr(p, "sections", ())) for p in pages)
    schemes = len(getattr(state, "schemes", None) or {})
    registry = getattr(state, "registry", None)
    startups = len(getattr(registry, "startups", ())) if registry is not None else 0
    incubators = len(getattr(registry, "incubators", ())) if registry is not None else 0
    return (
        f"{len(pages)} page(s), {sections} section(s), {schemes} scheme(s), "
        f"{startups} startup(s), {incubators} incubator(s)"
    )


@dataclass(frozen=True)
class Outcome:
    """What one reload did: ``what`` is ``knowledge`` or ``registry``."""

    what: str
    ok: bool
    error: BotError | None = None
    took_ms: float = 0.0
    started: float = 0.0  # time.monotonic() when the rebuild began


# While a rebuild runs in a worker thread, the interpreter switches threads this often (the
# default is 5 ms): the event loop gets its turn to answer between the rebuild's steps.
REBUILD_SWITCH_INTERVAL_S = 0.0005


@contextlib.contextmanager
def _sharing_the_interpreter() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, REBUILD_SWITCH_INTERVAL_S))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


class Watcher:
    """Polls files and reloads ``engine``; run :meth:`run` as a task, or :meth:`poll` by hand."""

    def __init__(
        self,
        engine: Engine,
        *,
        data_dir: Path | None = None,
        notify: Notify | None = None,
        poll_s: float = POLL_S,
        quiet_s: float = QUIET_S,
        registry_loader: Callable[[], Registry | None] | None = None,
        observe: Observe | None = None,
        pull: Callable[[], bool] | None = None,
    ) -> None:
        self.engine = engine
        self.knowledge_dir = Path(engine.knowledge_dir)
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.notify = notify
        self.poll_s = poll_s
        self.quiet_s = quiet_s
        self.registry_loader = registry_loader
        self.observe = observe
        self.pull = pull
        self._pull_failing = False
        self.outcomes: list[Outcome] = []
        self._failing = engine.last_error is not None
        self._knowledge = knowledge_stamps(self.knowledge_dir)
        # With a site checkout the registry comes from the site, not from the stored copy.
        self._watch_registry = self.data_dir is not None and getattr(engine, "site", None) is None
        self._registry = registry_stamps(self.data_dir if self._watch_registry else None)
        self._notes: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Poll forever (until cancelled); never raises on a bad change."""
        log.info("watching %s for knowledge changes", self.knowledge_dir)
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("hot reload: unexpected error, still watching")

    async def poll(self) -> list[Outcome]:
        """Check once; on a change wait until the files are still, then reload."""
        done: list[Outcome] = []
        stamps = await asyncio.to_thread(knowledge_stamps, self.knowledge_dir)
        if stamps != self._knowledge:
            log.debug("change in %s: %s", self.knowledge_dir, _changed(self._knowledge, stamps))
            stamps = await self._settle(stamps, lambda: knowledge_stamps(self.knowledge_dir))
            self._knowledge = stamps
            done.append(await self._reload_knowledge())
            self._observed(done[-1])
        if not self._watch_registry:
            return done
        await self._pull()
        reg = await asyncio.to_thread(registry_stamps, self.data_dir)
        if reg != self._registry:
            reg = await self._settle(reg, lambda: registry_stamps(self.data_dir))
            self._registry = reg
            done.append(await self._reload_registry())
            self._observed(done[-1])
        return done

    def _observed(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        if self.observe is not None:
            try:
                self.observe(outcome.what, outcome.ok)
            except Exception:
                log.exception("reload observer failed")

    async def _pull(self) -> None:
        """Bring the shared store's registry copy here (logged once while it fails)."""
        if self.pull is None:
            return
        try:
            await asyncio.to_thread(self.pull)
        except BotError as exc:
            if not self._pull_failing:
                log.warning("shared registry copy not checked, keeping the local one: %s", exc)
            self._pull_failing = True
            return
        if self._pull_failing:
            log.warning("shared registry copy reachable again")
        self._pull_failing = False

    async def _settle(self, stamps: Stamps, scan: Callable[[], Stamps]) -> Stamps:
        """Wait until two scans ``quiet_s`` apart agree (debounce), at most ~10 s."""
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            await asyncio.sleep(self.quiet_s)
            again = await asyncio.to_thread(scan)
            if again == stamps:
                return stamps
            stamps = again
        return stamps

    async def _reload_knowledge(self) -> Outcome:
        t0 = time.perf_counter()
        started = time.monotonic()
        try:
            with _sharing_the_interpreter():
                error = await asyncio.to_thread(self.engine.reload)
        except Exception as exc:
            # Not a knowledge problem the engine knows how to report: keep the last good state.
            log.exception("knowledge reload failed, still serving the last good version")
            self._failing = True
            self._send(ReloadNote("failed", (f"{type(exc).__name__}: {one_line(exc)}",)))
            failure = BotError(f"{type(exc).__name__}: {one_line(exc)}")
            failure.__cause__ = exc
            self.engine.last_error = failure  # /health shows the refused reload
            return Outcome("knowledge", False, failure, (time.perf_counter() - t0) * 1000, started)
        took = (time.perf_counter() - t0) * 1000
        if error is None:
            pages = len(self.engine.state.knowledge.pages)
            log.info("knowledge reloaded in %.0f ms: %s", took, served_counts(self.engine))
            if self._failing:
                self._send(ReloadNote("recovered", pages=pages))
            self._failing = False
            return Outcome("knowledge", True, None, took, started)
        for problem in error.problems:
            log.error("knowledge change refused: %s", problem)
        self._failing = True
        self._send(ReloadNote("refused", tuple(str(p) for p in error.problems) or (str(error),)))
        return Outcome("knowledge", False, error, took, started)

    async def _reload_registry(self) -> Outcome:
        t0 = time.perf_counter()
        loader = self.registry_loader or default_registry_loader(self.data_dir)
        try:
            if loader is None:
                # No loader of its own: a full rebuild reads the stored copy too.
                error = await asyncio.to_thread(self.engine.reload)
                if error is not None:
                    raise error
            else:
                registry = await asyncio.to_thread(loader)
                if registry is None:
                    raise BotError("the stored registry copy could not be used")
                await asyncio.to_thread(self.engine.set_registry, registry)
        except (BotError, OSError, ValueError) as exc:
            if isinstance(exc, BotError):
                err = exc
            else:
                err = BotError(f"{type(exc).__name__}: {one_line(exc)}")
                err.__cause__ = exc
            log.error("stored registry not reloaded, keeping the current one: %s", err)
            return Outcome("registry", False, err, (time.perf_counter() - t0) * 1000)
        took = (time.perf_counter() - t0) * 1000
        log.info("startups registry reloaded in %.0f ms: %s", took, served_counts(self.engine))
        return Outcome("registry", True, None, took)

    def _send(self, note: ReloadNote) -> None:
        """Post to the admin channel in the background; failures are logged, never raised."""
        if self.notify is None:
            return
        notify = self.notify

        async def send() -> None:
            try:
                await asyncio.wait_for(notify(note), NOTIFY_TIMEOUT_S)
            except Exception as exc:
                log.warning("could not post the reload result to the admin channel: %s", exc)

        task = asyncio.create_task(send())
        self._notes.add(task)
        task.add_done_callback(self._notes.discard)

    async def drain(self) -> None:
        """Wait for pending admin-channel posts (tests, shutdown)."""
        if self._notes:
            await asyncio.gather(*self._notes, return_exceptions=True)


class WatchHook:
    """An ``on_startup`` hook for ``bot.frontends.slack.server.run`` that starts the watcher task.

    The task is stopped from the app's ``on_cleanup`` (or by :meth:`stop`); the hook can be
    called without an app too.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        notify: Notify | None = None,
        *,
        observe: Observe | None = None,
        pull: Callable[[], bool] | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.notify = notify
        self.observe = observe
        self.pull = pull
        self.watcher: Watcher | None = None
        self.task: asyncio.Task[None] | None = None

    async def __call__(self, app: object | None = None) -> None:
        if self.task is not None and not self.task.done():
            return
        self.watcher = Watcher(
            self.engine,
            data_dir=self.settings.data_dir,
            notify=self.notify,
            observe=self.observe,
            pull=self.pull,
        )
        self.task = asyncio.create_task(self.watcher.run(), name="knowledge-watch")
        cleanup = getattr(app, "on_cleanup", None)  # an aiohttp application's cleanup signal
        if cleanup is not None:
            with contextlib.suppress(RuntimeError):  # signals frozen: run_app cancels the task
                cleanup.append(self._on_cleanup)

    async def _on_cleanup(self, app: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None
        if self.watcher is not None:
            await self.watcher.drain()


def watch_startup_hook(
    settings: Settings,
    engine: Engine,
    notify: Notify | None = None,
    *,
    observe: Observe | None = None,
    pull: Callable[[], bool] | None = None,
) -> WatchHook:
    """``on_startup`` hook: watch knowledge/ and the stored registry while serving.

    ``notify`` tells the maintainers (Slack: ``bot.frontends.slack.notify.slack_notifier``);
    ``observe`` hears each outcome (metrics); ``pull`` brings the shared registry copy."""
    return WatchHook(settings, engine, notify, observe=observe, pull=pull)
