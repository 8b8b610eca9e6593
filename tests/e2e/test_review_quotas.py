"""Review: a request that was refused or cancelled before anything ran does not start the member's cooldown."""

from __future__ import annotations

from tests.e2e.helpers import final_original, job_done
from tests.e2e.usage_helpers import Clock, forget_me
from tests.images import png

MESSAGE = 4


async def test_request_refused_for_bad_input_does_not_start_the_cooldown(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_cooldown_seconds=60)
    user = discord_fake.add_member()
    ref = discord_fake.add_attachment(png(64, 64), "ref.png")
    too_many = await discord_fake.slash(user, "imagine", prompt="a fox", count=15, image1=ref)
    await too_many.wait_response()
    assert too_many.ephemeral and "Ask for fewer images" in too_many.original.text

    corrected = await discord_fake.slash(user, "imagine", prompt="a fox", count=14, image1=ref)
    message = await final_original(discord_fake, corrected)

    assert "Cooldown" not in message.text
    assert len(message.attachments) == 10
    [job] = await job_done(harness)
    assert job.images_requested == 14


async def test_forget_me_does_not_reset_the_daily_member_limit(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_member_daily_images=1)
    clock = Clock()  # noon UTC
    harness.store.clock = clock
    user = discord_fake.add_member()
    await final_original(discord_fake, await discord_fake.slash(user, "imagine", prompt="the one image of today"))
    await job_done(harness)
    await forget_me(discord_fake, user)
    clock.advance(600)  # same UTC day; past the in-memory reservation of the first request

    again = await discord_fake.slash(user, "imagine", prompt="one more, please")
    await again.wait_response()

    assert again.ephemeral and "Daily limit per member" in again.original.text
    assert len(image_api.requests) == 1
