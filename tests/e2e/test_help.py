"""/help end to end: private, every command with an example, the member's limits today, blending by replying."""

from __future__ import annotations

from tests.e2e.helpers import final_original, job_done
from tests.fakes.discord_validation import MAX_EMBED_TOTAL

EPHEMERAL_MESSAGE = 4
SLASH, MESSAGE = 1, 3


def card_text(embed: dict) -> str:
    fields = " ".join(f"{f['name']}\n{f['value']}" for f in embed.get("fields", []))
    return f"{embed.get('title', '')}\n{embed.get('description', '')}\n{fields}"


async def ask_for_help(fake, member) -> dict:
    interaction = await fake.slash(member, "help")
    await interaction.wait_response()
    assert interaction.response_type == EPHEMERAL_MESSAGE and interaction.ephemeral
    [embed] = interaction.original.embeds
    return embed


async def test_help_names_every_command_with_an_example(discord_fake, image_api, running_bot) -> None:
    embed = await ask_for_help(discord_fake, discord_fake.add_member())
    text = card_text(embed)
    assert len(text) < MAX_EMBED_TOTAL
    registered = discord_fake.commands[discord_fake.guild_id]
    for command in registered:
        if command.get("type", SLASH) == SLASH:
            subcommands = [o["name"] for o in command.get("options", []) if o["type"] == 1]
            for name in [f"{command['name']} {sub}" for sub in subcommands] or [command["name"]]:
                if command["name"] != "imagine-admin":
                    assert f"`/{name}` — " in text, name
        else:
            assert command["name"] in text
    assert "`/imagine-admin` — " in text
    assert "Example: `/imagine prompt:a lighthouse in four seasons count:4 aspect:16:9`" in text
    assert text.count("Example: ") == 10


async def test_help_shows_the_members_limits_today(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_member_daily_images=10, quota_allow_4k=False, quota_max_set_size=6)
    alice = discord_fake.add_member("alice")
    await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt="a kite", count=2))
    await job_done(harness)
    await harness.store.member_defaults.update(int(discord_fake.guild_id), int(alice.id), aspect="9:16", count=3)

    [limits] = [
        f for f in (await ask_for_help(discord_fake, alice))["fields"] if f["name"] == "Your limits in this server"
    ]
    assert "Quota: 8 of 10 images left today" in limits["value"] and "resets at 00:00 UTC" in limits["value"]
    assert "Sets of up to 6 images · 4K not allowed" in limits["value"]
    assert "Your defaults: 2K (server) · 9:16 · 3 images" in limits["value"]


async def test_help_explains_blending_by_replying(discord_fake, image_api, running_bot) -> None:
    embed = await ask_for_help(discord_fake, discord_fake.add_member())
    [blend] = [f for f in embed["fields"] if f["name"] == "Blend by replying"]
    bot_name = discord_fake.bot.username
    assert f"`@{bot_name} turn this into a watercolor --n 4 --ar 16:9 --res 2K`" in blend["value"]
    assert "Apps → Blend with prompt…" in blend["value"]  # other members' pictures need the message command here
