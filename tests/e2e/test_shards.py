"""Sharded gateways: one process running both shards, two processes with one shard each, identify pacing."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import BotHarness
from tests.e2e.helpers import final_original, final_reply, job_done
from tests.e2e.process import BotProcess
from tests.fakes.discord import FakeDiscord
from tests.logcapture import capture_logs


def two_guilds(fake: FakeDiscord) -> tuple[str, str]:
    """A guild on shard 0 and one on shard 1 (of 2)."""
    return fake.add_guild("zero", shard=(0, 2)), fake.add_guild("one", shard=(1, 2))


async def imagine_in(fake: FakeDiscord, guild_id: str, prompt: str) -> Any:
    """A new member of `guild_id` runs /imagine there; returns the interaction once answered with images."""
    member = fake.add_member(f"member-{prompt}", guild_id=guild_id)
    interaction = await fake.slash(member, "imagine", prompt=prompt)
    message = await final_original(fake, interaction)
    assert len(message.attachments) == 1 and message.guild_id == guild_id
    return interaction


async def test_one_process_serves_guilds_on_both_shards(discord_fake, image_api, start_bot) -> None:
    zero, one = two_guilds(discord_fake)
    with capture_logs() as logs:
        harness: BotHarness = await start_bot(shard_count=2, dev_guild_id=None)
        answered = [await imagine_in(discord_fake, guild, f"fox {n}") for n, guild in enumerate((zero, one))]
        await discord_fake.wait_for(lambda: len(logs.lines("shard", "ready with")) == 2, timeout=10)

    assert [i.shard for i in answered] == [(0, 2), (1, 2)]
    assert sorted(c.shard for c in discord_fake.connections) == [(0, 2), (1, 2)]
    assert discord_fake.identify_violations == []
    assert harness.bot is not None and harness.bot.shard_ids is None and harness.bot.shard_count == 2
    assert {g.id: g.shard_id for g in harness.bot.guilds} == {
        int(g): FakeDiscord.shard_of(g, 2) for g in discord_fake.guilds
    }
    jobs = await job_done(harness, 2)
    assert sorted(job.guild_id for job in jobs) == sorted((int(zero), int(one)))
    for shard in (0, 1):
        guilds = sum(1 for g in discord_fake.guilds if FakeDiscord.shard_of(g, 2) == shard)
        assert logs.lines(f"shard {shard} of 2 ready with {guilds} guild(s)")


async def test_unset_shard_count_runs_discords_recommended_shards(discord_fake, image_api, start_bot) -> None:
    discord_fake.sharding.recommended_shards = 2
    zero, one = two_guilds(discord_fake)
    harness: BotHarness = await start_bot(dev_guild_id=None)

    answered = [await imagine_in(discord_fake, guild, f"owl {n}") for n, guild in enumerate((zero, one))]

    assert harness.bot is not None and harness.bot.shard_count == 2
    assert [i.shard for i in answered] == [(0, 2), (1, 2)]
    assert discord_fake.identify_violations == []
    # Asked once, at login: discord.py connects with that count and URL (asking again cost a round trip).
    assert [r.path for r in discord_fake.requests].count("/gateway/bot") == 1


async def test_two_processes_each_serve_their_own_shard(discord_fake, image_api, start_bot, tmp_path) -> None:
    zero, one = two_guilds(discord_fake)
    harnesses: list[BotHarness] = await asyncio.gather(
        *(
            start_bot(
                shard_count=2, shard_ids=[shard], dev_guild_id=None, database_url=f"sqlite:///{tmp_path}/{shard}.db"
            )
            for shard in (0, 1)
        )
    )

    answered = [await imagine_in(discord_fake, guild, f"cat {n}") for n, guild in enumerate((zero, one))]

    assert [i.shard for i in answered] == [(0, 2), (1, 2)]
    for harness, guild in zip(harnesses, (zero, one), strict=True):
        [job] = await job_done(harness, 1)
        assert job.guild_id == int(guild) and len(await harness.store.recent_jobs(5)) == 1
        assert harness.bot is not None and {g.id for g in harness.bot.guilds} == {
            int(g) for g in discord_fake.guilds if FakeDiscord.shard_of(g, 2) == harness.bot.shard_ids[0]
        }
    # Both processes identified at once in the same bucket: the shared gate spaced them.
    assert discord_fake.identify_violations == [] and len(discord_fake.identifies) == 2


async def test_buttons_and_messages_reach_the_shard_of_their_guild(discord_fake, image_api, start_bot) -> None:
    _, one = two_guilds(discord_fake)
    harness: BotHarness = await start_bot(shard_count=2, dev_guild_id=None)
    interaction = await imagine_in(discord_fake, one, "a heron")
    result = interaction.original
    await job_done(harness, 1)  # the member's next two jobs start at once instead of waiting in line

    click = await discord_fake.click(interaction.user, result, next(c for c in result.custom_ids() if "reroll" in c))
    await click.wait_response()
    mention = await discord_fake.send_message(interaction.user, "now at night", mention_bot=True, reply_to=result)
    reply = await final_reply(discord_fake, mention)

    assert click.shard == (1, 2) and click.response_type is not None
    assert len(reply.attachments) == 1 and reply.guild_id == one, reply.text
    jobs = await job_done(harness, 3)
    assert {job.kind for job in jobs} >= {"blend"} and {job.guild_id for job in jobs} == {int(one)}


async def test_python_m_bot_runs_the_shards_named_in_the_environment(discord_fake, image_api, tmp_path) -> None:
    _, one = two_guilds(discord_fake)
    bot = BotProcess(tmp_path, discord_fake, image_api, shard_count="2", shard_ids="1")
    del bot.env["DEV_GUILD_ID"]  # global commands: the default guild is not on this process's shard
    try:
        await bot.start()
        await imagine_in(discord_fake, one, "a lynx")
        await bot.wait_for_log("shard 1 of 2 ready with")
    finally:
        await bot.stop()

    assert [i.get("shard") for i in discord_fake.identifies] == [[1, 2]]
    assert discord_fake.identify_violations == []
