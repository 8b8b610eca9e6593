"""`/job <id>`: bring back a past job of this server with its images and buttons (like Midjourney's /show)."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import ImageBot
from bot.i18n import N_, NC_, _, current_language, ngettext, pgettext, speaking
from bot.presentation import text
from bot.presentation.access import shown_here, visible_job
from bot.presentation.buttons import result_view
from bot.presentation.speaking import public_language
from bot.store import DeliveredImage, JobRecord, UsageStore

log = logging.getLogger(__name__)

MAX_LINKS = 15
MAX_CONTENT = 2000  # Discord's limit for a message's content
KIND, STATUS = "job kind", "job status"  # translation contexts (spelled out in NC_: the extractor reads literals)
KINDS = {
    NC_("job kind", "imagine"),
    NC_("job kind", "reroll"),
    NC_("job kind", "variations"),
    NC_("job kind", "upscale"),
    NC_("job kind", "blend"),
}
STATUSES = {
    NC_("job status", "pending"),
    NC_("job status", "queued"),
    NC_("job status", "running"),
    NC_("job status", "completed"),
    NC_("job status", "partial"),
    NC_("job status", "failed"),
    NC_("job status", "blocked"),
    NC_("job status", "cancelled"),
}


def jump_url(guild_id: int | None, channel_id: int | None, message_id: int | None) -> str:
    """A link to a message."""
    return f"https://discord.com/channels/{guild_id or '@me'}/{channel_id}/{message_id}"


def describe_job(job: JobRecord, images: list[DeliveredImage]) -> str:
    """The job card: prompt, who, parameters, status and links to each image's message."""
    params = job.params
    kind = pgettext(KIND, job.kind) if job.kind in KINDS else job.kind
    status = pgettext(STATUS, job.status) if job.status in STATUSES else job.status
    asked, references = job.images_requested, int(params.get("references", 0))
    title = _("**Job #{id}**").format(id=job.id)
    lines = [
        f"{title} · {kind} · <@{job.user_id}> · <t:{int(job.created_at)}:R>",
        f"**{text.echo(job.prompt)}**",
        " · ".join(
            [
                text.size_text(str(params.get("size_label") or params.get("size", "?"))),
                ngettext("{count} image asked", "{count} images asked", asked).format(count=asked),
                ngettext("{count} reference image", "{count} reference images", references).format(count=references),
                status,
            ]
        ),
    ]
    links = [
        "[{label}]({url})".format(
            label=_("Image {number}").format(number=number),
            url=jump_url(job.guild_id, image.channel_id, image.message_id),
        )
        for number, image in enumerate(images[:MAX_LINKS], 1)
        if image.message_id
    ]
    if not links:
        lines.append(_("No image of this job reached Discord."))
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

    @app_commands.command(name="job", description=N_("Show a past job of this server with its images and buttons"))
    @app_commands.describe(id=N_("The job number (shown as #123 on results)"))
    @app_commands.guild_only()
    async def job(self, interaction: discord.Interaction, id: app_commands.Range[int, 1]) -> None:
        """Post the job card with the job's buttons: publicly, unless its channel is private and this one is not it."""
        job = visible_job(interaction, await self.store.get_job(id), id, _("There is no job #{id} in this server."))
        images = await self.store.job_images(job.id)
        public = shown_here(interaction, job)  # a public card speaks the server's language, a private one the member's
        guilds = self.store.guilds
        language = await public_language(guilds, interaction.guild_id, interaction.guild_locale) if public else None
        with speaking(language or current_language()):
            card, view = describe_job(job, images), result_view(job.id, len(images))
        await interaction.response.send_message(card, view=view, ephemeral=not public)


async def setup(bot: ImageBot) -> None:
    """Extension entry point."""
    await bot.add_cog(Results(bot.services.store))
