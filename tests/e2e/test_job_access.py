"""Who may see and act on a past job: members who can see the channel it was made in."""

from __future__ import annotations

import asyncio

from tests.e2e.helpers import final_original, job_done
from tests.fakes.discord_models import MANAGE_MESSAGES, VIEW_CHANNEL


async def bot_sees(harness, channel_id: str, overwrites: int) -> None:
    """Wait until the bot's cache holds the channel with that many permission overwrites."""
    for _ in range(500):
        channel = harness.bot.get_channel(int(channel_id))
        if channel is not None and len(channel.overwrites) == overwrites:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the bot never saw channel {channel_id} with {overwrites} overwrites")


async def private_job(fake, harness, insider, name="secret"):
    """A finished job made by `insider` in a new channel only they (and the bot) can see."""
    room = fake.add_channel(name, private_to=(insider, fake.bot))
    await bot_sees(harness, room, 3)
    result = await final_original(fake, await fake.slash(insider, "imagine", prompt="a secret plan", channel_id=room))
    [job] = await job_done(harness)
    return room, result, job


async def test_job_from_a_private_channel_is_hidden_from_outsiders(discord_fake, image_api, running_bot) -> None:
    insider, outsider = discord_fake.add_member("insider"), discord_fake.add_member("outsider")
    _, _, job = await private_job(discord_fake, running_bot, insider)
    shown = await discord_fake.slash(outsider, "job", id=job.id)
    await shown.wait_response()
    assert shown.ephemeral and f"no job #{job.id}" in shown.original.text
    assert "secret plan" not in shown.original.text


async def test_job_from_a_private_channel_is_shown_privately_elsewhere(discord_fake, image_api, running_bot) -> None:
    insider = discord_fake.add_member("insider")
    _, _, job = await private_job(discord_fake, running_bot, insider)
    shown = await discord_fake.slash(insider, "job", id=job.id)
    await shown.wait_response()
    assert shown.ephemeral and "secret plan" in shown.original.text
    assert all("secret plan" not in m.text for m in discord_fake.channel_messages())


async def test_buttons_refuse_members_who_cannot_see_the_jobs_channel(discord_fake, image_api, running_bot) -> None:
    alice, outsider = discord_fake.add_member("alice"), discord_fake.add_member("outsider")
    room = discord_fake.add_channel("art")
    result = await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt="x", channel_id=room))
    [job] = await job_done(running_bot)
    discord_fake.set_overwrite(room, discord_fake.guild_id, deny=VIEW_CHANNEL)
    discord_fake.set_overwrite(room, alice, allow=VIEW_CHANNEL)
    await bot_sees(running_bot, room, 2)
    for custom_id in (f"img:reroll:{job.id}", f"img:up:{job.id}:1", f"img:ref:{job.id}:1", f"img:delete:{job.id}"):
        click = await discord_fake.click(outsider, result, custom_id)
        await click.wait_response()
        assert click.ephemeral and "no longer exists" in click.original.text, custom_id
    assert len(image_api.requests) == 1 and result.id in {m.id for m in discord_fake.channel_messages(room)}


async def test_delete_needs_manage_messages_in_the_jobs_channel(discord_fake, image_api, running_bot) -> None:
    alice, mod = discord_fake.add_member("alice"), discord_fake.add_member("mod")
    room = discord_fake.add_channel("art")
    await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt="x", channel_id=room))
    [job] = await job_done(running_bot)
    discord_fake.set_overwrite(discord_fake.channel_id, mod, allow=MANAGE_MESSAGES)
    await bot_sees(running_bot, discord_fake.channel_id, 1)
    card = await discord_fake.slash(mod, "job", id=job.id)
    await card.wait_response()
    click = await discord_fake.click(mod, card.original, f"img:delete:{job.id}")
    await click.wait_response()
    assert click.ephemeral and "Only the member who asked" in click.original.text
    discord_fake.set_overwrite(room, mod, allow=MANAGE_MESSAGES)
    await bot_sees(running_bot, room, 1)
    click = await discord_fake.click(mod, card.original, f"img:delete:{job.id}")
    await final_original(discord_fake, click)
    assert discord_fake.channel_messages(room) == []
