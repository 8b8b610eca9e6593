"""What a job is: the member's request, its prepared form, its progress and outcome, and the Delivery protocol."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.errors import ImageApiError, UserFacingError
from bot.i18n import ngettext, number
from bot.imagegen.models import GenerationRequest
from bot.imaging import PreparedReference
from bot.store import JobRecord
from bot.store.journal import Origin


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
    origin: Origin | None = None  # where the job answers (interaction or status message); journalled
    resumes: int | None = None  # id of the interrupted job this one retries
    watermark: bool | None = None  # the server's choice (set by admission); None = the WATERMARK setting
    model: str | None = None  # the model id; None = IMAGE_MODEL (jobs stored before models could be chosen)
    output_format: str | None = None  # "png" or "jpeg" where the model can choose; None = the model's default
    web_search: bool = False  # 5.0 Lite's web_search tool
    language: str | None = None  # the language of its public messages (the server's; None: English)


@dataclass(slots=True)
class PreparedJob:
    """A spec whose references passed the checks and whose request validated."""

    spec: JobSpec
    request: GenerationRequest
    references: tuple[PreparedReference, ...]
    # How to build the request anew (references from the store), so that the first one's body need not be kept
    # for a retry once it is sent. None: keep it.
    again: Callable[[], Awaitable[GenerationRequest]] | None = None

    def take_request(self) -> GenerationRequest:
        """The request, handed over to be sent: the job itself keeps it without the reference images (megabytes
        of base64) and drops its prepared references, so they live no longer than the sending needs them."""
        request = self.request
        if request.references:
            self.request = request.model_copy(update={"references": ()})
        self.references = ()
        return request


@dataclass(frozen=True, slots=True)
class OutputImage:
    """One generated image, fitted to the upload limit, ready to post."""

    position: int
    api_index: int
    data: bytes
    width: int
    height: int
    resized: bool
    format: str = "jpeg"  # "png" or "jpeg"

    def filename(self, job_id: int) -> str:
        """The name the image is posted under."""
        return result_filename(job_id, self.position + 1, self.format)


def result_filename(job_id: int, number: int, fmt: str = "jpeg") -> str:
    """`seedream_<job>_<number>.jpg` (`.png` for a PNG): image `number` (1-based) of a job."""
    return f"seedream_{job_id}_{number}.{'png' if fmt == 'png' else 'jpg'}"


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
    expected: float | None = None  # seconds this run should take (recent jobs of its model and size); None: no idea

    @property
    def elapsed(self) -> float:
        """Seconds since the job started."""
        return time.monotonic() - self.started

    @property
    def left(self) -> float | None:
        """Estimated seconds until the job is done; None without an estimate or once the estimate is used up."""
        if self.expected is None:
            return None
        left = self.expected - self.elapsed
        return left if left >= 1 else None


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
        """Plain words for the failed images of a set, in the current language: "2 images could not be made: …"."""
        if not self.failures:
            return ""
        reasons = Counter(error.message for error in self.failures)
        count = len(self.failures)
        head = ngettext("{count} image could not be made:", "{count} images could not be made:", count)
        return (
            head.format(count=number(count))
            + " "
            + " ".join(reason if n == 1 else f"{reason} (×{number(n)})" for reason, n in reasons.items())
        )


class Delivery(Protocol):
    """How the runner reaches the member; implemented by the Discord presentation layer."""

    upload_limit: int

    async def progress(self, progress: Progress, *, refresh: bool = False) -> None:
        """Show the job's progress when what it shows changed (images, failures, place in line, a pause); with
        `refresh` (the runner's heartbeat while nothing else changed), its elapsed time too."""

    async def deliver(self, image: OutputImage, progress: Progress) -> Posted:
        """Post one image; raise if it could not be delivered."""

    async def finish(self, outcome: Outcome) -> None:
        """Show the final result or error."""

    async def retire(self) -> None:
        """Make no more updates (another poster owns the status line now); returns once an edit under way landed."""


def spec_of(record: JobRecord, *, count: int) -> JobSpec:
    """The spec of a stored job, asking for `count` images."""
    params = record.params
    watermark = params.get("watermark")
    return JobSpec(
        user_id=record.user_id,
        guild_id=record.guild_id,
        channel_id=record.channel_id,
        prompt=record.prompt,
        count=count,
        size=str(params.get("size", "2K")),
        size_label=str(params.get("size_label", params.get("size", ""))),
        kind=record.kind,
        watermark=None if watermark is None else bool(watermark),
        model=_text(params.get("model")),
        output_format=_text(params.get("output_format")),
        web_search=bool(params.get("web_search", False)),
        language=record.language,
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)
