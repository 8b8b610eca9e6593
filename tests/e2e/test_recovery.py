"""Restart recovery with the in-process bot: a stop interrupts a job, the next start answers it."""

from __future__ import annotations

import aiosqlite

from tests.e2e.helpers import final_original, final_reply, gallery, job_done
from tests.images import png

RETRY_PREFIX = "img:retry:"
RETRY = {"resume_interrupted_jobs": False}  # a taken-over job ends with a Retry button instead of continuing


async def interrupt_a_job(discord_fake, image_api, harness, user, **options):
    """Start a 3-image job, stop the bot (no grace) once the first image is posted; return the interaction."""
    image_api.image_delay = 0.3
    interaction = await discord_fake.slash(user, "imagine", prompt="three slow owls", count=3, **options)
    await discord_fake.wait_for(lambda: interaction.original and interaction.original.attachments)
    await harness.bot.shutdown(grace=0)
    image_api.image_delay = 0.0
    return interaction


async def recovered(harness, job_id):
    """The job's journal entry once the takeover marked it recovered, else None."""
    entry = await harness.store.journal.get(job_id)
    return entry if entry is not None and entry.recovered_at is not None else None


def retry_id(message) -> str | None:
    ids = [c for c in message.custom_ids() if c.startswith(RETRY_PREFIX)]
    return ids[0] if ids else None


async def test_stopped_job_is_journalled_with_its_token(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot()
    interaction = await interrupt_a_job(discord_fake, image_api, harness, discord_fake.add_member())
    assert "restarting" in interaction.original.text
    [job] = await harness.store.recent_jobs()
    assert (job.status, job.finished_at, job.images_delivered) == ("running", None, 1)
    entry = await harness.store.journal.get(job.id)
    assert entry is not None and entry.interaction_token == interaction.token
    assert entry.status_message_id == int(interaction.original.id)


async def test_interrupted_job_is_answered_through_the_same_token(discord_fake, image_api, start_bot) -> None:
    first = await start_bot()
    interaction = await interrupt_a_job(discord_fake, image_api, first, discord_fake.add_member())
    second = await start_bot(**RETRY)

    message = await discord_fake.wait_for(lambda: retry_id(interaction.original) and interaction.original)
    assert "restarted" in message.text and "1 of 3 images arrived" in message.text
    assert len(gallery(message, alt="three slow owls")) == 1, "the image already delivered stays in its gallery"
    assert message.component_types() == [10, 12, 1, 2], "the notice, the gallery, then Retry"
    [job] = await job_done(second)
    assert (job.status, job.error_code, job.images_delivered) == ("partial", "interrupted", 1)
    assert retry_id(message) == f"{RETRY_PREFIX}{job.id}"
    entry = await discord_fake.wait_for(lambda: recovered(second, job.id))  # marked just after the job's row ends
    assert entry.interaction_token is None
    edits = [r for r in discord_fake.requests if r.method == "PATCH" and interaction.token in r.path]
    assert edits and all(not r.authorized for r in edits), "answered through the interaction token"


async def test_restart_after_the_token_expired_posts_in_the_channel(discord_fake, image_api, start_bot) -> None:
    first = await start_bot()
    interaction = await interrupt_a_job(discord_fake, image_api, first, discord_fake.add_member())
    discord_fake.expire_token(interaction.token)
    await start_bot(**RETRY)

    def notice():
        found = [m for m in discord_fake.channel_messages() if m.interaction_token is None and retry_id(m)]
        return found[0] if found else None

    message = await discord_fake.wait_for(notice)
    assert "restarted" in message.text
    assert message.message_reference["message_id"] == interaction.original.id


async def test_retry_delivers_the_missing_images_and_counts_each_once(discord_fake, image_api, start_bot) -> None:
    first = await start_bot()
    alice = discord_fake.add_member("alice")
    interaction = await interrupt_a_job(discord_fake, image_api, first, alice)
    second = await start_bot(**RETRY)
    notice = await discord_fake.wait_for(lambda: retry_id(interaction.original) and interaction.original)

    click = await discord_fake.click(alice, notice, retry_id(notice))
    new_job, old_job = await job_done(second, 2)
    assert (new_job.images_requested, new_job.images_delivered, new_job.status) == (2, 2, "completed")
    assert new_job.params["resumes"] == old_job.id and old_job.images_delivered == 1
    assert len(click.original.attachments) == 2
    assert len(image_api.requests) == 2 and "2 images" in image_api.requests[1].json["prompt"]

    await discord_fake.wait_for(lambda: retry_id(notice) is None)  # the used button is taken away
    assert len(gallery(notice)) == 1 and "1 of 3 images arrived" in notice.text, "the gallery and notice stay"
    assert len(await second.store.recent_jobs()) == 2


async def test_only_the_requester_can_retry(discord_fake, image_api, start_bot) -> None:
    first = await start_bot()
    interaction = await interrupt_a_job(discord_fake, image_api, first, discord_fake.add_member())
    await start_bot(**RETRY)
    notice = await discord_fake.wait_for(lambda: retry_id(interaction.original) and interaction.original)
    click = await discord_fake.click(discord_fake.add_member(), notice, retry_id(notice))
    await click.wait_response()
    assert click.ephemeral and "Only the member who made this request" in click.original.text
    assert len(image_api.requests) == 1


async def test_retry_reuses_the_journalled_references(discord_fake, image_api, start_bot) -> None:
    first = await start_bot()
    alice = discord_fake.add_member()
    ref = discord_fake.add_attachment(png(300, 200), "cat.png", "image/png")
    interaction = await interrupt_a_job(discord_fake, image_api, first, alice, image1=ref)
    second = await start_bot(**RETRY)
    notice = await discord_fake.wait_for(lambda: retry_id(interaction.original) and interaction.original)
    await discord_fake.click(alice, notice, retry_id(notice))
    await job_done(second, 2)
    assert image_api.requests[1].json["image"] == image_api.requests[0].json["image"]
    cdn_fetches = [r for r in discord_fake.requests if r.path.startswith("/cdn/")]
    assert len(cdn_fetches) == 1, "the retry did not need Discord's CDN"


async def test_a_taken_over_job_makes_only_its_missing_images_through_the_same_token(
    discord_fake, image_api, start_bot
) -> None:
    first = await start_bot()
    interaction = await interrupt_a_job(discord_fake, image_api, first, discord_fake.add_member())
    second = await start_bot()  # RESUME_INTERRUPTED_JOBS is on by default
    [job] = await job_done(second, 1)
    assert (job.status, job.images_delivered, job.images_requested, job.attempts) == ("completed", 3, 3, 2)
    assert "Making the other 2 now" in interaction.original.text
    assert retry_id(interaction.original) is None
    shown = [f.filename for m in [interaction.original, *interaction.followups] if m.v2 for f in gallery(m)]
    assert sorted(shown) == [f"seedream_{job.id}_{n}.jpg" for n in (1, 2, 3)], "each image shown once"
    assert [r.json["prompt"].count("2 images") for r in image_api.requests][1:] == [1], "only the 2 missing ones"
    assert (await second.store.usage.totals(job.guild_id or 0, job.user_id, None, 0)).images == 3, "counted once"
    entry = await second.store.journal.get(job.id)
    assert entry is not None and entry.interaction_token is None


async def test_image_posted_but_not_recorded_before_a_crash_is_counted_once(discord_fake, image_api, start_bot) -> None:
    """A kill between Discord accepting an upload and the database commit: recovery finds the image on Discord."""
    first = await start_bot()
    interaction = await interrupt_a_job(discord_fake, image_api, first, discord_fake.add_member())
    [job] = await first.store.recent_jobs()
    async with aiosqlite.connect(first.settings.database_path) as db:  # the commit that the crash prevented
        await db.execute("DELETE FROM job_images WHERE job_id = ?", (job.id,))
        await db.execute("UPDATE jobs SET images_delivered = 0 WHERE id = ?", (job.id,))
        await db.commit()

    second = await start_bot(**RETRY)
    message = await discord_fake.wait_for(lambda: retry_id(interaction.original) and interaction.original)
    assert "1 of 3 images arrived" in message.text and len(gallery(message)) == 1
    [recovered] = await job_done(second)
    assert (recovered.images_delivered, recovered.status) == (1, "partial")

    click = await discord_fake.click(interaction.user, message, retry_id(message))
    new_job, _ = await job_done(second, 2)
    assert new_job.images_requested == 2 and new_job.images_delivered == 2
    assert len(click.original.attachments) == 2


async def test_reply_blend_is_journalled_with_its_channel_and_status_message(
    discord_fake, image_api, start_bot
) -> None:
    """What a REST-only process needs to deliver a job started from a plain message: channel and status message."""
    harness = await start_bot()
    alice = discord_fake.add_member("alice")
    result = await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt="a lighthouse"))
    mention = await discord_fake.send_message(alice, "as a watercolor", mention_bot=True, reply_to=result)
    reply = await final_reply(discord_fake, mention)
    blend, _ = await job_done(harness, 2)
    entry = await harness.store.journal.get(blend.id)
    assert blend.kind == "blend" and blend.channel_id == int(mention.channel_id)
    assert entry is not None and entry.status_message_id == int(reply.id) and entry.interaction_token is None


