"""Quotas, blocked words, channels and the cost question end to end: refusals are private, name the limit,
give the member's numbers and the reset, and happen before any API call."""

from __future__ import annotations

from tests.e2e.helpers import final_original, final_reply, job_done, statuses, until_queue
from tests.e2e.usage_helpers import Clock
from tests.fakes.image_api import Fault

MESSAGE = 4


async def refused(discord_fake, user, **options):
    interaction = await discord_fake.slash(user, "imagine", **options)
    await interaction.wait_response()
    assert interaction.response_type == MESSAGE and interaction.ephemeral, "refusals must be private"
    return interaction.original.text


async def run_job(discord_fake, harness, user, **options):
    interaction = await discord_fake.slash(user, "imagine", **options)
    message = await final_original(discord_fake, interaction)
    await job_done(harness)
    return message


async def test_member_daily_limit_stops_request_without_api_call(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_member_daily_images=3)
    user = discord_fake.add_member()
    await run_job(discord_fake, harness, user, prompt="two owls", count=2)

    text = await refused(discord_fake, user, prompt="two more owls", count=2)
    assert "Daily limit per member" in text and "used 2 of your 3" in text and "1 left" in text
    assert "00:00 UTC" in text
    assert len(image_api.requests) == 1
    assert len(await harness.store.recent_jobs()) == 1


async def test_member_daily_limit_resets_at_utc_midnight(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_member_daily_images=1)
    clock = Clock(Clock().now + 12 * 3600 - 10)  # 23:59:50 UTC
    harness.store.clock = clock
    user = discord_fake.add_member()
    await run_job(discord_fake, harness, user, prompt="an owl")
    assert "Daily limit per member" in await refused(discord_fake, user, prompt="another owl")

    clock.advance(20)  # 00:00:10 UTC the next day
    await run_job(discord_fake, harness, user, prompt="a morning owl")
    assert len(image_api.requests) == 2


async def test_failed_images_do_not_use_up_the_quota(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_member_daily_images=3)
    user = discord_fake.add_member()
    image_api.script(Fault.item_failed(1))
    await run_job(discord_fake, harness, user, prompt="three owls", count=3)  # 2 delivered, 1 failed
    image_api.script(Fault.status(400, "InvalidParameter"))
    await run_job(discord_fake, harness, user, prompt="broken", count=1)  # nothing delivered

    await run_job(discord_fake, harness, user, prompt="the last owl", count=1)  # 2 + 1 = 3: allowed
    assert "used 3 of your 3" in await refused(discord_fake, user, prompt="one too many")


async def test_server_daily_limit_counts_every_member(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_guild_daily_images=2)
    alice, bob = discord_fake.add_member(), discord_fake.add_member()
    await run_job(discord_fake, harness, alice, prompt="two cats", count=2)
    text = await refused(discord_fake, bob, prompt="a dog")
    assert "Daily limit for this server" in text and "2 of its 2" in text and "00:00 UTC" in text
    assert len(image_api.requests) == 1


async def test_concurrent_job_limit_makes_the_next_request_wait_in_line(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_member_concurrent_jobs=1)
    image_api.image_delay = 1.0
    user, other = discord_fake.add_member(), discord_fake.add_member()
    first = await discord_fake.slash(user, "imagine", prompt="slow")
    await image_api.wait_for(lambda: image_api.requests)
    second = await discord_fake.slash(user, "imagine", prompt="impatient")
    await discord_fake.wait_for(lambda: second.original and "#1 in queue" in second.original.text)
    assert not second.ephemeral and first.response_type == second.response_type == 5
    await discord_fake.slash(other, "imagine", prompt="someone else")  # another member is not held up
    await image_api.wait_for(lambda: len(image_api.requests) == 2)
    assert [r.json["prompt"] for r in image_api.requests] == ["slow", "someone else"]
    await job_done(harness, 3)
    assert [r.json["prompt"] for r in image_api.requests][2] == "impatient"


