"""A worker's slot is for the image API: a job whose last image has arrived lets the next job call the API while
it posts that image and finishes (the job still counts in MAX_CONCURRENT_JOBS until it has finished)."""

from __future__ import annotations

import asyncio

from tests.e2e.helpers import final_original, job_done


async def test_the_next_job_calls_the_api_while_the_last_one_posts_its_image(
    discord_fake, image_api, start_bot
) -> None:
    harness = await start_bot(max_concurrent_jobs=2, worker_concurrency=1)
    # The first image upload is held up for 2 s (Discord answers 429; discord.py waits and sends it again).
    discord_fake.fail_next("*", r"^/webhooks/", 429, retry_after=2.0, uploads_only=True)
    first = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="first")
    await image_api.wait_for(lambda: len(image_api.requests) == 1, timeout=10)
    second = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="second")

    # The second job's API call starts while the first job's image is still waiting to be posted.
    await image_api.wait_for(lambda: len(image_api.requests) == 2, timeout=1.5)
    assert first.original is None or not first.original.attachments

    finals = [await final_original(discord_fake, interaction, timeout=20) for interaction in (first, second)]
    jobs = await job_done(harness, 2)
    assert [len(message.attachments) for message in finals] == [1, 1]
    assert sorted(job.images_delivered for job in jobs) == [1, 1]
    assert image_api.max_in_flight <= 2


async def test_jobs_posting_their_images_hold_back_new_claims_once_they_fill_the_slots_again(
    discord_fake, image_api, start_bot
) -> None:
    harness = await start_bot(max_concurrent_jobs=6, worker_concurrency=1)
    # Every upload is held up for 3 s: the jobs whose image has arrived keep posting it meanwhile.
    discord_fake.fail_next("*", r"^/webhooks/", 429, times=6, retry_after=3.0, uploads_only=True)
    sent = [await discord_fake.slash(discord_fake.add_member(), "imagine", prompt=f"job {n}") for n in range(4)]
    await image_api.wait_for(lambda: len(image_api.requests) == 2, timeout=10)
    await asyncio.sleep(1.0)  # a third claim would have called the API by now
    assert len(image_api.requests) == 2  # one slot: one job posting, one more made, then the worker waits

    finals = [await final_original(discord_fake, interaction, timeout=30) for interaction in sent]
    jobs = await job_done(harness, 4)
    assert [len(message.attachments) for message in finals] == [1, 1, 1, 1]
    assert sorted(job.images_delivered for job in jobs) == [1, 1, 1, 1]
