"""UsageService: usage reports, leaderboards, server statistics and privacy requests (no Discord here)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.limits import Standing, sees_costs
from bot.periods import DAY, PERIODS, Period, day_number, period
from bot.quotas import QuotaService
from bot.settings import Settings
from bot.store import UsageStore
from bot.store.usage import Board, DayCount, KeyCount, UsageTotals

PAGE_SIZE = 10
STATS_DAYS = 30


@dataclass(frozen=True, slots=True)
class UsageReport:
    """A member's usage per period and where they stand today."""

    periods: list[tuple[Period, UsageTotals]]
    standing: Standing
    hidden: bool
    show_costs: bool  # the viewer may see money (Manage Server, or the server shows costs to everyone)


@dataclass(frozen=True, slots=True)
class BoardPage:
    """One page of a leaderboard."""

    period: Period
    metric: str
    page: int
    pages: int
    board: Board


@dataclass(frozen=True, slots=True)
class ServerStats:
    """The admin summary of the last 30 days."""

    days: list[DayCount]
    channels: list[KeyCount]
    outcomes: list[KeyCount]
    totals: UsageTotals

    @property
    def failure_rate(self) -> float:
        """Share of finished requests that did not deliver every image."""
        finished = sum(o.requests for o in self.outcomes)
        failed = sum(o.requests for o in self.outcomes if o.key != "ok")
        return failed / finished if finished else 0.0


class UsageService:
    """Reads usage for the /usage, /leaderboard and admin commands; time comes from the store's clock."""

    def __init__(self, settings: Settings, store: UsageStore, quotas: QuotaService) -> None:
        self.settings = settings
        self.store = store
        self.quotas = quotas

    async def report(
        self, guild_id: int, user_id: int, role_ids: Sequence[int], *, viewer_manages: bool = False
    ) -> UsageReport:
        """Usage today, this week, this month and all time, plus the member's tier and standing; money only when
        the viewer manages the server or the server shows costs."""
        now = self.store.clock()
        rows = []
        for name in PERIODS:
            span = period(name, now)
            start = None if name == "all" else span.start_day
            rows.append((span, await self.store.usage.totals(guild_id, user_id, start, span.end_day)))
        standing = await self.quotas.standing(guild_id, user_id, role_ids)
        hidden = await self.store.usage.opted_out(user_id)
        show = sees_costs(standing.limits, viewer_manages)
        return UsageReport(rows, standing, hidden, show)

    async def leaderboard(self, guild_id: int, name: str, metric: str, page: int, caller: int) -> BoardPage:
        """Page `page` (0-based, clamped) of the server's leaderboard for a period and metric."""
        span = period(name, self.store.clock())
        start = None if name == "all" else span.start_day
        board = await self.store.usage.leaderboard(
            guild_id, start, span.end_day, metric, offset=page * PAGE_SIZE, limit=PAGE_SIZE, caller=caller
        )
        pages = max(1, math.ceil(board.ranked / PAGE_SIZE))
        if page >= pages and page > 0:
            return await self.leaderboard(guild_id, name, metric, pages - 1, caller)
        return BoardPage(span, metric, page, pages, board)

    async def server_stats(self, guild_id: int) -> ServerStats:
        """Per-day totals for the last 30 UTC days, top channels and outcomes by error kind."""
        now = self.store.clock()
        end = day_number(now) + 1
        start = end - STATS_DAYS
        usage = self.store.usage
        days = await usage.daily_series(guild_id, start, end)
        totals = await usage.totals(guild_id, None, start, end)
        return ServerStats(
            days=days,
            channels=await usage.top_channels(guild_id, start * DAY),
            outcomes=await usage.outcomes(guild_id, start * DAY),
            totals=totals,
        )

    async def set_hidden(self, user_id: int, hidden: bool) -> None:
        """Leave (or rejoin) the leaderboards."""
        await self.store.usage.set_opt_out(user_id, hidden)


def day_label(day: int) -> str:
    """`05-31` for a UTC day number."""
    return datetime.fromtimestamp(day * DAY, UTC).strftime("%m-%d")
