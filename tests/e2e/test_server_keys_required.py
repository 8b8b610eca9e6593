"""REQUIRE_SERVER_KEY (no IMAGE_API_KEY) and keys that can no longer be read: refused before any cost, with a
plain answer for members and a how-to for admins."""

from __future__ import annotations

import asyncio
import sys
from asyncio.subprocess import PIPE

from tests.e2e.helpers import final_original, job_done
from tests.e2e.key_helpers import SECRET, SERVER_KEY, answer, enter_key, key_action
from tests.e2e.process import BotProcess

REQUIRED = {"require_server_key": True, "image_api_key": None, "secret_key": SECRET}
ROTATED = "another-secret-key-0123456789-zyxwvutsrqpo"


async def refused(fake, user, prompt: str = "a cat", **where) -> str:
    """Run /imagine; the private refusal's text."""
    interaction = await fake.slash(user, "imagine", prompt=prompt, **where)
    await interaction.wait_response()
    assert interaction.response_type == 4, "refused before the bot acknowledged anything"
    return await answer(fake, interaction)


async def test_members_of_a_server_without_a_key_are_told_it_is_not_set_up(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(**REQUIRED)
    text = await refused(discord_fake, discord_fake.add_member())
    assert "not set up on this server yet" in text and "ask a server admin" in text
    assert "/imagine-admin" not in text, "members get no admin instructions"
    assert image_api.requests == [] and await harness.store.recent_jobs() == []


async def test_admins_of_a_server_without_a_key_get_the_how_to(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(**REQUIRED)
    text = await refused(discord_fake, discord_fake.add_member("boss", manage_guild=True))
    assert "not set up on this server yet" in text and "`/imagine-admin api-key`" in text
    assert "without making an image" in text
    assert image_api.requests == [] and await harness.store.recent_jobs() == []


async def test_once_an_admin_enters_a_key_the_server_generates_with_it(discord_fake, image_api, start_bot) -> None:
    image_api.accept_key(SERVER_KEY)
    image_api.revoke_key("fake-api-key")  # the operator has no key here
    harness = await start_bot(**REQUIRED)
    status = await key_action(discord_fake, discord_fake.add_member(manage_guild=True), "status")
    assert "image generation is off here" in status
    assert "not set up" in await refused(discord_fake, discord_fake.add_member())

    await enter_key(discord_fake, discord_fake.add_member(manage_guild=True), SERVER_KEY)  # seen at once
    message = await final_original(
        discord_fake, await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="ok")
    )
    assert len(message.attachments) == 1
    assert [r.key for r in image_api.requests] == [SERVER_KEY, SERVER_KEY]
    await job_done(harness)


async def test_direct_messages_are_refused_without_an_operator_key(discord_fake, image_api, start_bot) -> None:
    await start_bot(**REQUIRED, dev_guild_id=None)
    loner = discord_fake.add_member()
    text = await refused(discord_fake, loner, channel_id=discord_fake.dm_channel(loner))
    assert "not in direct messages" in text and image_api.requests == []


async def test_a_key_removed_while_a_job_waits_stops_that_job_before_any_call(
    discord_fake, image_api, start_bot
) -> None:
    image_api.accept_key(SERVER_KEY)
    harness = await start_bot(**REQUIRED, max_concurrent_jobs=1)
    admin = discord_fake.add_member(manage_guild=True)
    await enter_key(discord_fake, admin, SERVER_KEY)
    image_api.image_delay = 3.0  # the first job holds the only slot while the key is removed
    first = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="first in line")
    await image_api.wait_for(lambda: len(image_api.requests) == 2)  # the probe and the first job, running
    waiting = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="second in line")
    await waiting.wait_response()  # admitted: it waits in line behind the first
    await key_action(discord_fake, admin, "remove")

    assert len((await final_original(discord_fake, first)).attachments) == 1
    message = await final_original(discord_fake, waiting)
    assert "not set up on this server yet" in message.content and not message.attachments
    assert [r.json["prompt"] for r in image_api.requests[1:]] == ["first in line"]
    second, _ = await job_done(harness, 2)
    assert (second.status, second.error_code, second.images_delivered) == ("failed", "server_key_missing", 0)


async def test_a_changed_secret_key_makes_the_stored_key_unusable_not_a_crash(
    discord_fake, image_api, start_bot
) -> None:
    image_api.accept_key(SERVER_KEY)
    first = await start_bot(secret_key=SECRET)
    admin = discord_fake.add_member("boss", manage_guild=True)
    await enter_key(discord_fake, admin, SERVER_KEY)
    await first.bot.shutdown(grace=0)
    await start_bot(secret_key=ROTATED)  # the owner changed SECRET_KEY

    member_text = await refused(discord_fake, discord_fake.add_member())
    assert "can't be used right now" in member_text and "ask a server admin" in member_text
    admin_text = await refused(discord_fake, admin)
    assert "SECRET_KEY` was changed" in admin_text and "`/imagine-admin api-key`" in admin_text
    status = await key_action(discord_fake, admin, "status")
    assert "⚠️" in status and "ending in `80aa`" in status
    assert len(image_api.requests) == 1, "only the first probe: nothing was sent with the unreadable key"

    assert "Saved" in await enter_key(discord_fake, admin, SERVER_KEY)  # entered again: usable again
    message = await final_original(
        discord_fake, await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="ok")
    )
    assert len(message.attachments) == 1 and image_api.requests[-1].key == SERVER_KEY


async def test_an_unset_secret_key_leaves_stored_keys_unusable_and_removable(
    discord_fake, image_api, start_bot
) -> None:
    image_api.accept_key(SERVER_KEY)
    first = await start_bot(secret_key=SECRET)
    admin = discord_fake.add_member("boss", manage_guild=True)
    await enter_key(discord_fake, admin, SERVER_KEY)
    await first.bot.shutdown(grace=0)
    harness = await start_bot()  # SECRET_KEY removed from the configuration

    assert "unset `SECRET_KEY`" in await refused(discord_fake, admin)
    assert "Removed" in await key_action(discord_fake, admin, "remove")
    message = await final_original(
        discord_fake, await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="ok")
    )
    assert len(message.attachments) == 1 and image_api.requests[-1].key == "fake-api-key"
    await job_done(harness)


async def test_the_bot_starts_without_image_api_key_when_servers_bring_their_own(
    discord_fake, image_api, tmp_path
) -> None:
    bot = BotProcess(tmp_path, discord_fake, image_api, require_server_key="true", secret_key=SECRET)
    del bot.env["IMAGE_API_KEY"]
    try:
        await bot.start()
        assert "not set up on this server yet" in await refused(discord_fake, discord_fake.add_member())
    finally:
        await bot.stop()
    assert image_api.requests == []


async def test_without_require_server_key_a_missing_image_api_key_stops_start_up(
    discord_fake, image_api, tmp_path
) -> None:
    bot = BotProcess(tmp_path, discord_fake, image_api)
    del bot.env["IMAGE_API_KEY"]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=bot.env, stdout=PIPE, stderr=PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert "IMAGE_API_KEY: is required but not set (unless REQUIRE_SERVER_KEY=true" in err.decode()
