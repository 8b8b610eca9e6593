"""Review: a request that was refused or cancelled before anything ran does not start the member's cooldown."""

from __future__ import annotations

from tests.e2e.helpers import final_original, job_done
from tests.images import png

MESSAGE = 4


async def test_request_refused_for_bad_input_does_not_start_the_cooldown(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_cooldown_seconds=60)
    user = discord_fake.add_member()
    ref = discord_fake.add_attachment(png(64, 64), "ref.png")
    too_many = await discord_fake.slash(user, "imagine", prompt="a fox", count=15, image1=ref)
    await too_many.wait_response()
    assert too_many.ephemeral and "Ask for fewer images" in too_many.original.content

    corrected = await discord_fake.slash(user, "imagine", prompt="a fox", count=14, image1=ref)
    message = await final_original(discord_fake, corrected)

    assert "Cooldown" not in message.content
    assert len(message.attachments) == 10
    [job] = await job_done(harness)
    assert job.images_requested == 14
