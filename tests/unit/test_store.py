"""UsageStore: migrations, job records, exactly-once image counting."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa

from bot.store import NewJob, UsageStore
from bot.store.migrate import head

PRAGMAS = ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")


def new_job(**overrides: object) -> NewJob:
    values: dict[str, object] = {
        "guild_id": 1,
        "channel_id": 2,
        "user_id": 3,
        "prompt": "a fox",
        "images_requested": 4,
        "params": {"size": "2K"},
    }
    values.update(overrides)
    return NewJob(**values)  # type: ignore[arg-type]


async def test_a_new_database_is_migrated_to_the_newest_schema(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        assert await store.schema_version() == int(head())
        assert store.backend == database_url.split(":")[0]
    finally:
        await store.close()
    again = await UsageStore.open(database_url)  # re-opening applies nothing twice
    try:
        assert await again.schema_version() == int(head())
    finally:
        await again.close()


async def test_sqlite_connections_use_wal_foreign_keys_and_normal_sync(tmp_path: Path) -> None:
    store = await UsageStore.open(tmp_path / "sub" / "bot.db")  # a plain path still works; folders are created
    try:
        async with store.engine.connect() as conn:
            pragmas = [(await conn.exec_driver_sql(f"PRAGMA {name}")).scalar() for name in PRAGMAS]
        assert pragmas == ["wal", 1, 5000, 1]
    finally:
        await store.close()


async def test_job_lifecycle_is_recorded(database_url: str) -> None:
    clock = iter([100.0, 101.0, 102.0, 103.0, 104.0])
    store = await UsageStore.open(database_url, clock=lambda: next(clock))
    try:
        job_id = await store.create_job(new_job())
        await store.mark_running(job_id)
        assert await store.record_image(job_id, 0, message_id=10, channel_id=2, url="u0")
        await store.finish_job(
            job_id, "partial", error_code="OutputImageSensitiveContentDetected", images_failed=1, output_tokens=16384
        )
        job = await store.get_job(job_id)
        assert job is not None
        assert (job.status, job.images_requested, job.images_delivered, job.images_failed) == ("partial", 4, 1, 1)
        assert (job.created_at, job.started_at, job.finished_at) == (100.0, 101.0, 103.0)
        assert job.params == {"size": "2K"} and job.output_tokens == 16384
        assert [i.url for i in await store.job_images(job_id)] == ["u0"]
    finally:
        await store.close()


async def test_an_image_is_counted_once(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        job_id = await store.create_job(new_job())
        assert await store.record_image(job_id, 2, message_id=1, channel_id=1, url="a")
        assert not await store.record_image(job_id, 2, message_id=1, channel_id=1, url="a")
        job = await store.get_job(job_id)
        assert job is not None and job.images_delivered == 1
    finally:
        await store.close()


async def test_a_job_is_finished_once(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        job_id = await store.create_job(new_job())
        await store.finish_job(job_id, "completed")
        await store.finish_job(job_id, "failed", error_code="late")
        job = await store.get_job(job_id)
        assert job is not None and job.status == "completed" and job.error_code is None
    finally:
        await store.close()


async def test_meta_values_round_trip(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        assert await store.get_meta("k") is None
        await store.set_meta("k", "1")
        await store.set_meta("k", "2")
        assert await store.get_meta("k") == "2"
    finally:
        await store.close()


async def test_reads_are_not_queued_behind_another_tasks_write(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        job_id = await store.create_job(new_job())
        async with store.engine.begin() as conn:  # a long write transaction, open while another task reads
            await conn.execute(sa.text("UPDATE jobs SET prompt = 'being edited' WHERE id = :id"), {"id": job_id})
            job = await asyncio.wait_for(store.get_job(job_id), 2)
            assert job is not None and job.prompt == "a fox"  # the committed state
    finally:
        await store.close()
