"""/imagine: generate one image or a consistent set, optionally from reference images."""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import ImageBot
from bot.errors import BadAttachment
from bot.i18n import N_, _
from bot.imagegen.catalog import ASPECT_SIZES, RESOLUTIONS, Catalog, either, size_for
from bot.imagegen.models import MAX_PROMPT_CHARS, MAX_TOTAL_IMAGES
from bot.jobs.model import JobSpec
from bot.member_settings import FROM_PROMPT
from bot.presentation.access import role_ids
from bot.presentation.buttons import buttons_for
from bot.presentation.launch import Launcher, PendingReference
from bot.presentation.text import size_label
from bot.references import too_large
from bot.services import Services
from bot.textclean import code_span

log = logging.getLogger(__name__)

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp", "image/tiff")
RESOLUTION_CHOICES = [app_commands.Choice(name=r, value=r) for r in RESOLUTIONS]
ASPECT_CHOICES = [app_commands.Choice(name=a, value=a) for a in ASPECT_SIZES] + [
    app_commands.Choice(name=N_("from the prompt (not my /settings default)"), value=FROM_PROMPT)
]
RESOLUTION_DESCRIPTION = N_("Image resolution (default: your /settings, else the server's)")
FORMAT_CHOICES = [app_commands.Choice(name="PNG", value="png"), app_commands.Choice(name="JPEG", value="jpeg")]


def offer_models(command: app_commands.Command[Any, Any, Any], catalog: Catalog) -> None:
    """Fit the options of this bot's copy of a command to the models it offers: `model` lists their friendly names
    (and is left out when there is only one), `resolution` what any of them makes, and `format` and `web_search`
    appear only when an offered model has them. Discord shows what is synced; every choice is checked again
    against the job's model before anything is spent."""
    params = command._params  # this cog instance's own copy of the options (discord.py copies them per binding)

    def fit(name: str, keep: bool, **changes: Any) -> None:
        if name not in params:
            return
        if keep:
            params[name] = dataclasses.replace(params[name], **changes)
        else:
            del params[name]

    names = [app_commands.Choice(name=model.name[:100], value=model.id) for model in catalog.offered]
    fit("model", len(names) > 1, choices=names)
    resolutions = [app_commands.Choice(name=r, value=r) for r in catalog.resolutions]
    fit("resolution", True, choices=resolutions, description=app_commands.locale_str(RESOLUTION_DESCRIPTION))
    # These two name the models that have the option: the command translator looks texts up as they are, so
    # they stay English until it fills placeholders (locale_str extras); the models' names are the point of them.
    png = [model.name for model in catalog.with_format("png")]
    fit("output_format", bool(png), description=f"PNG or JPEG ({either(png)})"[:100])
    search = [model.name for model in catalog.with_tool("web_search")]
    fit("web_search", bool(search), description=f"Let the model search the web first ({either(search)})"[:100])


def check_attachment(attachment: discord.Attachment, max_bytes: int) -> None:
    """Refuse obvious non-images and oversized files before anything slow happens."""
    content_type = (attachment.content_type or "").split(";")[0].strip().lower()
    if content_type not in IMAGE_TYPES:
        raise BadAttachment(
            _("{file} is not an image. Attach PNG, JPEG, WebP, GIF, BMP or TIFF files.").format(
                file=code_span(attachment.filename)
            )
        )
    if attachment.size <= 0:
        raise BadAttachment(_("{file} is an empty file.").format(file=code_span(attachment.filename)))
    if attachment.size > max_bytes:
        raise BadAttachment(too_large(attachment.filename, max_bytes))


def requester(interaction: discord.Interaction) -> tuple[int | None, int | None, int, list[int]]:
    """(guild id, channel id, user id, role ids) of whoever started the interaction, for quota checks."""
    roles = [role.id for role in getattr(interaction.user, "roles", [])]
    return interaction.guild_id, interaction.channel_id, interaction.user.id, roles


