"""QuotaService: decide, before any API call, whether a request may run, and reserve its share of the quota.

Every job start passes `admit(...)` through the one gate (`bot.jobs.admission`) before anything is
acknowledged. A refusal raises a `UserFacingError` naming the limit, the member's numbers and when it resets.
An admitted request's reservation is its job row, written in the same transaction as the check (serialized per
server across every process), so two requests arriving together cannot both slip under a limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.errors import BadInput, QueueFull, StoreFailed, UserFacingError
from bot.imagegen.models import resolution_of
from bot.periods import day_number, next_midnight
from bot.settings import Settings
from bot.store import JobRecord, UsageStore
from bot.store.guilds import GuildConfig
from bot.store.journal import Origin
from bot.store.queue import Admit, QueueStore
from bot.store.queue import Standing as QueueStanding
from bot.store.usage import DaySnapshot
from bot.textclean import api_text

log = logging.getLogger(__name__)

ADMIT_TIMEOUT = 2.0  # seconds the reserving transaction may take before the request is refused
RESERVATION_TTL = 300.0  # seconds a pending reservation may wait to be queued (cost question, downloads)


class QuotaExceeded(UserFacingError):
    """A usage limit stops the request."""

    code = "quota"


class PromptNotAllowed(BadInput):
    """The prompt contains a word the server blocked."""

    code = "blocked_word"


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits in force for one server (0 = no limit)."""

    member_daily_images: int
    server_daily_images: int
    concurrent_jobs: int
    cooldown_seconds: float
    max_set_size: int
    allow_4k: bool
    default_resolution: str
    watermark: bool
    modlog_channel: int | None = None


LIMIT_FIELDS = {
    "member_daily_images": "quota_member_daily_images",
    "server_daily_images": "quota_guild_daily_images",
    "concurrent_jobs": "quota_member_concurrent_jobs",
    "cooldown_seconds": "quota_cooldown_seconds",
    "max_set_size": "quota_max_set_size",
    "allow_4k": "quota_allow_4k",
    "default_resolution": "default_resolution",
    "watermark": "watermark",
}


def effective_limits(settings: Settings, config: GuildConfig) -> Limits:
    """Global defaults with the server's overrides applied.

    Outside a server (guild 0: direct messages) there is no server to share a daily budget with: each member
    has only their own limits, so one member's DMs never use up another's.
    """
    values = {key: config.overrides.get(key, getattr(settings, attr)) for key, attr in LIMIT_FIELDS.items()}
    if not config.guild_id:
        values["server_daily_images"] = 0
    return Limits(**values, modlog_channel=config.overrides.get("modlog_channel"))


@dataclass(slots=True)
class QuotaGrant:
    """A request the quotas let through: what to run it with, what it may cost, and its reservation.

    The reservation is the job's own row (state `pending`, then `queued`…): it counts against every limit until
    the job ends, in every process, and `release()` cancels it when the job will not run.
    """

    job_id: int
    resolution: str
    watermark: bool
    estimated_cost: float
    needs_confirmation: bool
    exempt: bool
    limits: Limits
    _queue: QueueStore = field(repr=False)
    _released: bool = field(default=False, repr=False)

    async def release(self) -> None:
        """Give the reservation back (the request will not run; nothing is counted); safe to call twice."""
        if not self._released:
            self._released = True
            await self._queue.cancel(self.job_id)

    @contextlib.asynccontextmanager
    async def released_on_error(self) -> AsyncIterator[None]:
        """Release the reservation if the block raises."""
        try:
            yield
        except BaseException:
            await asyncio.shield(self.release())
            raise


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a member stands against today's limits."""

    limits: Limits
    exempt: bool
    member_used: int
    server_used: int
    resets_at: float

    @property
    def member_left(self) -> int | None:
        """Images the member may still make today (None: no limit)."""
        if self.exempt or not self.limits.member_daily_images:
            return None
        return max(0, self.limits.member_daily_images - self.member_used)

    @property
    def server_left(self) -> int | None:
        """Images the server may still make today (None: no limit)."""
        if not self.limits.server_daily_images:
            return None
        return max(0, self.limits.server_daily_images - self.server_used)


