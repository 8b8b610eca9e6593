"""A job stopped by shutdown while it still fetched its references is told so in its own language, not in the
language of the task that shuts down (the notice is made when shutdown decides, in the job's task's context)."""

from __future__ import annotations

import asyncio

from bot.i18n import _, current_language, speaking
from bot.jobs.runner import JobRunner


async def test_a_preparing_jobs_stop_notice_is_made_in_that_jobs_language(make_settings) -> None:
    runner = JobRunner(make_settings(), client=None, store=None)  # preparing and drain need neither
    told: list[tuple[str, str]] = []
    started = asyncio.Event()

    async def notify() -> None:
        told.append((current_language(), _("That request already has all its images.")))

    async def preparing_job() -> None:
        with speaking("ru"):
            async with runner.preparing(notify):
                started.set()
                await asyncio.sleep(30)  # fetching references; shutdown stops it

    job = asyncio.create_task(preparing_job())
    await asyncio.wait_for(started.wait(), 5)
    with speaking("de"):  # the shutting-down task speaks something else
        await runner.drain(0)
    assert job.cancelled()
    assert told == [("ru", "У этого запроса уже есть все изображения.")]
