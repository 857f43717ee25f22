"""Answering off the event loop: ``engine.answer`` in a worker process.

An answer costs about a millisecond of pure Python. Under a burst of events that millisecond,
paid on the event loop, delays every other request's acknowledgement. So the replies to
events are computed in a worker process and the loop keeps its time for acknowledging.

The worker is a plain child process (``python -m bot.frontends.slack.answering``) speaking length-prefixed
pickles over its stdin/stdout, driven by asyncio streams: no threads, one write and one read per
question on the loop's side (``concurrent.futures.ProcessPoolExecutor`` costs several thread
hand-offs per call, about half a millisecond of the loop's CPU).

The worker holds a copy of the engine's current state (pickled once, a few MB). When the engine
swaps its state (hot reload, registry refresh) a new worker is started on the new state and the
old one finishes what it was asked, then exits: a worker never answers from knowledge the engine
has dropped, nor from a change the engine refused. Same state, same code: the same answer as
``engine.answer`` in process, which stays the fallback whenever the worker cannot be used.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import pickle
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from bot.answering.answer import Answer
from bot.errors import EngineFailed, WorkerGone

log = logging.getLogger(__name__)

MAX_FAILURES = 3  # consecutive worker failures before answering in process for good
START_TIMEOUT = 60.0
_HEADER = struct.Struct("!I")
_PROJECT = Path(__file__).resolve().parents[2]


def default_workers() -> int:
    """One worker when the process may use two cores or more, else answer in process."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return 1 if cores >= 2 else 0


class AnsweringEngine(Protocol):
    """What the pool needs of the engine (``bot.engine.Engine`` is one). Its ``state``, when it
    has one, is what a worker answers from; without one the pool answers in process."""

    def answer(self, question: str) -> Answer: ...


# The frames between the parent and a worker (after the first one, the engine's state).
@dataclass(frozen=True)
class _Ready:
    """The worker has built its engine."""


@dataclass(frozen=True)
class _Job:
    id: int
    question: str


@dataclass(frozen=True)
class _Reply:
    id: int
    result: Answer | EngineFailed


def _frame(obj: object) -> bytes:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


def _unpickle(data: bytes) -> object:
    loaded: object = pickle.loads(data)  # frames only come from our own parent or child
    return loaded


# ---------------------------------------------------------------------------------------------
# the worker process


def _read_frame(stream: BinaryIO) -> object:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return _unpickle(data)


def worker_main() -> int:
    """Read the engine state, then answer :class:`_Job` frames until stdin closes."""
    from bot.engine import Engine, State

    requests = sys.stdin.buffer
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # a stray print must not corrupt the protocol
    try:
        state = _read_frame(requests)
    except EOFError:
        return 0
    engine = Engine(state, Path(".")) if isinstance(state, State) else None
    replies.write(_frame(_Ready()))
    replies.flush()
    while True:
        try:
            job = _read_frame(requests)
        except EOFError:
            return 0
        if not isinstance(job, _Job):
            return 1  # not our parent speaking: stop rather than guess
        result: Answer | EngineFailed
        try:
            if engine is None:
                raise TypeError(f"no engine state to answer from ({type(state).__name__})")
            result = engine.answer(job.question)
        except Exception as exc:  # reported to the parent, which logs it
            result = EngineFailed(f"{type(exc).__name__}: {exc}")
        replies.write(_frame(_Reply(job.id, result)))
        replies.flush()


# ---------------------------------------------------------------------------------------------
# the parent's side


class _Worker:
    """One worker process and the questions waiting for it."""

    def __init__(self, state: object) -> None:
        self.state = state
        self.process: asyncio.subprocess.Process | None = None
        self.pending: dict[int, asyncio.Future[Answer | EngineFailed]] = {}
        self.ids = itertools.count()
        self.reader_task: asyncio.Task[None] | None = None
        self.closing = False

    async def start(self) -> None:
        state_bytes = _frame(self.state)  # pickled before anything starts: fails fast
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_PROJECT), env.get("PYTHONPATH", "")) if p
        )
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.frontends.slack.answering",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
            limit=2**24,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(state_bytes)
        try:
            ready = await asyncio.wait_for(self._read(), START_TIMEOUT)
        except (asyncio.IncompleteReadError, TimeoutError, EOFError) as exc:
            await self.kill()
            raise WorkerGone(f"the answer worker did not start ({type(exc).__name__})") from exc
        if not isinstance(ready, _Ready):
            await self.kill()
            raise WorkerGone("the answer worker answered nonsense at start")
        self.reader_task = asyncio.get_running_loop().create_task(
            self._read_loop(), name="answer worker reader"
        )

    async def _read(self) -> object:
        assert self.process is not None and self.process.stdout is not None
        header = await self.process.stdout.readexactly(_HEADER.size)
        (size,) = _HEADER.unpack(header)
        return _unpickle(await self.process.stdout.readexactly(size))

    async def _read_loop(self) -> None:
        try:
            while True:
                reply = await self._read()
                if not isinstance(reply, _Reply):
                    raise ValueError(f"unexpected frame {type(reply).__name__}")
                future = self.pending.pop(reply.id, None)
                if future is not None and not future.done():
                    future.set_result(reply.result)
        except (
            asyncio.IncompleteReadError,
            EOFError,
            OSError,
            pickle.UnpicklingError,
            ValueError,
        ) as exc:
            gone = WorkerGone(f"the answer worker stopped ({type(exc).__name__})")
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(gone)
            self.pending.clear()

    @property
    def alive(self) -> bool:
        return (
            self.process is not None
            and self.process.returncode is None
            and self.reader_task is not None
            and not self.reader_task.done()
        )

    async def ask(self, question: str) -> Answer | EngineFailed:
        if not self.alive or self.process is None or self.process.stdin is None:
            raise WorkerGone("the answer worker is not running")
        job_id = next(self.ids)
        future: asyncio.Future[Answer | EngineFailed] = asyncio.get_running_loop().create_future()
        self.pending[job_id] = future
        try:
            self.process.stdin.write(_frame(_Job(job_id, question)))
        except (OSError, RuntimeError) as exc:
            self.pending.pop(job_id, None)
            raise WorkerGone(f"the answer worker cannot be reached ({exc})") from exc
        return await future

    def retire(self) -> None:
        """No more questions: the worker answers those it has, then sees EOF and exits."""
        self.closing = True
        if self.process is not None and self.process.stdin is not None:
            with contextlib.suppress(OSError, RuntimeError):
                self.process.stdin.close()

    async def close(self, timeout: float = 5.0) -> None:
        self.retire()
        if self.process is not None:
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                await self.kill()
        if self.reader_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader_task

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()


