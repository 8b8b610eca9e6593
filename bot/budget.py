"""BudgetWatch: tells a server's mod-log once when the month's spending reaches 80 % of its budget and once at
100 % (or when the budget first refuses a request), in any process and across restarts (the store keeps which
notices were given)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.limits import Limits
from bot.periods import month_start_day, next_month
from bot.store import UsageStore

log = logging.getLogger(__name__)

LEVELS = (100, 80)  # % of the monthly budget the mod-log is told about, once each per month


@dataclass(frozen=True, slots=True)
class BudgetNotice:
    """The server reached `level` % of this month's budget."""

    guild_id: int
    level: int
    budget: float
    committed: float  # spent this month, jobs in flight included
    resets_at: float


BudgetHook = Callable[[int, BudgetNotice], Awaitable[None]]


def level_reached(budget: float, committed: float) -> int | None:
    """The highest notice level (%) `committed` reached, if any."""
    if budget <= 0:
        return None
    return next((level for level in LEVELS if committed >= budget * level / 100 - 1e-9), None)


class BudgetWatch:
    """Budget notices for the mod-log; `hook` (set by the admin cog) posts one to a channel."""

    def __init__(self, store: UsageStore) -> None:
        self.store = store
        self.hook: BudgetHook | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def admitted(self, guild: int, limits: Limits, committed: float, now: float) -> None:
        """A request was admitted; the month's spending with it is `committed`."""
        self._tell(guild, limits, level_reached(limits.monthly_budget, committed), committed, now)

    def refused(self, guild: int, limits: Limits, now: float) -> None:
        """The budget refused a request: it is used up."""
        self._tell(guild, limits, 100, limits.monthly_budget, now)

    async def flush(self) -> None:
        """Wait until the notices being posted are posted (or failed)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _tell(self, guild: int, limits: Limits, level: int | None, committed: float, now: float) -> None:
        channel, hook = limits.modlog_channel, self.hook
        if level is None or not guild or channel is None or hook is None:
            return  # without a mod-log nothing is recorded: one set later this month still gets told
        notice = BudgetNotice(guild, level, limits.monthly_budget, committed, next_month(now))
        task = asyncio.create_task(self._report(hook, channel, notice, month_start_day(now)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _report(self, hook: BudgetHook, channel: int, notice: BudgetNotice, month: int) -> None:
        try:
            if await self.store.spend.claim_notice(notice.guild_id, month, notice.level):
                await hook(channel, notice)
        except Exception:
            log.warning("could not tell the mod-log about the monthly budget", exc_info=True)
