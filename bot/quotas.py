"""QuotaService: decide, before any API call, whether a request may run, and reserve its share of the quota.

Every job start passes `admit(...)` through the one gate (`bot.jobs.admission`) before anything is
acknowledged. A refusal raises a `UserFacingError` naming the limit, the member's numbers and when it resets.
An admitted request's reservation is its job row, written in the same transaction as the check (serialized per
server across every process), so two requests arriving together cannot both slip under a limit: the member's
daily and monthly images (their role tier), the server's daily images and its monthly budget in money.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.budget import BudgetWatch
from bot.errors import QueueFull, StoreFailed, UserFacingError
from bot.i18n import speaking
from bot.imagegen.catalog import resolution_of
from bot.limits import Limits, Standing, effective_limits, is_exempt, limits_of_member, sees_costs
from bot.periods import day_number, month_start_day, next_midnight, next_month
from bot.pricing import job_model, price_per_image
from bot.quota_checks import (
    check_budget,
    check_channel,
    check_cooldown,
    check_member_daily,
    check_member_monthly,
    check_model,
    check_server_daily,
    check_shape,
    check_waiting,
    check_words,
)
from bot.settings import Settings
from bot.store import JobRecord, UsageStore
from bot.store.journal import Origin
from bot.store.queue import Admit, QueueStore
from bot.store.queue import Standing as QueueStanding
from bot.tiers import MemberLimits, capped_resolution

log = logging.getLogger(__name__)

ADMIT_TIMEOUT = 2.0  # seconds the reserving transaction may take before the request is refused
RESERVATION_TTL = 300.0  # seconds a pending reservation may wait to be queued (cost question, downloads)


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
    show_cost: bool = True  # whether the member may be shown the money figure (else images only)

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
    params: str = "{}"  # the job's parameters known at admission (JSON), shown by /job until it is queued
    manager: bool = False  # the member has Manage Server (money is shown to them)
    model: str | None = None  # None: the default model
    origin: Origin | None = None  # where to answer the member (stored with the reservation)
    language: str | None = None  # the job's public language


@dataclass(frozen=True, slots=True)
class RefusedRequest:
    """A request the quotas refused, as the mod-log shows it."""

    guild_id: int | None
    channel_id: int | None
    user_id: int
    prompt: str
    code: str  # the refusal's code (`UserFacingError.code`): the mod-log names the reason in the server's language


RefusalHook = Callable[[int, RefusedRequest], Awaitable[None]]


@dataclass(slots=True)
class _Seen:
    """What the reserving transaction saw of the month's spending (with this request) once it let it through."""

    committed: float = 0.0


