"""Role tiers end to end: limits per role through the real bot and the fake Discord (roles come from the
interaction's member), the most generous role winning per limit, presets in one command, /usage showing the tier."""

from __future__ import annotations

from tests.e2e.helpers import final_original, job_done
from tests.e2e.test_quotas import refused, run_job
from tests.e2e.usage_helpers import Clock

DAY = 86400
DENIED = "You don't have permission"


async def admin_says(discord_fake, user, command, **options) -> str:
    interaction = await discord_fake.slash(user, f"imagine-admin {command}", **options)
    await interaction.wait_response()
    assert interaction.ephemeral
    return interaction.original.content


async def usage_of(discord_fake, user) -> str:
    interaction = await discord_fake.slash(user, "usage show")
    await interaction.wait_response()
    assert interaction.ephemeral
    return interaction.original.content


async def test_a_preset_applies_to_a_role_in_one_command(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_member_daily_images=100)
    admin = discord_fake.add_member(manage_guild=True)
    members = discord_fake.add_role("members")
    text = await admin_says(discord_fake, admin, "tier set", role=members, preset="free")
    assert f"<@&{members}> now has the **Free** tier" in text and "5 a day" in text and "up to 2K" in text
    alice = discord_fake.add_member("alice", roles=[members])

    assert "at most 4 images per request" in await refused(discord_fake, alice, prompt="many", count=5)
    assert "4K is not allowed for your tier (**Free**). Choose 1K or 2K." in await refused(
        discord_fake, alice, prompt="huge", resolution="4K"
    )
    await run_job(discord_fake, harness, alice, prompt="four owls", count=4)
    text = await refused(discord_fake, alice, prompt="two more", count=2)
    assert "Daily limit per member (your tier: **Free**)" in text and "used 4 of your 5" in text
    assert len(image_api.requests) == 1

    usage = await usage_of(discord_fake, alice)
    assert f"Tier: **Free** (from <@&{members}>)" in usage
    assert "1 of 5 images left today" in usage and "46 of 50 left this month" in usage
    listed = await admin_says(discord_fake, admin, "tier list")
    assert f"<@&{members}> · **Free** · 5 a day · 50 a month" in listed and "Everyone else (server default)" in listed


async def test_the_most_generous_role_wins_each_limit(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_member_daily_images=1)
    admin = discord_fake.add_member(manage_guild=True)
    artists, patrons = discord_fake.add_role("artists"), discord_fake.add_role("patrons")
    await admin_says(discord_fake, admin, "tier set", role=artists, daily=1, max_resolution="4K")
    await admin_says(discord_fake, admin, "tier set", role=patrons, daily=3, max_resolution="1K")
    both = discord_fake.add_member("both", roles=[artists, patrons])
    patron = discord_fake.add_member("patron", roles=[patrons])
    nobody = discord_fake.add_member("nobody")

    await run_job(discord_fake, harness, both, prompt="two big owls", count=2, resolution="4K")  # 4K: artists
    await run_job(discord_fake, harness, both, prompt="a third owl", count=1, resolution="4K")  # 3 a day: patrons
    text = await refused(discord_fake, both, prompt="a fourth owl", resolution="1K")
    assert "used 3 of your 3" in text and "**Custom**" in text
    assert "4K is not allowed for your tier" in await refused(discord_fake, patron, prompt="big", resolution="4K")
    await run_job(discord_fake, harness, nobody, prompt="one owl", resolution="2K")  # the server's default
    assert "used 1 of your 1" in await refused(discord_fake, nobody, prompt="another owl", resolution="2K")
    assert [r.json["size"] for r in image_api.requests] == ["4K", "4K", "2K"]


async def test_a_members_default_size_is_lowered_to_their_tier(discord_fake, image_api, running_bot) -> None:
    admin = discord_fake.add_member(manage_guild=True)
    juniors = discord_fake.add_role("juniors")
    await admin_says(discord_fake, admin, "tier set", role=juniors, max_resolution="1K")
    junior = discord_fake.add_member("junior", roles=[juniors])
    await final_original(discord_fake, await discord_fake.slash(junior, "imagine", prompt="an owl"))
    assert image_api.requests[0].json["size"] == "1K"  # not refused for the server's default of 2K


async def test_a_tier_follows_the_roles_a_member_is_given(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_member_daily_images=1)
    admin = discord_fake.add_member(manage_guild=True)
    patrons = discord_fake.add_role("patrons")
    await admin_says(discord_fake, admin, "tier set", role=patrons, preset="unlimited")
    bob = discord_fake.add_member("bob")
    await run_job(discord_fake, harness, bob, prompt="one owl")
    assert "used 1 of your 1" in await refused(discord_fake, bob, prompt="two owls")
    discord_fake.give_role(bob, patrons)
    await run_job(discord_fake, harness, bob, prompt="now unlimited", count=3)
    assert "Tier: **Unlimited**" in await usage_of(discord_fake, bob)
    discord_fake.take_role(bob, patrons)
    assert "used 4 of your 1" in await refused(discord_fake, bob, prompt="back to the default")


