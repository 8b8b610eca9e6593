"""Scale-out on one PostgreSQL: two gateway processes (a shard each) and a worker process share 40 jobs; one dies."""

from __future__ import annotations

import asyncio
import hashlib
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bot.store import JobRecord, UsageStore
from tests.e2e.process import BotProcess
from tests.fakes.discord import FakeDiscord
from tests.fakes.image_api import FakeImageApi

JOBS_PER_MEMBER = 4
MEMBERS_PER_SERVER = 5
IMAGES_PER_JOB = 2
MAX_CONCURRENT_JOBS = 4
LEASE_SECONDS = 5
FINAL = ("completed", "partial", "failed", "blocked", "cancelled")


async def read_jobs(url: str) -> list[JobRecord]:
    """Every job in the deployment's database, through a short-lived store of the test's own."""
    store = await UsageStore.open(url, single_process=False)
    try:
        return await store.recent_jobs(1000)
    finally:
        await store.close()


async def until_jobs(url: str, predicate: Any, timeout: float) -> list[JobRecord]:
    """Poll the database until `predicate(jobs)` holds; returns the jobs."""
    deadline = time.monotonic() + timeout
    while True:
        jobs = await read_jobs(url)
        if predicate(jobs):
            return jobs
        if time.monotonic() > deadline:
            states = Counter(job.status for job in jobs)
            raise AssertionError(f"jobs did not reach the expected state in {timeout}s: {states}")
        await asyncio.sleep(0.1)


def bot_images(interaction: Any) -> list[Any]:
    """The attachments the bot posted for an interaction: on its @original message and its follow-ups."""
    messages = [m for m in (interaction.original, *interaction.followups) if m is not None and not m.deleted]
    return [a for m in messages for a in m.attachments]


def deployment(tmp_path: Path, fake: FakeDiscord, api: FakeImageApi, url: str) -> list[BotProcess]:
    """Gateway for shard 0, gateway for shard 1, a worker-only process; all on one PostgreSQL."""
    common: dict[str, Any] = {
        "database_url": url,
        "shard_count": 2,
        "lease_seconds": LEASE_SECONDS,
        "max_concurrent_jobs": MAX_CONCURRENT_JOBS,
        "progress_interval": 1,
    }
    processes = [BotProcess(tmp_path, fake, api, shard_ids=shard, **common) for shard in (0, 1)]
    processes.append(BotProcess(tmp_path, fake, api, worker=True, **common))
    for process in processes:
        del process.env["DEV_GUILD_ID"]  # global commands: each server is on one process's shard only
    return processes


async def test_forty_jobs_across_gateways_and_a_worker_survive_a_sigkill(
    discord_fake: FakeDiscord, image_api: FakeImageApi, postgres_url: str, tmp_path: Path
) -> None:
    servers = discord_fake.add_guild("zero", shard=(0, 2)), discord_fake.add_guild("one", shard=(1, 2))
    processes = deployment(tmp_path, discord_fake, image_api, postgres_url)
    worker = processes[-1]
    try:
        for process in processes:
            await process.start(timeout=60)
        await discord_fake.wait_shards_ready([0, 1], 2, timeout=30)
        await discord_fake.wait_for(lambda: discord_fake.commands.get("global"), timeout=30)
        image_api.image_delay = 0.3
        members = [
            discord_fake.add_member(f"m{n}-{s}", guild_id=server)
            for s, server in enumerate(servers)
            for n in range(MEMBERS_PER_SERVER)
        ]
        sent = [
            await discord_fake.slash(member, "imagine", prompt=f"job {r} of {member.username}", count=IMAGES_PER_JOB)
            for r in range(JOBS_PER_MEMBER)
            for member in members
        ]

        # The worker process dies while it holds a job that has posted some of its images.
        def mid_job(jobs: list[JobRecord]) -> bool:
            mine = f":{worker.pid}:"
            return any(
                j.status == "running" and mine in (j.worker_id or "") and 0 < j.images_delivered < IMAGES_PER_JOB
                for j in jobs
            )

        await until_jobs(postgres_url, mid_job, timeout=20)
        worker.send(signal.SIGKILL)
        assert await worker.wait() == -signal.SIGKILL

        jobs = await until_jobs(postgres_url, lambda js: all_ended(js, len(sent)), timeout=45)
        await discord_fake.wait_for(lambda: all(finished(i) for i in sent), timeout=10)
    finally:
        for process in processes:
            await process.stop()

    assert Counter(job.status for job in jobs) == {"completed": len(sent)}
    taken_over = [job for job in jobs if job.attempts > 1]
    assert taken_over, "no job was taken over after the kill"
    images = [bot_images(i) for i in sent]
    assert [len(found) for found in images] == [IMAGES_PER_JOB] * len(sent)  # each job's images, none twice
    digests = [hashlib.sha256(a.data).hexdigest() for found in images for a in found]
    assert len(set(digests)) == len(digests) == len(sent) * IMAGES_PER_JOB
    await usage_matches_discord(postgres_url, servers, sent)
    assert image_api.max_in_flight <= MAX_CONCURRENT_JOBS, image_api.max_in_flight
    assert discord_fake.identify_violations == []
    assert {i.shard for i in sent} == {(0, 2), (1, 2)}


def all_ended(jobs: list[JobRecord], count: int) -> bool:
    """All `count` jobs exist and have a final status."""
    return len(jobs) == count and all(job.status in FINAL for job in jobs)


def finished(interaction: Any) -> bool:
    """Its status line is gone from the @original and from any continuation follow-up."""
    messages = [m for m in (interaction.original, *interaction.followups) if m is not None]
    return bool(messages) and all("⏳" not in m.text for m in messages)


async def usage_matches_discord(url: str, servers: tuple[str, str], sent: list[Any]) -> None:
    """Each member's counted images equal the images the fake Discord holds for them: counted exactly once."""
    posted: Counter[tuple[int, int]] = Counter()
    for interaction in sent:
        guild = next(g for g in servers if interaction.user.guild_id == g)
        posted[(int(guild), int(interaction.user.id))] += len(bot_images(interaction))
    store = await UsageStore.open(url, single_process=False)
    try:
        counted = {key: (await store.usage.totals(key[0], key[1], None, 0)).images for key in posted}
        jobs = await store.recent_jobs(1000)
        recorded = [len(await store.job_images(job.id)) for job in jobs]
    finally:
        await store.close()
    assert counted == dict(posted)
    assert recorded == [job.images_delivered for job in jobs] == [IMAGES_PER_JOB] * len(jobs)
