"""JobRunner: validate, call the API, fit and deliver each image, record the outcome."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError

from bot.cpu import run_cpu
from bot.decode_pool import prepare_untrusted
from bot.delivery import DeliveryGuard
from bot.errors import ApiTimeout, BadInput, ContentBlocked, ImageApiError, UserFacingError
from bot.imagegen.client import ImageApiClient
from bot.imagegen.models import (
    MAX_PROMPT_CHARS,
    MAX_REFERENCES,
    MAX_TOTAL_IMAGES,
    Completed,
    GenerationRequest,
    ImageFailed,
    ImageReady,
)
from bot.imaging import PreparedReference, fit_for_upload
from bot.logs import set_job
from bot.metrics import Metrics
from bot.resume import journal_job
from bot.scheduler import Scheduler, Ticket
from bot.settings import Settings
from bot.store import UsageStore
from bot.store.journal import Origin
from bot.textclean import strip_invisible

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ReferenceInput:
    """A reference image as the member supplied it."""

    name: str
    data: bytes
    url: str | None = None


@dataclass(frozen=True, slots=True)
class JobSpec:
    """Everything a member asked for."""

    user_id: int
    guild_id: int | None
    channel_id: int | None
    prompt: str
    count: int
    size: str
    size_label: str
    references: tuple[ReferenceInput, ...] = ()
    kind: str = "imagine"
    origin: Origin | None = None  # the interaction to answer; journalled for restart recovery
    resumes: int | None = None  # id of the interrupted job this one retries
    watermark: bool | None = None  # the server's choice; None = the WATERMARK setting


@dataclass(frozen=True, slots=True)
class PreparedJob:
    """A spec whose references passed the checks and whose request validated."""

    spec: JobSpec
    request: GenerationRequest
    references: tuple[PreparedReference, ...]


@dataclass(frozen=True, slots=True)
class OutputImage:
    """One generated image, fitted to the upload limit, ready to post."""

    position: int
    api_index: int
    data: bytes
    width: int
    height: int
    resized: bool


@dataclass(frozen=True, slots=True)
class Posted:
    """Where a delivered image ended up on Discord."""

    message_id: int | None
    channel_id: int | None
    url: str | None


@dataclass(slots=True)
class Progress:
    """What the status message shows."""

    job_id: int
    requested: int
    delivered: int = 0
    failed: int = 0
    started: float = field(default_factory=time.monotonic)
    queue_position: int = 0  # 1 = next in line; 0 = not waiting
    paused: bool = False  # the bot is restarting; the job continues (or is explained) after it

    @property
    def elapsed(self) -> float:
        """Seconds since the job started."""
        return time.monotonic() - self.started


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a job ended."""

    job_id: int
    status: str
    requested: int
    delivered: int
    failures: tuple[ImageApiError, ...]
    error: UserFacingError | None
    duration: float

    def failure_summary(self) -> str:
        """Plain words for the failed images of a set, e.g. '2 images failed: blocked by …'."""
        if not self.failures:
            return ""
        reasons = Counter(error.message for error in self.failures)
        count = len(self.failures)
        noun = "image" if count == 1 else "images"
        return f"{count} {noun} could not be made: " + " ".join(
            reason if n == 1 else f"{reason} (×{n})" for reason, n in reasons.items()
        )


class Delivery(Protocol):
    """How the runner reaches the member; implemented by the Discord presentation layer."""

    upload_limit: int

    async def progress(self, progress: Progress) -> None:
        """Show the job's progress."""

    async def deliver(self, image: OutputImage, progress: Progress) -> Posted:
        """Post one image; raise if it could not be delivered."""

    async def finish(self, outcome: Outcome) -> None:
        """Show the final result or error."""


@dataclass(slots=True)
class _Active:
    """A job between its journal entry and its end, as shutdown sees it."""

    task: asyncio.Task[Any] | None
    delivery: Delivery
    progress: Progress


