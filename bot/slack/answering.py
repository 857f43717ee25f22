"""Answering off the event loop: ``engine.answer`` in worker processes.

An answer costs about a millisecond of pure Python. Under a burst of events that millisecond,
paid on the event loop, is what delays every other request's acknowledgement. So the replies
to events are computed in worker processes (the loop only ships the question and gets the
:class:`~bot.answer.Answer` back) and the loop keeps its time for acknowledging.

Each worker holds a copy of the engine's current state (pickled once, a few MB). When the engine
swaps its state (hot reload, registry refresh) the workers are replaced by new ones holding the
new state, so a worker never answers from knowledge the engine has dropped, and a knowledge
change that the engine refused is never seen by the workers either. Same state, same code: the
same answer as ``engine.answer`` in process, which stays the fallback whenever the workers
cannot be used (no ``state`` to copy, a worker crashed, a single core).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pickle
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from bot.answer import Answer

log = logging.getLogger(__name__)

MAX_FAILURES = 3

# One engine per worker process, set by the pool's initializer (never used in the main process).
_worker_engine: Any = None


def _init_worker(state_bytes: bytes) -> None:
    global _worker_engine
    from bot.engine import Engine

    _worker_engine = Engine(pickle.loads(state_bytes), Path("."))


def _answer_in_worker(question: str) -> Answer:
    if _worker_engine is None:
        raise RuntimeError("answer worker not initialised")
    answer: Answer = _worker_engine.answer(question)
    return answer


def default_workers() -> int:
    """One worker when the process may use two cores or more, else answer in process."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return 1 if cores >= 2 else 0


class AnswerPool:
    """``await pool.answer(question)``: the engine's answer, computed in a worker process."""

    def __init__(self, engine: Any, workers: int) -> None:
        self.engine = engine
        self.workers = max(0, workers)
        self._pool: ProcessPoolExecutor | None = None
        self._state: Any = None
        self._failures = 0

    @property
    def in_process(self) -> bool:
        return self.workers == 0 or self._failures >= MAX_FAILURES

    def _current_pool(self) -> ProcessPoolExecutor:
        state = self.engine.state
        if self._pool is None or state is not self._state:
            state_bytes = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
            old = self._pool
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(state_bytes,),
            )
            self._state = state
            if old is not None:
                old.shutdown(wait=False)  # answers in flight finish on the old state
                log.info("engine state changed: answer workers restarted on the new state")
        return self._pool

    async def answer(self, question: str) -> Answer:
        if self.in_process:
            answer: Answer = self.engine.answer(question)
            return answer
        try:
            future = self._current_pool().submit(_answer_in_worker, question)
        except Exception as exc:  # the workers cannot be started or reached: answer here
            return self._fallback(exc, question)
        try:
            return await asyncio.wrap_future(future)
        except BrokenProcessPool as exc:  # a worker died; the engine's own errors pass through
            return self._fallback(exc, question)

    def _fallback(self, exc: BaseException, question: str) -> Answer:
        self._failures += 1
        self._drop_pool()
        log.warning(
            "answer worker unavailable (%s: %s); answering in process%s",
            type(exc).__name__,
            exc,
            " from now on" if self.in_process else "",
        )
        answer: Answer = self.engine.answer(question)
        return answer

    async def start(self) -> None:
        """Start the workers now rather than on the first question."""
        if not self.in_process:
            await self.answer("")

    def _drop_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None
        self._state = None

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
