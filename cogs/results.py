"""`/job <id>`: bring back a past job of this server with its images and buttons (like Midjourney's /show)."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import ImageBot
from bot.presentation import text
from bot.presentation.access import shown_here, visible_job
from bot.presentation.buttons import result_view
from bot.store import DeliveredImage, JobRecord, UsageStore

log = logging.getLogger(__name__)

MAX_LINKS = 15
MAX_CONTENT = 2000  # Discord's limit for a message's content


def jump_url(guild_id: int | None, channel_id: int | None, message_id: int | None) -> str:
    """A link to a message."""
    return f"https://discord.com/channels/{guild_id or '@me'}/{channel_id}/{message_id}"


def describe_job(job: JobRecord, images: list[DeliveredImage]) -> str:
    """The job card: prompt, who, parameters, status and links to each image's message."""
    params = job.params
    lines = [
        f"**Job #{job.id}** · {job.kind} · <@{job.user_id}> · <t:{int(job.created_at)}:R>",
        f"**{text.echo(job.prompt)}**",
        f"{params.get('size_label') or params.get('size', '?')} · {text.plural(job.images_requested, 'image')} asked"
        f" · {text.plural(int(params.get('references', 0)), 'reference image')} · {job.status}",
    ]
    links = [
        f"[Image {number}]({jump_url(job.guild_id, image.channel_id, image.message_id)})"
        for number, image in enumerate(images[:MAX_LINKS], 1)
        if image.message_id
    ]
    if not links:
        lines.append("No image of this job reached Discord.")
        return "\n".join(lines)
    room = MAX_CONTENT - len("\n".join(lines)) - 1
    shown = " · ".join(links)
    while len(shown) > room and links:  # a long prompt and a full set must still fit in one message
        links.pop()
        shown = " · ".join([*links, "…"])
    lines.append(shown)
    return "\n".join(lines)


class Results(commands.Cog):
    """The /job command."""

    def __init__(self, store: UsageStore) -> None:
        self.store = store

    @app_commands.command(name="job", description="Show a past job of this server with its images and buttons")
    @app_commands.describe(id="The job number (shown as #123 on results)")
    @app_commands.guild_only()
    async def job(self, interaction: discord.Interaction, id: app_commands.Range[int, 1]) -> None:
        """Post the job card with the job's buttons: publicly, unless its channel is private and this one is not it."""
        job = visible_job(interaction, await self.store.get_job(id), id, "There is no job #{id} in this server.")
        images = await self.store.job_images(job.id)
        await interaction.response.send_message(
            describe_job(job, images),
            view=result_view(job.id, len(images)),
            ephemeral=not shown_here(interaction, job),
        )


async def setup(bot: ImageBot) -> None:
    """Extension entry point."""
    await bot.add_cog(Results(bot.services.store))
