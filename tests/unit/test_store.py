"""UsageStore: migrations, job records, exactly-once image counting."""

from __future__ import annotations

from pathlib import Path

from bot.store import NewJob, UsageStore
from bot.store.store import migrations


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


async def test_migrations_set_user_version_and_wal(tmp_path: Path) -> None:
    store = await UsageStore.open(tmp_path / "sub" / "bot.db")
    try:
        assert await store.schema_version() == migrations()[-1][0]
        async with store._db.execute("PRAGMA journal_mode") as cursor:
            assert (await cursor.fetchone())[0] == "wal"
    finally:
        await store.close()
    again = await UsageStore.open(tmp_path / "sub" / "bot.db")  # re-opening applies nothing twice
    await again.close()


async def test_job_lifecycle_is_recorded(tmp_path: Path) -> None:
    clock = iter([100.0, 101.0, 102.0, 103.0, 104.0])
    store = await UsageStore.open(tmp_path / "bot.db", clock=lambda: next(clock))
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


async def test_an_image_is_counted_once(tmp_path: Path) -> None:
    store = await UsageStore.open(tmp_path / "bot.db")
    try:
        job_id = await store.create_job(new_job())
        assert await store.record_image(job_id, 2, message_id=1, channel_id=1, url="a")
        assert not await store.record_image(job_id, 2, message_id=1, channel_id=1, url="a")
        job = await store.get_job(job_id)
        assert job is not None and job.images_delivered == 1
    finally:
        await store.close()


async def test_a_job_is_finished_once(tmp_path: Path) -> None:
    store = await UsageStore.open(tmp_path / "bot.db")
    try:
        job_id = await store.create_job(new_job())
        await store.finish_job(job_id, "completed")
        await store.finish_job(job_id, "failed", error_code="late")
        job = await store.get_job(job_id)
        assert job is not None and job.status == "completed" and job.error_code is None
    finally:
        await store.close()


async def test_meta_values_round_trip(tmp_path: Path) -> None:
    store = await UsageStore.open(tmp_path / "bot.db")
    try:
        assert await store.get_meta("k") is None
        await store.set_meta("k", "1")
        await store.set_meta("k", "2")
        assert await store.get_meta("k") == "2"
    finally:
        await store.close()
