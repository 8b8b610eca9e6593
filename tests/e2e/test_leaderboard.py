"""/leaderboard end to end: order, ties, pages, the caller's rank, UTC periods, the chart thread, opt-out."""

from __future__ import annotations

from tests.e2e.helpers import decode, final_original, job_done
from tests.e2e.usage_helpers import Clock, record_job


def lines_with_rank(content: str) -> list[str]:
    return [line for line in content.splitlines() if line.startswith("**") and ".** <@" in line]


async def test_members_are_ranked_by_images_with_ties_by_id(discord_fake, image_api, running_bot) -> None:
    guild = discord_fake.guild_id
    alice, bob, carol = (discord_fake.add_member(n) for n in ("alice", "bob", "carol"))
    await record_job(running_bot.store, guild, bob.id, delivered=2)
    await record_job(running_bot.store, guild, carol.id, delivered=5)
    await record_job(running_bot.store, guild, alice.id, delivered=2)
    await record_job(running_bot.store, guild, alice.id, delivered=0, status="failed")

    interaction = await discord_fake.slash(alice, "leaderboard", period="all", metric="images")
    await interaction.wait_response()
    ranks = lines_with_rank(interaction.original.text)
    assert [line.split("<@")[1].split(">")[0] for line in ranks] == [carol.id, alice.id, bob.id]
    assert "5 images" in ranks[0] and not interaction.ephemeral

    by_requests = await discord_fake.slash(alice, "leaderboard", period="all", metric="requests")
    await by_requests.wait_response()
    first = lines_with_rank(by_requests.original.text)[0]
    assert alice.id in first and "2 requests" in first


async def test_pages_move_with_buttons_and_show_the_callers_rank(discord_fake, image_api, running_bot) -> None:
    members = [discord_fake.add_member(f"m{i}") for i in range(13)]
    for i, member in enumerate(members):
        await record_job(running_bot.store, discord_fake.guild_id, member.id, delivered=20 - i)
    last = members[-1]

    interaction = await discord_fake.slash(last, "leaderboard", period="week")
    await interaction.wait_response()
    message = interaction.original
    assert len(lines_with_rank(message.text)) == 10
    assert "Page 1 of 2" in message.text and "13 members ranked" in message.text
    assert f"<@{last.id}>'s rank: **#13** with 8 images" in message.text

    next_id = next(c for c in message.custom_ids() if c.endswith(":1"))
    click = await discord_fake.click(last, message, next_id)
    await click.wait_response()
    page_two = lines_with_rank(message.text)
    assert [line.split(".**")[0] for line in page_two] == ["**11", "**12", "**13"]
    assert "Page 2 of 2" in message.text


async def test_chart_of_the_top_ten_is_posted_in_a_thread(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    await record_job(running_bot.store, discord_fake.guild_id, alice.id, delivered=3)
    interaction = await discord_fake.slash(alice, "leaderboard")
    await interaction.wait_response()
    thread_id = interaction.original.id

    chart = await discord_fake.wait_for(lambda: next(iter(discord_fake.channel_messages(thread_id)), None))
    assert chart.attachments[0].filename == "leaderboard.png"
    image = decode(chart.attachments[0].data)
    assert image.format == "PNG" and image.width >= 600


async def test_periods_follow_the_utc_day_boundary(discord_fake, image_api, running_bot) -> None:
    clock = Clock()
    clock.now = clock.now - 12 * 3600 + 86400 - 30  # Wednesday 23:59:30 UTC
    running_bot.store.clock = clock
    alice = discord_fake.add_member("alice")
    job = await discord_fake.slash(alice, "imagine", prompt="a late owl", count=2)
    await final_original(discord_fake, job)
    await job_done(running_bot)

    clock.advance(60)  # Thursday 00:00:30 UTC
    today = await discord_fake.slash(alice, "leaderboard", period="today")
    await today.wait_response()
    assert "Nobody has made anything" in today.original.text and "UTC" in today.original.text
    week = await discord_fake.slash(alice, "leaderboard", period="week")
    await week.wait_response()
    assert "2 images" in lines_with_rank(week.original.text)[0]


async def test_a_member_who_opted_out_is_not_ranked(discord_fake, image_api, running_bot) -> None:
    alice, bob = discord_fake.add_member("alice"), discord_fake.add_member("bob")
    await record_job(running_bot.store, discord_fake.guild_id, alice.id, delivered=4)
    await record_job(running_bot.store, discord_fake.guild_id, bob.id, delivered=1)
    opt_out = await discord_fake.slash(alice, "usage leaderboards", visible=False)
    await opt_out.wait_response()
    assert opt_out.ephemeral

    board = await discord_fake.slash(bob, "leaderboard", period="all")
    await board.wait_response()
    ranks = lines_with_rank(board.original.text)
    assert len(ranks) == 1 and bob.id in ranks[0] and alice.id not in board.original.text