@dataclass(frozen=True, slots=True)
class AdmitRequest:
    """What the quotas need to know about a request."""

    guild_id: int | None
    channel_id: int | None
    user_id: int
    role_ids: Sequence[int]
    count: int
    resolution: str | None
    prompt: str
    kind: str = "imagine"
    origin: Origin | None = None  # where to answer the member (stored with the reservation)


@dataclass(frozen=True, slots=True)
class RefusedRequest:
    """A request the quotas refused, as the mod-log shows it."""

    guild_id: int | None
    channel_id: int | None
    user_id: int
    prompt: str
    reason: str


RefusalHook = Callable[[int, RefusedRequest], Awaitable[None]]


class QuotaService:
    """Per-server limits, blocked words, allowed channels and cooldowns, checked without calling the API."""

    def __init__(self, settings: Settings, store: UsageStore) -> None:
        self.settings = settings
        self.store = store
        # Set by the admin cog: tells the server's mod-log about a refused request (channel, request, reason).
        self.refusal_hook: RefusalHook | None = None
        self._reports: set[asyncio.Task[None]] = set()
        self._late: set[asyncio.Task[Any]] = set()  # reservations that finished after ADMIT_TIMEOUT

    async def limits(self, guild_id: int) -> Limits:
        """The limits in force for a server."""
        return effective_limits(self.settings, await self.store.guilds.load(guild_id))

    async def standing(self, guild_id: int, user_id: int, role_ids: list[int] | tuple[int, ...]) -> Standing:
        """Today's use (delivered plus in flight) against the limits, and when the day resets."""
        config = await self.store.guilds.load(guild_id)
        now = self.store.clock()
        today = await self._today(guild_id, user_id, now)
        return Standing(
            limits=effective_limits(self.settings, config),
            exempt=bool(config.exempt_roles.intersection(role_ids)),
            member_used=today.member_images + today.member_busy.images,
            server_used=today.server_images + today.server_busy.images,
            resets_at=next_midnight(now),
        )

    async def default_resolution(self, guild_id: int | None) -> str:
        """The server's default resolution (its override, else DEFAULT_RESOLUTION)."""
        config = await self.store.guilds.load(guild_id or 0)
        return effective_limits(self.settings, config).default_resolution

    async def admit(self, request: AdmitRequest) -> QuotaGrant:
        """Check every limit for this request and reserve its images; raise a UserFacingError if it may not run.

        A refusal is also reported to the server's mod-log (in the background: the member's answer comes first).
        """
        try:
            return await self._admit(request)
        except UserFacingError as error:
            if self.refusal_hook is not None:
                refused = (request.guild_id, request.channel_id, request.user_id, request.prompt, error.code)
                task = asyncio.create_task(self._report_refusal(RefusedRequest(*refused)))
                self._reports.add(task)
                task.add_done_callback(self._reports.discard)
            raise

    async def recheck(self, record: JobRecord, owed: int) -> UserFacingError | None:
        """Whether a taken-over job may make the `owed` images it still has to make. The admission rules that
        still apply to a job that was admitted and started: the channel and the blocked words, 4K and the set size
        (for what is left, as a Retry of it would be checked), the member's (unless they were exempt when it was
        admitted: roles are not known here) and the server's daily limits, the job's own images counted once. Not
        the cooldown, the waiting limits, the queue or the cost question: the request was made, waited its turn
        and was confirmed once; the claim applied the member's concurrency cap. The refusal, or None."""
        guild = record.guild_id or 0
        config = await self.store.guilds.load(guild)
        limits = effective_limits(self.settings, config)
        now = self.store.clock()
        reset = next_midnight(now)
        try:
            resolution = resolution_of(str(record.params.get("size", ""))) or limits.default_resolution
            _check_request(config, limits, record.channel_id, record.prompt, owed, resolution)
            today = await self._today(guild, record.user_id, now)
            own = record.images_requested  # reserved by this job itself (its delivered images are not rolled up yet)
            if not record.params.get("exempt"):
                used = today.member_images + today.member_busy.images - own
                _check_member_daily(limits, used, own, reset)
            _check_server_daily(limits, today.server_images + today.server_busy.images - own, own, reset)
        except UserFacingError as refusal:
            return refusal
        return None

    async def _report_refusal(self, request: RefusedRequest) -> None:
        try:
            limits = await self.limits(request.guild_id or 0)
            if limits.modlog_channel is not None and self.refusal_hook is not None:
                await self.refusal_hook(limits.modlog_channel, request)
        except Exception:
            log.warning("could not report a refused request to the mod-log", exc_info=True)

    async def _admit(self, request: AdmitRequest) -> QuotaGrant:
        guild = request.guild_id or 0
        config = await self.store.guilds.load(guild)
        limits = effective_limits(self.settings, config)
        resolution = request.resolution or limits.default_resolution
        _check_request(config, limits, request.channel_id, request.prompt, request.count, resolution)
        exempt = bool(config.exempt_roles.intersection(request.role_ids))
        now = self.store.clock()
        check = functools.partial(self._check, limits, exempt, request.count, now)
        cap = self.settings.max_jobs_per_member
        if limits.concurrent_jobs and not exempt:
            cap = min(cap, limits.concurrent_jobs)
        reservation = Admit(
            request.guild_id,
            request.channel_id,
            request.user_id,
            request.prompt,
            request.count,
            request.kind,
            day=day_number(now),
            hold=RESERVATION_TTL,
            member_cap=cap,
            origin=request.origin,
        )
        job_id = await self._reserve(reservation, check)
        cost = request.count * self.settings.price_per_image
        threshold = self.settings.cost_confirm_above
        return QuotaGrant(
            job_id=job_id,
            resolution=resolution,
            watermark=limits.watermark,
            estimated_cost=cost,
            needs_confirmation=threshold > 0 and cost > threshold,
            exempt=exempt,
            limits=limits,
            _queue=self.store.queue,
        )

    async def _reserve(self, reservation: Admit, check: Callable[[QueueStanding], None]) -> int:
        """The reserving transaction, given ADMIT_TIMEOUT: a database that does not answer must not cost the member
        Discord's 3 s to acknowledge. A reservation that completes after the timeout is cancelled at once."""
        task = asyncio.create_task(self.store.queue.admit(reservation, check))
        done, _ = await asyncio.wait({task}, timeout=ADMIT_TIMEOUT)
        if not done:
            self._late.add(task)
            task.add_done_callback(self._cancel_late)
            log.warning("the store did not reserve a job within %.0fs", ADMIT_TIMEOUT)
            raise StoreFailed()
        try:
            return task.result()
        except UserFacingError:
            raise
        except Exception as error:
            log.warning("the store could not reserve a job: %s", type(error).__name__, exc_info=True)
            raise StoreFailed() from error

    def _cancel_late(self, task: asyncio.Task[int]) -> None:
        self._late.discard(task)
        if not task.cancelled() and task.exception() is None:
            late = asyncio.create_task(self.store.queue.cancel(task.result(), "store_failed"))
            self._late.add(late)
            late.add_done_callback(self._late.discard)

    def _check(self, limits: Limits, exempt: bool, count: int, now: float, today: QueueStanding) -> None:
        """The limits that depend on what is already in flight, checked in the reserving transaction."""
        full = today.running >= self.settings.max_concurrent_jobs and today.waiting >= self.settings.max_queue_length
        if full:  # no slot free and the line is as long as it may be
            raise QueueFull()
        reset = next_midnight(now)
        if not exempt:
            _check_cooldown(limits, today.last_request_at, now)
            _check_waiting(today.member_waiting, self.settings.max_waiting_per_member)
            _check_member_daily(limits, today.member_images + today.member_reserved, count, reset)
        _check_server_daily(limits, today.server_images + today.server_reserved, count, reset)

    async def _today(self, guild: int, user_id: int, now: float) -> DaySnapshot:
        """Images delivered today by the member and the server, their jobs still in flight, the newest job id."""
        return await self.store.usage.day_snapshot(guild, user_id, day_number(now), 0.0)  # leases end crashed jobs


