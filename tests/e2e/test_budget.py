"""A server's monthly budget end to end: checked before any API call in the same reservation as the image quotas
(a job's cost counts while it is unfinished), told to the mod-log at 80 % and 100 % once each (across restarts),
and money shown only to members with Manage Server unless the server shows costs."""

from __future__ import annotations

from tests.e2e.helpers import final_original, final_reply, job_done, statuses
from tests.e2e.test_quotas import refused, run_job
from tests.e2e.test_tiers import admin_says, usage_of
from tests.e2e.usage_helpers import Clock
from tests.fakes.image_api import Fault


async def test_the_budget_refuses_before_any_api_call_counting_jobs_in_flight(
    discord_fake, image_api, start_bot
) -> None:
    harness = await start_bot(monthly_budget=0.10, price_per_image=0.03)
    harness.store.clock = Clock()  # June 2025
    alice, bob = discord_fake.add_member("alice"), discord_fake.add_member("bob")
    image_api.image_delay = 1.0
    first = await discord_fake.slash(alice, "imagine", prompt="three owls", count=3)  # $0.09 reserved
    await image_api.wait_for(lambda: image_api.requests)
    text = await refused(discord_fake, bob, prompt="one more owl")  # $0.12 > $0.10 while the first still runs
    assert "Monthly budget" in text and "used up" in text and "resets on July 1" in text and "$" not in text
    await final_original(discord_fake, first)
    await job_done(harness)
    assert "Monthly budget" in await refused(discord_fake, bob, prompt="still no room")
    assert len(image_api.requests) == 1
    statuses = [job.status for job in await harness.store.recent_jobs()]
    assert statuses == ["completed"]  # the refused requests never got a row


async def test_a_job_that_delivers_nothing_gives_its_cost_back(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(monthly_budget=0.10, price_per_image=0.03)
    alice = discord_fake.add_member("alice")
    image_api.script(Fault.status(400, "InvalidParameter"))
    await run_job(discord_fake, harness, alice, prompt="broken", count=3)  # reserved $0.09, then nothing made
    await run_job(discord_fake, harness, alice, prompt="three owls", count=3)
    assert "room for" not in await refused(discord_fake, alice, prompt="one more")  # $0.09 spent: used up
    assert len(image_api.requests) == 2


async def test_the_budget_tells_a_manager_the_money(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(monthly_budget=0.10, price_per_image=0.03)
    admin, alice = discord_fake.add_member("boss", manage_guild=True), discord_fake.add_member("alice")
    await run_job(discord_fake, harness, alice, prompt="two owls", count=2)  # $0.06
    text = await refused(discord_fake, admin, prompt="two more", count=2)
    assert "$0.06 of its $0.10" in text and "would cost $0.06" in text
    text = await refused(discord_fake, alice, prompt="two more", count=2)
    assert "room for 1 more image; you asked for 2" in text and "$" not in text


async def test_the_mod_log_is_told_at_80_and_100_percent_once_each(discord_fake, image_api, start_bot) -> None:
    settings = {"monthly_budget": 0.10, "price_per_image": 0.03}
    harness = await start_bot(**settings)
    mods = discord_fake.add_channel("mods")
    admin, alice = discord_fake.add_member("boss", manage_guild=True), discord_fake.add_member("alice")
    await admin_says(discord_fake, admin, "mod-log", channel=mods)

    def notices() -> list[str]:
        return [m.content for m in discord_fake.channel_messages(mods) if m.content.startswith("💸")]

    await run_job(discord_fake, harness, alice, prompt="two owls", count=2)  # $0.06: 60 %
    await harness.services.quotas.budget.flush()
    assert notices() == []
    await run_job(discord_fake, harness, alice, prompt="one owl")  # $0.09: 90 %
    await discord_fake.wait_for(lambda: len(notices()) == 1)
    assert "80% of this month's image budget is used: $0.09 of $0.10" in notices()[0]
    await refused(discord_fake, alice, prompt="one owl too many")
    await discord_fake.wait_for(lambda: len(notices()) == 2)
    assert "budget of $0.10 is used up" in notices()[1]
    await refused(discord_fake, alice, prompt="and again")
    await harness.services.quotas.budget.flush()

    await harness.stop()  # the notices were recorded: a restarted bot does not tell them again
    again = await start_bot(**settings)
    await refused(discord_fake, alice, prompt="after the restart")
    await again.services.quotas.budget.flush()
    assert len(notices()) == 2
    assert len(image_api.requests) == 2


async def test_members_see_images_not_money_unless_the_server_shows_costs(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(monthly_budget=0.30, price_per_image=0.03, cost_confirm_above=0.10)
    admin, alice = discord_fake.add_member("boss", manage_guild=True), discord_fake.add_member("alice")
    result = await run_job(discord_fake, harness, alice, prompt="an owl")
    mention = await discord_fake.send_message(alice, "four seasons x4", mention_bot=True, reply_to=result)
    reply = await final_reply(discord_fake, mention)
    assert "That would make 4 images, which needs a confirmation" in reply.content and "$" not in reply.content

    ask = await discord_fake.slash(alice, "imagine", prompt="a big set", count=4)
    await ask.wait_response()
    assert "4 images at 2K" in ask.original.content and "$" not in ask.original.content
    buttons = {b["label"]: b["custom_id"] for row in ask.original.components for b in row["components"]}
    await (await discord_fake.click(alice, ask.original, buttons["Cancel"])).wait_response()
    await statuses(harness, ["cancelled", "cancelled", "completed"])  # the question and the reply blend
    mine = await usage_of(discord_fake, alice)
    assert "$" not in mine and "Server budget: room for about 9 more images this month" in mine

    boss = await usage_of(discord_fake, admin)
    assert "Server budget: $0.03 of $0.30 used this month" in boss and "Cost: the images the service billed" in boss
    ask = await discord_fake.slash(admin, "imagine", prompt="a big set", count=4)
    await ask.wait_response()
    assert "an estimated **$0.12**" in ask.original.content
    assert "Server budget: $0.15 of $0.30" in await usage_of(discord_fake, admin)  # its question holds $0.12
    buttons = {b["label"]: b["custom_id"] for row in ask.original.components for b in row["components"]}
    await (await discord_fake.click(admin, ask.original, buttons["Cancel"])).wait_response()
    await statuses(harness, ["cancelled", "cancelled", "cancelled", "completed"])

    await admin_says(discord_fake, admin, "set", setting="show_costs", value="on")
    shown = await usage_of(discord_fake, alice)
    assert "≈ $0.03" in shown and "Server budget: $0.03 of $0.30" in shown