_NO_STATE = object()


def _state_of(engine: AnsweringEngine) -> object:
    """The engine's state, for a worker to answer from (AttributeError when it has none: the
    pool then answers in process)."""
    state = getattr(engine, "state", _NO_STATE)
    if state is _NO_STATE:
        raise AttributeError(f"{type(engine).__name__} has no state to copy into a worker")
    return state


class AnswerPool:
    """``await pool.answer(question)``: the engine's answer, computed in a worker process."""

    def __init__(self, engine: AnsweringEngine, workers: int) -> None:
        self.engine = engine
        self.workers = max(0, workers)
        self._worker: _Worker | None = None
        self._starting: asyncio.Task[_Worker] | None = None
        self._retired: set[_Worker] = set()
        self._failures = 0

    @property
    def in_process(self) -> bool:
        return self.workers == 0 or self._failures >= MAX_FAILURES

    @property
    def pid(self) -> int | None:
        """The worker's process id (for tests and diagnostics)."""
        worker = self._worker
        return worker.process.pid if worker is not None and worker.process is not None else None

    async def _current(self) -> _Worker:
        state = _state_of(self.engine)
        worker = self._worker
        if worker is not None and worker.state is state and worker.alive:
            return worker
        if self._starting is None or self._starting.done():
            self._starting = asyncio.get_running_loop().create_task(
                self._replace(state), name="answer worker start"
            )
        return await asyncio.shield(self._starting)

    async def _replace(self, state: object) -> _Worker:
        new = _Worker(state)
        try:
            await new.start()
        except BaseException:
            await new.kill()
            raise
        old, self._worker = self._worker, new
        if old is not None:
            old.retire()  # answers in flight finish on the old state
            self._retired.add(old)
            task = asyncio.get_running_loop().create_task(old.close(), name="answer worker retire")
            task.add_done_callback(lambda _t: self._retired.discard(old))
            log.info("engine state changed: answer worker restarted on the new state")
        return new

    async def answer(self, question: str) -> Answer:
        if self.in_process:
            return self._here(question)
        try:
            worker = await self._current()
            result = await worker.ask(question)
        except (
            WorkerGone,
            OSError,
            pickle.PicklingError,
            AttributeError,
            TypeError,
            ValueError,
        ) as exc:
            return self._fallback(exc, question)
        if isinstance(result, EngineFailed):
            raise result
        self._failures = 0
        return result

    def _here(self, question: str) -> Answer:
        return self.engine.answer(question)

    def _fallback(self, exc: BaseException, question: str) -> Answer:
        self._failures += 1
        if self._worker is not None and not self._worker.alive:
            self._worker = None
        log.warning(
            "answer worker unavailable (%s: %s); answering in process%s",
            type(exc).__name__,
            exc,
            " from now on" if self.in_process else "",
        )
        return self._here(question)

    async def start(self) -> None:
        """Start the worker now rather than on the first question."""
        if not self.in_process:
            await self.answer("")

    async def close(self) -> None:
        workers = [w for w in (self._worker, *self._retired) if w is not None]
        self._worker = None
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, WorkerGone, Exception):
                started = await self._starting
                workers.append(started)
        await asyncio.gather(*(w.close() for w in workers), return_exceptions=True)


if __name__ == "__main__":
    # Run the importable module's worker, so that pickled classes (EngineFailed) are
    # bot.frontends.slack.answering's, not __main__'s.
    from bot.frontends.slack.answering import worker_main as _worker_main

    raise SystemExit(_worker_main())
