"""One helper to answer an interaction, whatever state it is in."""

from __future__ import annotations

import logging

import discord

log = logging.getLogger(__name__)

INVALID_WEBHOOK_TOKEN = 50027
UNKNOWN_WEBHOOK = 10015


async def tell(interaction: discord.Interaction, message: str) -> None:
    """Answer privately when possible; after a public defer, replace the 'thinking' message."""
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(message, ephemeral=True)
        elif interaction.response.type == discord.InteractionResponseType.deferred_channel_message:
            await interaction.edit_original_response(content=message)
        else:
            await interaction.followup.send(message, ephemeral=True)
    except discord.HTTPException as error:
        if not token_expired(error):
            log.warning("could not answer the interaction (%s %s)", error.status, error.code)
            return
        channel = interaction.channel
        if isinstance(channel, discord.abc.Messageable):
            await channel.send(message)


def token_expired(error: discord.HTTPException) -> bool:
    """Discord's answer for a webhook token past its 15 minutes."""
    return error.code in (INVALID_WEBHOOK_TOKEN, UNKNOWN_WEBHOOK) or error.status == 401
