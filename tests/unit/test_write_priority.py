"""SQLite: the acknowledgement path never waits behind bulk writes (an admission goes before writes already waiting).

On PostgreSQL an admission takes no lock a bulk write holds; SQLite has one write lock, queued in the process."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from bot.store import UsageStore
from bot.store.journal import Origin, StoredReference
from bot.store.queue import Admit, Standing


def request(user_id: int) -> Admit:
    return Admit(1, 5, user_id, "a fox", 1, "imagine", day=11, hold=300.0, member_cap=100)


def accept(_: Standing) -> None:
    """Let everything through."""


async def test_an_admission_waits_for_at_most_the_write_in_progress(tmp_path: Path) -> None:
    store = await UsageStore.open(tmp_path / "queue.db")
    try:
        pending = [await store.queue.admit(request(n), accept) for n in range(30)]
        reference = StoredReference("image/jpeg", 2048, 1365, os.urandom(1_500_000))
        done: list[str] = []

        async def enqueue(job_id: int) -> None:
            await store.queue.enqueue(job_id, params=json.dumps({}), origin=Origin(), references=[reference])
            done.append("bulk")

        async def admit() -> None:
            await store.queue.admit(request(99), accept)
            done.append("admit")

        bulk = [asyncio.create_task(enqueue(job_id)) for job_id in pending]
        await asyncio.sleep(0)  # every bulk write is waiting (or writing) now
        await asyncio.gather(admit(), *bulk)
        assert done.index("admit") <= 2, done
    finally:
        await store.close()