class QuotaService:
    """Per-server limits, role tiers, budgets, blocked words, allowed channels and cooldowns, checked without
    calling the API."""

    def __init__(self, settings: Settings, store: UsageStore) -> None:
        self.settings = settings
        self.store = store
        # Set by the admin cog: tells the server's mod-log about a refused request (channel, request, reason).
        self.refusal_hook: RefusalHook | None = None
        self.budget = BudgetWatch(store)  # the month's budget reaching 80 % and 100 %, for the mod-log
        self._reports: set[asyncio.Task[None]] = set()
        self._late: set[asyncio.Task[Any]] = set()  # reservations that finished after ADMIT_TIMEOUT

    async def limits(self, guild_id: int) -> Limits:
        """The limits in force for a server."""
        return effective_limits(self.settings, await self.store.guilds.load(guild_id))

    async def standing(self, guild_id: int, user_id: int, role_ids: Sequence[int]) -> Standing:
        """Today's and this month's use (delivered plus in flight) against the member's tier, and the budget."""
        config = await self.store.guilds.load(guild_id)
        limits = effective_limits(self.settings, config)
        now = self.store.clock()
        seen = await self.store.queue.standing(guild_id, user_id, day_number(now), month_start_day(now))
        return Standing(
            limits=limits,
            member=limits_of_member(limits, config, role_ids),
            exempt=is_exempt(config, role_ids),
            member_used=seen.member_images + seen.member_reserved,
            member_month_used=seen.member_month_images + seen.member_reserved,
            server_used=seen.server_images + seen.server_reserved,
            committed=seen.server_spent + seen.server_cost_reserved,
            price=price_per_image(self.settings, job_model(self.settings, limits.default_model)),
            resets_at=next_midnight(now),
            month_resets_at=next_month(now),
        )

    async def member_limits(self, guild_id: int | None, role_ids: Sequence[int] = ()) -> MemberLimits:
        """The member's tier in a server: the most generous of their roles', else the server's defaults."""
        config = await self.store.guilds.load(guild_id or 0)
        return limits_of_member(effective_limits(self.settings, config), config, role_ids)

    async def admit(self, request: AdmitRequest) -> QuotaGrant:
        """Check every limit for this request and reserve its images and cost; raise a UserFacingError if it may
        not run. A refusal is also reported to the server's mod-log (in the background: the member's answer comes
        first), and so is the month's budget reaching 80 % or 100 % (once each)."""
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
        (for what is left, as a Retry of it would be checked), the member's daily and monthly limits (their tier
        and exempt roles from the roles they had when it was admitted) and the server's daily limit, the job's own
        images counted once. Not the cooldown, the waiting limits, the queue or the cost question: the request was
        made, waited its turn and was confirmed once; the claim applied the member's concurrency cap. The refusal,
        or None."""
        guild = record.guild_id or 0
        config = await self.store.guilds.load(guild)
        limits = effective_limits(self.settings, config)
        member = limits_of_member(limits, config, record.role_ids)
        now = self.store.clock()
        try:
            with speaking(record.language):  # the refusal is posted with the job's public messages
                check_channel(config, record.channel_id)
                check_words(config, record.prompt)
                resolution = resolution_of(str(record.params.get("size", ""))) or limits.default_resolution
                check_shape(member, owed, resolution)
                seen = await self.store.queue.standing(guild, record.user_id, day_number(now), month_start_day(now))
                own = (
                    record.images_requested
                )  # reserved by this job itself (its delivered images are not rolled up yet)
                if not is_exempt(config, record.role_ids):
                    used = seen.member_reserved - own
                    check_member_daily(member, seen.member_images + used, own, next_midnight(now))
                    check_member_monthly(member, seen.member_month_images + used, own, next_month(now))
                check_server_daily(limits, seen.server_images + seen.server_reserved - own, own, next_midnight(now))
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
        check_channel(config, request.channel_id)
        check_words(config, request.prompt)
        member = limits_of_member(limits, config, request.role_ids)
        model = job_model(self.settings, request.model)
        check_model(member, model)
        resolution = request.resolution or capped_resolution(member, limits.default_resolution)
        check_shape(member, request.count, resolution)
        exempt = is_exempt(config, request.role_ids)
        show = sees_costs(limits, request.manager)
        price = price_per_image(self.settings, model)
        now = self.store.clock()
        seen = _Seen()
        check = functools.partial(self._check, limits, member, exempt, request.count, price, now, show, seen)
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
            params=request.params,
            price=price,
            role_ids=tuple(request.role_ids),
            month=month_start_day(now),
            origin=request.origin,
            language=request.language,
        )
        try:
            job_id = await self._reserve(reservation, check)
        except UserFacingError as refusal:
            if refusal.code == "quota_budget":
                self.budget.refused(guild, limits, now)
            raise
        self.budget.admitted(guild, limits, seen.committed, now)
        cost = request.count * price
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
            show_cost=show,
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

    def _check(
        self,
        limits: Limits,
        member: MemberLimits,
        exempt: bool,
        count: int,
        price: float,
        now: float,
        show: bool,
        seen: _Seen,
        today: QueueStanding,
    ) -> None:
        """The limits that depend on what is already in flight, checked in the reserving transaction."""
        full = today.running >= self.settings.max_concurrent_jobs and today.waiting >= self.settings.max_queue_length
        if full:  # no slot free and the line is as long as it may be
            raise QueueFull()
        reset = next_midnight(now)
        if not exempt:
            check_cooldown(limits, today.last_request_at, now)
            check_waiting(today.member_waiting, self.settings.max_waiting_per_member)
            check_member_daily(member, today.member_images + today.member_reserved, count, reset)
            check_member_monthly(member, today.member_month_images + today.member_reserved, count, next_month(now))
        check_server_daily(limits, today.server_images + today.server_reserved, count, reset)
        committed = today.server_spent + today.server_cost_reserved
        check_budget(limits, committed, count, price, next_month(now), show=show)
        seen.committed = committed + count * price
