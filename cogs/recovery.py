"""Restart recovery: tidy the journal at start-up; the Retry button for jobs that ended interrupted.

Interrupted jobs themselves are taken over by the worker (`bot.jobs.worker`), which tells their members.
"""

from __future__ import annotations

import asyncio
import logging

from discord.ext import commands

from bot.client import ImageBot
from bot.presentation.recovery import RetryButton

log = logging.getLogger(__name__)


class Recovery(commands.Cog):
    """Runs once at start-up (REST only, before the gateway connects)."""

    def __init__(self, bot: ImageBot) -> None:
        self.bot = bot
        self._pruning: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        """Hand the jobs the last run left to the workers (before this process's worker starts); tidy what the
        journal no longer needs in the background: on a big history that takes seconds, and members are answered
        meanwhile (its transactions are small)."""
        try:
            await self.bot.services.recovery.hand_over()
        except Exception:
            log.exception("could not hand over the jobs the last run left; their leases will run out instead")
        self._pruning = asyncio.create_task(self._prune())

    async def _prune(self) -> None:
        try:
            await self.bot.services.recovery.prune()
        except Exception:
            log.exception("could not tidy the journal at start-up; will try again at the next start")

    async def cog_unload(self) -> None:
        """Stop tidying (shutdown; the next start does the rest), and let its transaction end before the store
        closes."""
        if self._pruning is not None and not self._pruning.done():
            self._pruning.cancel()
            await asyncio.wait({self._pruning}, timeout=5)


async def setup(bot: ImageBot) -> None:
    """Extension entry point: the Retry button works for every message ever sent, even after restarts."""
    bot.add_dynamic_items(RetryButton)
    await bot.add_cog(Recovery(bot))
