"""JobTimings: recent seconds per image by model and size (SQLite and PostgreSQL), and the in-process cache."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.jobs.estimates import TimeEstimates
from bot.store import NewJob, UsageStore
from bot.store.timings import SAMPLE, timing_query
from tests.unit.test_query_plans import plan


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def finished(store: UsageStore, clock: Clock, *, seconds: float, images: int, **overrides: object) -> int:
    """A job of `images` images that ran for `seconds` and ended as `status` (default completed)."""
    status = str(overrides.pop("status", "completed"))
    values: dict[str, object] = {"model": "seedream", "size": "2K"} | overrides
    job_id = await store.create_job(NewJob(1, 2, 3, "p", images, **values))  # type: ignore[arg-type]
    await store.mark_running(job_id)
    clock.now += seconds
    for index in range(images if status != "failed" else 0):
        await store.record_image(job_id, index, message_id=1, channel_id=2, url=None)
    await store.finish_job(job_id, status)
    clock.now += 1
    return job_id


async def test_seconds_per_image_come_from_completed_jobs_of_that_model_and_size(database_url: str) -> None:
    clock = Clock()
    store = await UsageStore.open(database_url, clock=clock)
    try:
        timings = store.timings
        assert await timings.seconds_per_image("seedream", "2K", 0) is None  # no history: no estimate
        await finished(store, clock, seconds=40, images=4)  # 10 s per image
        await finished(store, clock, seconds=60, images=2)  # 30 s per image
        await finished(store, clock, seconds=500, images=1, size="4K")
        await finished(store, clock, seconds=500, images=1, model="other")
        await finished(store, clock, seconds=500, images=1, status="partial")
        await finished(store, clock, seconds=500, images=1, status="failed")
        assert await timings.seconds_per_image("seedream", "2K", 0) == 100 / 6  # time over images, all jobs
        assert await timings.seconds_per_image("seedream", "4K", 0) == 500
        assert await timings.seconds_per_image("seedream", "2K", clock.now) is None  # none finished since
    finally:
        await store.close()


async def test_only_the_newest_jobs_count(database_url: str) -> None:
    clock = Clock()
    store = await UsageStore.open(database_url, clock=clock)
    try:
        await finished(store, clock, seconds=1000, images=1)  # long ago the service was slow
        for _ in range(SAMPLE):
            await finished(store, clock, seconds=5, images=1)
        assert await store.timings.seconds_per_image("seedream", "2K", 0) == 5
    finally:
        await store.close()


async def test_estimates_are_cached_in_process(database_url: str) -> None:
    clock = Clock()
    store = await UsageStore.open(database_url, clock=clock)
    try:
        await finished(store, clock, seconds=10, images=1)
        cached = TimeEstimates(store)
        assert await cached.per_image("seedream", "2K") == 10
        await finished(store, clock, seconds=30, images=1)
        assert await cached.per_image("seedream", "2K") == 10  # within its cache time: no new query
        assert await TimeEstimates(store, ttl=0).per_image("seedream", "2K") == 20
        assert await cached.per_image("seedream", "4K") is None
    finally:
        await store.close()


async def test_without_history_a_burst_of_job_starts_reads_it_once(database_url: str) -> None:
    """Each job's request waits for its estimate: 800 jobs on a new bot must not read the empty history in turn."""
    clock = Clock()
    store = await UsageStore.open(database_url, clock=clock)
    reads = 0
    read = store.timings.seconds_per_image

    async def counted(model: str, size: str, since: float) -> float | None:
        nonlocal reads
        reads += 1
        return await read(model, size, since)

    store.timings.seconds_per_image = counted  # type: ignore[method-assign]
    try:
        estimates = TimeEstimates(store, retry=60)
        assert await asyncio.gather(*(estimates.per_image("seedream", "2K") for _ in range(50))) == [None] * 50
        assert reads == 1
        await finished(store, clock, seconds=10, images=1)
        assert await estimates.per_image("seedream", "2K") is None  # until `retry` has passed
        estimates.completed("seedream", "4K")
        assert await estimates.per_image("seedream", "2K") is None  # another size's job says nothing of this one
        estimates.completed("seedream", "2K")  # or a job of this model and size completes
        assert await estimates.per_image("seedream", "2K") == 10
        assert reads == 2
    finally:
        await store.close()


async def test_the_timing_query_never_scans_the_job_history(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    await (await UsageStore.open(path)).close()
    with sqlite3.connect(path) as db:  # many finished jobs of a few models and sizes
        db.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)"
            " INSERT INTO jobs (guild_id, user_id, prompt, images_requested, images_delivered, status, created_at,"
            " started_at, finished_at, model, size)"
            " SELECT 1, i % 50, 'p', 1, 1, CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'completed' END, i, i, i + 9,"
            " CASE WHEN i % 3 = 0 THEN 'a' ELSE 'b' END, CASE WHEN i % 2 = 0 THEN '2K' ELSE '4K' END FROM n"
        )
        db.execute("ANALYZE")
    found = plan(path, timing_query("a", "2K", 100.0))
    assert "jobs_timing" in found and "SCAN jobs" not in found and "TEMP B-TREE" not in found, found
