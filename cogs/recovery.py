"""Restart recovery: tidy the journal at start-up; the Retry button for jobs that ended interrupted.

Interrupted jobs themselves are taken over by the worker (`bot.jobs.worker`), which tells their members.
"""

from __future__ import annotations

import logging

from discord.ext import commands

from bot.client import ImageBot
from bot.presentation.recovery import RetryButton

log = logging.getLogger(__name__)


class Recovery(commands.Cog):
    """Runs once at start-up (REST only, before the gateway connects)."""

    def __init__(self, bot: ImageBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        """Tidy what the journal no longer needs; hand the jobs the last run left to the workers."""
        try:
            await self.bot.services.recovery.tidy()
        except Exception:
            log.exception("could not tidy the journal at start-up; will try again at the next start")


async def setup(bot: ImageBot) -> None:
    """Extension entry point: the Retry button works for every message ever sent, even after restarts."""
    bot.add_dynamic_items(RetryButton)
    await bot.add_cog(Recovery(bot))
