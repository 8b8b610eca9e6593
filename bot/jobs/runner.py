"""JobRunner: journal the job, wait for its slot, call the API, fit and deliver each image, record the outcome.

Every store write of a running job goes through `_saving`: a database failure (locked past its timeout, disk
full, I/O error) ends the job with `StoreFailed` shown to the member, and its final bookkeeping (images
already posted, the final status, forgetting the interaction token) keeps being retried in the background until
it is saved, the job held by its worker meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.cpu import run_cpu
from bot.errors import ApiTimeout, ContentBlocked, ImageApiError, StoreFailed, UserFacingError
from bot.i18n import _
from bot.imagegen.client import ApiEndpoint, ImageApiClient
from bot.imagegen.models import Completed, ImageFailed, ImageReady
from bot.imaging import fit_for_upload
from bot.jobs.bookkeeping import Bookkeeping
from bot.jobs.estimates import TimeEstimates
from bot.jobs.guard import DeliveryGuard
from bot.jobs.model import Delivery, Outcome, OutputImage, Posted, PreparedJob, Progress
from bot.logs import set_job
from bot.metrics import Metrics
from bot.server_keys import ServerKeys
from bot.settings import Settings
from bot.store import NewJob, UsageStore
from bot.store.journal import Origin, StoredReference

log = logging.getLogger(__name__)
T = TypeVar("T")

PRUNE_INTERVAL = 600.0  # seconds between two prunes of old reference images by one process


@dataclass(frozen=True, slots=True)
class _Image:
    """A delivered image as the store records it."""

    index: int
    posted: Posted
    width: int
    height: int
    size: int

    async def save(self, store: UsageStore, job_id: int) -> bool:
        """Count it once (a repeated save of the same image counts nothing)."""
        at = self.posted
        return await store.record_image(
            job_id,
            self.index,
            message_id=at.message_id,
            channel_id=at.channel_id,
            url=at.url,
            width=self.width,
            height=self.height,
            size=self.size,
        )


@dataclass(slots=True)
class _Run:
    """One job between its journal entry and its end: what it shows, what it made, what is left to record."""

    delivery: Delivery
    progress: Progress
    task: asyncio.Task[Any] | None = None
    failures: list[ImageApiError] = field(default_factory=list)
    tokens: int = 0
    unrecorded: list[_Image] = field(default_factory=list)  # posted images the store did not take
    index_base: int = 0  # a taken-over job records its new images after the ones already recorded
    price: float = 0.0  # of one image of the job's model
    billed: int | None = None  # images the API billed this run (`usage.generated_images`); None: not reported
    changed_at: float = 0.0  # when the member last saw something change (an image, a failure, the heartbeat)
    api_done: Callable[[], None] | None = None  # told once, when the job needs nothing more of the image API
    delivered_before: int = field(init=False)  # images an interrupted earlier run delivered (and was billed for)

    def __post_init__(self) -> None:
        self.delivered_before = self.progress.delivered

    def api_over(self) -> None:
        """The job asks nothing more of the image API (its last image arrived, or its call ended)."""
        if self.api_done is not None:
            done, self.api_done = self.api_done, None
            done()

    @property
    def images_billed(self) -> int | None:
        """What the job was billed for: what the API reported for this run, plus the images of an earlier run;
        None when the API did not say (the store then counts the delivered images)."""
        return None if self.billed is None else self.delivered_before + self.billed

    @property
    def job_id(self) -> int:
        """The job's id."""
        return self.progress.job_id


