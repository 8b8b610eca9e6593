"""QuotaService: decide, before any API call, whether a request may run, and reserve its share of the quota.

Every job start passes `admit(...)` through the one gate (`bot.jobs.admission`) before anything is
acknowledged. A refusal raises a `UserFacingError` naming the limit, the member's numbers and when it resets.
An admitted request holds a reservation until its job row exists (then the row itself counts as in flight) or
until `QuotaGrant.release()`; so two requests arriving together cannot both slip under a limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

from bot.errors import BadInput, UserFacingError
from bot.periods import day_number, next_midnight
from bot.settings import Settings
from bot.store import UsageStore
from bot.store.guilds import GuildConfig
from bot.store.usage import DaySnapshot
from bot.textclean import api_text

log = logging.getLogger(__name__)

RESERVATION_TTL = 300.0  # seconds a reservation may wait for its job row (confirmation, downloads)


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
class _Reservation:
    guild_id: int
    user_id: int
    images: int
    after_job: int
    at: float


@dataclass(slots=True)
class QuotaGrant:
    """A request the quotas let through: what to run it with, what it may cost, and its reservation."""

    resolution: str
    watermark: bool
    estimated_cost: float
    needs_confirmation: bool
    exempt: bool
    limits: Limits
    _reservations: list[_Reservation] = field(default_factory=list, repr=False)
    _reservation: _Reservation | None = field(default=None, repr=False)
    _cooldowns: dict[tuple[int, int], float] = field(default_factory=dict, repr=False)
    _previous_request: float | None = field(default=None, repr=False)

    def release(self) -> None:
        """Give the reservation back (the request will not run); safe to call twice."""
        reservation = self._reservation
        if reservation is not None and reservation in self._reservations:
            self._reservations.remove(reservation)
        if reservation is not None:  # a request that never ran does not start the cooldown
            key = (reservation.guild_id, reservation.user_id)
            if self._cooldowns.get(key) == reservation.at:
                if self._previous_request is None:
                    del self._cooldowns[key]
                else:
                    self._cooldowns[key] = self._previous_request
        self._reservation = None

    @contextlib.contextmanager
    def released_on_error(self) -> Iterator[None]:
        """Release the reservation if the block raises."""
        try:
            yield
        except BaseException:
            self.release()
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
        self._reservations: list[_Reservation] = []
        self._last_request: dict[tuple[int, int], float] = {}
        # Set by the admin cog: tells the server's mod-log about a refused request (channel, request, reason).
        self.refusal_hook: RefusalHook | None = None
        self._reports: set[asyncio.Task[None]] = set()

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

    async def admit(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        role_ids: list[int] | tuple[int, ...],
        count: int,
        resolution: str | None,
        prompt: str,
    ) -> QuotaGrant:
        """Check every limit for this request and reserve its images; raise a UserFacingError if it may not run.

        A refusal is also reported to the server's mod-log (in the background: the member's answer comes first).
        """
        try:
            return await self._admit(guild_id, channel_id, user_id, role_ids, count, resolution, prompt)
        except UserFacingError as error:
            if self.refusal_hook is not None:
                request = RefusedRequest(guild_id, channel_id, user_id, prompt, error.code)
                task = asyncio.create_task(self._report_refusal(request))
                self._reports.add(task)
                task.add_done_callback(self._reports.discard)
            raise

    async def _report_refusal(self, request: RefusedRequest) -> None:
        try:
            limits = await self.limits(request.guild_id or 0)
            if limits.modlog_channel is not None and self.refusal_hook is not None:
                await self.refusal_hook(limits.modlog_channel, request)
        except Exception:
            log.warning("could not report a refused request to the mod-log", exc_info=True)

    async def _admit(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        role_ids: list[int] | tuple[int, ...],
        count: int,
        resolution: str | None,
        prompt: str,
    ) -> QuotaGrant:
        guild = guild_id or 0
        config = await self.store.guilds.load(guild)
        limits = effective_limits(self.settings, config)
        _check_channel(config, channel_id)
        _check_words(config, prompt)
        resolution = resolution or limits.default_resolution
        _check_shape(limits, count, resolution)
        exempt = bool(config.exempt_roles.intersection(role_ids))
        now = self.store.clock()
        await self._settle(guild, now)
        today = await self._today(guild, user_id, now)
        after_job = today.last_job_id
        # No await below this line: check and reserve atomically with respect to other requests.
        mine = [r for r in self._reservations if (r.guild_id, r.user_id) == (guild, user_id)]
        ours = [r for r in self._reservations if r.guild_id == guild]
        member_used = today.member_images + today.member_busy.images + sum(r.images for r in mine)
        server_used = today.server_images + today.server_busy.images + sum(r.images for r in ours)
        reset = next_midnight(now)
        if not exempt:
            self._check_cooldown(limits, guild, user_id, now)
            _check_concurrency(limits, today.member_busy.jobs + len(mine))
            _check_member_daily(limits, member_used, count, reset)
        _check_server_daily(limits, server_used, count, reset)
        reservation = _Reservation(guild, user_id, count, after_job, now)
        self._reservations.append(reservation)
        previous_request = self._last_request.get((guild, user_id))
        self._last_request[(guild, user_id)] = now
        cost = count * self.settings.price_per_image
        threshold = self.settings.cost_confirm_above
        return QuotaGrant(
            resolution=resolution,
            watermark=limits.watermark,
            estimated_cost=cost,
            needs_confirmation=threshold > 0 and cost > threshold,
            exempt=exempt,
            limits=limits,
            _reservations=self._reservations,
            _reservation=reservation,
            _cooldowns=self._last_request,
            _previous_request=previous_request,
        )

    async def _today(self, guild: int, user_id: int, now: float) -> DaySnapshot:
        """Images delivered today by the member and the server, their jobs still in flight, the newest job id."""
        since = now - self.settings.job_deadline_seconds - 60  # older queued/running rows are crash leftovers
        return await self.store.usage.day_snapshot(guild, user_id, day_number(now), since)

    async def _settle(self, guild: int, now: float) -> None:
        """Drop expired reservations and those whose job row now exists (the row counts instead)."""
        self._reservations[:] = [r for r in self._reservations if now - r.at < RESERVATION_TTL]
        pending = [r for r in self._reservations if r.guild_id == guild]
        if not pending:
            return
        created = await self.store.usage.jobs_since(guild, min(r.after_job for r in pending))
        for user_id in {r.user_id for r in pending}:
            mine = sorted((r for r in pending if r.user_id == user_id), key=_by_job)
            count = sum(1 for who, job_id in created if who == user_id and job_id > mine[0].after_job)
            for reservation in mine[:count]:
                if reservation in self._reservations:
                    self._reservations.remove(reservation)

    def _check_cooldown(self, limits: Limits, guild: int, user_id: int, now: float) -> None:
        last = self._last_request.get((guild, user_id))
        if limits.cooldown_seconds <= 0 or last is None or now - last >= limits.cooldown_seconds:
            return
        ready = last + limits.cooldown_seconds
        raise QuotaExceeded(
            f"Cooldown: this server asks for {_num(limits.cooldown_seconds)}s between requests. "
            f"Your last request was {_num(now - last)}s ago; try again <t:{int(ready + 0.999)}:R>.",
            code="quota_cooldown",
        )


def _by_job(reservation: _Reservation) -> int:
    return reservation.after_job


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


def _check_concurrency(limits: Limits, running: int) -> None:
    if limits.concurrent_jobs and running >= limits.concurrent_jobs:
        raise QuotaExceeded(
            f"Concurrent job limit: you already have {running} of {limits.concurrent_jobs} jobs running. "
            "Try again when one of them finishes.",
            code="quota_concurrency",
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