def _check_request(
    config: GuildConfig, limits: Limits, channel_id: int | None, prompt: str, count: int, resolution: str
) -> None:
    """The rules that need nothing but the server's settings: channel, blocked words, 4K and the set size."""
    _check_channel(config, channel_id)
    _check_words(config, prompt)
    _check_shape(limits, count, resolution)


def _check_cooldown(limits: Limits, last: float | None, now: float) -> None:
    if limits.cooldown_seconds <= 0 or last is None or now - last >= limits.cooldown_seconds:
        return
    ready = last + limits.cooldown_seconds
    raise QuotaExceeded(
        f"Cooldown: this server asks for {_num(limits.cooldown_seconds)}s between requests. "
        f"Your last request was {_num(now - last)}s ago; try again <t:{int(ready + 0.999)}:R>.",
        code="quota_cooldown",
    )


def _check_waiting(waiting: int, limit: int) -> None:
    if waiting >= limit:
        raise QuotaExceeded(
            f"You already have {waiting} requests waiting in line (at most {limit}). "
            "Try again when one of them has started.",
            code="quota_waiting",
        )


def _num(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _check_channel(config: GuildConfig, channel_id: int | None) -> None:
    if config.channels and channel_id not in config.channels:
        where = ", ".join(f"<#{c}>" for c in sorted(config.channels))
        raise QuotaExceeded(f"Image generation is not enabled in this channel. Try {where}.", code="quota_channel")


def blocked_word(words: tuple[str, ...], prompt: str) -> str | None:
    """The first blocked word or phrase in the prompt as the API receives it, as a whole word (case-insensitive).

    Both sides go through `api_text` (NFKC, invisible characters removed, whitespace collapsed), so a
    zero-width joiner, a soft hyphen, a full-width letter or a double space cannot hide a blocked word.
    """
    text = api_text(prompt).casefold()
    for word in words:
        needle = api_text(word).casefold()
        if needle and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", text):
            return word
    return None


def _check_words(config: GuildConfig, prompt: str) -> None:
    if blocked_word(config.blocked_words, prompt) is not None:
        raise PromptNotAllowed(
            "Your prompt contains a word this server has blocked, so nothing was generated. Please rephrase it."
        )


def _check_shape(limits: Limits, count: int, resolution: str) -> None:
    if resolution == "4K" and not limits.allow_4k:
        raise QuotaExceeded("4K is not allowed on this server. Choose 1K or 2K.", code="quota_4k")
    if count > limits.max_set_size:
        raise QuotaExceeded(
            f"Set size limit: this server allows at most {limits.max_set_size} images per request; "
            f"you asked for {count}.",
            code="quota_set_size",
        )


def _check_member_daily(limits: Limits, used: int, count: int, reset: float) -> None:
    limit = limits.member_daily_images
    if limit and used + count > limit:
        raise QuotaExceeded(
            f"Daily limit per member: you have used {used} of your {limit} images today "
            f"({max(0, limit - used)} left) and asked for {count}. It resets at 00:00 UTC (<t:{int(reset)}:R>).",
            code="quota_member_daily",
        )


def _check_server_daily(limits: Limits, used: int, count: int, reset: float) -> None:
    limit = limits.server_daily_images
    if limit and used + count > limit:
        raise QuotaExceeded(
            f"Daily limit for this server: {used} of its {limit} images are used today "
            f"({max(0, limit - used)} left) and you asked for {count}. It resets at 00:00 UTC (<t:{int(reset)}:R>).",
            code="quota_server_daily",
        )