async def test_a_tier_on_everyone_applies_to_every_member(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_member_daily_images=100)
    admin = discord_fake.add_member(manage_guild=True)
    await admin_says(discord_fake, admin, "tier set", role=discord_fake.guild_id, daily=1)
    member = discord_fake.add_member()
    await run_job(discord_fake, harness, member, prompt="one owl")
    assert "used 1 of your 1" in await refused(discord_fake, member, prompt="two owls")


async def test_removing_a_tier_and_bad_values(discord_fake, image_api, running_bot) -> None:
    admin = discord_fake.add_member(manage_guild=True)
    vip = discord_fake.add_role("vip")
    assert "Choose a preset" in await admin_says(discord_fake, admin, "tier set", role=vip)
    text = await admin_says(discord_fake, admin, "tier set", role=vip, models="seedream-9-`@everyone`")
    assert "Unknown model" in text and "@everyone`" not in text
    assert await running_bot.store.guilds.audit_log(int(discord_fake.guild_id)) == []
    await admin_says(discord_fake, admin, "tier set", role=vip, preset="standard", models="all")
    assert "no longer has a tier" in await admin_says(discord_fake, admin, "tier remove", role=vip)
    assert "had no tier" in await admin_says(discord_fake, admin, "tier remove", role=vip)
    audit = await admin_says(discord_fake, admin, "audit")
    assert "set tier" in audit and "remove tier" in audit


async def test_tier_commands_need_manage_server(discord_fake, image_api, running_bot) -> None:
    member = discord_fake.add_member()
    vip = discord_fake.add_role("vip")
    text = await admin_says(discord_fake, member, "tier set", role=vip, preset="unlimited")
    assert DENIED in text
    assert DENIED in await admin_says(discord_fake, member, "tier list")
    assert (await running_bot.store.guilds.load(int(discord_fake.guild_id))).tiers == {}


async def test_exempt_roles_still_skip_the_member_limits_but_not_their_tier_shape(
    discord_fake, image_api, start_bot
) -> None:
    harness = await start_bot(quota_member_daily_images=1)
    admin = discord_fake.add_member(manage_guild=True)
    staff = discord_fake.add_role("staff")
    await admin_says(discord_fake, admin, "exempt", role=staff)
    await admin_says(discord_fake, admin, "tier set", role=staff, preset="free")
    member = discord_fake.add_member(roles=[staff])
    for prompt in ("one", "two"):
        await run_job(discord_fake, harness, member, prompt=prompt, count=4)  # past Free's 5 a day: exempt
    assert "at most 4 images per request" in await refused(discord_fake, member, prompt="many", count=5)
    await job_done(harness, 2)


async def test_the_monthly_limit_holds_across_days_and_resets_on_the_1st(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_member_daily_images=2, quota_member_monthly_images=3)
    clock = Clock()  # Wednesday 11 June 2025, noon UTC
    harness.store.clock = clock
    alice = discord_fake.add_member("alice")
    await run_job(discord_fake, harness, alice, prompt="two owls", count=2)
    clock.advance(DAY)
    await run_job(discord_fake, harness, alice, prompt="one owl")
    clock.advance(DAY)
    text = await refused(discord_fake, alice, prompt="a new day, a new owl")
    assert "Monthly limit per member" in text and "used 3 of your 3 images this month" in text
    assert "resets on July 1 at 00:00 UTC" in text
    assert "0 of 3 left this month" in await usage_of(discord_fake, alice)
    forget = await discord_fake.slash(alice, "usage forget-me")
    await forget.wait_response()
    assert "Monthly limit per member" in await refused(discord_fake, alice, prompt="forgotten, still counted")

    clock.advance(18 * DAY)  # 1 July, noon
    await run_job(discord_fake, harness, alice, prompt="a July owl")
    assert len(image_api.requests) == 3


async def test_a_long_tier_list_comes_in_several_messages(discord_fake, image_api, running_bot) -> None:
    admin = discord_fake.add_member(manage_guild=True)
    roles = [discord_fake.add_role(f"role {n}") for n in range(25)]
    for role in roles:
        await admin_says(discord_fake, admin, "tier set", role=role, preset="standard")
    full = await admin_says(discord_fake, admin, "tier set", role=discord_fake.add_role("one too many"), daily=1)
    assert "at most 25 roles" in full
    listed = await discord_fake.slash(admin, "imagine-admin tier list")
    await discord_fake.wait_for(lambda: any("Presets:" in m.content for m in listed.followups))
    messages = [listed.original, *listed.followups]
    assert len(messages) > 1 and all(len(m.content) <= 2000 and m.ephemeral for m in messages)
    assert all(f"<@&{role}> · **Standard**" in "\n".join(m.content for m in messages) for role in roles)