async def test_an_unrecorded_image_that_opened_a_new_page_is_found_and_counted_once(
    discord_fake, image_api, start_bot
) -> None:
    """A kill between Discord accepting the 11th image (the first of a second message) and the commit: recovery
    finds that page in the channel, though the database never heard of it."""
    first = await start_bot()
    image_api.image_delay = 0.3
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="twelve owls", count=12)

    def posted() -> int:
        return sum(len(m.attachments) for m in (interaction.original, *interaction.followups) if m is not None)

    await discord_fake.wait_for(lambda: posted() >= 11, timeout=30)
    await first.bot.shutdown(grace=0)
    image_api.image_delay = 0.0
    [job] = await first.store.recent_jobs()
    async with aiosqlite.connect(first.settings.database_path) as db:  # the commit that the crash prevented
        await db.execute("DELETE FROM job_images WHERE job_id = ? AND idx >= 10", (job.id,))
        await db.execute("UPDATE jobs SET images_delivered = 10 WHERE id = ?", (job.id,))
        await db.commit()
    assert len(interaction.followups) == 1 and len(interaction.followups[0].attachments) == posted() - 10

    second = await start_bot(**RETRY)
    message = await discord_fake.wait_for(lambda: retry_id(interaction.original) and interaction.original)
    assert f"{posted()} of 12 images arrived" in message.text
    [recovered] = await job_done(second)
    assert recovered.images_delivered == posted()
    assert (await second.store.usage.totals(job.guild_id or 0, job.user_id, None, 0)).images == posted()
