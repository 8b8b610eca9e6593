"""Restart recovery: every job a stop or crash interrupted gets a visible outcome, and a Retry button."""

from __future__ import annotations

import asyncio
import logging
import time

from discord.ext import commands

from bot.client import ImageBot
from bot.errors import UserFacingError
from bot.jobs.admission import Admitted
from bot.jobs.model import PreparedJob
from bot.jobs.recovery import Interrupted, Rest
from bot.presentation.launch import Launcher
from bot.presentation.poster import ResultPoster
from bot.presentation.recovery import (
    RetryButton,
    TokenInteraction,
    interrupted_notice,
    reconcile,
    retry_view,
    tell_member,
)

log = logging.getLogger(__name__)


class Recovery(commands.Cog):
    """Runs once at start-up (REST only, before the gateway connects) and owns resumed jobs."""

    def __init__(self, bot: ImageBot) -> None:
        self.bot = bot
        self.services = bot.services
        self.recovery = bot.services.recovery
        self._resumed: set[asyncio.Task[object]] = set()

    async def cog_load(self) -> None:
        """Recover interrupted jobs and tidy what the journal no longer needs."""
        now = self.services.store.clock()
        for job_id in await self.recovery.interrupted_jobs():
            try:
                await self.recover(job_id, now)
            except Exception:
                log.exception("job %s: could not recover it; will try again at the next start", job_id)

    async def recover(self, job_id: int, now: float) -> None:
        """Tell the member how the job ended (with Retry, or resume it through admission), then close it."""
        job = await self.recovery.load(job_id)
        if job is None:
            return
        if await reconcile(self.bot, self.services.store, job.record, job.entry, now):
            job = await self.recovery.load(job_id) or job
        rest = await self._rest(job, now) if job.owed else None
        view = retry_view(job_id) if job.owed and rest is None else None
        notice = interrupted_notice(job.record, resuming=rest is not None)
        told = await tell_member(self.bot, job.record, job.entry, notice, view, now)
        await self.recovery.close(job)  # before the rest is admitted: the old row no longer counts as in flight
        if rest is None:
            return
        started = await self.recovery.resume(job, rest)
        if started is None:  # the gate refused it (quota, channel…): the member gets the Retry button instead
            await told.edit(content=interrupted_notice(job.record, resuming=False), view=retry_view(job_id))
            return
        self._resume(*started, job, now)

    async def _rest(self, job: Interrupted, now: float) -> Rest | None:
        if not self.services.settings.resume_interrupted_jobs:
            return None
        try:
            return await self.recovery.rest_of(job.record, job.origin(now))
        except UserFacingError as error:
            log.info("job %s: not resumed automatically (%s)", job.record.id, error.code)
            return None

    def _resume(self, admitted: Admitted, job: PreparedJob, interrupted: Interrupted, now: float) -> None:
        settings, record, entry = self.services.settings, interrupted.record, interrupted.entry
        interaction = TokenInteraction(self.bot, record, entry if job.spec.origin else None)
        expires = job.spec.origin.token_expires_at if job.spec.origin else None
        poster = ResultPoster(
            interaction,  # type: ignore[arg-type]
            prompt=record.prompt,
            size_label=job.spec.size_label,
            token_ttl=settings.interaction_token_ttl,
            safety_margin=settings.token_safety_margin,
            original_id=entry.status_message_id if entry else None,
            started=time.monotonic() - settings.interaction_token_ttl + ((expires or now) - now),
        )
        task = asyncio.create_task(self._run_resumed(admitted, job, poster, interaction))
        self._resumed.add(task)
        task.add_done_callback(self._resumed.discard)

    async def _run_resumed(
        self, admitted: Admitted, job: PreparedJob, poster: ResultPoster, interaction: TokenInteraction
    ) -> None:
        with admitted.released_on_error():
            if poster.token_alive():  # new images go below the notice, never over the images already delivered
                message = await interaction.followup.send(f"⏳ {job.spec.count} more…", wait=True)
                interaction.message_id = message.id
        await Launcher(self.bot, self.services).run(job, poster, admitted)


async def setup(bot: ImageBot) -> None:
    """Extension entry point: the Retry button works for every message ever sent, even after restarts."""
    bot.add_dynamic_items(RetryButton)
    await bot.add_cog(Recovery(bot))
