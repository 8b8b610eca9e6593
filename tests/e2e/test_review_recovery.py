"""Review: with KEEP_REFERENCES_DAYS=0, another job finishing must not delete a running job's journalled references
(the README promises they are kept at least RETRY_WINDOW_SECONDS so Retry works)."""

from __future__ import annotations

from bot.store.schema import job_journal
from tests.e2e.helpers import final_original, job_done
from tests.images import png

RETRY_PREFIX = "img:retry:"


async def recovered(harness, job_id):
    """The job's journal entry once the takeover marked it recovered, else None."""
    entry = await harness.store.journal.get(job_id)
    return entry if entry is not None and entry.recovered_at is not None else None


def retry_id(message) -> str | None:
    ids = [c for c in message.custom_ids() if c.startswith(RETRY_PREFIX)]
    return ids[0] if ids else None


async def test_retry_keeps_its_references_when_reroll_keeps_none(discord_fake, image_api, start_bot) -> None:
    first = await start_bot(keep_references_days=0, max_concurrent_jobs=2)
    alice, bob = discord_fake.add_member("alice"), discord_fake.add_member("bob")
    ref = discord_fake.add_attachment(png(300, 200), "cat.png", "image/png")
    image_api.image_delay = 0.5
    slow = await discord_fake.slash(alice, "imagine", prompt="three slow owls", count=3, image1=ref)
    await discord_fake.wait_for(lambda: slow.original and slow.original.attachments)
    image_api.image_delay = 0.0
    await final_original(discord_fake, await discord_fake.slash(bob, "imagine", prompt="a quick fox"))
    await first.bot.shutdown(grace=0)

    second = await start_bot(keep_references_days=0, resume_interrupted_jobs=False)
    notice = await discord_fake.wait_for(lambda: retry_id(slow.original) and slow.original)
    [job] = [j for j in await second.store.recent_jobs(5) if j.prompt == "three slow owls"]
    await discord_fake.wait_for(lambda: recovered(second, job.id))  # marked just after the Retry button is shown
    click = await discord_fake.click(alice, notice, retry_id(notice))
    await click.wait_response()

    assert not click.ephemeral, click.original.text if click.original else None
    retried, *_ = await job_done(second, 3)
    assert retried.params.get("resumes") and retried.images_delivered == 2
    assert image_api.requests[-1].json["image"] == image_api.requests[0].json["image"]


async def test_a_retry_clicked_before_the_takeover_has_finished_says_so(discord_fake, image_api, start_bot) -> None:
    first = await start_bot(max_concurrent_jobs=1, resume_interrupted_jobs=False)
    alice = discord_fake.add_member("alice")
    image_api.image_delay = 0.5
    slow = await discord_fake.slash(alice, "imagine", prompt="three slow owls", count=3)
    await discord_fake.wait_for(lambda: slow.original and slow.original.attachments)
    await first.bot.shutdown(grace=0)

    second = await start_bot(resume_interrupted_jobs=False)
    notice = await discord_fake.wait_for(lambda: retry_id(slow.original) and slow.original)
    [job] = await second.store.recent_jobs(1)
    await discord_fake.wait_for(lambda: recovered(second, job.id))
    # The moment between the Retry button appearing and the takeover marking the job recovered, made to last:
    async with second.store._db.write() as conn:
        await conn.execute(job_journal.update().where(job_journal.c.job_id == job.id).values(recovered_at=None))
    click = await discord_fake.click(alice, notice, retry_id(notice))
    await click.wait_response()
    assert click.ephemeral and "still being wrapped up" in click.original.text
    assert len(image_api.requests) == 1  # nothing was started
