"""A database that fails in the middle of a job (here: another connection holds SQLite's write lock past the
store's busy timeout, a real "database is locked") ends the job visibly, and its bookkeeping is finished in the
background once the database answers again: no job left `running`, no token kept, the member's slot freed."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

from tests.e2e.helpers import final_original, job_done, queue_counts

BUSY_TIMEOUT = 5.0  # the store's PRAGMA busy_timeout


def hold_write_lock(path: str, seconds: float, taken: threading.Event) -> None:
    """Another process's writer: BEGIN EXCLUSIVE, keep it for `seconds`, roll back."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("BEGIN EXCLUSIVE")
        taken.set()
        time.sleep(seconds)
        db.execute("ROLLBACK")
    finally:
        db.close()


async def test_locked_database_mid_job_ends_it_visibly_and_frees_the_member(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_member_concurrent_jobs=1)
    alice = discord_fake.add_member("alice")
    image_api.image_delay = 1.0
    interaction = await discord_fake.slash(alice, "imagine", prompt="two owls", count=2)
    await image_api.wait_for(lambda: image_api.requests)  # the job is `running` and calling the API
    taken = threading.Event()
    holder = asyncio.create_task(
        asyncio.to_thread(hold_write_lock, str(harness.settings.database_path), BUSY_TIMEOUT + 1.5, taken)
    )
    await asyncio.to_thread(taken.wait, 5)

    message = await final_original(discord_fake, interaction, timeout=30)
    assert "database stopped answering" in message.text
    assert len(message.attachments) == 1, "the image posted before the failure stays"
    await holder

    [job] = await job_done(harness, timeout=30)
    assert (job.status, job.error_code, job.images_delivered) == ("partial", "store_failed", 1)
    entry = await harness.store.journal.get(job.id)
    assert entry is not None and entry.interaction_token is None
    assert (await queue_counts(harness))[0] == 0

    image_api.image_delay = 0.0
    again = await discord_fake.slash(alice, "imagine", prompt="one more owl")
    assert len((await final_original(discord_fake, again)).attachments) == 1, "the concurrency slot is free"


async def test_locked_database_before_the_job_is_recorded_refuses_it_and_keeps_nothing(
    discord_fake, image_api, start_bot
) -> None:
    harness = await start_bot(quota_member_concurrent_jobs=1)
    alice = discord_fake.add_member("alice")
    taken = threading.Event()
    holder = asyncio.create_task(
        asyncio.to_thread(hold_write_lock, str(harness.settings.database_path), BUSY_TIMEOUT + 0.5, taken)
    )
    await asyncio.to_thread(taken.wait, 5)
    interaction = await discord_fake.slash(alice, "imagine", prompt="an owl")

    message = await final_original(discord_fake, interaction, timeout=30)
    assert "database stopped answering" in message.text and message.attachments == []
    await holder
    assert await harness.store.recent_jobs() == [] and image_api.requests == []

    again = await discord_fake.slash(alice, "imagine", prompt="an owl, again")
    assert len((await final_original(discord_fake, again)).attachments) == 1, "nothing was held for the member"


async def test_reads_answer_while_another_writer_holds_the_lock_for_ten_seconds(
    discord_fake, image_api, start_bot
) -> None:
    harness = await start_bot()
    alice = discord_fake.add_member("alice")
    taken = threading.Event()
    holder = asyncio.create_task(asyncio.to_thread(hold_write_lock, str(harness.settings.database_path), 10.0, taken))
    await asyncio.to_thread(taken.wait, 5)

    started = time.monotonic()
    usage = await discord_fake.slash(alice, "usage show")
    await usage.wait_response()  # the fake refuses answers after Discord's 3 s (10062)
    assert time.monotonic() - started < 3 and usage.ephemeral and "Today" in usage.original.text
    blocked = await discord_fake.slash(alice, "imagine", prompt="an owl")
    await blocked.wait_response()
    assert blocked.ephemeral and "database stopped answering" in blocked.original.text, "a clear answer in time"
    await holder
    assert image_api.requests == []


async def test_a_job_ended_by_a_store_failure_is_never_taken_over_while_its_bookkeeping_retries(
    discord_fake, image_api, start_bot
) -> None:
    harness = await start_bot(lease_seconds=3)  # its lease would run out twice while the store fails
    store = harness.store
    record_image = store.record_image
    failing = asyncio.Event()
    failing.set()

    async def broken(job_id: int, index: int, **fields: object) -> bool:
        if failing.is_set() and index < 1000:  # this job's own images (a takeover's reconcile would still work)
            raise OSError("disk full")
        return await record_image(job_id, index, **fields)  # type: ignore[arg-type]

    store.record_image = broken  # type: ignore[method-assign]
    alice = discord_fake.add_member("alice")
    image_api.image_delay = 0.2
    interaction = await discord_fake.slash(alice, "imagine", prompt="two owls", count=2)
    message = await final_original(discord_fake, interaction, timeout=30)
    assert "database stopped answering" in message.text and len(message.attachments) == 1
    await asyncio.sleep(7)  # two leases: the worker's idle claims would have taken an unrenewed job over
    failing.clear()

    [job] = await job_done(harness, timeout=30)
    assert (job.status, job.error_code, job.images_delivered, job.attempts) == ("partial", "store_failed", 1, 1)
    assert len(image_api.requests) == 1, "nobody continued it"
    assert "restarted" not in (interaction.original.text or "") and not interaction.followups
