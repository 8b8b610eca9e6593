"""Launcher: the one way every job is started, from an interaction or from a plain message."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

import discord

from bot.errors import BadAttachment, BadInput, UserFacingError
from bot.imagegen.models import resolution_of
from bot.jobs import Delivery, JobSpec, Outcome, PreparedJob, ReferenceInput
from bot.presentation import text
from bot.presentation.guards import confirm_cost, report_to_modlog
from bot.presentation.message_poster import MessagePoster
from bot.presentation.poster import ButtonsFactory, ResultPoster
from bot.presentation.recovery import NOT_STARTED, RESTARTING, origin_for
from bot.quotas import Admission
from bot.scheduler import Ticket
from bot.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PendingReference:
    """A reference to load after the member was answered: bytes, a CDN URL, or an attachment of a message.

    URLs of attachments expire, so an image in a message is given by message and file name and its URL is
    read from a fresh copy of the message when the job runs.
    """

    name: str
    data: bytes | None = None
    url: str | None = None
    channel_id: int | None = None
    message_id: int | None = None
    kept: tuple[int, int] | None = None  # (job id, index) of a reference kept in the database


def filename_of(url: str) -> str:
    """The file name at the end of an attachment URL."""
    return unquote(PurePosixPath(urlsplit(url).path).name)


@dataclass(slots=True)
class Admitted:
    """A job that passed the quotas (holding its reservation) and holds a place in the queue."""

    admission: Admission
    ticket: Ticket

    def release(self) -> None:
        """The job will not run: give back the quota reservation and the queue place."""
        self.admission.release()
        self.ticket.release()


class Launcher:
    """Admits, acknowledges, loads references, prepares and runs jobs; every job start goes through here."""

    def __init__(self, client: discord.Client, services: Services, *, buttons: ButtonsFactory | None = None) -> None:
        self.client = client
        self.services = services
        self.buttons = buttons

    async def admit(self, spec: JobSpec, member: discord.abc.User, *, references: int) -> Admitted:
        """The single gate before anything is acknowledged: raise a UserFacingError to refuse the job.

        Quotas, channels and blocked words first (they count this job like any other), then the instant checks,
        then a place in the queue (QueueFull is a refusal too). The caller must run or release what it gets.
        """
        if getattr(self.client, "closing", False):  # shutting down: buttons and mentions bypass the tree's check
            raise UserFacingError(RESTARTING, code="restarting")
        roles = [role.id for role in getattr(member, "roles", [])]
        admission = await self.services.quotas.admit(
            spec.guild_id, spec.channel_id, member.id, roles, spec.count, resolution_of(spec.size), spec.prompt
        )
        with admission.released_on_error():
            self.services.jobs.check(spec, references=references)
            return Admitted(admission, self.services.jobs.reserve(member.id))

    @staticmethod
    def _with_server_defaults(spec: JobSpec, admitted: Admitted) -> JobSpec:
        if spec.watermark is not None:
            return spec
        return dataclasses.replace(spec, watermark=admitted.admission.watermark)

    async def from_interaction(
        self,
        interaction: discord.Interaction,
        spec: JobSpec,
        references: Sequence[PendingReference],
        *,
        preface: str | None = None,
        started: float | None = None,
    ) -> None:
        """Admit (refusals raise before the defer, so they are private), defer publicly, run, deliver."""
        started = time.monotonic() if started is None else started
        admitted = await self.admit(spec, interaction.user, references=len(references))
        try:
            resolution = resolution_of(spec.size) or spec.size
            confirmed = await confirm_cost(interaction, admitted.admission, count=spec.count, resolution=resolution)
            if confirmed is None:  # cancelled or not answered: nothing is spent
                admitted.release()
                return
            interaction = confirmed  # the "Generate" click when the cost had to be confirmed
            callback = await interaction.response.defer(thinking=True)
        except BaseException:
            admitted.release()
            raise
        settings = self.services.settings
        poster = ResultPoster.after_defer(
            interaction,
            callback,
            settings,
            prompt=spec.prompt,
            size_label=spec.size_label,
            started=started,
            buttons=self.buttons,
            preface=preface,
        )
        spec = self._with_server_defaults(spec, admitted)
        spec = dataclasses.replace(spec, origin=origin_for(interaction, callback, settings, started))
        try:
            async with self.services.jobs.preparing(lambda: interaction.edit_original_response(content=NOT_STARTED)):
                prepared = await self.prepare(spec, references)
        except BaseException as error:
            admitted.release()
            if not isinstance(error, UserFacingError):
                raise
            log.info("refused %s by user %s after acknowledging: %s", spec.kind, interaction.user.id, error.code)
            await interaction.edit_original_response(content=f"❌ {error.message}")
            return
        await self.run(prepared, poster, admitted)

    async def from_message(
        self,
        message: discord.Message,
        spec: JobSpec,
        references: Sequence[PendingReference],
        *,
        preface: str | None = None,
    ) -> None:
        """Admit (a refusal raises before anything is posted), reply with a status message, run, deliver."""
        admitted = await self.admit(spec, message.author, references=len(references))
        if admitted.admission.needs_confirmation:  # a plain message cannot ask privately: point to what can
            admitted.release()
            raise BadInput(
                f"That would make {text.plural(spec.count, 'image')}, an estimated "
                f"**${admitted.admission.estimated_cost:.2f}**, which needs a confirmation. Use `/imagine` or "
                "Apps → Blend with prompt…, which ask you first."
            )
        spec = self._with_server_defaults(spec, admitted)
        head = text.header(spec.prompt, message.author.mention)
        status_text = f"{preface}\n{head}" if preface else head
        try:
            status = await message.reply(f"{status_text}\n⏳ Getting the reference images…", mention_author=False)
            poster = MessagePoster(
                message, status, prompt=spec.prompt, size_label=spec.size_label, buttons=self.buttons, preface=preface
            )
            async with self.services.jobs.preparing(lambda: status.edit(content=f"{status_text}\n{NOT_STARTED}")):
                prepared = await self._prepare_or_explain(spec, references, status, status_text)
        except BaseException:
            admitted.release()
            raise
        if prepared is None:
            admitted.release()
            return
        await self.run(prepared, poster, admitted)

    async def _prepare_or_explain(
        self, spec: JobSpec, references: Sequence[PendingReference], status: discord.Message, status_text: str
    ) -> PreparedJob | None:
        try:
            return await self.prepare(spec, references)
        except UserFacingError as error:
            await status.edit(content=f"{status_text}\n❌ {error.message}")
            return None

    async def prepare(self, spec: JobSpec, references: Sequence[PendingReference]) -> PreparedJob:
        """Load every reference (concurrently) and let the JobRunner check and prepare the job."""
        loaded = await asyncio.gather(*(self.load(reference) for reference in references))
        return await self.services.jobs.prepare(dataclasses.replace(spec, references=tuple(loaded)))

    async def run(self, prepared: PreparedJob, delivery: Delivery, admitted: Admitted) -> Outcome:
        """Run a prepared job in its queue place (references are journalled for Reroll), report it to the mod-log."""
        outcome = await self.services.jobs.run(prepared, delivery, admitted.ticket)
        modlog = admitted.admission.limits.modlog_channel
        await report_to_modlog(self.client, modlog, prepared.spec, outcome)
        return outcome

    async def load(self, reference: PendingReference) -> ReferenceInput:
        """The bytes of one reference image."""
        if reference.data is not None:
            return ReferenceInput(name=reference.name, data=reference.data)
        if reference.kept is not None:
            kept = await self.services.store.references.load_one(*reference.kept)
            if kept is None:
                raise BadAttachment(f"`{reference.name}` is no longer kept, so it can't be used again.")
            return ReferenceInput(name=reference.name, data=kept.data)
        url = reference.url
        if url is None:
            url = await self.fresh_url(reference)
        data = await self.services.references.fetch(url, reference.name)
        return ReferenceInput(name=reference.name, data=data, url=url)

    async def fresh_url(self, reference: PendingReference) -> str:
        """Re-fetch the message that holds an attachment, for a URL that has not expired."""
        if reference.channel_id is None or reference.message_id is None:
            raise BadAttachment(f"`{reference.name}` can no longer be found.")
        channel = self.client.get_partial_messageable(reference.channel_id)
        try:
            message = await channel.fetch_message(reference.message_id)
        except discord.NotFound:
            raise BadAttachment("That image was deleted, so it can't be used any more.") from None
        except discord.HTTPException as error:
            raise BadAttachment(f"That image could not be read from Discord (HTTP {error.status}).") from None
        for attachment in message.attachments:
            if attachment.filename == reference.name:
                return attachment.url
        raise BadAttachment("That image is no longer attached to its message, so it can't be used.")
