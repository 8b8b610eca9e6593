"""The acknowledgement path never waits behind a burst of bulk writes: an admission goes before the writes already
waiting in its process (SQLite: one writer at a time; PostgreSQL: a few, so that a burst cannot flood the event
loop with interleaved round trips that the admission's own, and the acknowledgement's, would wait behind)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from pathlib import Path

from sqlalchemy import event

from bot.store import UsageStore
from bot.store.db import POSTGRESQL_WRITERS
from bot.store.journal import Origin, StoredReference
from bot.store.queue import Admit, Standing


def request(user_id: int) -> Admit:
    return Admit(1, 5, user_id, "a fox", 1, "imagine", day=11, hold=300.0, member_cap=100)


def accept(_: Standing) -> None:
    """Let everything through."""


async def test_an_admission_waits_for_at_most_the_writes_in_progress(database_url: str) -> None:
    store = await UsageStore.open(database_url)
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
        assert done.index("admit") <= POSTGRESQL_WRITERS + 1, done  # the writes under way, not the 30 queued
    finally:
        await store.close()


async def test_a_burst_of_writes_holds_a_few_connections_on_postgresql(postgres_url: str) -> None:
    store = await UsageStore.open(postgres_url)
    busy = most = 0

    def checkout(*_: object) -> None:
        nonlocal busy, most
        busy += 1
        most = max(most, busy)

    def checkin(*_: object) -> None:
        nonlocal busy
        busy -= 1

    try:
        pending = [await store.queue.admit(request(n), accept) for n in range(30)]
        event.listen(store.engine.sync_engine, "checkout", checkout)
        event.listen(store.engine.sync_engine, "checkin", checkin)
        await asyncio.gather(
            *(store.queue.enqueue(job_id, params=json.dumps({}), origin=Origin()) for job_id in pending),
            store.queue.admit(request(99), accept),
        )
        assert most <= POSTGRESQL_WRITERS + 1  # the writers, and the connection that LISTENs
    finally:
        await store.close()


async def test_an_admission_never_waits_for_a_connection_behind_a_burst_of_reads(tmp_path: Path) -> None:
    store = await UsageStore.open(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        async with contextlib.AsyncExitStack() as readers:
            # every pooled reading connection is taken (a burst of reads), and more reads wait for one
            while True:
                try:
                    reader = await asyncio.wait_for(readers.enter_async_context(store._db.read()), 1)
                except TimeoutError:
                    break
                await reader.exec_driver_sql("SELECT 1")
            waiting = [asyncio.create_task(store.recent_jobs()) for _ in range(5)]
            job_id = await asyncio.wait_for(store.queue.admit(request(1), accept), 10)
            assert await asyncio.wait_for(store.queue.enqueue(job_id, params="{}", origin=Origin()), 10)
            assert not any(task.done() for task in waiting)
        assert [job.id for job in (await asyncio.gather(*waiting))[0]] == [job_id]
    finally:
        await store.close()
