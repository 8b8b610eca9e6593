"""Review: /job answers for every job, however long its prompt and however many images it has."""

from __future__ import annotations

from tests.e2e.helpers import final_original, job_done
from tests.images import png

MESSAGE = 4


async def test_job_card_of_a_full_set_with_a_long_prompt_fits_one_message(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    prompt = " ".join(["a lighthouse on a cliff at dusk, storm clouds, seagulls"] * 8)[:400]
    await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt=prompt, count=15))
    [job] = await job_done(running_bot)
    assert job.images_delivered == 15

    shown = await discord_fake.slash(alice, "job", id=job.id)
    await shown.wait_response()

    assert shown.response_type == MESSAGE and not shown.ephemeral
    assert f"**Job #{job.id}**" in shown.original.text
    assert "[Image 1](" in shown.original.text


async def test_job_card_counts_the_reference_images(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    refs = [discord_fake.add_attachment(png(300, 200), "cat.png"), discord_fake.add_attachment(png(), "hat.png")]
    interaction = await discord_fake.slash(
        alice, "imagine", prompt="the hat on the cat", image1=refs[0], image2=refs[1]
    )
    await final_original(discord_fake, interaction)
    [job] = await job_done(running_bot)

    shown = await discord_fake.slash(alice, "job", id=job.id)
    await shown.wait_response()
    assert "· 2 reference images ·" in shown.original.text


async def test_job_card_of_a_request_stopped_before_it_was_queued_still_counts_its_references(
    discord_fake, image_api, running_bot
) -> None:
    alice = discord_fake.add_member("alice")
    good = discord_fake.add_attachment(png(300, 200), "cat.png")
    broken = discord_fake.add_attachment(b"\x89PNG not really", "hat.png", "image/png")  # fails after the defer
    interaction = await discord_fake.slash(alice, "imagine", prompt="the hat on the cat", image1=good, image2=broken)
    await final_original(discord_fake, interaction)
    [job] = await job_done(running_bot)
    assert job.status == "cancelled"

    shown = await discord_fake.slash(alice, "job", id=job.id)
    await shown.wait_response()
    assert "2K · ratio from prompt · 1 image asked · 2 reference images · cancelled" in shown.original.text
