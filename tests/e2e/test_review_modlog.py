"""Review: the mod-log receives every prompt, including long ones full of markdown characters."""

from __future__ import annotations

from tests.e2e.helpers import final_original


async def test_mod_log_entry_is_posted_for_a_long_markdown_heavy_prompt(discord_fake, image_api, running_bot) -> None:
    mods = discord_fake.add_channel("mods")
    admin = discord_fake.add_member(manage_guild=True)
    setting = await discord_fake.slash(admin, "imagine-admin mod-log", channel=mods)
    await setting.wait_response()
    member = discord_fake.add_member()
    prompt = ("**neon** __city__ " * 100)[:1500]

    job = await discord_fake.slash(member, "imagine", prompt=prompt)
    await final_original(discord_fake, job)

    entry = await discord_fake.wait_for(lambda: next(iter(discord_fake.channel_messages(mods)), None))
    assert f"<@{member.id}>" in entry.text and "completed (1/1)" in entry.text
    assert "neon" in entry.text
