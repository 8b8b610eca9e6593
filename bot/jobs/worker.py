"""Worker: claims queued jobs from the durable queue, runs them under a lease, and takes over abandoned ones.

Every process that runs jobs has one (`python -m bot` and `python -m bot worker`). It claims at most
WORKER_CONCURRENCY jobs at a time (the store keeps MAX_CONCURRENT_JOBS across all workers); a job whose last image
has arrived gives its slot to the next one while it posts that image and finishes (no more such jobs than slots).
It renews their leases every third of LEASE_SECONDS, and is woken when the queue moves (LISTEN/NOTIFY on
PostgreSQL, in-process on SQLite), else every few seconds. A job whose lease ran out (its process died, or
stopped without finishing it) is claimed like any other, first: the worker counts what its predecessor already
posted and makes only the rest.
The Discord side is reached only through `JobDeliveries` (REST: interaction token while valid, else the channel).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import os
import socket
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Protocol

from bot.errors import BadInput, UserFacingError
from bot.i18n import N_, _, use_language
from bot.imagegen.models import GenerationRequest
from bot.imaging import PreparedReference
from bot.jobs.model import Delivery, JobSpec, Outcome, PreparedJob, Progress, spec_of
from bot.jobs.prepare import prepared_from, request_for
from bot.jobs.queue import WaitingBoard
from bot.jobs.runner import JobRunner
from bot.quotas import QuotaService
from bot.settings import Settings
from bot.store import JobRecord, UsageStore
from bot.store.journal import JournalEntry
from bot.store.queue import Claim

log = logging.getLogger(__name__)

FAILED = N_("Something went wrong while making this request, so it was stopped. Please try again.")
MAX_IDLE_WAIT = 5.0  # seconds between claims when nothing wakes the worker (expired leases are found this way)


@dataclass(frozen=True, slots=True)
class StoredJob:
    """A job as the store holds it: its row and its journal entry (origin, token)."""

    record: JobRecord
    entry: JournalEntry | None

    @property
    def owed(self) -> int:
        """Images it still has to make."""
        return max(0, self.record.images_requested - self.record.images_delivered)


class JobDeliveries(Protocol):
    """What a worker needs from Discord, all of it possible without a gateway connection."""

    async def delivery(self, job: StoredJob, *, continuing: bool) -> Delivery:
        """The Delivery of a job from its stored origin (`continuing`: a taken-over job's new images follow)."""

    async def reconcile(self, job: StoredJob) -> int:
        """Record images of a taken-over job that are on Discord but not in the store; returns how many."""

    async def interrupted(self, job: StoredJob, *, resuming: bool) -> None:
        """Tell the member their job was interrupted, and whether it continues (else: a Retry button)."""

    async def finished(self, job: StoredJob, outcome: Outcome) -> None:
        """After the job's end: the server's mod-log."""

    async def not_started(self, job: StoredJob) -> None:
        """Tell the member that a request never queued (its process died or stalled) did not start: nothing spent."""


def new_worker_id() -> str:
    """host:pid:random: unique per process, readable in the jobs table."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """One process's share of the deployment's job slots."""

    def __init__(
        self,
        settings: Settings,
        store: UsageStore,
        runner: JobRunner,
        quotas: QuotaService,
        deliveries: JobDeliveries,
        *,
        board: WaitingBoard | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.runner = runner
        self.quotas = quotas
        self.deliveries = deliveries
        self.board = board  # this process's waiting board: it stops showing a place before the job's first edit
        self.id = worker_id or new_worker_id()
        self.capacity = settings.worker_concurrency or settings.max_concurrent_jobs
        self.lease = settings.lease_seconds
        self._jobs: dict[int, asyncio.Task[None]] = {}
        self._posting: set[int] = set()  # jobs of `_jobs` done with the image API (posting, finishing): no slot
        self._loops: list[asyncio.Task[None]] = []
        self._notices: set[asyncio.Task[None]] = set()  # members told about reservations that expired
        self._stopping = False

    @property
    def running(self) -> list[int]:
        """Ids of the jobs this worker runs."""
        return list(self._jobs)

    @property
    def held(self) -> list[int]:
        """Ids of the jobs whose leases this worker renews: the ones it runs, and the ones that ended for their
        member while the store failed and whose final bookkeeping is still being retried (a takeover would
        continue a job its member was told had stopped)."""
        return [*self._jobs, *(job_id for job_id in self.runner.bookkeeping.unsettled() if job_id not in self._jobs)]

    def start(self) -> None:
        """Start claiming and heartbeating (idempotent)."""
        if not self._loops:
            self._loops = [asyncio.create_task(self._claiming()), asyncio.create_task(self._heartbeat())]
            log.info("worker %s: up to %d job(s) at once", self.id, self.capacity)

    async def _claiming(self) -> None:
        idle = max(1.0, min(self.lease / 3, MAX_IDLE_WAIT))
        while not self._stopping:
            # Jobs posting their last images hold no slot, but no more of them than slots: uploads that stall
            # (Discord slow or failing) hold back new claims instead of piling up finished images in memory.
            room = min(self.capacity - (len(self._jobs) - len(self._posting)), 2 * self.capacity - len(self._jobs))
            claims: list[Claim] = []
            if room > 0:
                try:
                    claims = await self.store.queue.claim(
                        self.id,
                        limit=room,
                        global_limit=self.settings.max_concurrent_jobs,
                        lease=self.lease,
                        holding=self.held,  # never taken over by its own holder, even if its lease ran out
                    )
                except Exception:
                    log.warning("worker %s: could not claim jobs", self.id, exc_info=True)
            for claim in claims:
                if self._stopping:  # claimed while shutting down: hand it straight back
                    await self.store.queue.release(self.id, [claim.job_id])
                    continue
                self._jobs[claim.job_id] = asyncio.create_task(self._run(claim))
            if not claims or len(claims) < room:
                await self.store.queue.wait(idle)

    async def _heartbeat(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.lease / 3)
            try:
                renewing = self.held  # jobs claimed meanwhile are not in this renewal, and not lost
                held = await self.store.queue.heartbeat(self.id, renewing, self.lease)
                for job_id in set(renewing) - held:
                    if await self._taken_from_us(job_id):  # stop making it (or recording it) twice
                        log.warning("job %s: lease lost; stopping here", job_id)
                        if job_id in self._jobs:
                            self._jobs[job_id].cancel()
                        self.runner.bookkeeping.abandon(job_id)
                for job_id in await self.store.queue.expire_pending():
                    log.info("job %s: reservation expired before the job was queued", job_id)
                    self._in_background(self._tell_not_started(job_id))
                self.runner.metrics.queue_length(await self.store.queue.waiting())
            except Exception:
                log.warning("worker %s: heartbeat failed", self.id, exc_info=True)

    def _in_background(self, work: Coroutine[object, object, None]) -> None:
        task = asyncio.create_task(work)
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    async def _tell_not_started(self, job_id: int) -> None:
        """A reservation that expired unqueued: its member is told (through the origin stored at admission)."""
        try:
            await self.deliveries.not_started(await self._load(job_id))
        except Exception:
            log.warning("job %s: could not tell the member it was not started", job_id, exc_info=True)
        finally:
            with contextlib.suppress(Exception):
                await self.store.journal.close(job_id)  # forget its token

    async def _taken_from_us(self, job_id: int) -> bool:
        """Whether a job this worker runs is running under another worker (a job that just ended is not)."""
        record = await self.store.get_job(job_id)
        return record is not None and record.status == "running" and record.worker_id != self.id

    async def _run(self, claim: Claim) -> None:
        job_id = claim.job_id
        try:
            if self.board is not None:
                await self.board.started(job_id)
            job = await self._load(job_id)
            use_language(job.record.language)  # this task (and those it starts) posts in the job's language
            if claim.taken_over:
                log.info("job %s: taken over by worker %s", job_id, self.id)
                taken = await self._take_over(job)
                if taken is None:
                    return
                job = taken
            await self._execute(job, continuing=claim.taken_over)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s: the worker could not run it", job_id)
            await self._fail(job_id, continuing=claim.taken_over)
        finally:
            self._jobs.pop(job_id, None)
            self._posting.discard(job_id)
            self.store.queue.moved()  # a slot of this worker is free

    async def _load(self, job_id: int) -> StoredJob:
        record, entry = await self.store.job_and_entry(job_id)
        if record is None:
            raise LookupError(f"job {job_id} vanished")
        return StoredJob(record, entry)

    async def _execute(self, job: StoredJob, *, continuing: bool) -> None:
        record = job.record
        delivery = await self.deliveries.delivery(job, continuing=continuing)
        progress = Progress(job_id=record.id, requested=record.images_requested, delivered=record.images_delivered)
        try:
            prepared = await self._prepared(job, continuing=continuing)
        except UserFacingError as error:  # e.g. its references are gone: the member is told, nothing is made
            outcome = await self.runner.refuse(record.id, delivery, progress, error, model=record.params.get("model"))
        else:
            base = await self.store.queue.next_index(record.id) if continuing else 0
            api_done = functools.partial(self._api_done, record.id)
            outcome = await self.runner.execute(prepared, delivery, progress, index_base=base, api_done=api_done)
        await self.deliveries.finished(job, outcome)

    def _api_done(self, job_id: int) -> None:
        """A job needs the image API no more: its slot takes the next job while it posts its last image and
        finishes (its row stays `running`, and counted in MAX_CONCURRENT_JOBS, until it has finished)."""
        if job_id in self._jobs:
            self._posting.add(job_id)
            self.store.queue.moved()

    async def _prepared(self, job: StoredJob, *, continuing: bool) -> PreparedJob:
        """The API request of a stored job: its spec from the row, its references from the journal."""
        record, params = job.record, job.record.params
        spec = spec_of(record, count=job.owed)
        if continuing:  # the server's current watermark setting, as for any start
            spec = dataclasses.replace(spec, watermark=(await self.quotas.limits(record.guild_id or 0)).watermark)
        # A job stored with no references has none to read (older rows may not say: they are read).
        stored = await self.store.journal.references(record.id) if params.get("references", 1) else []
        if len(stored) < int(params.get("references", 0)):
            raise BadInput(_("The reference images of this request are no longer kept. Please run the command again."))
        references = tuple(PreparedReference(r.data, r.mime, r.width, r.height) for r in stored)
        urls = params.get("reference_urls")
        if urls and self.settings.reference_mode == "url":
            return PreparedJob(spec, request_for(self.settings, spec, tuple(urls)), references)
        prepared = await prepared_from(self.settings, spec, references)
        if references:  # a retry re-reads them from the journal: the sent body is not kept meanwhile
            prepared.again = functools.partial(self._request_again, record.id, spec)
        return prepared

    async def _request_again(self, job_id: int, spec: JobSpec) -> GenerationRequest:
        stored = await self.store.journal.references(job_id)
        references = tuple(PreparedReference(r.data, r.mime, r.width, r.height) for r in stored)
        return (await prepared_from(self.settings, spec, references)).request

    async def _take_over(self, job: StoredJob) -> StoredJob | None:
        """Count what the last worker posted; continue with the rest, or end the job with a Retry button."""
        if await self.deliveries.reconcile(job):
            job = await self._load(job.record.id)
        refusal = await self.quotas.recheck(job.record, job.owed) if job.owed else None
        resuming = bool(job.owed) and self.settings.resume_interrupted_jobs and refusal is None
        if refusal is not None:
            log.info("job %s: not continued (%s)", job.record.id, refusal.code)
        if resuming:
            await self.deliveries.interrupted(job, resuming=True)
            return job
        # Ended and marked recovered before the notice shows its Retry button, so a click at once is not refused.
        status = "completed" if not job.owed else "partial" if job.record.images_delivered else "failed"
        price = self.settings.catalog.get(job.record.params.get("model")).price  # of the images it delivered
        error_code = None if not job.owed else "interrupted"
        await self.store.finish_job(job.record.id, status, error_code=error_code, price=price)
        await self.store.journal.mark_recovered(job.record.id)
        await self.deliveries.interrupted(job, resuming=False)
        log.info("job %s: ended after a takeover (%s, %d image(s) owed)", job.record.id, status, job.owed)
        return None

    async def _fail(self, job_id: int, *, continuing: bool) -> None:
        """A job the worker could not run still ends visibly: the member is told, the job is finished as failed."""
        try:
            job = await self._load(job_id)
            use_language(job.record.language)  # even when `_run` failed before it could set it
            delivery = await self.deliveries.delivery(job, continuing=continuing)
            progress = Progress(job_id=job_id, requested=job.record.images_requested)
            progress.delivered = job.record.images_delivered
            failed = UserFacingError(_(FAILED), code="internal")
            await self.runner.refuse(job_id, delivery, progress, failed, model=job.record.params.get("model"))
        except Exception:
            log.exception("job %s: could not even end it visibly; /job shows it as failed", job_id)
            with contextlib.suppress(Exception):
                await self.store.finish_job(job_id, "failed", error_code="internal")
                await self.store.journal.close(job_id)

    async def drain(self, grace: float) -> list[int]:
        """Shutdown: stop claiming, let running jobs finish for `grace` seconds, hand the rest over at once.

        Handed-over jobs keep their row (`running`, lease ended): the next worker to claim takes them over and
        makes only the images still missing. Returns their ids.
        """
        self._stopping = True
        for loop in self._loops:
            loop.cancel()
        interrupted = await self.runner.drain(grace)
        await asyncio.gather(*self._jobs.values(), return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.store.queue.release(self.id, interrupted)
        return interrupted

    async def stop(self) -> None:
        """Stop at once, without a grace period (the jobs stay running in the store; their leases will end)."""
        self._stopping = True
        tasks = [*self._loops, *self._jobs.values()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=10)
