"""The waiting line as members see it: queued jobs' status lines show their place, updated as the queue moves.

The queue itself is durable (`bot.store.queue`: rows, claims, leases); this board only shows it. Each process
shows the jobs it queued: one coalesced pass over all of them every
`min_gap` seconds (twice PROGRESS_INTERVAL), and a status edit only for a job whose place changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.jobs.model import Delivery, Progress
from bot.store import UsageStore

log = logging.getLogger(__name__)


FIRST_SHOW = 0.25  # seconds before a newly queued job shows its place (a job started at once shows none)


class WaitingBoard:
    """Keeps the status lines of this process's queued jobs at their current place in line."""

    def __init__(self, store: UsageStore, *, interval: float, min_gap: float | None = None) -> None:
        self.store = store
        self.interval = interval
        # Passes are at least this far apart, however often the queue moves (default: twice PROGRESS_INTERVAL):
        # a burst's waiting jobs would otherwise cost an edit each every time one of them starts.
        self.min_gap = 2 * interval if min_gap is None else min_gap
        self._waiting: dict[int, tuple[Delivery, Progress]] = {}
        self._task: asyncio.Task[None] | None = None
        self._first: set[asyncio.Task[None]] = set()
        self._new: list[int] = []  # queued within the last FIRST_SHOW: shown together, in one query

    async def add(self, job_id: int, delivery: Delivery, requested: int) -> None:
        """Show `job_id`'s place in line within FIRST_SHOW (unless a worker starts it first), then keep it current
        with the other waiting jobs' (one pass per `min_gap`) until it starts."""
        self._waiting[job_id] = (delivery, Progress(job_id=job_id, requested=requested))
        self._new.append(job_id)
        if len(self._new) == 1:  # the first of a burst: one pass shows them all
            first = asyncio.create_task(self._first_show())
            self._first.add(first)
            first.add_done_callback(self._first.discard)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _first_show(self) -> None:
        await asyncio.sleep(FIRST_SHOW)  # a job a worker starts at once never shows "#1 in queue"
        new, self._new = self._new, []
        waiting = [job_id for job_id in new if job_id in self._waiting]
        if waiting:
            await self.refresh(waiting)

    async def _run(self) -> None:
        while self._waiting:
            await asyncio.sleep(self.min_gap)
            await self.refresh()

    async def refresh(self, job_ids: list[int] | None = None) -> None:
        """One pass: read every place in one query, edit the status lines whose place changed."""
        job_ids = list(self._waiting) if job_ids is None else job_ids
        try:
            places = await self.store.queue.positions(job_ids)
        except Exception:
            log.warning("could not read queue positions", exc_info=True)
            return
        edits = []
        for job_id in job_ids:
            if job_id not in self._waiting:
                continue
            delivery, progress = self._waiting[job_id]
            place = places.get(job_id, 0)
            if not place:  # started (a worker owns its status now) or ended
                edits.append(self.started(job_id))
            elif place != progress.queue_position:
                progress.queue_position = place
                edits.append(_show(delivery, progress))
        if edits:
            await asyncio.gather(*edits)

    async def started(self, job_id: int) -> None:
        """A worker starts `job_id`: stop showing its place, and let an edit under way land before the worker's."""
        entry = self._waiting.pop(job_id, None)
        if entry is not None:
            await entry[0].retire()

    async def close(self) -> None:
        """Stop updating (shutdown)."""
        for task in self._first:
            task.cancel()
        for delivery, _ in self._waiting.values():
            await delivery.retire()
        self._waiting.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def _show(delivery: Delivery, progress: Progress) -> None:
    try:
        await delivery.progress(progress)
    except Exception:
        log.warning("job %s: could not show its place in line", progress.job_id, exc_info=True)
