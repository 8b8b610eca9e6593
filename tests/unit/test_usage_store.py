"""Usage rollups: migration from schema 1 without loss, exactly-once counting, forgetting a member."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.store import NewJob, UsageStore
from bot.store.store import migrations

DAY = 86400.0


def job(user: int, guild: int = 1, requested: int = 2) -> NewJob:
    return NewJob(guild_id=guild, channel_id=5, user_id=user, prompt=f"prompt of {user}", images_requested=requested)


async def finished(store: UsageStore, user: int, delivered: int, status: str = "completed", guild: int = 1) -> int:
    job_id = await store.create_job(job(user, guild))
    for index in range(delivered):
        await store.record_image(job_id, index, message_id=index, channel_id=5, url=None)
    await store.finish_job(job_id, status, output_tokens=10)
    return job_id


async def test_database_of_schema_1_upgrades_without_loss(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = await UsageStore.open(path, upto=1, clock=lambda: 3 * DAY + 100)
    try:
        assert await old.schema_version() == 1
        first = await finished(old, user=7, delivered=2)
        await finished(old, user=7, delivered=0, status="failed")
        await finished(old, user=8, delivered=1, status="partial")
        running = await old.create_job(job(9))
        before = [await old.get_job(i) for i in range(1, running + 1)]
        images_before = await old.job_images(first)
    finally:
        await old.close()

    new = await UsageStore.open(path, clock=lambda: 3 * DAY + 200)
    try:
        assert await new.schema_version() == migrations()[-1][0]
        assert [await new.get_job(i) for i in range(1, running + 1)] == before
        assert await new.job_images(first) == images_before
        seven = await new.usage.totals(1, 7, None, 0)
        assert (seven.images, seven.requests, seven.failed, seven.tokens) == (2, 2, 1, 20)
        assert (await new.usage.totals(1, None, 3, 4)).images == 3
        await new.finish_job(running, "completed")  # the job in flight during the upgrade still counts once
        assert (await new.usage.totals(1, 9, None, 0)).requests == 1
    finally:
        await new.close()


async def test_a_job_and_its_images_are_counted_once(tmp_path: Path) -> None:
    store = await UsageStore.open(tmp_path / "bot.db")
    try:
        job_id = await store.create_job(job(3, requested=3))
        await asyncio.gather(
            *(store.record_image(job_id, i % 2, message_id=1, channel_id=5, url=None) for i in range(6))
        )
        await asyncio.gather(store.finish_job(job_id, "partial"), store.finish_job(job_id, "completed"))
        await store.record_image(job_id, 1, message_id=1, channel_id=5, url=None)  # a repeat after the finish
        await store.record_image(job_id, 2, message_id=1, channel_id=5, url=None)  # a late, new image
        totals = await store.usage.totals(1, 3, None, 0)
        assert (totals.images, totals.requests) == (3, 1)
        day = int(store.clock() // DAY)
        assert (await store.usage.totals(1, 3, day, day + 1)).images == 3
    finally:
        await store.close()


async def test_leaderboard_ties_are_broken_by_member_id(tmp_path: Path) -> None:
    store = await UsageStore.open(tmp_path / "bot.db")
    try:
        for user, delivered in ((30, 2), (10, 2), (20, 5), (40, 0)):
            await finished(store, user, delivered)
        board = await store.usage.leaderboard(1, None, 0, "images", offset=0, limit=10, caller=40)
        assert [(e.rank, e.user_id) for e in board.entries] == [(1, 20), (2, 10), (3, 30)]
        assert board.ranked == 3 and board.caller is None
    finally:
        await store.close()


async def test_forgetting_a_member_keeps_anonymous_totals(tmp_path: Path) -> None:
    store = await UsageStore.open(tmp_path / "bot.db")
    try:
        await finished(store, 5, 2)
        await finished(store, 5, 1, guild=2)
        await finished(store, 6, 1)
        assert await store.usage.forget_user(5) == 2
        assert all(j.prompt == "" for j in await store.recent_jobs() if j.user_id == 0)
        assert (await store.usage.totals(1, 5, None, 0)).requests == 0
        assert (await store.usage.totals(1, None, None, 0)).images == 3
        assert (await store.usage.totals(2, 0, None, 0)).images == 1
        day = int(store.clock() // DAY)
        assert (await store.usage.totals(1, None, day, day + 1)).images == 3
    finally:
        await store.close()
