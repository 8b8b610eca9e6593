"""The waiting line's status edits: a burst's queued jobs are not edited every time one of them starts."""

from __future__ import annotations

import asyncio
import json

from bot.jobs.model import Progress
from bot.jobs.queue import FIRST_SHOW, WaitingBoard
from bot.store import UsageStore
from bot.store.journal import Origin
from bot.store.queue import Admit, Standing


class Shown:
    """Records every place in line a job's status line was edited to show."""

    upload_limit = 10 * 1024 * 1024

    def __init__(self) -> None:
        self.places: list[int | None] = []

    async def progress(self, progress: Progress, *, refresh: bool = False) -> None:
        self.places.append(progress.queue_position)

    async def retire(self) -> None:
        """Nothing to stop."""


def accept(_: Standing) -> None:
    """Let everything through."""


async def test_queued_jobs_are_not_edited_each_time_the_queue_moves(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    board = WaitingBoard(store, interval=30)
    try:
        ids = []
        for user in range(6):
            job_id = await store.queue.admit(Admit(1, 5, user, "p", 1, "imagine", 11, 300.0, 1), accept)
            assert await store.queue.enqueue(job_id, params=json.dumps({}), origin=Origin())
            ids.append(job_id)
        last = Shown()
        await board.add(ids[-1], last, 1)  # type: ignore[arg-type]
        await asyncio.sleep(FIRST_SHOW + 0.2)  # its first place is shown soon after it was queued
        for _ in range(4):  # four jobs start, one after another
            await store.queue.claim("w", limit=1, global_limit=100, lease=60)
            await asyncio.sleep(0.3)
        assert last.places == [6]
    finally:
        await board.close()
        await store.close()


async def test_a_bursts_queued_jobs_show_their_places_with_one_query(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    board = WaitingBoard(store, interval=30)
    reads: list[list[int]] = []
    positions = store.queue.positions

    async def counted(job_ids: list[int]) -> dict[int, int]:
        reads.append(list(job_ids))
        return await positions(job_ids)

    store.queue.positions = counted  # type: ignore[method-assign]
    try:
        shown = {}
        for user in range(20):
            job_id = await store.queue.admit(Admit(1, 5, user, "p", 1, "imagine", 11, 300.0, 1), accept)
            assert await store.queue.enqueue(job_id, params=json.dumps({}), origin=Origin())
            shown[job_id] = Shown()
        for job_id, delivery in shown.items():  # queued within one FIRST_SHOW (nothing here waits)
            await board.add(job_id, delivery, 1)  # type: ignore[arg-type]
        for _ in range(100):
            if all(s.places for s in shown.values()):
                break
            await asyncio.sleep(0.05)
        assert [s.places for s in shown.values()] == [[n] for n in range(1, 21)]
        assert reads == [list(shown)]
    finally:
        await board.close()
        await store.close()