async def test_more_than_five_waiting_requests_are_refused(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(max_concurrent_jobs=1)
    image_api.image_delay = 0.5
    user = discord_fake.add_member()
    await discord_fake.slash(user, "imagine", prompt="owl 0")
    await until_queue(harness, 1, 0)  # one runs (admissions sent at once may all be waiting before it starts)
    for n in range(1, 6):  # five wait
        await discord_fake.slash(user, "imagine", prompt=f"owl {n}")
    await until_queue(harness, 1, 5)
    text = await refused(discord_fake, user, prompt="one owl too many")
    assert "5 requests waiting" in text


async def test_two_requests_at_once_cannot_both_pass_the_limit(discord_fake, image_api, start_bot) -> None:
    await start_bot(quota_member_daily_images=1)
    user = discord_fake.add_member()
    one = await discord_fake.slash(user, "imagine", prompt="first")
    two = await discord_fake.slash(user, "imagine", prompt="second")
    await one.wait_response()
    await two.wait_response()
    assert sorted([one.ephemeral, two.ephemeral]) == [False, True]
    await discord_fake.wait_for(lambda: image_api.requests)
    assert len(image_api.requests) == 1


async def test_cooldown_between_requests(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_cooldown_seconds=30)
    clock = Clock()
    harness.store.clock = clock
    user = discord_fake.add_member()
    await run_job(discord_fake, harness, user, prompt="a fox")
    clock.advance(10)
    text = await refused(discord_fake, user, prompt="another fox")
    assert "Cooldown" in text and "30s between requests" in text and "10s ago" in text
    clock.advance(21)
    await run_job(discord_fake, harness, user, prompt="a third fox")
    assert len(image_api.requests) == 2


async def test_set_size_limit(discord_fake, image_api, start_bot) -> None:
    await start_bot(quota_max_set_size=4)
    text = await refused(discord_fake, discord_fake.add_member(), prompt="many", count=6)
    assert "at most 4 images per request" in text and "asked for 6" in text
    assert image_api.requests == []


async def test_4k_can_be_disallowed(discord_fake, image_api, start_bot) -> None:
    await start_bot(quota_allow_4k=False)
    text = await refused(discord_fake, discord_fake.add_member(), prompt="huge", resolution="4K")
    assert "4K is not allowed" in text and image_api.requests == []


async def test_exempt_role_skips_the_member_limits(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_member_daily_images=1)
    vip = discord_fake.add_role("vip")
    admin = discord_fake.add_member(manage_guild=True)
    member = discord_fake.add_member(roles=[vip])
    exempt = await discord_fake.slash(admin, "imagine-admin exempt", role=vip)
    await exempt.wait_response()
    await run_job(discord_fake, harness, member, prompt="one")
    await run_job(discord_fake, harness, member, prompt="two")
    assert len(image_api.requests) == 2


async def test_blocked_word_is_refused_before_the_api(discord_fake, image_api, running_bot) -> None:
    admin = discord_fake.add_member(manage_guild=True)
    block = await discord_fake.slash(admin, "imagine-admin block-word", word="Spiders")
    await block.wait_response()
    text = await refused(discord_fake, discord_fake.add_member(), prompt="a cave full of SPIDERS, dark")
    assert "blocked" in text and image_api.requests == []
    await run_job(discord_fake, running_bot, discord_fake.add_member(), prompt="spiderman poster")
    assert len(image_api.requests) == 1


async def test_bot_can_be_restricted_to_channels(discord_fake, image_api, running_bot) -> None:
    art = discord_fake.add_channel("art")
    admin = discord_fake.add_member(manage_guild=True)
    allow = await discord_fake.slash(admin, "imagine-admin channel", channel=art)
    await allow.wait_response()
    text = await refused(discord_fake, discord_fake.add_member(), prompt="here?")
    assert f"<#{art}>" in text and image_api.requests == []
    elsewhere = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="there", channel_id=art)
    await final_original(discord_fake, elsewhere)
    assert len(image_api.requests) == 1


