"""JobJournal: tokens are kept only while needed, references until a retry, unfinished jobs are found."""

from __future__ import annotations

import os
from pathlib import Path

from bot.jobs.guard import UndeliveredImages
from bot.store import NewJob, UsageStore
from bot.store.journal import Origin, StoredReference


async def open_store(database_url: str, now: list[float]) -> UsageStore:
    return await UsageStore.open(database_url, clock=lambda: now[0])


def origin(expires: float) -> Origin:
    return Origin(interaction_id=9, token="secret-token", token_expires_at=expires, status_message_id=7)


async def test_token_is_forgotten_when_the_job_finishes(database_url: str) -> None:
    now = [100.0]
    store = await open_store(database_url, now)
    try:
        job_id = await store.create_job(NewJob(1, 2, 3, "a fox", 1))
        await store.journal.open(job_id, origin(1000.0), [StoredReference("image/png", 20, 20, b"png")])
        assert (await store.journal.get(job_id)).token_valid(now[0])
        assert "secret-token" not in repr(await store.journal.get(job_id))
        await store.finish_job(job_id, "completed")
        await store.journal.close(job_id)
        assert (await store.journal.get(job_id)).interaction_token is None
        assert len(await store.journal.references(job_id)) == 1  # kept for Reroll/Retry until pruned
        assert await store.journal.unfinished() == []
        now[0] = 500.0
        assert await store.journal.prune_references(older_than=400.0) == 1
        assert await store.journal.references(job_id) == []
    finally:
        await store.close()


async def test_a_finishing_job_can_forget_its_token_in_the_same_transaction(database_url: str) -> None:
    now = [100.0]
    store = await open_store(database_url, now)
    try:
        job_id = await store.create_job(NewJob(1, 2, 3, "a fox", 1))
        await store.journal.open(job_id, origin(1000.0))
        record, entry = await store.job_and_entry(job_id)
        assert record is not None and record.id == job_id and entry is not None and entry.token_valid(now[0])
        await store.finish_job(job_id, "completed", close_journal=True)
        record, entry = await store.job_and_entry(job_id)
        assert record is not None and record.status == "completed"
        assert entry is not None and entry.interaction_token is None and entry.status_message_id == 7
        await store.finish_job(job_id, "failed", close_journal=True)  # finished once: only the token is touched
        assert (await store.get_job(job_id)).status == "completed"  # type: ignore[union-attr]
        assert await store.job_and_entry(job_id + 1) == (None, None)
    finally:
        await store.close()


async def test_expired_tokens_are_forgotten_and_unfinished_jobs_found(database_url: str) -> None:
    now = [100.0]
    store = await open_store(database_url, now)
    try:
        old = await store.create_job(NewJob(1, 2, 3, "old", 1))
        await store.journal.open(old, origin(150.0))
        fresh = await store.create_job(NewJob(1, 2, 3, "fresh", 1))
        await store.journal.open(fresh, origin(900.0))
        now[0] = 200.0
        await store.journal.forget_tokens(now[0])
        assert (await store.journal.get(old)).interaction_token is None
        assert (await store.journal.get(fresh)).interaction_token == "secret-token"
        assert await store.journal.unfinished() == [old, fresh]
    finally:
        await store.close()


async def test_a_retry_can_be_claimed_once_and_only_by_the_requester(database_url: str) -> None:
    now = [100.0]
    store = await open_store(database_url, now)
    try:
        job_id = await store.create_job(NewJob(1, 2, 3, "a fox", 2))
        await store.journal.open(job_id, origin(900.0))
        await store.journal.mark_recovered(job_id)
        assert not await store.journal.claim_retry(job_id, by_user=4)
        assert await store.journal.claim_retry(job_id, by_user=3)
        assert not await store.journal.claim_retry(job_id, by_user=3)
    finally:
        await store.close()


async def test_undelivered_images_are_bounded_by_size(tmp_path: Path) -> None:
    kept = UndeliveredImages(tmp_path / "kept", ttl=3600, max_bytes=25)
    await kept.keep(1, 0, b"a" * 10)
    await kept.keep(1, 1, b"b" * 10)
    await kept.keep(1, 2, b"c" * 10)
    assert await kept.keep(1, 3, b"d" * 30) is None
    names = sorted(p.name for p in (tmp_path / "kept").iterdir())
    assert len(names) == 2 and "job1_2.jpg" in names


async def test_undelivered_images_expire(tmp_path: Path) -> None:
    kept = UndeliveredImages(tmp_path / "kept", ttl=60, max_bytes=1000)
    old = await kept.keep(1, 0, b"old")
    young = await kept.keep(2, 0, b"young")
    assert old is not None and young is not None
    os.utime(old, (old.stat().st_atime - 120, old.stat().st_mtime - 120))
    assert await kept.prune() == 1
    assert not old.exists() and young.exists()


async def test_an_undelivered_png_keeps_its_extension_and_is_pruned_too(tmp_path: Path) -> None:
    kept = UndeliveredImages(tmp_path / "kept", ttl=60, max_bytes=1000)
    png = await kept.keep(1, 0, b"\x89PNG\r\n\x1a\n" + b"p" * 10)
    assert png is not None and png.name == "job1_0.png"
    os.utime(png, (png.stat().st_atime - 120, png.stat().st_mtime - 120))
    assert await kept.prune() == 1 and not png.exists()
