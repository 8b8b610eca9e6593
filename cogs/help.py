"""/help: what the bot can do, each command with an example, the member's limits today, blending by replying."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import ImageBot
from bot.i18n import N_, _
from bot.presentation.access import role_ids
from bot.presentation.help_text import help_embed
from bot.services import Services


class Help(commands.Cog):
    """The /help command."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @app_commands.command(name="help", description=N_("What this bot can do, with examples, and your limits here"))
    @app_commands.guild_only()
    async def help(self, interaction: discord.Interaction) -> None:
        """Answer privately with the help card."""
        guild_id, user_id = interaction.guild_id or 0, interaction.user.id
        standing = await self.services.quotas.standing(guild_id, user_id, role_ids(interaction.user))
        defaults = await self.services.member_settings.defaults(guild_id, user_id)
        me = interaction.client.user
        embed = help_embed(
            me.name if me else _("the bot"),
            standing,
            defaults,
            sees_other_members=self.services.settings.message_content_intent,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: ImageBot) -> None:
    """Extension entry point."""
    await bot.add_cog(Help(bot.services))
