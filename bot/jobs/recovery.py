"""Restart recovery without Discord: what an interrupted job owes, how it ends, and its rest as a new job.

The Discord side (reading what a crash left on Discord, the notice, the Retry button) is in
`bot.presentation.recovery` and `cogs.recovery`; the rest of a job starts through admission like any job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.errors import BadInput, UserFacingError
from bot.imaging import PreparedReference
from bot.jobs.admission import Admission, Admitted
from bot.jobs.model import JobSpec, PreparedJob
from bot.jobs.prepare import prepared_from
from bot.jobs.runner import JobRunner
from bot.settings import Settings
from bot.store import JobRecord, UsageStore
from bot.store.journal import JournalEntry, Origin

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Interrupted:
    """A job a stop or crash left unfinished, with its journal entry."""

    record: JobRecord
    entry: JournalEntry | None

    @property
    def owed(self) -> int:
        """Images it still owes (0 when everything arrived before the stop)."""
        return max(0, self.record.images_requested - self.record.images_delivered)

    @property
    def status(self) -> str:
        """The final status recovery gives it."""
        if not self.owed:
            return "completed"
        return "partial" if self.record.images_delivered else "failed"

    def origin(self, now: float) -> Origin | None:
        """The journalled interaction, while its token may still be used (a resume answers through it)."""
        entry = self.entry
        if entry is None or not entry.token_valid(now):
            return None
        return Origin(
            interaction_id=entry.interaction_id,
            token=entry.interaction_token,
            token_expires_at=entry.token_expires_at,
            status_message_id=entry.status_message_id,
            upload_limit=entry.upload_limit,
        )


@dataclass(frozen=True, slots=True)
class Rest:
    """The images an interrupted job still owes, as a new job's spec and the references it was run with."""

    spec: JobSpec
    references: tuple[PreparedReference, ...]

    async def prepared(self, settings: Settings, spec: JobSpec) -> PreparedJob:
        """The job to run, from `spec` (this rest's spec after admission: the server's watermark, an origin)."""
        return await prepared_from(settings, spec, self.references)


class Recovery:
    """Loads, closes and restarts interrupted jobs; every restart goes through admission."""

    def __init__(self, settings: Settings, store: UsageStore, admission: Admission, runner: JobRunner) -> None:
        self.settings = settings
        self.store = store
        self.admission = admission
        self.runner = runner

    async def interrupted_jobs(self) -> list[int]:
        """Tidy what the journal no longer needs, then the ids of the jobs left unfinished, oldest first."""
        store, settings = self.store, self.settings
        now = store.clock()
        await store.journal.forget_tokens(now)
        keep = max(settings.retry_window_seconds, settings.keep_references_days * 86_400)
        await store.journal.prune_references(now - keep)
        await self.runner.guard.undelivered.prune()
        return await store.journal.unfinished()

    async def load(self, job_id: int) -> Interrupted | None:
        """An interrupted job and its journal entry, or None if the row is gone."""
        record = await self.store.get_job(job_id)
        if record is None:
            return None
        return Interrupted(record, await self.store.journal.get(job_id))

    async def close(self, job: Interrupted) -> None:
        """Give the job its final status (after the member was told) and mark it recovered (its token forgotten)."""
        error = None if not job.owed else "interrupted"
        await self.store.finish_job(job.record.id, job.status, error_code=error)
        await self.store.journal.mark_recovered(job.record.id)
        log.info("job %s: recovered after a restart (%s, %d image(s) owed)", job.record.id, job.status, job.owed)

    async def rest_of(self, record: JobRecord, origin: Origin | None = None) -> Rest:
        """The rest of an interrupted job (references from the journal); BadInput when it cannot be made."""
        params = record.params
        stored = await self.store.journal.references(record.id)
        if len(stored) < int(params.get("references", 0)):
            raise BadInput("The reference images of that request are no longer kept. Please run the command again.")
        remaining = record.images_requested - record.images_delivered
        if remaining <= 0:
            raise BadInput("That request already has all its images.")
        spec = JobSpec(
            user_id=record.user_id,
            guild_id=record.guild_id,
            channel_id=record.channel_id,
            prompt=record.prompt,
            count=remaining,
            size=str(params.get("size", "2K")),
            size_label=str(params.get("size_label", params.get("size", ""))),
            kind=record.kind,
            origin=origin,
            resumes=record.id,
        )
        return Rest(spec, tuple(PreparedReference(r.data, r.mime, r.width, r.height) for r in stored))

    async def resume(self, job: Interrupted, rest: Rest) -> tuple[Admitted, PreparedJob] | None:
        """Automatic resume: claim the job's one retry and pass the gate (no member roles at start-up, and no cost
        question: the member agreed to the job). None (the claim given back) when it may not run now."""
        job_id = job.record.id
        if not await self.store.journal.claim_retry(job_id, job.record.user_id):
            return None
        try:
            admitted = await self.admission.admit(rest.spec, (), references=len(rest.references), ask=None)
            if admitted is None:  # not reached without a cost question
                raise BadInput("not confirmed")
            with admitted.released_on_error():
                prepared = await rest.prepared(self.settings, admitted.spec)
        except UserFacingError as error:
            log.info("job %s: not resumed automatically (%s)", job_id, error.code)
            await self.store.journal.release_retry(job_id)
            return None
        return admitted, prepared
