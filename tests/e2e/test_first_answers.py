"""First answers first: a job already acknowledged is prepared and queued only once no other interaction waits for
its first answer (a burst's acknowledgements are not delayed by the work of the jobs acknowledged before them)."""

from __future__ import annotations

import asyncio

import pytest

from bot import first_answers
from tests.e2e.helpers import final_original, job_done, statuses

DEFER = 5


async def test_an_acknowledged_job_waits_for_the_interactions_still_to_be_answered(
    discord_fake, image_api, running_bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(first_answers, "AT_MOST", 60.0)
    answers = running_bot.services.first_answers
    answer_it = asyncio.Event()

    async def another() -> None:  # another member's interaction, its first answer still to come
        async with answers.answering(1, member=1):
            await answer_it.wait()

    other = asyncio.create_task(another())
    await asyncio.sleep(0)
    alice = discord_fake.add_member("alice")
    interaction = await discord_fake.slash(alice, "imagine", prompt="a red fox in fresh snow")
    await interaction.wait_response()
    assert interaction.response_type == DEFER  # acknowledged at once
    await asyncio.sleep(0.5)
    await statuses(running_bot, ["pending"])  # but neither prepared nor queued meanwhile
    assert image_api.requests == []

    answer_it.set()
    await other
    [job] = await job_done(running_bot)
    assert job.status == "completed" and len((await final_original(discord_fake, interaction)).attachments) == 1


async def test_a_refused_start_waits_for_nothing_and_holds_up_no_one(
    discord_fake, image_api, running_bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(first_answers, "AT_MOST", 60.0)
    guild = int(discord_fake.guild_id)
    assert await running_bot.store.guilds.set_member("guild_blocked_words", guild, "wolf", True, by=1)
    alice = discord_fake.add_member("alice")
    refused = await discord_fake.slash(alice, "imagine", prompt="a grey wolf")
    await refused.wait_response()
    assert refused.ephemeral and "blocked" in refused.original.text
    interaction = await discord_fake.slash(alice, "imagine", prompt="a red fox in fresh snow")
    [job] = await job_done(running_bot)  # not held up by the refused one (it was answered)
    assert job.status == "completed" and interaction.response_type == DEFER


async def test_an_interaction_whose_turn_came_too_late_to_answer_starts_nothing(
    discord_fake, image_api, running_bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(first_answers, "DEADLINE", 0.3)
    answers = running_bot.services.first_answers
    answer_them = asyncio.Event()

    async def another(n: int) -> None:  # a burst's interactions ahead of it, in every turn
        async with answers.answering(n, member=n):
            await answer_them.wait()

    ahead = [asyncio.create_task(another(n)) for n in range(first_answers.AT_ONCE)]
    await asyncio.sleep(0)
    alice = discord_fake.add_member("alice")
    late = await discord_fake.slash(alice, "imagine", prompt="a red fox in fresh snow")
    await asyncio.sleep(0.5)  # past its (shortened) deadline, still waiting for a turn
    answer_them.set()
    await asyncio.gather(*ahead)
    interaction = await discord_fake.slash(alice, "imagine", prompt="a grey owl")
    [job] = await job_done(running_bot)  # the next one runs; the late one reserved nothing and was not answered
    assert job.prompt == "a grey owl" and late.response_type is None
    assert [j.prompt for j in await running_bot.store.recent_jobs()] == ["a grey owl"]
    assert interaction.response_type == DEFER


async def test_a_member_with_one_command_is_answered_before_another_members_burst(
    discord_fake, image_api, start_bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(first_answers, "AT_ONCE", 2)  # few turns, so that the burst waits for them
    await start_bot(max_jobs_per_member=100, max_waiting_per_member=100, quota_member_daily_images=0)
    alice, bob = discord_fake.add_member("alice"), discord_fake.add_member("bob")
    burst = [await discord_fake.slash(alice, "imagine", prompt=f"a lighthouse {n}") for n in range(30)]
    single = await discord_fake.slash(bob, "imagine", prompt="a red fox in fresh snow")
    await single.wait_response(timeout=10)
    for interaction in burst:
        await interaction.wait_response(timeout=10)
    assert single.response_type == DEFER and {i.response_type for i in burst} == {DEFER}
    after_bob = [i for i in burst if i.responded_at > single.responded_at]
    assert len(after_bob) >= 15, f"bob waited behind {30 - len(after_bob)} of alice's 30 commands"
