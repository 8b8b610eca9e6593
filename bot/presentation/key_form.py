"""The private form (a modal) where a server admin enters the server's own API key and, for a relay, a base URL."""

from __future__ import annotations

import logging

import discord

from bot.errors import UserFacingError
from bot.i18n import N_, _
from bot.presentation.replies import tell
from bot.server_keys import ServerKeys
from bot.tree import error_reference

log = logging.getLogger(__name__)

DENIED = N_("You don't have permission to use this command here.")
TITLE = N_("Image API key for this server")
KEY_LABEL = N_("API key")
KEY_PLACEHOLDER = N_("Your Seedream API key (Volcengine Ark or BytePlus ModelArk)")
URL_LABEL = N_("Base URL (optional, only for a relay)")
URL_PLACEHOLDER = N_("https://relay.example/v1 (empty: the bot's own service)")


class ApiKeyForm(discord.ui.Modal):
    """Asks for the key and an optional base URL; the bot probes the key (no image is made) before saving it.

    Its texts are made per form, in the language of the admin who opens it."""

    def __init__(self, keys: ServerKeys) -> None:
        super().__init__(title=_(TITLE), timeout=600)
        self.key: discord.ui.TextInput[ApiKeyForm] = discord.ui.TextInput(
            label=_(KEY_LABEL),
            custom_id="apikey:key",
            placeholder=_(KEY_PLACEHOLDER),
            min_length=16,
            max_length=256,
        )
        self.base_url: discord.ui.TextInput[ApiKeyForm] = discord.ui.TextInput(
            label=_(URL_LABEL),
            custom_id="apikey:base_url",
            placeholder=_(URL_PLACEHOLDER),
            required=False,
            max_length=300,
        )
        self.add_item(self.key)
        self.add_item(self.base_url)
        self._keys = keys

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Check Manage Server again, answer privately at once, probe, save, and say how it went."""
        if interaction.guild_id is None or not interaction.permissions.manage_guild:
            await tell(interaction, _(DENIED))
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
        await tell(
            interaction, _("Something went wrong (ref {ref}). Nothing was saved; please try again.").format(ref=ref)
        )
