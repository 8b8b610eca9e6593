"""After a stop: tidying the journal at start-up, and the rest of an interrupted job as a new job (Retry).

Jobs a stop or crash interrupted are taken over by a worker (`bot.jobs.worker`) once their lease ends; the
Discord side (the Retry button, the notices) is in `bot.presentation.recovery`. A Retry starts through admission
like any job.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

from bot.errors import BadInput
from bot.i18n import _
from bot.imaging import PreparedReference
from bot.jobs.model import JobSpec, PreparedJob, spec_of
from bot.jobs.prepare import prepared_from
from bot.jobs.runner import JobRunner
from bot.settings import Settings
from bot.store import JobRecord, UsageStore
from bot.store.journal import Origin

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rest:
    """The images an interrupted job still owes, as a new job's spec and the references it was run with."""

    spec: JobSpec
    references: tuple[PreparedReference, ...]

    async def prepared(self, settings: Settings, spec: JobSpec) -> PreparedJob:
        """The job to run, from `spec` (this rest's spec after admission: the server's watermark, an origin)."""
        return await prepared_from(settings, spec, self.references)


class Recovery:
    """Start-up tidying and the rest of interrupted jobs."""

    def __init__(self, settings: Settings, store: UsageStore, runner: JobRunner) -> None:
        self.settings = settings
        self.store = store
        self.runner = runner

    async def tidy(self) -> None:
        """Both start-up duties in order: `hand_over`, then `prune` (a worker-only process, no gateway to wait)."""
        await self.hand_over()
        await self.prune()

    async def hand_over(self) -> None:
        """On SQLite (one process), end every lease at once, so the jobs the last run left are taken over now
        rather than when their leases run out. Quick (by status): it runs before this process's worker starts."""
        if self.store.backend == "sqlite":
            released = await self.store.queue.release_all()
            if released:
                log.info("%d job(s) left running by the last run will be taken over", released)

    async def prune(self) -> None:
        """Forget stale tokens, prune old references and kept images (once per deployment: the process that gets
        the lock does it). In small transactions, so it may run while the bot serves members."""
        store, settings = self.store, self.settings
        async with store.try_exclusive("bot.jobs.recovery.tidy") as mine:
            if mine:
                now = store.clock()
                await store.journal.forget_tokens(now)
                keep = max(settings.retry_window_seconds, settings.keep_references_days * 86_400)
                await store.journal.prune_references(now - keep)
        await self.runner.guard.undelivered.prune()  # this machine's folder

    async def rest_of(self, record: JobRecord, origin: Origin | None = None) -> Rest:
        """The rest of an interrupted job (references from the journal); BadInput when it cannot be made."""
        params = record.params
        stored = await self.store.journal.references(record.id)
        if len(stored) < int(params.get("references", 0)):
            raise BadInput(_("The reference images of that request are no longer kept. Please run the command again."))
        remaining = record.images_requested - record.images_delivered
        if remaining <= 0:
            raise BadInput(_("That request already has all its images."))
        # The server's watermark as it is now (admission fills it in), not the one the interrupted job had.
        spec = dataclasses.replace(spec_of(record, count=remaining), origin=origin, resumes=record.id, watermark=None)
        return Rest(spec, tuple(PreparedReference(r.data, r.mime, r.width, r.height) for r in stored))
