"""Review: /job answers for every job, however long its prompt and however many images it has."""

from __future__ import annotations

from tests.e2e.helpers import final_original, job_done

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
