"""/imagine: generate one image or a consistent set, optionally from reference images."""

from __future__ import annotations

import logging
import time

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import ImageBot
from bot.errors import BadAttachment
from bot.imagegen.models import ASPECT_SIZES, MAX_PROMPT_CHARS, MAX_TOTAL_IMAGES, RESOLUTIONS, size_for
from bot.jobs.model import JobSpec
from bot.presentation.access import role_ids
from bot.presentation.buttons import buttons_for
from bot.presentation.launch import Launcher, PendingReference
from bot.presentation.text import size_label
from bot.services import Services
from bot.textclean import code_span

log = logging.getLogger(__name__)

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp", "image/tiff")
RESOLUTION_CHOICES = [app_commands.Choice(name=r, value=r) for r in RESOLUTIONS]
ASPECT_CHOICES = [app_commands.Choice(name=a, value=a) for a in ASPECT_SIZES]


def check_attachment(attachment: discord.Attachment, max_bytes: int) -> None:
    """Refuse obvious non-images and oversized files before anything slow happens."""
    content_type = (attachment.content_type or "").split(";")[0].strip().lower()
    if content_type not in IMAGE_TYPES:
        raise BadAttachment(
            f"{code_span(attachment.filename)} is not an image. Attach PNG, JPEG, WebP, GIF, BMP or TIFF files."
        )
    if attachment.size <= 0:
        raise BadAttachment(f"{code_span(attachment.filename)} is an empty file.")
    if attachment.size > max_bytes:
        raise BadAttachment(
            f"{code_span(attachment.filename)} "
            f"is larger than the {max_bytes // (1024 * 1024)} MB limit for reference images."
        )


def requester(interaction: discord.Interaction) -> tuple[int | None, int | None, int, list[int]]:
    """(guild id, channel id, user id, role ids) of whoever started the interaction, for quota checks."""
    roles = [role.id for role in getattr(interaction.user, "roles", [])]
    return interaction.guild_id, interaction.channel_id, interaction.user.id, roles


class Imagine(commands.Cog):
    """The /imagine command."""

    def __init__(self, bot: ImageBot, services: Services) -> None:
        self.settings = services.settings
        self.tray = services.tray
        self.quotas = services.quotas
        self.launcher = Launcher(bot, services, buttons=buttons_for)

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
        """Check cheaply, then hand over to the Launcher: quotas, cost question, queue, defer, generate, deliver."""
        started = time.monotonic()
        attachments = [a for a in (image1, image2, image3, image4, image5, image6) if a is not None]
        for attachment in attachments:
            check_attachment(attachment, self.settings.reference_max_bytes)
        tray_items = await self.tray.items(interaction.guild_id, interaction.user.id) if use_tray else []
        if use_tray and not tray_items:
            raise BadAttachment("Your reference tray is empty. Use Apps → Add to references on a message first.")
        resolution = resolution or await self.quotas.default_resolution(
            interaction.guild_id, role_ids(interaction.user)
        )
        spec = JobSpec(
            user_id=interaction.user.id,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            prompt=prompt,
            count=count,
            size=size_for(resolution, aspect),
            size_label=size_label(resolution, aspect),
        )
        references = [PendingReference(name=a.filename, url=a.url) for a in attachments]
        references += [PendingReference(name=item.name, url=item.url) for item in tray_items]
        await self.launcher.from_interaction(interaction, spec, references, started=started)


async def setup(bot: ImageBot) -> None:
    """Extension entry point."""
    await bot.add_cog(Imagine(bot, bot.services))
