"""ImageRecorder: images delivered at the same moment share a transaction; each caller still gets its own answer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import sqlalchemy as sa

from bot.store import NewJob, UsageStore


def job(user: int) -> NewJob:
    return NewJob(guild_id=1, channel_id=5, user_id=user, prompt="a fox", images_requested=4)


def counting_writes(store: UsageStore) -> list[int]:
    """Count the store's write transactions from now on."""
    db = store._db
    opened: list[int] = []
    write: Callable[[], Any] = db.write

    @contextlib.asynccontextmanager
    async def counted() -> AsyncIterator[Any]:
        opened.append(1)
        async with write() as conn:
            yield conn

    db.write = counted  # type: ignore[method-assign]
    return opened


async def settle() -> None:
    for _ in range(5):  # the callers queue their images, the recorder waits for the gate
        await asyncio.sleep(0)


async def test_images_recorded_together_share_one_transaction(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        first, second = await store.create_job(job(3)), await store.create_job(job(4))
        opened = counting_writes(store)
        images = [(first, 0), (second, 0), (first, 1), (first, 0), (second, 1), (second, 0)]
        async with store._db.gate.held():  # another writer holds the gate meanwhile
            calls = [
                asyncio.create_task(store.record_image(j, i, message_id=9, channel_id=5, url=f"u{j}-{i}"))
                for j, i in images
            ]
            await settle()
        assert await asyncio.gather(*calls) == [True, True, True, False, True, False]
        assert len(opened) == 1
        assert [(await store.get_job(j)).images_delivered for j in (first, second)] == [2, 2]  # type: ignore[union-attr]
        assert [i.url for i in await store.job_images(first)] == [f"u{first}-0", f"u{first}-1"]
    finally:
        await store.close()


async def test_a_bad_image_fails_only_its_own_caller(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        real = await store.create_job(job(3))
        async with store._db.gate.held():
            good = asyncio.create_task(store.record_image(real, 0, message_id=1, channel_id=5, url=None))
            bad = asyncio.create_task(store.record_image(real + 100, 0, message_id=1, channel_id=5, url=None))
            also_good = asyncio.create_task(store.record_image(real, 1, message_id=1, channel_id=5, url=None))
            await settle()
        assert await good and await also_good
        with pytest.raises(sa.exc.IntegrityError):  # no such job
            await bad
        assert (await store.get_job(real)).images_delivered == 2  # type: ignore[union-attr]
        assert await store.record_image(real, 2, message_id=1, channel_id=5, url=None)  # the recorder goes on
    finally:
        await store.close()


async def test_an_image_whose_caller_gave_up_is_still_recorded(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        job_id = await store.create_job(job(3))
        async with store._db.gate.held():
            call = asyncio.create_task(store.record_image(job_id, 0, message_id=1, channel_id=5, url=None))
            await settle()
            call.cancel()
        assert await store.record_image(job_id, 1, message_id=1, channel_id=5, url=None)  # after the first one
        assert (await store.get_job(job_id)).images_delivered == 2  # type: ignore[union-attr]
        assert call.cancelled()
    finally:
        await store.close()


async def test_late_images_recorded_together_reach_their_finished_jobs_rollups(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        done, running = await store.create_job(job(3)), await store.create_job(job(4))
        assert await store.record_image(done, 0, message_id=1, channel_id=5, url=None)
        await store.finish_job(done, "partial")
        async with store._db.gate.held():
            calls = [
                asyncio.create_task(store.record_image(j, i, message_id=1, channel_id=5, url=None))
                for j, i in [(done, 1), (running, 0), (done, 1), (done, 2)]
            ]
            await settle()
        assert await asyncio.gather(*calls) == [True, True, False, True]
        assert (await store.usage.totals(1, 3, None, 0)).images == 3  # the finished job's two late images count
        assert (await store.usage.totals(1, 4, None, 0)).images == 0  # a running job's count when it finishes
        assert (await store.get_job(running)).images_delivered == 1  # type: ignore[union-attr]
    finally:
        await store.close()