class Imagine(commands.Cog):
    """The /imagine command."""

    def __init__(self, bot: ImageBot, services: Services) -> None:
        self.settings = services.settings
        self.tray = services.tray
        self.member_settings = services.member_settings
        self.first_answers = services.first_answers
        self.launcher = Launcher(bot, services, buttons=buttons_for)
        offer_models(self.imagine, services.settings.catalog)

    @app_commands.command(description=N_("Generate images with Seedream"))
    @app_commands.describe(
        prompt=N_("What to draw; for a set, describe how the images relate"),
        model=N_("Which model (default: your /settings, else the server's)"),
        # MAX_TOTAL_IMAGES is 15: tests/unit/test_imagine_texts.py checks the number in the text
        count=N_("How many images (1-15); more than one makes a consistent set (default: /settings)"),
        resolution=RESOLUTION_DESCRIPTION,
        aspect=N_("Aspect ratio (default: your /settings, else the prompt decides)"),
        image1=N_("Reference image to edit or blend"),
        image2=N_("Another reference image"),
        image3=N_("Another reference image"),
        image4=N_("Another reference image"),
        image5=N_("Another reference image"),
        image6=N_("Another reference image"),
        use_tray=N_("Also use the images in your reference tray (Apps → Add to references)"),
        output_format=N_("PNG or JPEG"),
        web_search=N_("Let the model search the web first"),
    )
    @app_commands.choices(resolution=RESOLUTION_CHOICES, aspect=ASPECT_CHOICES, output_format=FORMAT_CHOICES)
    @app_commands.rename(output_format="format")
    @app_commands.guild_only()
    async def imagine(
        self,
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, MAX_PROMPT_CHARS],
        model: str | None = None,
        count: app_commands.Range[int, 1, MAX_TOTAL_IMAGES] | None = None,
        resolution: str | None = None,
        aspect: str | None = None,
        image1: discord.Attachment | None = None,
        image2: discord.Attachment | None = None,
        image3: discord.Attachment | None = None,
        image4: discord.Attachment | None = None,
        image5: discord.Attachment | None = None,
        image6: discord.Attachment | None = None,
        use_tray: bool = False,
        output_format: str | None = None,
        web_search: bool = False,
    ) -> None:
        """Check cheaply, then hand over to the Launcher: quotas, cost question, queue, defer, generate, deliver."""
        started = time.monotonic()
        # In a burst, interactions go to their first answer a few at a time, the members who wait taking turns.
        async with self.first_answers.answering(interaction.id, member=interaction.user.id):
            attachments = [a for a in (image1, image2, image3, image4, image5, image6) if a is not None]
            for attachment in attachments:
                check_attachment(attachment, self.settings.reference_max_bytes)
            tray_items = await self.tray.items(interaction.guild_id, interaction.user.id) if use_tray else []
            if use_tray and not tray_items:
                raise BadAttachment(_("Your reference tray is empty. Use Apps → Add to references on a message first."))
            references = [PendingReference(name=a.filename, url=a.url) for a in attachments]
            references += [PendingReference(name=item.name, url=item.url) for item in tray_items]
            chosen = await self.member_settings.choose(  # empty options take the member's /settings defaults
                interaction.guild_id,
                interaction.user.id,
                role_ids(interaction.user),
                model=model,
                resolution=resolution,
                aspect=aspect,
                count=count,
                references=len(references),
            )
            spec = JobSpec(
                user_id=interaction.user.id,
                guild_id=interaction.guild_id,
                channel_id=interaction.channel_id,
                prompt=prompt,
                count=chosen.count,
                size=size_for(chosen.resolution, chosen.aspect),
                size_label=size_label(chosen.resolution, chosen.aspect, self.settings.catalog.label(chosen.model)),
                model=chosen.model,
                output_format=output_format,
                web_search=web_search,
            )

            def notes() -> str | None:  # above the public result: written in its language
                return "\n".join(chosen.notes) or None

            await self.launcher.from_interaction(interaction, spec, references, preface=notes, started=started)


async def setup(bot: ImageBot) -> None:
    """Extension entry point."""
    await bot.add_cog(Imagine(bot, bot.services))
