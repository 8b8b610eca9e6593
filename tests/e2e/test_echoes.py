"""Values a member typed come back escaped, numbers in forms are ASCII digits, and the mod-log is not floodable."""

from __future__ import annotations

import asyncio

import pytest

from bot.textclean import code_span
from tests.e2e.helpers import final_reply
from tests.images import png

MODAL = 9
BREAKOUT = "x`**BOLD** [link](https://evil.example)`y"


def one_code_span(content: str) -> None:
    """Backticks pair up: nothing the member wrote closes a code span early."""
    assert content.count("`") % 2 == 0 and "`**BOLD**" not in content, content


async def test_file_names_cannot_break_out_of_their_code_span(discord_fake, image_api, running_bot) -> None:
    attachment = discord_fake.add_attachment(b"not an image", f"{BREAKOUT}.txt", "text/plain")
    answer = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a cat", image1=attachment)
    await answer.wait_response()
    assert answer.ephemeral and "is not an image" in answer.original.text
    one_code_span(answer.original.text)
    assert image_api.requests == []


async def test_inline_options_are_echoed_in_a_safe_code_span(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    parent = await discord_fake.send_message(alice, "", attachments=[discord_fake.add_attachment(png(), "a.png")])
    mention = await discord_fake.send_message(
        alice, f"make it blue --ar {BREAKOUT.replace(' ', '_')}", mention_bot=True, reply_to=parent
    )
    reply = await final_reply(discord_fake, mention)
    assert "not a supported aspect ratio" in reply.text
    one_code_span(reply.text)


async def blend_modal(fake, **fields: str):
    alice = fake.add_member("alice")
    target = await fake.send_message(alice, "", attachments=[fake.add_attachment(png(), "a.png")])
    menu = await fake.context_menu(alice, "Blend with prompt…", target)
    await menu.wait_response()
    assert menu.response_type == MODAL
    values = {"blend:prompt": "a poster", "blend:count": "1", "blend:aspect": ""}
    values.update({f"blend:{key}": value for key, value in fields.items()})
    submitted = await fake.submit_modal(alice, menu, values)
    await submitted.wait_response()
    return submitted


@pytest.mark.parametrize("count", ["４", "٣", "²", "1.", "+2", "٣٤"])
async def test_form_numbers_take_ascii_digits_only(discord_fake, image_api, running_bot, count) -> None:
    submitted = await blend_modal(discord_fake, count=count)
    assert submitted.ephemeral and "not a number of images" in submitted.original.text
    one_code_span(submitted.original.text)
    assert image_api.requests == []


async def test_form_number_out_of_range_says_the_range(discord_fake, image_api, running_bot) -> None:
    submitted = await blend_modal(discord_fake, count="99")
    assert submitted.ephemeral and "from 1 to 15" in submitted.original.text
    assert image_api.requests == []


async def test_admin_number_settings_take_ascii_digits_only(discord_fake, image_api, running_bot) -> None:
    admin = discord_fake.add_member(manage_guild=True)
    answer = await discord_fake.slash(admin, "imagine-admin set", setting="member_daily_images", value="１０")
    await answer.wait_response()
    assert answer.ephemeral and "is not a number" in answer.original.text


async def test_mod_log_gets_one_post_per_member_per_window(discord_fake, image_api, running_bot) -> None:
    mods = discord_fake.add_channel("mods")
    admin = discord_fake.add_member(manage_guild=True)
    setup = (("imagine-admin mod-log", {"channel": mods}), ("imagine-admin block-word", {"word": "ogre"}))
    for command, options in setup:
        done = await discord_fake.slash(admin, command, **options)
        await done.wait_response()
    running_bot.bot.get_cog("Admin").reporter.window = 1.0
    spammer = discord_fake.add_member("spammer")
    for n in range(6):
        refused = await discord_fake.slash(spammer, "imagine", prompt=f"an ogre number {n}")
        await refused.wait_response()
    await discord_fake.wait_for(lambda: discord_fake.channel_messages(mods))
    await asyncio.sleep(0.3)
    assert len(discord_fake.channel_messages(mods)) == 1
    await discord_fake.wait_for(lambda: len(discord_fake.channel_messages(mods)) == 2, timeout=5)
    first, folded = discord_fake.channel_messages(mods)
    assert "number 0" in first.text and "5 refused requests" in folded.text and "number 5" in folded.text
    await asyncio.sleep(1.2)
    assert len(discord_fake.channel_messages(mods)) == 2


def test_code_span_keeps_its_backticks_paired() -> None:
    assert code_span("a`b``c") == "`aˋbˋˋc`"
    assert code_span("\u200b") == "`(empty)`"
