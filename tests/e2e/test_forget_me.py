"""Forget-me runs in the background in small batches: the member is answered at once and told when it is done,
and a request a stop interrupted is finished at the next start."""

from __future__ import annotations

import bot.store.usage as usage_store
from tests.e2e.usage_helpers import done_text, forget_me, record_job


async def test_forget_me_answers_at_once_and_deletes_in_the_background(
    discord_fake, image_api, running_bot, monkeypatch
) -> None:
    monkeypatch.setattr(usage_store, "FORGET_BATCH", 3)  # several batches
    store = running_bot.store
    user, other = discord_fake.add_member(), discord_fake.add_member()
    mine = [await record_job(store, discord_fake.guild_id, user.id, delivered=1) for _ in range(10)]
    theirs = await record_job(store, discord_fake.guild_id, other.id, delivered=1)

    forget = await forget_me(discord_fake, user)  # the first answer says it started; a follow-up says done

    assert "(10 requests)" in done_text(forget) and forget.followups[-1].ephemeral
    for job_id in mine:
        job = await store.get_job(job_id)
        assert job is not None and (job.user_id, job.prompt) == (0, "")
    kept = await store.get_job(theirs)
    assert kept is not None and kept.user_id == int(other.id)
    assert await store.meta_keys("forget-me:") == []  # crossed out once done


async def test_a_second_request_while_one_runs_is_not_started_twice(discord_fake, image_api, running_bot) -> None:
    user = discord_fake.add_member()
    running_bot.services.forgetter._running[int(user.id)] = None  # type: ignore[assignment]  # one under way
    try:
        again = await discord_fake.slash(user, "usage forget-me")
        await again.wait_response()
    finally:
        running_bot.services.forgetter._running.clear()
    assert again.ephemeral and "already being deleted" in again.original.content


async def test_a_forget_me_left_by_a_stop_is_finished_at_the_next_start(discord_fake, image_api, start_bot) -> None:
    first = await start_bot()
    user = discord_fake.add_member()
    job_id = await record_job(first.store, discord_fake.guild_id, user.id, delivered=1)
    await first.store.set_meta(f"forget-me:{user.id}", "1")  # what a run stopped in the middle leaves
    await first.stop()

    second = await start_bot()

    dm = discord_fake.dm_channel(user)
    told = await discord_fake.wait_for(
        lambda: [m for m in discord_fake.channel_messages(dm) if "Done" in m.content], timeout=30
    )
    assert "(1 request)" in told[0].content
    job = await second.store.get_job(job_id)
    assert job is not None and (job.user_id, job.prompt) == (0, "")
    assert await second.store.meta_keys("forget-me:") == []
