"""/settings: a member's defaults in this server (resolution, aspect ratio, images per request), privately."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import ImageBot
from bot.i18n import N_
from bot.member_settings import MemberSettings
from cogs.member_settings._panel import SettingsPanel, panel_text

PANEL_TIMEOUT = 600.0  # seconds the panel's controls work (inside Discord's 15-minute interaction token)


class Settings(commands.Cog):
    """The /settings command."""

    def __init__(self, member_settings: MemberSettings) -> None:
        self.member_settings = member_settings

    @app_commands.command(
        name="settings", description=N_("Your defaults for /imagine here: resolution, aspect ratio, images, model")
    )
    @app_commands.guild_only()
    async def settings(self, interaction: discord.Interaction) -> None:
        """Show the member's defaults privately, with the controls to change them."""
        defaults = await self.member_settings.defaults(interaction.guild_id, interaction.user.id)
        limits = await self.member_settings.quotas.limits(interaction.guild_id or 0)
        panel = SettingsPanel(
            self.member_settings,
            defaults,
            limits,
            user_id=interaction.user.id,
            shown_by=interaction,
            timeout=PANEL_TIMEOUT,
        )
        await interaction.response.send_message(
            panel_text(defaults, limits, self.member_settings.quotas.settings.catalog), view=panel, ephemeral=True
        )


async def setup(bot: ImageBot) -> None:
    """Extension entry point."""
    await bot.add_cog(Settings(bot.services.member_settings))
