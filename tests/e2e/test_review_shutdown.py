"""Review: while the bot is shutting down, every way of starting a job is refused with the "restarting" note."""

from __future__ import annotations

import asyncio

from tests.e2e.helpers import bot_replies, final_original, job_done
from tests.images import png

EPHEMERAL_MESSAGE = 4


async def _shutting_down_with_a_running_job(discord_fake, image_api, harness):
    """A finished result to click on, then a slow job that keeps the shutdown's grace period open."""
    alice = discord_fake.add_member("alice")
    first = await discord_fake.slash(alice, "imagine", prompt="a lighthouse")
    result = await final_original(discord_fake, first)
    [job] = await job_done(harness)
    image_api.image_delay = 1.5
    await discord_fake.slash(discord_fake.add_member("bob"), "imagine", prompt="a slow one")
    await image_api.wait_for(lambda: len(image_api.requests) == 2)
    stopping = asyncio.create_task(harness.bot.shutdown(grace=10))
    await discord_fake.wait_for(lambda: harness.bot.closing)
    return alice, result, job, stopping


async def test_result_button_during_shutdown_is_refused_privately(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot()
    alice, result, job, stopping = await _shutting_down_with_a_running_job(discord_fake, image_api, harness)

    click = await discord_fake.click(alice, result, f"img:reroll:{job.id}")
    await click.wait_response()
    await stopping

    assert click.response_type == EPHEMERAL_MESSAGE and click.ephemeral
    assert "restarting" in click.original.text
    assert len(image_api.requests) == 2, "no new API call while stopping"


async def test_reply_blend_during_shutdown_is_refused(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot()
    alice, result, _, stopping = await _shutting_down_with_a_running_job(discord_fake, image_api, harness)

    mention = await discord_fake.send_message(alice, "make it a watercolor", reply_to=result, mention_bot=True)
    answer = await discord_fake.wait_for(
        lambda: bot_replies(discord_fake, mention) and bot_replies(discord_fake, mention)[0]
    )
    await stopping

    assert "restarting" in answer.text
    assert len(image_api.requests) == 2, "no new API call while stopping"


async def test_job_still_fetching_references_at_shutdown_is_answered(discord_fake, image_api, start_bot) -> None:
    """It has no journal entry yet, so restart recovery cannot answer it: the shutdown itself must."""
    harness = await start_bot()
    discord_fake.cdn_delay = 5.0
    ref = discord_fake.add_attachment(png(64, 64), "slow.png")
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a cat", image1=ref)
    await interaction.wait_response()
    await discord_fake.wait_for(lambda: any(r.path.startswith("/cdn/") for r in discord_fake.requests))

    await harness.bot.shutdown(grace=0.2)

    assert "restarted before your request started" in interaction.original.text
    assert "nothing was spent" in interaction.original.text
    assert image_api.requests == []
    assert [j.status for j in await harness.store.recent_jobs()] == ["cancelled"], "its reservation was given back"


async def test_a_command_during_shutdown_is_refused_in_the_members_language(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot()
    *_, stopping = await _shutting_down_with_a_running_job(discord_fake, image_api, harness)

    asked = await discord_fake.slash(discord_fake.add_member("ivan", locale="ru"), "imagine", prompt="маяк")
    await asked.wait_response()
    await stopping

    assert asked.response_type == EPHEMERAL_MESSAGE and asked.ephemeral
    assert asked.original.text == "Бот перезапускается. Попробуйте ещё раз через минуту."