class JobRunner:
    """Runs a job its worker claimed (or, for the `generate` tool, one it journals itself) to its end."""

    def __init__(
        self,
        settings: Settings,
        client: ImageApiClient,
        store: UsageStore,
        *,
        metrics: Metrics | None = None,
        keys: ServerKeys | None = None,
    ) -> None:
        self.settings = settings
        self.client = client
        self.store = store
        self.keys = keys  # servers' own keys, looked up by the job's server when it runs (None: the operator's)
        self.guard = DeliveryGuard(settings)
        self.estimates = TimeEstimates(store)  # the status line's "about 40s left"
        self.metrics = metrics or Metrics()
        self._active: dict[int, _Run] = {}
        # tasks fetching references -> how to tell their member if shutdown stops them, in the task's context
        self._preparing: dict[asyncio.Task[Any], tuple[Callable[[], Awaitable[object]], contextvars.Context]] = {}
        self.bookkeeping = Bookkeeping()  # jobs whose final bookkeeping is retried after a store failure
        self._pruned_at = -math.inf

    async def run(self, job: PreparedJob, delivery: Delivery) -> Outcome:
        """Journal a job outside the queue and run it at once (the `generate` tool); StoreFailed if it could not
        even be created."""
        job_id, error = await self._journal(job)
        progress = Progress(job_id=job_id, requested=job.spec.count)
        if error is None:
            await _shielded(_saving(self.store.mark_running(job_id), "starting a job"))
        return await self._runs(job, _Run(delivery, progress, asyncio.current_task()), error)

    async def execute(
        self,
        job: PreparedJob,
        delivery: Delivery,
        progress: Progress,
        *,
        index_base: int = 0,
        api_done: Callable[[], None] | None = None,
    ) -> Outcome:
        """Run a job its worker claimed (its row is `running`); `progress` counts the images it already has.

        `api_done` is called once, as soon as the job needs nothing more of the image API: when its last image
        arrived (before it is posted) or its call ended, whichever comes first. Never raises for API, delivery or
        store problems. If the task is cancelled (shutdown, a lost lease), the job stays unfinished for another
        worker to take over.
        """
        run = _Run(delivery, progress, asyncio.current_task(), index_base=index_base, api_done=api_done)
        return await self._runs(job, run, None)

    async def refuse(
        self, job_id: int, delivery: Delivery, progress: Progress, error: UserFacingError, *, model: str | None = None
    ) -> Outcome:
        """End a claimed job that cannot be made (e.g. its references are gone), telling the member why; images an
        earlier run delivered are costed at `model`'s price."""
        run = _Run(delivery, progress, asyncio.current_task(), price=self.settings.catalog.get(model).price)
        return await self._runs(None, run, error)

    async def _runs(self, job: PreparedJob | None, run: _Run, error: UserFacingError | None) -> Outcome:
        set_job(run.job_id)
        if job is not None:
            run.price = self.settings.catalog.get(job.request.model).price
        self._active[run.job_id] = run
        try:
            if error is not None or job is None:
                return await _shielded(self._finish(run, error))
            return await self._run(job, run)
        finally:
            del self._active[run.job_id]

    async def _journal(self, job: PreparedJob) -> tuple[int, StoreFailed | None]:
        """Create the job row and its journal entry (origin, references) before the API is called."""
        spec = job.spec
        params = {
            "size": spec.size,
            "size_label": spec.size_label,
            "count": spec.count,
            "references": len(job.references),
            "watermark": job.request.watermark,
            "model": job.request.model,
            **({"resumes": spec.resumes} if spec.resumes else {}),
        }
        row = NewJob(
            spec.guild_id,
            spec.channel_id,
            spec.user_id,
            spec.prompt,
            spec.count,
            params,
            spec.kind,
            model=job.request.model,
            size=job.request.size,
        )
        job_id = await _saving(self.store.create_job(row), "creating a job")  # raises: nothing exists yet
        references = [StoredReference(r.mime, r.width, r.height, r.data) for r in job.references]
        try:
            await _saving(self.store.journal.open(job_id, spec.origin or Origin(), references, resumes=spec.resumes))
            if spec.resumes:
                await _saving(self.store.journal.link_retry(spec.resumes, job_id))
        except StoreFailed as error:
            return job_id, error
        return job_id, None

    async def _run(self, job: PreparedJob, run: _Run) -> Outcome:
        error: UserFacingError | None = None
        run.progress.expected = await self.estimates.expected(job.request)
        ticker = asyncio.create_task(self._tick(run))
        try:
            log.info("job %s: calling the API for %d image(s) at %s", run.job_id, job.spec.count, job.spec.size)
            await self._generate(job, run)
        except UserFacingError as exc:
            error = exc
            log.info("job %s failed: %s", run.job_id, exc.code)
        except TimeoutError:
            error = ApiTimeout(_("The image service took too long, so the job was stopped."), code="deadline")
            log.warning("job %s hit its deadline of %.0fs", run.job_id, self.settings.job_deadline_seconds)
        except asyncio.CancelledError:
            log.warning(
                "job %s interrupted (%d image(s) delivered); left in the journal", run.job_id, run.progress.delivered
            )
            raise
        finally:
            run.api_over()
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        outcome = await _shielded(self._finish(run, error))
        if outcome.status == "completed":
            self.estimates.completed(job.request.model, job.request.size)
        return outcome

    async def _finish(self, run: _Run, error: UserFacingError | None) -> Outcome:
        progress = run.progress
        outcome = Outcome(
            job_id=run.job_id,
            status=_status(progress.delivered, run.failures, error),
            requested=progress.requested,
            delivered=progress.delivered,
            failures=tuple(run.failures),
            error=error,
            duration=progress.elapsed,
        )
        # A store that already failed this job is not waited for before the member is told.
        recorded = not isinstance(error, StoreFailed) and await self._try(self._record(run, outcome), run.job_id)
        self.metrics.job_finished(run.job_id, outcome.status)
        done = (outcome.status, outcome.delivered, outcome.requested, outcome.duration)
        log.info("job %s %s: %d/%d image(s) in %.1fs", run.job_id, *done)
        try:
            await run.delivery.finish(outcome)
        except Exception:
            log.exception("job %s: could not post the final message", run.job_id)
        if recorded:
            await self._forget_old_references()
        else:  # the store is failing: don't hold the member's place for it
            self._keep_recording(run, outcome)
        return outcome

    async def _record(self, run: _Run, outcome: Outcome) -> None:
        """The job's final bookkeeping, its token forgotten with it; every step may be repeated (images count once,
        a job finishes once)."""
        for image in run.unrecorded:
            await image.save(self.store, run.job_id)
        error, failures = outcome.error, outcome.failures
        await self.store.finish_job(
            run.job_id,
            outcome.status,
            error_code=(error.code if error else failures[0].code if failures else None),
            images_failed=len(failures),
            output_tokens=run.tokens,
            images_billed=run.images_billed,
            price=run.price,
            close_journal=True,
        )

    async def _try(self, work: Awaitable[object], job_id: int) -> bool:
        try:
            await work
            return True
        except Exception:
            log.warning("job %s: the store failed its final bookkeeping; retrying in the background", job_id)
            return False

    def _keep_recording(self, run: _Run, outcome: Outcome) -> None:
        self.bookkeeping.retry(run.job_id, lambda: self._record(run, outcome))

    async def _forget_old_references(self) -> None:
        """Reference images are journalled for Reroll/Retry; drop those past KEEP_REFERENCES_DAYS. At most once per
        PRUNE_INTERVAL (or a tenth of the keeping time, when that is shorter) per process, not after every job: a
        prune is a lock and a join over the kept references, and references expire by the day."""
        keep = self.settings.keep_references_days * 86_400
        now = asyncio.get_running_loop().time()
        if now - self._pruned_at < min(PRUNE_INTERVAL, keep / 10):
            return
        self._pruned_at = now
        try:
            async with self.store.try_exclusive("bot.jobs.runner.prune") as mine:  # one process at a time prunes
                if mine:
                    await self.store.references.prune(self.store.clock() - keep)
        except Exception:
            log.exception("could not prune old reference images")

    @contextlib.asynccontextmanager
    async def preparing(self, notify: Callable[[], Awaitable[object]]) -> AsyncIterator[None]:
        """Mark the current task as fetching a job's references (before its journal entry exists).

        Shutdown waits for it like for a running job; if it must stop it, `notify` tells the member first, in
        the language this task speaks (not the shutting-down task's).
        """
        task = asyncio.current_task()
        if task is not None:
            self._preparing[task] = (notify, contextvars.copy_context())
        try:
            yield
        finally:
            if task is not None:
                self._preparing.pop(task, None)

    async def drain(self, grace: float) -> list[int]:
        """Shutdown: let running jobs finish for up to `grace` seconds, then interrupt the rest.

        Interrupted jobs stay unfinished in the journal (restart recovery answers them); their status line
        says so. Bookkeeping still retrying after a store failure gets the same grace. Returns the ids of the
        interrupted jobs.
        """
        tasks = {a.task for a in self._active.values() if a.task is not None} | set(self._preparing)
        if tasks and grace > 0:
            await asyncio.wait(tasks, timeout=grace)
        await self._stop_preparing()
        left = list(self._active.items())
        for _job_id, active in left:
            active.progress.paused = True
        if left:
            updates = [_quietly(a.delivery.progress(a.progress), job_id) for job_id, a in left]
            await asyncio.wait([asyncio.ensure_future(u) for u in updates], timeout=5)
        pending = {a.task for _job_id, a in left if a.task is not None and not a.task.done()}
        for task in pending:
            task.cancel()
        if pending:  # an image being posted is finished and recorded first
            await asyncio.wait(pending, timeout=15)
        await self.bookkeeping.stop(grace)
        return [job_id for job_id, _active in left]

    async def _stop_preparing(self) -> None:
        """Jobs still fetching references after the grace period: tell their members, then stop them."""
        stuck = [(task, told) for task, told in self._preparing.items() if not task.done()]
        if not stuck:
            return
        log.warning("%d job(s) stopped before they started (still preparing)", len(stuck))
        notices = [asyncio.create_task(_notice(notify), context=context) for _task, (notify, context) in stuck]
        await asyncio.wait(notices, timeout=5)
        for task, _told in stuck:
            task.cancel()
        await asyncio.wait([task for task, _told in stuck], timeout=5)

    async def _endpoint(self, guild_id: int | None) -> ApiEndpoint | None:
        """The server's own key as it is now (None: the operator's); a refusal before any API call."""
        if self.keys is None:
            return None
        try:
            return await self.keys.endpoint_for(guild_id)
        except UserFacingError:
            raise
        except Exception as exc:
            log.warning("the store failed while reading a server's key: %s", type(exc).__name__, exc_info=True)
            raise StoreFailed() from exc

    async def _generate(self, job: PreparedJob, run: _Run) -> None:
        endpoint = await self._endpoint(job.spec.guild_id)
        # aclosing: a job stopped early gives back its image slot (MAX_IMAGES_IN_FLIGHT) at once.
        async with (
            asyncio.timeout(self.settings.job_deadline_seconds),
            contextlib.aclosing(self.client.generate(job.take_request(), endpoint, again=job.again)) as events,
        ):
            arrived = 0  # images made or failed: once all are in, the API's part is over (no retry after an image)
            async for event in events:
                if isinstance(event, ImageReady | ImageFailed):
                    arrived += 1
                    if arrived >= job.spec.count:
                        run.api_over()
                if isinstance(event, ImageReady):  # a posted image is always recorded, even during shutdown
                    await _shielded(self._deliver(event, run))
                elif isinstance(event, ImageFailed):
                    run.failures.append(event.error)
                    run.progress.failed += 1
                    log.info("job %s: image %d failed (%s)", run.job_id, event.index, event.error.code)
                elif isinstance(event, Completed) and event.usage:
                    run.tokens = event.usage.output_tokens
                    run.billed = event.usage.generated_images
                    if event.usage.web_searches:
                        log.info("job %s: the model searched the web %d time(s)", run.job_id, event.usage.web_searches)
                del event  # the image bytes are posted; don't hold them while the next one is made
                run.changed_at = time.monotonic()
                await _quietly(run.delivery.progress(run.progress), run.job_id)

    async def _deliver(self, event: ImageReady, run: _Run) -> None:
        progress = run.progress
        try:
            fitted = await run_cpu(fit_for_upload, event.data, run.delivery.upload_limit)
        except UserFacingError as exc:
            run.failures.append(ImageApiError(exc.message, code="bad_output"))
            progress.failed += 1
            return
        image = OutputImage(
            progress.delivered, event.index, fitted.data, fitted.width, fitted.height, fitted.changed, fitted.format
        )
        posted = await self.guard.post(image, run.delivery, progress)
        if isinstance(posted, ImageApiError):
            run.failures.append(posted)
            progress.failed += 1
            return
        record = _Image(run.index_base + event.index, posted, fitted.width, fitted.height, len(fitted.data))
        counted = False
        try:
            counted = await _saving(record.save(self.store, run.job_id), "recording an image")
        except StoreFailed:
            run.unrecorded.append(record)  # it is on Discord: count it once the store answers again
            counted = True
            raise
        finally:
            if counted:
                progress.delivered += 1
                self.metrics.image_delivered()

    async def _tick(self, run: _Run) -> None:
        """The status line at once (it replaces "thinking…" or the place in line), then its elapsed time whenever
        nothing else changed for PROGRESS_INTERVAL: a job whose images keep coming costs no extra edits."""
        interval = self.settings.progress_interval
        while True:
            await _quietly(run.delivery.progress(run.progress, refresh=True), run.job_id)
            run.changed_at = time.monotonic()
            wait = interval
            while wait > 0:  # an image or a failure meanwhile starts the quiet time again
                await asyncio.sleep(wait)
                wait = run.changed_at + interval - time.monotonic()


async def _saving(work: Awaitable[T], what: str = "saving") -> T:
    """A store write of a running job: any failure of the store becomes StoreFailed (shown to the member)."""
    try:
        return await work
    except Exception as exc:
        log.warning("the store failed while %s: %s", what, type(exc).__name__, exc_info=True)
        raise StoreFailed() from exc


async def _shielded(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to its end even if the job is cancelled meanwhile (then re-raise the cancellation)."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


async def _notice(notify: Callable[[], Awaitable[object]]) -> None:
    """A preparing job's stop notice, made and sent in the context it runs in (the job's task's copy)."""
    await _quietly(notify(), 0)


async def _quietly(update: object, job_id: int) -> None:
    """Progress updates are best effort: a failed edit must not fail the job."""
    try:
        await update  # type: ignore[misc]
    except Exception:
        log.warning("job %s: progress update failed", job_id, exc_info=True)


def _status(delivered: int, failures: list[ImageApiError], error: UserFacingError | None) -> str:
    if delivered:
        return "partial" if failures or error else "completed"
    problems = [*failures, *([error] if error else [])]
    if problems and all(isinstance(problem, ContentBlocked) for problem in problems):
        return "blocked"
    return "failed"
