"""What the result buttons do: reroll, variations, upscale, use as reference, delete."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import discord

from bot.errors import BadInput
from bot.i18n import N_, _
from bot.imagegen.catalog import ASPECT_SIZES, size_for
from bot.imagegen.models import MAX_TOTAL_IMAGES
from bot.jobs.model import JobSpec, result_filename
from bot.presentation import text
from bot.presentation.access import JobGone, job_permissions, shown_here, visible_job
from bot.presentation.gallery import filename_of
from bot.presentation.launch import Launcher, PendingReference
from bot.presentation.poster import ButtonsFactory
from bot.services import Services
from bot.store import DeliveredImage, JobRecord

log = logging.getLogger(__name__)

GONE = N_("Job #{id} no longer exists, so this button does nothing any more.")
VARIATION_COUNT = 4


def closest_aspect(width: int, height: int) -> str:
    """The supported aspect ratio nearest to width:height."""
    ratio = width / height

    def distance(aspect: str) -> float:
        w, h = (int(part) for part in aspect.split(":"))
        return abs(w / h - ratio)

    return min(ASPECT_SIZES, key=distance)


class ResultActions:
    """Runs the button actions for one interaction's member."""

    def __init__(self, client: discord.Client, services: Services, *, buttons: ButtonsFactory) -> None:
        self.launcher = Launcher(client, services, buttons=buttons)
        self.services = services
        self.store = services.store

    async def job(self, interaction: discord.Interaction, job_id: int) -> JobRecord:
        """The job, if it exists here and the member can see its channel; JobGone otherwise."""
        job = await self.store.get_job(job_id)
        return visible_job(interaction, job, job_id, _(GONE))

    async def job_to_repeat(self, interaction: discord.Interaction, job_id: int) -> JobRecord:
        """A job whose prompt a new public job may show here: never one from a channel not everyone here sees."""
        job = await self.job(interaction, job_id)
        if not shown_here(interaction, job):
            raise BadInput(_("Job #{id} was made in a private channel: use its buttons there.").format(id=job.id))
        return job

    async def image(self, job: JobRecord, number: int) -> tuple[DeliveredImage, PendingReference]:
        """Image `number` (1-based) of a job, as a reference read fresh from its message."""
        images = await self.store.job_images(job.id)
        stem = result_filename(job.id, number).rsplit(".", 1)[0]  # .jpg or .png
        found = next((i for i in images if i.url and filename_of(i.url).rsplit(".", 1)[0] == stem), None)
        if found is None and 1 <= number <= len(images):
            found = images[number - 1]
        if found is None or found.message_id is None:
            raise JobGone(_("Image {number} of job #{id} is not available any more.").format(number=number, id=job.id))
        name = filename_of(found.url) if found.url else result_filename(job.id, number)
        return found, PendingReference(name, channel_id=found.channel_id, message_id=found.message_id)

    def spec(self, interaction: discord.Interaction, job: JobRecord, **changes: Any) -> JobSpec:
        """A new job for the member who pressed, from `job`'s prompt and parameters (its model among them)."""
        params = job.params
        values: dict[str, Any] = {
            "user_id": interaction.user.id,
            "guild_id": interaction.guild_id,
            "channel_id": interaction.channel_id,
            "prompt": job.prompt,
            "count": int(params.get("count", job.images_requested)),
            "size": str(params.get("size", self.services.settings.default_resolution)),
            "size_label": str(params.get("size_label", params.get("size", ""))),
            "kind": "reroll",
            "model": params.get("model"),
            "output_format": params.get("output_format"),
            "web_search": bool(params.get("web_search", False)),
        }
        values.update(changes)
        return JobSpec(**values)

    async def reroll(self, interaction: discord.Interaction, job_id: int) -> None:
        """The same prompt, references and options again, as a new job."""
        job = await self.job_to_repeat(interaction, job_id)
        kept = await self.store.references.count(job.id)
        if kept < int(job.params.get("references", 0)):
            raise BadInput(
                _("The reference images of job #{id} are no longer kept, so it can't be rerolled.").format(id=job.id)
            )
        references = [PendingReference(f"reference {n + 1}", kept=(job.id, n)) for n in range(kept)]
        spec = self.spec(interaction, job)

        def preface() -> str:  # written in the new job's public language
            return "🔁 " + _("Reroll of job #{id}").format(id=job.id)

        await self.launcher.from_interaction(interaction, spec, references, preface=preface)

    async def variations(self, interaction: discord.Interaction, job_id: int, number: int) -> None:
        """A new set of VARIATION_COUNT images with this image as the reference."""
        job = await self.job_to_repeat(interaction, job_id)
        _image, reference = await self.image(job, number)
        spec = self.spec(interaction, job, count=min(VARIATION_COUNT, MAX_TOTAL_IMAGES - 1), kind="variations")

        def preface() -> str:  # written in the new job's public language
            return "🎨 " + _("Variations of image {number} of job #{id}").format(number=number, id=job.id)

        await self.launcher.from_interaction(interaction, spec, [reference], preface=preface)

    async def upscale(self, interaction: discord.Interaction, job_id: int, number: int) -> None:
        """This image regenerated at its model's highest resolution (4K, 3K for 5.0 Lite) with itself as the
        reference, keeping its aspect ratio."""
        job = await self.job_to_repeat(interaction, job_id)
        image, reference = await self.image(job, number)
        aspect = closest_aspect(image.width or 1, image.height or 1) if image.width and image.height else None
        catalog = self.services.settings.catalog
        highest = catalog.get(job.params.get("model")).resolutions[-1]
        spec = self.spec(
            interaction,
            job,
            count=1,
            size=size_for(highest, aspect),
            size_label=text.size_label(highest, aspect, catalog.label(job.params.get("model"))),
            kind="upscale",
        )

        def preface() -> str:  # written in the new job's public language
            return "⬆️ " + _("Upscale of image {number} of job #{id}").format(number=number, id=job.id)

        await self.launcher.from_interaction(interaction, spec, [reference], preface=preface)

    async def use_as_reference(self, interaction: discord.Interaction, job_id: int, number: int) -> None:
        """Put this image into the member's reference tray."""
        job = await self.job(interaction, job_id)
        image, reference = await self.image(job, number)
        await interaction.response.defer(ephemeral=True, thinking=True)
        url = await self.launcher.fresh_url(reference)
        tray = self.services.tray
        added, full = await tray.add(
            interaction.guild_id,
            interaction.user.id,
            [(reference.name, url)],
            channel_id=image.channel_id or 0,
            message_id=image.message_id or 0,
        )
        held = len(await tray.items(interaction.guild_id, interaction.user.id))
        if full:
            message = _("Your reference tray is full ({held}/{limit}). Remove something with `/tray` first.")
        elif added:
            message = "📌 " + _("Added image {number} of job #{id} to your references ({held}/{limit}).")
        else:
            message = _("Image {number} of job #{id} is already in your references ({held}/{limit}).")
        message = message.format(number=number, id=job.id, held=held, limit=tray.limit)
        await interaction.followup.send(message, ephemeral=True)

    async def delete(self, interaction: discord.Interaction, job_id: int) -> None:
        """Delete a job's messages: only its requester or members who can manage messages in the job's channel."""
        job = await self.job(interaction, job_id)
        permissions = job_permissions(interaction, job) or discord.Permissions.none()
        if interaction.user.id != job.user_id and not permissions.manage_messages:
            raise BadInput(_("Only the member who asked for these images, or a moderator, can delete them."))
        await interaction.response.defer(ephemeral=True, thinking=True)
        targets = {(i.channel_id, i.message_id) for i in await self.store.job_images(job.id) if i.message_id}
        if interaction.message is not None and not interaction.message.flags.ephemeral:
            targets.add((interaction.message.channel.id, interaction.message.id))
        for channel_id, message_id in targets:
            channel: Any = self.launcher.client.get_partial_messageable(channel_id or interaction.channel_id or 0)
            with contextlib.suppress(discord.NotFound):
                await channel.get_partial_message(message_id).delete()
        log.info("job %s: %d message(s) deleted by user %s", job.id, len(targets), interaction.user.id)
        deleted = _("Deleted the messages of job #{id}.").format(id=job.id)
        await interaction.followup.send(f"🗑️ {deleted}", ephemeral=True)
