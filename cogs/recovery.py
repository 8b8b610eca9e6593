"""Restart recovery: every job a stop or crash interrupted gets a visible outcome, and a Retry button."""

from __future__ import annotations

import asyncio
import logging
import time

from discord.ext import commands

from bot.client import ImageBot
from bot.errors import UserFacingError
from bot.jobs import PreparedJob
from bot.presentation.poster import ResultPoster
from bot.presentation.recovery import (
    RetryButton,
    TokenInteraction,
    interrupted_notice,
    reconcile,
    retry_view,
    tell_member,
)
from bot.resume import rebuild
from bot.store import JobRecord
from bot.store.journal import JournalEntry, Origin

log = logging.getLogger(__name__)


class Recovery(commands.Cog):
    """Runs once at start-up (REST only, before the gateway connects) and owns resumed jobs."""

    def __init__(self, bot: ImageBot) -> None:
        self.bot = bot
        self.services = bot.services
        self._resumed: set[asyncio.Task[object]] = set()

    async def cog_load(self) -> None:
        """Recover interrupted jobs and tidy what the journal no longer needs."""
        store, settings = self.services.store, self.services.settings
        now = store.clock()
        await store.journal.forget_tokens(now)
        keep = max(settings.retry_window_seconds, settings.keep_references_days * 86_400)
        await store.journal.prune_references(now - keep)
        await self.services.jobs.guard.undelivered.prune()
        for job_id in await store.journal.unfinished():
            try:
                await self.recover(job_id, now)
            except Exception:
                log.exception("job %s: could not recover it; will try again at the next start", job_id)

    async def recover(self, job_id: int, now: float) -> None:
        """Tell the member how the job ended (with Retry, or resume it), then give it a final status."""
        store = self.services.store
        record = await store.get_job(job_id)
        entry = await store.journal.get(job_id)
        if record is None:
            return
        if await reconcile(self.bot, record, entry, now):
            record = await store.get_job(job_id) or record
        owed = record.images_requested - record.images_delivered
        resumed = await self._resumable(record, entry, now) if owed > 0 else None
        view = retry_view(job_id) if owed > 0 and resumed is None else None
        await tell_member(self.bot, record, entry, interrupted_notice(record, resuming=resumed is not None), view, now)
        status = "completed" if owed <= 0 else "partial" if record.images_delivered else "failed"
        await store.finish_job(job_id, status, error_code=None if owed <= 0 else "interrupted")
        await store.journal.mark_recovered(job_id)
        log.info("job %s: recovered after a restart (%s, %d image(s) owed)", job_id, status, max(owed, 0))
        if resumed is not None and await store.journal.claim_retry(job_id, record.user_id):
            self._resume(resumed, record, entry, now)

    async def _resumable(self, record: JobRecord, entry: JournalEntry | None, now: float) -> PreparedJob | None:
        if not self.services.settings.resume_interrupted_jobs:
            return None
        origin = None
        if entry is not None and entry.token_valid(now):
            origin = Origin(
                interaction_id=entry.interaction_id,
                token=entry.interaction_token,
                token_expires_at=entry.token_expires_at,
                status_message_id=entry.status_message_id,
                upload_limit=entry.upload_limit,
            )
        try:
            return await rebuild(self.services.jobs, record, origin)
        except UserFacingError as error:
            log.info("job %s: not resumed automatically (%s)", record.id, error.code)
            return None

    def _resume(self, job: PreparedJob, record: JobRecord, entry: JournalEntry | None, now: float) -> None:
        settings = self.services.settings
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
        task = asyncio.create_task(self._run_resumed(job, poster, interaction))
        self._resumed.add(task)
        task.add_done_callback(self._resumed.discard)

    async def _run_resumed(self, job: PreparedJob, poster: ResultPoster, interaction: TokenInteraction) -> None:
        if poster.token_alive():  # new images go below the notice, never over the images already delivered
            message = await interaction.followup.send(f"⏳ {job.spec.count} more…", wait=True)
            interaction.message_id = message.id
        await self.services.jobs.run(job, poster)


async def setup(bot: ImageBot) -> None:
    """Extension entry point: the Retry button works for every message ever sent, even after restarts."""
    bot.add_dynamic_items(RetryButton)
    await bot.add_cog(Recovery(bot))
