"""/imagine-admin end to end: permission checks on the bot's side, per-server overrides, audit, stats."""

from __future__ import annotations

from tests.e2e.helpers import decode, final_original, final_reply, job_done
from tests.e2e.usage_helpers import record_job

DENIED = "You don't have permission"


async def admin_says(discord_fake, user, command, **options) -> str:
    interaction = await discord_fake.slash(user, f"imagine-admin {command}", **options)
    await interaction.wait_response()
    assert interaction.ephemeral
    return interaction.original.text


async def test_members_without_manage_server_are_refused(discord_fake, image_api, running_bot) -> None:
    member = discord_fake.add_member()
    text = await admin_says(discord_fake, member, "set", setting="member_daily_images", value="1")
    assert DENIED in text
    assert await running_bot.store.guilds.audit_log(int(discord_fake.guild_id)) == []
    limits = await running_bot.services.quotas.limits(int(discord_fake.guild_id))
    assert limits.member_daily_images == running_bot.settings.quota_member_daily_images


async def test_group_is_registered_for_manage_server_only(discord_fake, image_api, running_bot) -> None:
    [command] = [c for c in discord_fake.commands[discord_fake.guild_id] if c["name"] == "imagine-admin"]
    assert int(command["default_member_permissions"]) == 1 << 5  # MANAGE_GUILD


async def test_server_override_replaces_the_default_and_is_audited(discord_fake, image_api, running_bot) -> None:
    admin = discord_fake.add_member("boss", manage_guild=True)
    text = await admin_says(discord_fake, admin, "set", setting="member_daily_images", value="1")
    assert "Images per member per day is now **1**" in text
    member = discord_fake.add_member()
    first = await discord_fake.slash(member, "imagine", prompt="one")
    await final_original(discord_fake, first)
    await job_done(running_bot)
    second = await discord_fake.slash(member, "imagine", prompt="two")
    await second.wait_response()
    assert second.ephemeral and "used 1 of your 1" in second.original.text

    audit = await admin_says(discord_fake, admin, "audit")
    assert f"<@{admin.id}>" in audit and "member_daily_images = 1" in audit
    reset = await admin_says(discord_fake, admin, "set", setting="member_daily_images", value="default")
    assert "the bot's default" in reset


async def test_bad_setting_value_is_explained(discord_fake, image_api, running_bot) -> None:
    admin = discord_fake.add_member(manage_guild=True)
    text = await admin_says(discord_fake, admin, "set", setting="max_set_size", value="99")
    assert "Largest set size" in text and "1 to 15" in text


async def test_server_default_size_and_watermark_reach_the_api(discord_fake, image_api, running_bot) -> None:
    admin = discord_fake.add_member(manage_guild=True)
    await admin_says(discord_fake, admin, "set", setting="default_resolution", value="1K")
    await admin_says(discord_fake, admin, "set", setting="watermark", value="on")
    job = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a lighthouse")
    await final_original(discord_fake, job)
    body = image_api.requests[0].json
    assert body["size"] == "1K" and body["watermark"] is True


async def test_server_defaults_also_apply_to_reply_blends(discord_fake, image_api, running_bot) -> None:
    admin = discord_fake.add_member(manage_guild=True)
    await admin_says(discord_fake, admin, "set", setting="default_resolution", value="1K")
    await admin_says(discord_fake, admin, "set", setting="watermark", value="on")
    alice = discord_fake.add_member("alice")
    result = await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt="a lighthouse"))
    mention = await discord_fake.send_message(alice, "now at night", mention_bot=True, reply_to=result)
    await final_reply(discord_fake, mention)
    body = image_api.requests[1].json
    assert body["size"] == "1K" and body["watermark"] is True


async def test_show_lists_settings_and_overrides(discord_fake, image_api, running_bot) -> None:
    admin = discord_fake.add_member(manage_guild=True)
    await admin_says(discord_fake, admin, "set", setting="allow_4k", value="off")
    text = await admin_says(discord_fake, admin, "show")
    assert "4K allowed: **off** ✏️" in text and "Largest set size: **15**" in text


async def test_mod_log_receives_prompt_requester_and_outcome(discord_fake, image_api, running_bot) -> None:
    mods = discord_fake.add_channel("mods")
    admin = discord_fake.add_member(manage_guild=True)
    await admin_says(discord_fake, admin, "mod-log", channel=mods)
    member = discord_fake.add_member()
    job = await discord_fake.slash(member, "imagine", prompt="@everyone a sunset")
    await final_original(discord_fake, job)
    entry = await discord_fake.wait_for(lambda: next(iter(discord_fake.channel_messages(mods)), None))
    assert f"<@{member.id}>" in entry.text and "completed (1/1)" in entry.text
    assert "a sunset" in entry.text and "@everyone" not in entry.text


async def test_mod_log_also_receives_refused_prompts(discord_fake, image_api, running_bot) -> None:
    mods = discord_fake.add_channel("mods")
    admin = discord_fake.add_member(manage_guild=True)
    await admin_says(discord_fake, admin, "mod-log", channel=mods)
    await admin_says(discord_fake, admin, "block-word", word="gore")
    member = discord_fake.add_member()
    refused = await discord_fake.slash(member, "imagine", prompt="lots of GORE @here")
    await refused.wait_response()
    assert refused.ephemeral
    entry = await discord_fake.wait_for(lambda: next(iter(discord_fake.channel_messages(mods)), None))
    assert f"<@{member.id}>" in entry.text and "refused" in entry.text and "blocked" in entry.text
    assert "lots of GORE" in entry.text and "@here" not in entry.text
    assert image_api.requests == []


async def test_stats_show_a_chart_top_channels_and_failure_kinds(discord_fake, image_api, running_bot) -> None:
    guild = discord_fake.guild_id
    admin = discord_fake.add_member(manage_guild=True)
    await record_job(running_bot.store, guild, admin.id, delivered=3, channel_id=77)
    await record_job(running_bot.store, guild, admin.id, delivered=0, status="failed", channel_id=77)
    interaction = await discord_fake.slash(admin, "imagine-admin stats")
    message = await discord_fake.wait_for(
        lambda: interaction.original if interaction.original and interaction.original.attachments else None
    )
    assert interaction.ephemeral and "3 images" in message.text and "2 requests" in message.text
    assert "<#77>" in message.text and "failure rate 50%" in message.text and "`failed:x`" in message.text
    assert decode(message.attachments[0].data).format == "PNG"