async def test_expensive_job_waits_for_confirmation(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(cost_confirm_above=0.10, show_costs=True)
    user = discord_fake.add_member()
    ask = await discord_fake.slash(user, "imagine", prompt="a big set", count=4)
    await ask.wait_response()
    assert ask.ephemeral and "$0.12" in ask.original.text
    assert image_api.requests == [] and [j.status for j in await harness.store.recent_jobs()] == ["pending"]

    buttons = {b["label"]: b["custom_id"] for row in ask.original.components for b in row["components"]}
    click = await discord_fake.click(user, ask.original, buttons["Generate"])
    message = await final_original(discord_fake, click)
    assert len(message.attachments) == 4 and not click.ephemeral
    assert "Confirmed" in ask.original.text and not ask.original.components


async def test_cancelled_expensive_job_costs_nothing(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(cost_confirm_above=0.10)
    user = discord_fake.add_member()
    ask = await discord_fake.slash(user, "imagine", prompt="a big set", count=4)
    await ask.wait_response()
    buttons = {b["label"]: b["custom_id"] for row in ask.original.components for b in row["components"]}
    click = await discord_fake.click(user, ask.original, buttons["Cancel"])
    await click.wait_response()
    assert "Cancelled" in ask.original.text
    await statuses(harness, ["cancelled"])
    assert image_api.requests == []
    assert (await harness.store.usage.totals(int(discord_fake.guild_id), int(user.id), None, 0)).requests == 0


async def test_buttons_count_against_the_daily_limit(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_member_daily_images=1)
    alice = discord_fake.add_member("alice")
    result = await run_job(discord_fake, harness, alice, prompt="a lighthouse")
    [job] = await job_done(harness)

    click = await discord_fake.click(alice, result, f"img:reroll:{job.id}")
    await click.wait_response()
    assert click.ephemeral and click.response_type == MESSAGE
    assert "Daily limit per member" in click.original.text and "used 1 of your 1" in click.original.text
    assert len(image_api.requests) == 1
    assert len(await harness.store.recent_jobs()) == 1


async def test_reply_blends_obey_blocked_words(discord_fake, image_api, running_bot) -> None:
    admin = discord_fake.add_member(manage_guild=True)
    block = await discord_fake.slash(admin, "imagine-admin block-word", word="spiders")
    await block.wait_response()
    alice = discord_fake.add_member("alice")
    result = await run_job(discord_fake, running_bot, alice, prompt="a cave")
    mention = await discord_fake.send_message(alice, "add spiders everywhere", mention_bot=True, reply_to=result)
    reply = await final_reply(discord_fake, mention)
    assert "blocked" in reply.text and reply.attachments == []
    assert len(image_api.requests) == 1


async def test_button_jobs_ask_before_an_expensive_set(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(cost_confirm_above=0.10, show_costs=True)
    alice = discord_fake.add_member("alice")
    result = await run_job(discord_fake, harness, alice, prompt="a lighthouse")  # $0.03: no question
    [job] = await job_done(harness)

    ask = await discord_fake.click(alice, result, f"img:vary:{job.id}:1")  # a set of 4: $0.12
    await ask.wait_response()
    assert ask.ephemeral and "$0.12" in ask.original.text
    buttons = {b["label"]: b["custom_id"] for row in ask.original.components for b in row["components"]}
    cancel = await discord_fake.click(alice, ask.original, buttons["Cancel"])
    await cancel.wait_response()
    assert "Cancelled" in ask.original.text
    await statuses(harness, ["cancelled", "completed"])
    assert len(image_api.requests) == 1


async def test_expensive_reply_blend_points_to_the_commands_that_ask(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(cost_confirm_above=0.10, show_costs=True)
    alice = discord_fake.add_member("alice")
    result = await run_job(discord_fake, harness, alice, prompt="a lighthouse")
    mention = await discord_fake.send_message(alice, "four seasons x4", mention_bot=True, reply_to=result)
    reply = await final_reply(discord_fake, mention)
    assert "$0.12" in reply.text and "confirmation" in reply.text and reply.attachments == []
    assert len(image_api.requests) == 1