class JobRunner:
    """Runs generation jobs through the fair scheduler; every accepted job is journalled first."""

    def __init__(
        self, settings: Settings, client: ImageApiClient, store: UsageStore, *, metrics: Metrics | None = None
    ) -> None:
        self.settings = settings
        self.client = client
        self.store = store
        self.scheduler = Scheduler(
            settings.max_concurrent_jobs, settings.max_jobs_per_member, settings.max_queue_length
        )
        self.guard = DeliveryGuard(settings)
        self._active: dict[int, _Active] = {}
        self._preparing: dict[asyncio.Task[Any], Callable[[], Awaitable[object]]] = {}
        self.metrics = metrics or Metrics()

    def check(self, spec: JobSpec, *, references: int | None = None) -> None:
        """Instant checks that need no I/O; raise BadInput before the interaction is acknowledged."""
        refs = len(spec.references) if references is None else references
        prompt = strip_invisible(spec.prompt).strip()
        if not prompt:
            raise BadInput("The prompt is empty. Describe the image you want.")
        if len(prompt) > MAX_PROMPT_CHARS:
            raise BadInput(f"The prompt is {len(prompt)} characters long; the limit is {MAX_PROMPT_CHARS}.")
        if not 1 <= spec.count <= MAX_TOTAL_IMAGES:
            raise BadInput(f"The number of images must be between 1 and {MAX_TOTAL_IMAGES}.")
        if refs > MAX_REFERENCES:
            raise BadInput(f"At most {MAX_REFERENCES} reference images can be used.")
        if refs + spec.count > MAX_TOTAL_IMAGES:
            raise BadInput(
                f"Reference images plus requested images can be at most {MAX_TOTAL_IMAGES} "
                f"({refs} references + {spec.count} images). Ask for fewer images."
            )

    def reserve(self, user_id: int) -> Ticket:
        """A place in the queue, taken before the interaction is acknowledged; raises QueueFull."""
        return self.scheduler.reserve(user_id)

    async def prepare(self, spec: JobSpec) -> PreparedJob:
        """Decode and fit the references (in threads) and validate the request."""
        self.check(spec)
        side = self.settings.reference_max_side
        prepared = tuple(
            await asyncio.gather(*(prepare_untrusted(ref.data, ref.name, max_side=side) for ref in spec.references))
        )
        use_urls = self.settings.reference_mode == "url"
        refs = tuple(
            await asyncio.gather(
                *(
                    _as_is(ref.url) if use_urls and ref.url else run_cpu(image.data_url)
                    for ref, image in zip(spec.references, prepared, strict=True)
                )
            )
        )
        return PreparedJob(spec, self.request_for(spec, refs), prepared)

    def request_for(self, spec: JobSpec, refs: tuple[str, ...]) -> GenerationRequest:
        """The API request for a spec whose references are already encoded."""
        try:
            return GenerationRequest(
                model=self.settings.image_model,
                prompt=strip_invisible(spec.prompt).strip(),
                references=refs,
                size=spec.size,
                count=spec.count,
                watermark=self.settings.watermark if spec.watermark is None else spec.watermark,
                stream=self.settings.stream,
                response_format=self.settings.response_format,
                optimize_prompt_mode=self.settings.optimize_prompt_mode,
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            raise BadInput(f"That request is not valid: {first['msg']}.") from exc

    async def run(self, job: PreparedJob, delivery: Delivery, ticket: Ticket | None = None) -> Outcome:
        """Journal the job, wait for a slot, run it to its end; never raises for API or delivery problems.

        If the task is cancelled (shutdown), the job stays unfinished in the journal for restart recovery.
        """
        ticket = ticket or self.scheduler.reserve(job.spec.user_id, force=True)
        try:
            job_id = await journal_job(self, job)
            set_job(job_id)
            self.metrics.job_queued(job_id)
            progress = Progress(job_id=job_id, requested=job.spec.count)
            self._active[job_id] = _Active(asyncio.current_task(), delivery, progress)
            try:
                return await self._run(job, delivery, ticket, progress)
            finally:
                del self._active[job_id]
        finally:
            ticket.release()

    async def _run(self, job: PreparedJob, delivery: Delivery, ticket: Ticket, progress: Progress) -> Outcome:
        job_id, spec = progress.job_id, job.spec
        failures: list[ImageApiError] = []
        error: UserFacingError | None = None
        tokens = 0
        ticker = asyncio.create_task(self._tick(delivery, progress))
        try:
            await ticket.wait(lambda position: self._queued(delivery, progress, position))
            progress.queue_position = 0
            await _shielded(self.store.mark_running(job_id))
            self.metrics.job_started(job_id)
            log.info("job %s: calling the API for %d image(s) at %s", job_id, spec.count, spec.size)
            tokens = await self._generate(job, delivery, progress, failures)
        except UserFacingError as exc:
            error = exc
            log.info("job %s failed: %s", job_id, exc.code)
        except TimeoutError:
            error = ApiTimeout("The image service took too long, so the job was stopped.", code="deadline")
            log.warning("job %s hit its deadline of %.0fs", job_id, self.settings.job_deadline_seconds)
        except asyncio.CancelledError:
            log.warning("job %s interrupted (%d image(s) delivered); left in the journal", job_id, progress.delivered)
            raise
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        return await _shielded(self._finish(progress, delivery, failures, error, tokens))

    async def _queued(self, delivery: Delivery, progress: Progress, position: int) -> None:
        progress.queue_position = position
        if position:
            log.info("job %s: #%d in the queue", progress.job_id, position)
        await _quietly(delivery.progress(progress), progress.job_id)

    async def _finish(
        self,
        progress: Progress,
        delivery: Delivery,
        failures: list[ImageApiError],
        error: UserFacingError | None,
        tokens: int,
    ) -> Outcome:
        job_id = progress.job_id
        outcome = Outcome(
            job_id=job_id,
            status=_status(progress.delivered, failures, error),
            requested=progress.requested,
            delivered=progress.delivered,
            failures=tuple(failures),
            error=error,
            duration=progress.elapsed,
        )
        await self.store.finish_job(
            job_id,
            outcome.status,
            error_code=(error.code if error else failures[0].code if failures else None),
            images_failed=len(failures),
            output_tokens=tokens,
        )
        self.metrics.job_finished(job_id, outcome.status)
        log.info(
            "job %s %s: %d/%d image(s) in %.1fs",
            job_id,
            outcome.status,
            outcome.delivered,
            outcome.requested,
            outcome.duration,
        )
        try:
            await delivery.finish(outcome)
        except Exception:
            log.exception("job %s: could not post the final message", job_id)
        await self.store.journal.close(job_id)
        await self._forget_old_references()
        return outcome

    async def _forget_old_references(self) -> None:
        """Reference images are journalled for Reroll/Retry; drop those past KEEP_REFERENCES_DAYS."""
        try:
            await self.store.references.prune(self.store.clock() - self.settings.keep_references_days * 86_400)
        except Exception:
            log.exception("could not prune old reference images")

    @contextlib.asynccontextmanager
    async def preparing(self, notify: Callable[[], Awaitable[object]]) -> AsyncIterator[None]:
        """Mark the current task as fetching a job's references (before its journal entry exists).

        Shutdown waits for it like for a running job; if it must stop it, `notify` tells the member first.
        """
        task = asyncio.current_task()
        if task is not None:
            self._preparing[task] = notify
        try:
            yield
        finally:
            if task is not None:
                self._preparing.pop(task, None)

    async def drain(self, grace: float) -> list[int]:
        """Shutdown: let running jobs finish for up to `grace` seconds, then interrupt the rest.

        Interrupted jobs stay unfinished in the journal (restart recovery answers them); their status line
        says so. Returns the ids of the interrupted jobs.
        """
        tasks = {a.task for a in self._active.values() if a.task is not None} | set(self._preparing)
        if tasks and grace > 0:
            await asyncio.wait(tasks, timeout=grace)
        await self._stop_preparing()
        left = list(self._active.items())
        for _, active in left:
            active.progress.paused = True
        if left:
            updates = [_quietly(a.delivery.progress(a.progress), job_id) for job_id, a in left]
            await asyncio.wait([asyncio.ensure_future(u) for u in updates], timeout=5)
        pending = {a.task for _, a in left if a.task is not None and not a.task.done()}
        for task in pending:
            task.cancel()
        if pending:  # an image being posted is finished and recorded first
            await asyncio.wait(pending, timeout=15)
        return [job_id for job_id, _ in left]

    async def _stop_preparing(self) -> None:
        """Jobs still fetching references after the grace period: tell their members, then stop them."""
        stuck = [(task, notify) for task, notify in self._preparing.items() if not task.done()]
        if not stuck:
            return
        log.warning("%d job(s) stopped before they started (still preparing)", len(stuck))
        notices = [asyncio.ensure_future(_quietly(notify(), 0)) for _, notify in stuck]
        await asyncio.wait(notices, timeout=5)
        for task, _ in stuck:
            task.cancel()
        await asyncio.wait([task for task, _ in stuck], timeout=5)

    async def _generate(
        self, job: PreparedJob, delivery: Delivery, progress: Progress, failures: list[ImageApiError]
    ) -> int:
        tokens = 0
        # aclosing: a job stopped early gives back its image slot (MAX_IMAGES_IN_FLIGHT) at once.
        async with (
            asyncio.timeout(self.settings.job_deadline_seconds),
            contextlib.aclosing(self.client.generate(job.request)) as events,
        ):
            async for event in events:
                if isinstance(event, ImageReady):  # a posted image is always recorded, even during shutdown
                    await _shielded(self._deliver(event, delivery, progress, failures))
                elif isinstance(event, ImageFailed):
                    failures.append(event.error)
                    progress.failed += 1
                    log.info("job %s: image %d failed (%s)", progress.job_id, event.index, event.error.code)
                elif isinstance(event, Completed) and event.usage:
                    tokens = event.usage.output_tokens
                del event  # the image bytes are posted; don't hold them while the next one is made
                await _quietly(delivery.progress(progress), progress.job_id)
        return tokens

    async def _deliver(
        self, event: ImageReady, delivery: Delivery, progress: Progress, failures: list[ImageApiError]
    ) -> None:
        try:
            fitted = await run_cpu(fit_for_upload, event.data, delivery.upload_limit)
        except UserFacingError as exc:
            failures.append(ImageApiError(exc.message, code="bad_output"))
            progress.failed += 1
            return
        image = OutputImage(
            position=progress.delivered,
            api_index=event.index,
            data=fitted.data,
            width=fitted.width,
            height=fitted.height,
            resized=fitted.changed,
        )
        posted = await self.guard.post(image, delivery, progress)
        if isinstance(posted, ImageApiError):
            failures.append(posted)
            progress.failed += 1
            return
        counted = await self.store.record_image(
            progress.job_id,
            event.index,
            message_id=posted.message_id,
            channel_id=posted.channel_id,
            url=posted.url,
            width=fitted.width,
            height=fitted.height,
            size=len(fitted.data),
        )
        if counted:
            progress.delivered += 1
            self.metrics.image_delivered()

    async def _tick(self, delivery: Delivery, progress: Progress) -> None:
        while True:
            await asyncio.sleep(self.settings.progress_interval)
            await _quietly(delivery.progress(progress), progress.job_id)


async def _shielded(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to its end even if the job is cancelled meanwhile (then re-raise the cancellation)."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


async def _as_is(value: str) -> str:
    return value


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
