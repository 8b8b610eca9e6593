"""CommandTree that turns errors into one friendly answer."""

from __future__ import annotations

import logging
import secrets

import discord
from discord import app_commands

from bot.errors import UserFacingError
from bot.i18n import _, duration
from bot.jobs.admission import RESTARTING
from bot.logs import set_interaction
from bot.presentation.replies import tell

log = logging.getLogger(__name__)


def error_reference() -> str:
    """A short random reference to quote in logs and in the member's error message."""
    return secrets.token_hex(3)


class BotTree(app_commands.CommandTree):
    """App-command tree with one error policy for every command."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Tag the interaction's log lines; while the bot is shutting down, refuse new commands privately."""
        set_interaction(interaction.id)
        if getattr(interaction.client, "closing", False):
            if interaction.type == discord.InteractionType.application_command:
                await tell(interaction, _(RESTARTING))
            return False
        return True

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """Explain UserFacingErrors and check failures; log anything else with a reference."""
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
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
