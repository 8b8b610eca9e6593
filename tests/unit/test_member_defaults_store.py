"""MemberDefaultsStore (/settings) on SQLite and PostgreSQL; the 0011 migration keeps what 0007 had."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import event

from bot.store import NewJob, UsageStore
from bot.store.member_defaults import READ_BATCH, MemberDefaults


async def test_defaults_are_kept_per_member_and_server(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        defaults = store.member_defaults
        assert await defaults.get(1, 7) == MemberDefaults()
        assert await defaults.update(1, 7, resolution="4K", count=4) == MemberDefaults("4K", None, 4)
        assert await defaults.update(1, 7, aspect="16:9") == MemberDefaults("4K", "16:9", 4)  # the others stay
        assert await defaults.update(1, 7, resolution=None) == MemberDefaults(None, "16:9", 4)  # None clears
        await defaults.update(2, 7, count=2)
        await defaults.update(1, 8, aspect="1:1")
        assert await defaults.get(2, 7) == MemberDefaults(count=2)  # another server: its own
        assert await defaults.get(1, 8) == MemberDefaults(aspect="1:1")  # another member: theirs

        await defaults.reset(1, 7)
        assert await defaults.get(1, 7) == MemberDefaults()
        assert await defaults.get(2, 7) == MemberDefaults(count=2)  # only that server's
    finally:
        await store.close()


async def test_forgetting_a_member_deletes_their_defaults_in_every_server(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        defaults = store.member_defaults
        for guild in (1, 2, 0):
            await defaults.update(guild, 7, count=3)
        await defaults.update(1, 8, count=5)
        await defaults.forget_user(7)
        assert [await defaults.get(guild, 7) for guild in (1, 2, 0)] == [MemberDefaults()] * 3
        assert await defaults.get(1, 8) == MemberDefaults(count=5)
    finally:
        await store.close()


async def test_a_first_answer_reads_defaults_while_jobs_hold_every_shared_connection(database_url: str) -> None:
    """800 jobs in flight can take every connection of the shared read pool; a command's read of the member's
    defaults (before its first answer) has connections of its own and does not wait for theirs."""
    store = await UsageStore.open(database_url)
    held = asyncio.Event()
    release = asyncio.Event()
    pool = store.engine.sync_engine.pool
    size = pool.size() + pool._max_overflow  # type: ignore[attr-defined]  # every connection the pool will make
    holding = 0

    async def a_jobs_read() -> None:
        nonlocal holding
        async with store._db.read() as conn:
            await conn.exec_driver_sql("SELECT 1")
            holding += 1
            if holding == size:
                held.set()
            await release.wait()

    jobs = [asyncio.create_task(a_jobs_read()) for _ in range(size)]
    try:
        await store.member_defaults.update(1, 7, count=3)
        await asyncio.wait_for(held.wait(), 10)
        assert await asyncio.wait_for(store.member_defaults.get(1, 7), 5) == MemberDefaults(count=3)
    finally:
        release.set()
        await asyncio.gather(*jobs)
        await store.close()


async def test_an_unknown_default_is_refused(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        with pytest.raises(ValueError, match="not a member default"):
            await store.member_defaults.update(1, 7, watermark=True)
    finally:
        await store.close()


async def test_a_0007_database_upgrades_with_its_jobs(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    old = await UsageStore.open(path, upto=7)
    try:
        async with old.engine.begin() as conn:
            await conn.exec_driver_sql(
                "INSERT INTO jobs (user_id, prompt, images_requested, status, created_at)"
                " VALUES (7, 'a', 1, 'queued', 1)"
            )
    finally:
        await old.close()
    store = await UsageStore.open(path)
    try:
        [job] = await store.recent_jobs()
        assert (job.prompt, job.model, job.size) == ("a", None, None)
        await store.member_defaults.update(1, 7, count=2)
        new = await store.create_job(NewJob(1, 2, 7, "b", 1, model="m", size="2K"))
        assert [(j.id, j.model, j.size) for j in await store.recent_jobs()] == [(new, "m", "2K"), (job.id, None, None)]
    finally:
        await store.close()


async def test_a_burst_of_reads_shares_a_few_statements_and_each_member_gets_theirs(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    reads: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "member_defaults" in statement:
            reads.append(statement)

    try:
        defaults = store.member_defaults
        await defaults.update(1, 7, count=3)
        await defaults.update(1, 9, aspect="1:1")
        await defaults.update(2, 7, count=5)
        for engine in store._db.engines:  # the defaults are read through the first answers' own pool
            event.listen(engine.sync_engine, "before_cursor_execute", count)
        burst = [(1, 7), (1, 8), (1, 9), (2, 7), (1, 7), *((1, 100 + n) for n in range(READ_BATCH))]
        found = await asyncio.gather(*(defaults.get(guild, user) for guild, user in burst))
        three, five = MemberDefaults(count=3), MemberDefaults(count=5)
        assert found[:5] == [three, MemberDefaults(), MemberDefaults(aspect="1:1"), five, three]
        assert set(found[5:]) == {MemberDefaults()}
        assert len(reads) == 3  # server 1's first READ_BATCH members, the rest of them, server 2's
        reads.clear()
        await defaults.update(1, 8, count=2)  # a read after a change sees it
        together = await asyncio.gather(defaults.get(1, 8), defaults.get(1, 7))
        assert together == [MemberDefaults(count=2), MemberDefaults(count=3)]
        assert len(reads) == 2  # update's own, and the one the two shared
    finally:
        await store.close()
