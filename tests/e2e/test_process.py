"""The real `python -m bot` process: killed mid-job, and stopped with SIGTERM during a job."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from bot.cpu import WORKER_PROCESS_NICE
from bot.store import JobRecord, UsageStore
from bot.store.db import POSTGRESQL_POOL
from tests.e2e.helpers import final_original
from tests.e2e.process import BotProcess
from tests.fakes.image_api import Fault
from tests.postgres import connections_to

RETRY_PREFIX = "img:retry:"


async def jobs_in(database: Path) -> list[JobRecord]:
    """The jobs in a bot's database (newest first), read through a short-lived store (while the bot runs)."""
    store = await UsageStore.open(database, single_process=False)
    try:
        return await store.recent_jobs()
    finally:
        await store.close()


async def wait_for_jobs(database: Path, predicate, timeout: float = 20) -> list[JobRecord]:
    """Poll the database until `predicate(jobs)` holds."""
    deadline = time.monotonic() + timeout
    while True:
        jobs = await jobs_in(database)
        if jobs and predicate(jobs):
            return jobs
        if time.monotonic() > deadline:
            raise AssertionError(f"database did not reach the expected state in {timeout}s: {jobs}")
        await asyncio.sleep(0.1)


async def test_killed_bot_answers_the_interrupted_job_through_the_same_token(discord_fake, image_api, tmp_path) -> None:
    database = tmp_path / "bot.db"
    first = BotProcess(tmp_path, discord_fake, image_api)
    second = BotProcess(tmp_path, discord_fake, image_api, resume_interrupted_jobs="false")
    try:
        await first.start()
        image_api.image_delay = 0.5
        interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a slow trio", count=3)
        await wait_for_jobs(database, lambda jobs: jobs[0].images_delivered == 1)
        first.send(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL
        image_api.image_delay = 0.0

        await second.start()
        notice = await discord_fake.wait_for(
            lambda: any(c.startswith(RETRY_PREFIX) for c in interaction.original.custom_ids()) and interaction.original
        )
        assert "restarted" in notice.text and "1 of 3 images arrived" in notice.text
        assert len(notice.attachments) == 1
        [job] = await wait_for_jobs(database, lambda jobs: jobs[0].finished_at is not None)
        assert (job.status, job.error_code, job.images_delivered) == ("partial", "interrupted", 1)
        store = await UsageStore.open(database, single_process=False)
        try:
            entry = await store.journal.get(job.id)
        finally:
            await store.close()
        assert entry is not None and entry.interaction_token is None
        assert interaction.token not in second.log() and interaction.token not in first.log()
    finally:
        await first.stop()
        await second.stop()


async def test_sigterm_lets_the_running_job_finish_and_refuses_new_ones(discord_fake, image_api, tmp_path) -> None:
    bot = BotProcess(tmp_path, discord_fake, image_api, shutdown_grace_seconds=20)
    try:
        await bot.start()
        image_api.image_delay = 0.4
        interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="finish me", count=3)
        await discord_fake.wait_for(lambda: interaction.original and interaction.original.attachments)
        bot.send(signal.SIGTERM)
        await bot.wait_for_log("shutting down")

        late = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="too late")
        await late.wait_response()
        assert late.ephemeral and "restarting" in late.original.text

        assert await bot.wait() == 0
        message = await final_original(discord_fake, interaction, timeout=5)
        assert len(message.attachments) == 3 and "3 images" in message.text
        [job] = await jobs_in(tmp_path / "bot.db")
        assert (job.status, job.images_delivered, job.prompt) == ("completed", 3, "finish me")
    finally:
        await bot.stop()


async def test_sigterm_after_the_grace_period_journals_the_job(discord_fake, image_api, tmp_path) -> None:
    bot = BotProcess(tmp_path, discord_fake, image_api, shutdown_grace_seconds=0.2)
    try:
        await bot.start()
        image_api.script(Fault.hang())
        interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="still thinking")
        await image_api.wait_for(lambda: image_api.requests)
        bot.send(signal.SIGTERM)
        assert await bot.wait() == 0
        assert "restarting" in interaction.original.text
        [job] = await jobs_in(tmp_path / "bot.db")
        assert (job.status, job.finished_at) == ("running", None)
    finally:
        await bot.stop()


def _nice(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


async def test_a_worker_only_process_yields_the_cpu_to_gateways(
    discord_fake, image_api, tmp_path, postgres_url
) -> None:
    gateway = BotProcess(tmp_path, discord_fake, image_api, database_url=postgres_url)
    worker = BotProcess(tmp_path, discord_fake, image_api, worker=True, database_url=postgres_url)
    try:
        await gateway.start()
        await worker.start()
        assert _nice(worker.pid) == min(19, _nice(gateway.pid) + WORKER_PROCESS_NICE)  # answering Discord comes first
    finally:
        await worker.stop()
        await gateway.stop()


async def test_a_bot_process_is_ready_for_a_burst_before_it_takes_requests(
    discord_fake, image_api, tmp_path, postgres_url
) -> None:
    """Before a gateway connects, the database connections a burst of commands needs are open; in every bot process,
    what start-up made is out of the garbage collector's way (else a full collection stops the event loop
    mid-burst)."""
    gateway = BotProcess(tmp_path, discord_fake, image_api, database_url=postgres_url, log_level="DEBUG")
    worker = BotProcess(tmp_path, discord_fake, image_api, worker=True, database_url=postgres_url, log_level="DEBUG")
    try:
        await gateway.start()
        assert await connections_to(postgres_url) >= POSTGRESQL_POOL
        await worker.start()
        for process in (gateway, worker):
            await process.wait_for_log("start-up objects set aside from the garbage collector")
    finally:
        await worker.stop()
        await gateway.stop()
