"""Bookkeeping: a finished job's final record, retried in the background after the store failed it.

The job already ended for its member (`StoreFailed` shown); its images and final status are saved once the store
answers again. Until then its worker keeps holding it (`unsettled`: the lease is renewed, its own claims skip it),
so that no worker takes over a job its member was told had stopped and continues it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

BOOKKEEPING_RETRY_SECONDS = 300.0  # a finished job's bookkeeping is retried often this long, then once a minute
BOOKKEEPING_MAX_DELAY = 10.0
BOOKKEEPING_SLOW_DELAY = 60.0  # between tries once the store failed for BOOKKEEPING_RETRY_SECONDS


class Bookkeeping:
    """The jobs whose final record is being retried, one task each."""

    def __init__(self) -> None:
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def retry(self, job_id: int, save: Callable[[], Awaitable[None]]) -> None:
        """Call `save` until it succeeds (growing pauses; once a minute after BOOKKEEPING_RETRY_SECONDS)."""
        task = asyncio.create_task(self._until_saved(job_id, save))
        self._tasks[job_id] = task
        task.add_done_callback(lambda done: self._tasks.pop(job_id, None) if self._tasks.get(job_id) is done else None)

    def unsettled(self) -> list[int]:
        """Jobs whose final record is still being retried (their worker keeps holding them)."""
        return [job_id for job_id, task in self._tasks.items() if not task.done()]

    def abandon(self, job_id: int) -> None:
        """Stop retrying a job's record (another worker holds the job now and reconciles it)."""
        task = self._tasks.pop(job_id, None)
        if task is not None:
            task.cancel()

    async def stop(self, grace: float) -> None:
        """Shutdown: give the retries the grace period; what is still unsaved is left to the next start's takeover."""
        if not self._tasks:
            return
        await asyncio.wait(set(self._tasks.values()), timeout=max(grace, 0.1))
        for task in set(self._tasks.values()):
            task.cancel()

    @staticmethod
    async def _until_saved(job_id: int, save: Callable[[], Awaitable[None]]) -> None:
        loop = asyncio.get_running_loop()
        deadline, delay, warned = loop.time() + BOOKKEEPING_RETRY_SECONDS, 0.5, False
        while True:
            try:
                await save()
                log.info("job %s: final bookkeeping saved after a store failure", job_id)
                return
            except Exception:
                if loop.time() > deadline and not warned:
                    log.error("job %s: the store keeps failing; its final record is retried once a minute", job_id)
                    warned = True
            await asyncio.sleep(BOOKKEEPING_SLOW_DELAY if warned else delay)
            delay = min(delay * 2, BOOKKEEPING_MAX_DELAY)
