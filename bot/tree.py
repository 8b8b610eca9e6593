"""CommandTree that turns errors into one friendly answer."""

from __future__ import annotations

import asyncio
import logging
import secrets
import weakref

import discord
from discord import app_commands

from bot.errors import UserFacingError
from bot.i18n import _, duration
from bot.jobs.admission import RESTARTING
from bot.logs import set_interaction
from bot.presentation.replies import tell

log = logging.getLogger(__name__)

EXPIRED = 10062  # Discord's "Unknown interaction": answered after its 3 s (or 15 min) had passed


def error_reference() -> str:
    """A short random reference to quote in logs and in the member's error message."""
    return secrets.token_hex(3)


class BotTree(app_commands.CommandTree):
    """App-command tree with one error policy for every command; knows the commands still running."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._running: weakref.WeakSet[asyncio.Task[object]] = weakref.WeakSet()

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Tag the interaction's log lines; while the bot is shutting down, refuse new commands privately."""
        set_interaction(interaction.id)
        if getattr(interaction.client, "closing", False):
            if interaction.type == discord.InteractionType.application_command:
                await tell(interaction, _(RESTARTING))
            return False
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        return True

    async def finish_running(self, within: float) -> int:
        """Let the commands still running finish for up to `within` seconds, then cancel the rest and wait for
        them: nothing of theirs runs once the bot's resources (the store, the HTTP session) close. Returns how many
        were cancelled."""
        running = {task for task in self._running if not task.done() and task is not asyncio.current_task()}
        if not running:
            return 0
        _done, late = await asyncio.wait(running, timeout=within)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=within)
        return len(late)

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """Explain UserFacingErrors and check failures; log anything else with a reference."""
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        if isinstance(cause, discord.NotFound) and cause.code == EXPIRED:  # no answer can reach the member now
            log.warning(
                "%s by user %s was not answered in time: Discord dropped it", _command(interaction), interaction.user.id
            )
            return
        if isinstance(cause, UserFacingError):
            log.info("refused %s by user %s: %s", _command(interaction), interaction.user.id, cause.code)
            await tell(interaction, cause.message)
            return
        if isinstance(cause, app_commands.CommandOnCooldown):
            wait = duration(max(1.0, cause.retry_after), short=True)
            await tell(interaction, _("Slow down a little: try again in {time}.").format(time=wait))
            return
        if isinstance(cause, app_commands.MissingPermissions | app_commands.CheckFailure):
            await tell(interaction, _("You don't have permission to use this command here."))
            return
        ref = error_reference()
        command = _command(interaction)
        log.error("command %s by user %s failed (ref %s)", command, interaction.user.id, ref, exc_info=cause)
        await tell(interaction, _("Something went wrong (ref {ref}). Please try again.").format(ref=ref))


def _command(interaction: discord.Interaction) -> str:
    return interaction.command.qualified_name if interaction.command else "?"
