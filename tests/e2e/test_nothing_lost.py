"""Nothing lost: the queue, deadlines, Discord upload failures, shutdown and restart recovery (in-process bot)."""

from __future__ import annotations

from tests.e2e.helpers import final_original, job_done, until_queue
from tests.fakes.image_api import Fault

EPHEMERAL_REPLY = 4


def uploads(fake, interaction) -> int:
    """Images the member can see for one interaction: its @original and followups."""
    messages = {m.id: m for m in [interaction.original, *interaction.followups] if m is not None}
    return sum(len(m.attachments) for m in messages.values())


async def assert_usage_matches_discord(harness, fake) -> None:
    """Every counted image is an attachment on Discord, and every attachment is counted once."""
    jobs = await harness.store.recent_jobs(100)
    counted = 0
    for job in jobs:
        images = await harness.store.job_images(job.id)
        assert len(images) == job.images_delivered
        counted += job.images_delivered
    on_discord = sum(len(m.attachments) for m in fake.messages.values() if m.author.get("bot") and not m.deleted)
    assert counted == on_discord


async def test_full_queue_refuses_privately_before_defer(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(max_concurrent_jobs=1, max_queue_length=1)
    image_api.image_delay = 0.4
    first = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="first in line")
    await image_api.wait_for(lambda: image_api.requests)
    second = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="second in line")
    await discord_fake.wait_for(lambda: second.original and "#1 in queue" in second.original.text)

    third = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="one too many")
    await third.wait_response()
    assert third.ephemeral and third.response_type == EPHEMERAL_REPLY
    assert "busy" in third.original.text and "try again in a minute" in third.original.text

    jobs = await job_done(harness, 2)
    assert len(await harness.store.recent_jobs()) == 2
    assert [(j.prompt, j.status, j.images_delivered) for j in jobs] == [
        ("second in line", "completed", 1),
        ("first in line", "completed", 1),
    ]
    assert uploads(discord_fake, first) == uploads(discord_fake, second) == 1
    assert len(image_api.requests) == 2
    await assert_usage_matches_discord(harness, discord_fake)


async def test_queue_position_is_shown_and_moves_up(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(max_concurrent_jobs=1)
    image_api.image_delay = 2.5  # slower than the status line's throttle window (MIN_EDIT_GAP)
    for n in range(2):
        await discord_fake.slash(discord_fake.add_member(), "imagine", prompt=f"ahead {n}")
        await until_queue(harness, 1, n)
    last = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="at the back")

    await discord_fake.wait_for(lambda: last.original and "#2 in queue" in last.original.text)
    await discord_fake.wait_for(lambda: "#1 in queue" in last.original.text)
    message = await final_original(discord_fake, last)
    assert len(message.attachments) == 1 and "in queue" not in message.text
    await job_done(harness, 3)


async def test_member_at_their_limit_does_not_block_others(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(max_concurrent_jobs=2, max_jobs_per_member=1)
    image_api.image_delay = 0.3
    alice, bob = discord_fake.add_member("alice"), discord_fake.add_member("bob")
    await discord_fake.slash(alice, "imagine", prompt="alice one")
    await image_api.wait_for(lambda: len(image_api.requests) == 1)
    await discord_fake.slash(alice, "imagine", prompt="alice two")
    await until_queue(harness, None, 1)
    await discord_fake.slash(bob, "imagine", prompt="bob one")

    await job_done(harness, 3)
    assert [r.json["prompt"] for r in image_api.requests] == ["alice one", "bob one", "alice two"]


async def test_hung_api_gets_an_answer_at_the_deadline(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(job_deadline_seconds=1.0)
    image_api.script(Fault.hang())
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="never comes")
    message = await final_original(discord_fake, interaction)
    assert "❌" in message.text and "took too long" in message.text
    [job] = await job_done(harness)
    assert (job.status, job.error_code, job.images_delivered) == ("failed", "deadline", 0)
    entry = await harness.store.journal.get(job.id)
    assert entry is not None and entry.interaction_token is None


async def test_upload_failing_twice_then_succeeding_is_delivered_once(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(delivery_retry_delay=0.01)
    discord_fake.drop_next("PATCH", r"/webhooks/.*/messages/@original", times=2, uploads_only=True)
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="third time lucky")
    message = await final_original(discord_fake, interaction)
    assert len(message.attachments) == 1 and "⚠️" not in message.text
    uploads_tried = [r for r in discord_fake.requests if r.files and r.method == "PATCH"]
    assert [r.status for r in uploads_tried] == [0, 0, 200]
    [job] = await job_done(harness)
    assert (job.status, job.images_delivered) == ("completed", 1)
    await assert_usage_matches_discord(harness, discord_fake)


async def test_stuck_upload_is_abandoned_and_retried(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(delivery_timeout=0.5, delivery_retry_delay=0.01)
    # The stalled request outlives the wait below: only abandoning it (DELIVERY_TIMEOUT) lets the image through.
    discord_fake.drop_next("PATCH", r"/webhooks/.*/messages/@original", uploads_only=True, hang=40.0)
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="through a stuck proxy")
    message = await final_original(discord_fake, interaction, timeout=15)
    assert len(message.attachments) == 1 and "⚠️" not in message.text
    [job] = await job_done(harness)
    assert (job.status, job.images_delivered) == ("completed", 1)
    await assert_usage_matches_discord(harness, discord_fake)


async def test_undeliverable_image_is_kept_on_disk_and_explained(discord_fake, image_api, start_bot, tmp_path) -> None:
    harness = await start_bot(delivery_retries=1, delivery_retry_delay=0.01, undelivered_dir=tmp_path / "kept")
    discord_fake.drop_next("PATCH", r"/webhooks/.*/messages/@original", times=2, uploads_only=True)
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="lost in transit")
    message = await final_original(discord_fake, interaction)
    [job] = await job_done(harness)
    assert message.attachments == []
    assert "Discord did not accept an image" in message.text and f"job {job.id}" in message.text
    assert (job.status, job.images_delivered, job.error_code) == ("failed", 0, "delivery_failed")
    kept = list((tmp_path / "kept").glob("*.jpg"))
    assert [p.name for p in kept] == [f"job{job.id}_0.jpg"]
    assert kept[0].read_bytes()[:2] == b"\xff\xd8"
