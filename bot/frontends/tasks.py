"""Background tasks of a front end: work started after an acknowledgement (Slack) or from a
sync callback (Tchap), kept referenced so that it is not garbage-collected mid-flight, its
failure logged rather than lost, and drained on shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

log = logging.getLogger(__name__)

DRAIN_TIMEOUT = 10.0


class BackgroundTasks:
    """Tasks started after the acknowledgement; kept referenced, logged, drained on shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Future[None]] = set()

    def spawn(self, coro: Awaitable[None], name: str) -> asyncio.Task[None]:
        async def run() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task %s failed", name)

        task = asyncio.get_running_loop().create_task(run(), name=name)
        self.track(task)
        return task

    def track(self, future: asyncio.Future[None]) -> None:
        """Count ``future`` (work queued elsewhere, e.g. an acknowledged event) until it is done."""
        self._tasks.add(future)
        future.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float = DRAIN_TIMEOUT) -> None:
        """Wait for the running tasks (and those they start), cancelling what outlives ``timeout``."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._tasks:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)
                return
            await asyncio.wait(set(self._tasks), timeout=left)

    def __len__(self) -> int:
        return len(self._tasks)
