"""The private form (a modal) where a server admin enters the server's own API key and, for a relay, a base URL."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.errors import UserFacingError
from bot.presentation.replies import tell
from bot.server_keys import ServerKeys
from bot.tree import error_reference

log = logging.getLogger(__name__)

DENIED = "You don't have permission to use this command here."


class ApiKeyForm(discord.ui.Modal, title="Image API key for this server"):
    """Asks for the key and an optional base URL; the bot probes the key (no image is made) before saving it."""

    key: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="API key",
        custom_id="apikey:key",
        placeholder="Your Seedream API key (Volcengine Ark or BytePlus ModelArk)",
        min_length=16,
        max_length=256,
    )
    base_url: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Base URL (optional, only for a relay)",
        custom_id="apikey:base_url",
        placeholder="https://relay.example/v1 (empty: the bot's own service)",
        required=False,
        max_length=300,
    )

    def __init__(self, keys: ServerKeys) -> None:
        super().__init__(timeout=600)
        self._keys = keys

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Check Manage Server again, answer privately at once, probe, save, and say how it went."""
        if interaction.guild_id is None or not interaction.permissions.manage_guild:
            await tell(interaction, DENIED)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)  # the probe may take a while
        try:
            text = await self._keys.save(interaction.guild_id, interaction.user.id, self.key.value, self.base_url.value)
        except UserFacingError as refusal:
            text = f"❌ {refusal.message}"
        await tell(interaction, text)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:  # type: ignore[override]
        """Log with a reference (never the form's values) and say something went wrong."""
        ref = error_reference()
        log.error("api key form by user %s failed (ref %s): %s", interaction.user.id, ref, type(error).__name__)
        await tell(interaction, f"Something went wrong (ref {ref}). Nothing was saved; please try again.")
