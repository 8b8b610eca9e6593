"""/imagine: generate one image or a consistent set, optionally from reference images."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import ImageBot
from bot.errors import BadAttachment, UserFacingError
from bot.imagegen.models import ASPECT_SIZES, MAX_PROMPT_CHARS, MAX_TOTAL_IMAGES, RESOLUTIONS, size_for
from bot.jobs import JobRunner, JobSpec, ReferenceInput
from bot.presentation.buttons import buttons_for
from bot.presentation.guards import confirm_cost, report_to_modlog
from bot.presentation.launch import KeepReferences
from bot.presentation.poster import ResultPoster
from bot.presentation.recovery import NOT_STARTED, origin_for
from bot.presentation.text import size_label
from bot.quotas import QuotaService
from bot.references import ReferenceFetcher
from bot.scheduler import Ticket
from bot.settings import Settings
from bot.store import UsageStore
from bot.tray import ReferenceTray, TrayItem

log = logging.getLogger(__name__)

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp", "image/tiff")
RESOLUTION_CHOICES = [app_commands.Choice(name=r, value=r) for r in RESOLUTIONS]
ASPECT_CHOICES = [app_commands.Choice(name=a, value=a) for a in ASPECT_SIZES]


def check_attachment(attachment: discord.Attachment, max_bytes: int) -> None:
    """Refuse obvious non-images and oversized files before anything slow happens."""
    content_type = (attachment.content_type or "").split(";")[0].strip().lower()
    if content_type not in IMAGE_TYPES:
        raise BadAttachment(f"`{attachment.filename}` is not an image. Attach PNG, JPEG, WebP, GIF, BMP or TIFF files.")
    if attachment.size <= 0:
        raise BadAttachment(f"`{attachment.filename}` is an empty file.")
    if attachment.size > max_bytes:
        raise BadAttachment(
            f"`{attachment.filename}` is larger than the {max_bytes // (1024 * 1024)} MB limit for reference images."
        )


def requester(interaction: discord.Interaction) -> tuple[int | None, int | None, int, list[int]]:
    """(guild id, channel id, user id, role ids) of whoever started the interaction, for quota checks."""
    roles = [role.id for role in getattr(interaction.user, "roles", [])]
    return interaction.guild_id, interaction.channel_id, interaction.user.id, roles


class Imagine(commands.Cog):
    """The /imagine command."""

    def __init__(
        self,
        settings: Settings,
        jobs: JobRunner,
        references: ReferenceFetcher,
        tray: ReferenceTray,
        store: UsageStore,
        quotas: QuotaService,
    ) -> None:
        self.settings = settings
        self.jobs = jobs
        self.references = references
        self.tray = tray
        self.store = store
        self.quotas = quotas

    @app_commands.command(description="Generate images with Seedream 4.0")
    @app_commands.describe(
        prompt="What to draw; for a set, describe how the images relate",
        count=f"How many images (1-{MAX_TOTAL_IMAGES}); more than one makes a consistent set",
        resolution="1K, 2K or 4K (default set by the server owner)",
        aspect="Aspect ratio; leave empty to let the prompt decide",
        image1="Reference image to edit or blend",
        image2="Another reference image",
        image3="Another reference image",
        image4="Another reference image",
        image5="Another reference image",
        image6="Another reference image",
        use_tray="Also use the images in your reference tray (Apps → Add to references)",
    )
    @app_commands.choices(resolution=RESOLUTION_CHOICES, aspect=ASPECT_CHOICES)
    @app_commands.guild_only()
    async def imagine(
        self,
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, MAX_PROMPT_CHARS],
        count: app_commands.Range[int, 1, MAX_TOTAL_IMAGES] = 1,
        resolution: str | None = None,
        aspect: str | None = None,
        image1: discord.Attachment | None = None,
        image2: discord.Attachment | None = None,
        image3: discord.Attachment | None = None,
        image4: discord.Attachment | None = None,
        image5: discord.Attachment | None = None,
        image6: discord.Attachment | None = None,
        use_tray: bool = False,
    ) -> None:
        """Check cheaply, defer at once, then fetch references, generate and deliver."""
        started = time.monotonic()
        attachments = [a for a in (image1, image2, image3, image4, image5, image6) if a is not None]
        for attachment in attachments:
            check_attachment(attachment, self.settings.reference_max_bytes)
        tray_items = self.tray.items(interaction.guild_id, interaction.user.id) if use_tray else []
        if use_tray and not tray_items:
            raise BadAttachment("Your reference tray is empty. Use Apps → Add to references on a message first.")
        # Limits, channels, blocked words: a refusal is answered privately and costs nothing.
        admission = await self.quotas.admit(*requester(interaction), count, resolution, prompt)
        resolution = admission.resolution
        spec = JobSpec(
            user_id=interaction.user.id,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            prompt=prompt,
            count=count,
            size=size_for(resolution, aspect),
            size_label=size_label(resolution, aspect),
            watermark=admission.watermark,
        )
        with admission.released_on_error():
            self.jobs.check(spec, references=len(attachments) + len(tray_items))  # BadInput: answered privately
            confirmed = await confirm_cost(interaction, admission, count=count, resolution=resolution)
        if confirmed is None:
            return
        interaction = confirmed  # the "Generate" click when the cost had to be confirmed
        with admission.released_on_error():
            ticket, callback = await self._acknowledge(interaction)
        poster = ResultPoster.after_defer(
            interaction,
            callback,
            self.settings,
            prompt=prompt,
            size_label=spec.size_label,
            started=started,
            buttons=buttons_for,
        )
        origin = origin_for(interaction, callback, self.settings, started)
        try:
            async with self.jobs.preparing(lambda: interaction.edit_original_response(content=NOT_STARTED)):
                references = await asyncio.gather(
                    *(self._download(a) for a in attachments), *(self._from_tray(i) for i in tray_items)
                )
                spec = dataclasses.replace(spec, references=tuple(references), origin=origin)
                prepared = await self.jobs.prepare(spec)
        except BaseException as error:
            if isinstance(error, UserFacingError):
                log.info("refused /imagine by user %s after acknowledging: %s", interaction.user.id, error.code)
            ticket.release()
            admission.release()
            if not isinstance(error, UserFacingError):
                raise
            await interaction.edit_original_response(content=f"❌ {error.message}")
            return
        keep_days = self.settings.keep_references_days
        delivery = KeepReferences(poster, self.store, prepared.references, keep_days=keep_days)
        outcome = await self.jobs.run(prepared, delivery, ticket)
        await report_to_modlog(interaction.client, admission.limits.modlog_channel, prepared.spec, outcome)

    async def _acknowledge(self, interaction: discord.Interaction) -> tuple[Ticket, Any]:
        """Take a place in the queue (QueueFull is answered privately), then defer publicly."""
        ticket = self.jobs.reserve(interaction.user.id)
        try:
            return ticket, await interaction.response.defer(thinking=True)
        except BaseException:
            ticket.release()
            raise

    async def _download(self, attachment: discord.Attachment) -> ReferenceInput:
        data = await self.references.fetch(attachment.url, attachment.filename)
        return ReferenceInput(name=attachment.filename, data=data, url=attachment.url)

    async def _from_tray(self, item: TrayItem) -> ReferenceInput:
        data = await self.references.fetch(item.url, item.name)
        return ReferenceInput(name=item.name, data=data, url=item.url)


async def setup(bot: ImageBot) -> None:
    """Extension entry point."""
    services = bot.services
    await bot.add_cog(
        Imagine(services.settings, services.jobs, services.references, services.tray, services.store, services.quotas)
    )
