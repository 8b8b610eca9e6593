"""Launcher: starts jobs from Discord (an interaction or a plain message) through the admission gate."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.errors import BadAttachment, BadInput, StoreFailed, UserFacingError
from bot.i18n import N_, _, current_language, ngettext, number, speaking
from bot.imagegen.catalog import resolution_of
from bot.jobs.admission import Admitted
from bot.jobs.model import Delivery, JobSpec, PreparedJob, ReferenceInput
from bot.jobs.prepare import prepare as prepare_job
from bot.jobs.prepare import stored_params
from bot.logs import set_job
from bot.presentation import text
from bot.presentation.access import role_ids
from bot.presentation.gallery import images_of
from bot.presentation.guards import CostQuestion, cost_words
from bot.presentation.message_poster import MessagePoster, upload_limit_for
from bot.presentation.poster import ButtonsFactory
from bot.presentation.result_poster import ResultPoster
from bot.presentation.speaking import public_language
from bot.quotas import QuotaGrant
from bot.services import Services
from bot.settings import Settings
from bot.store.journal import Origin, StoredReference

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


NOT_STARTED = N_("⏸ The bot restarted before your request started, so nothing was spent. Please try again in a minute.")

Prepare = Callable[[JobSpec], Awaitable[PreparedJob]]
# Text shown above a job's public result; a function writes it when called, in the job's public language.
Preface = str | Callable[[], str | None] | None


def written(preface: Preface) -> str | None:
    """A preface's text, in the current language."""
    return preface() if callable(preface) else preface


def not_started(language: str | None) -> str:
    """The status line of a job the bot stopped before it was queued, in the job's (public) language."""
    with speaking(language):
        return _(NOT_STARTED)


def origin_for(
    interaction: discord.Interaction, callback: Any, settings: Settings, started: float | None = None
) -> Origin:
    """What the journal keeps about the interaction a job answers (its token expires 15 minutes after it came)."""
    waited = 0.0 if started is None else time.monotonic() - started
    return Origin(
        interaction_id=interaction.id,
        token=interaction.token,
        token_expires_at=time.time() - waited + settings.interaction_token_ttl,
        status_message_id=getattr(callback, "message_id", None),
        upload_limit=interaction.filesize_limit,
    )


class Launcher:
    """The Discord side of starting a job: the gate (with the cost question), the defer, references, posters."""

    def __init__(self, client: discord.Client, services: Services, *, buttons: ButtonsFactory | None = None) -> None:
        self.client = client
        self.services = services
        self.buttons = buttons

    async def from_interaction(
        self,
        interaction: discord.Interaction,
        spec: JobSpec,
        references: Sequence[PendingReference],
        *,
        preface: Preface = None,
        started: float | None = None,
    ) -> None:
        """Admit (refusals raise before the defer, so they are private), defer publicly, load, run, deliver."""
        await self.start(
            interaction, spec, len(references), lambda s: self.prepare(s, references), preface=preface, started=started
        )

    async def start(
        self,
        interaction: discord.Interaction,
        spec: JobSpec,
        references: int,
        prepare: Prepare,
        *,
        preface: Preface = None,
        started: float | None = None,
        on_defer: Callable[[discord.Interaction], Awaitable[None]] | None = None,
    ) -> int | None:
        """Admit, defer, prepare and queue a job answering `interaction`; its id, or None when it did not start."""
        started = time.monotonic() if started is None else started
        question = CostQuestion(interaction, count=spec.count, resolution=resolution_of(spec.size) or spec.size)
        answers, first = self.services.first_answers, interaction.id

        async def ask(grant: QuotaGrant) -> bool:
            answers.answered(first)  # the question is its first answer
            return await question(grant)

        async with answers.answering(first, member=interaction.user.id):
            if answers.too_late(started):  # waited for its turn past Discord's deadline (a burst on a busy machine)
                log.warning("not starting %s of user %s: too late to answer it", spec.kind, interaction.user.id)
                return None
            # Stored with the reservation: if this process dies before the job is queued, the sweeper tells the member.
            language = await public_language(self.services.store.guilds, interaction.guild_id, interaction.guild_locale)
            spec = dataclasses.replace(
                spec, origin=origin_for(interaction, None, self.services.settings, started), language=language
            )
            admitted = await self.services.admission.admit(
                spec,
                role_ids(interaction.user),
                references=references,
                ask=ask,
                manager=interaction.permissions.manage_guild and interaction.guild_id is not None,
            )
            if admitted is None:  # cancelled or not answered: nothing is spent
                return None
            with speaking(spec.language):  # shown above the public result: in its language, not the member's
                shown = written(preface)
            interaction = question.interaction  # the "Generate" click when the cost had to be confirmed
            async with admitted.released_on_error():
                callback = await interaction.response.defer(thinking=True)
            answers.answered(first)
        if on_defer is not None:
            await on_defer(interaction)
        poster = self._poster(interaction, callback, spec, started, shown)
        member = current_language()  # the member's, here: what only they are told later is written in it
        poster.language, poster.member_language = spec.language, member
        origin = origin_for(interaction, callback, self.services.settings, started)
        spec = dataclasses.replace(admitted.spec, origin=origin)
        stopped = not_started(spec.language)
        try:
            with speaking(spec.language):  # from the public defer on, refusals show in the channel
                async with self.services.jobs.preparing(lambda: interaction.edit_original_response(content=stopped)):
                    await answers.settled()  # the interactions still waiting for their first answer go first
                    prepared = await prepare(spec)
                await self.queue(admitted, prepared, poster, shown, member_language=member)
        except BaseException as error:
            await asyncio.shield(admitted.release())
            if not isinstance(error, UserFacingError):
                raise
            log.info("refused %s by user %s after acknowledging: %s", spec.kind, interaction.user.id, error.code)
            await interaction.edit_original_response(content=f"❌ {error.message}")
            return None
        return admitted.job_id

    def _poster(
        self, interaction: discord.Interaction, callback: Any, spec: JobSpec, started: float, preface: str | None
    ) -> ResultPoster:
        return ResultPoster.after_defer(
            interaction,
            callback,
            self.services.settings,
            prompt=spec.prompt,
            size_label=spec.size_label,
            started=started,
            buttons=self.buttons,
            preface=preface,
        )

    async def from_message(
        self,
        message: discord.Message,
        spec: JobSpec,
        references: Sequence[PendingReference],
        *,
        preface: Preface = None,
    ) -> None:
        """Admit (a refusal raises before anything is posted), reply with a status message, run, deliver."""

        guild = message.guild
        language = await public_language(
            self.services.store.guilds, guild.id if guild else None, guild.preferred_locale if guild else None
        )
        with speaking(language):  # a plain message is answered publicly: in the server's language
            await self._from_message(message, spec, references, language, written(preface))

    async def _from_message(
        self,
        message: discord.Message,
        spec: JobSpec,
        references: Sequence[PendingReference],
        language: str,
        preface: str | None,
    ) -> None:
        async def point_to_the_commands(grant: QuotaGrant) -> bool:  # a plain message cannot ask privately
            images = ngettext("{count} image", "{count} images", spec.count).format(count=number(spec.count))
            raise BadInput(
                _(
                    "That would make {images}{cost}, which needs a confirmation. "
                    "Use `/imagine` or Apps → Blend with prompt…, which ask you first."
                ).format(images=images, cost=cost_words(grant))
            )

        limit = upload_limit_for(message)
        origin = Origin(upload_limit=limit, kind="message", reply_to_id=message.id)
        spec = dataclasses.replace(spec, origin=origin, language=language)
        author = message.author
        admitted = await self.services.admission.admit(
            spec,
            role_ids(author),
            references=len(references),
            ask=point_to_the_commands,
            manager=isinstance(author, discord.Member) and author.guild_permissions.manage_guild,
        )
        if admitted is None:  # not reached: the question above refuses instead of saying no
            return
        head = text.header(spec.prompt, message.author.mention)
        status_text = f"{preface}\n{head}" if preface else head
        async with admitted.released_on_error():
            getting = _("Getting the reference images…")
            status = await message.reply(f"{status_text}\n⏳ {getting}", mention_author=False)
        poster = MessagePoster(
            message,
            status,
            requester=message.author.mention,
            upload_limit=limit,
            prompt=spec.prompt,
            size_label=spec.size_label,
            buttons=self.buttons,
            preface=preface,
        )
        poster.language = language
        origin = Origin(status_message_id=status.id, upload_limit=limit, kind="message", reply_to_id=message.id)
        spec = dataclasses.replace(admitted.spec, origin=origin)
        try:
            stopped = f"{status_text}\n{not_started(language)}"
            async with self.services.jobs.preparing(lambda: status.edit(content=stopped)):
                prepared = await self.prepare(spec, references)
            await self.queue(admitted, prepared, poster, preface)
        except BaseException as error:
            await asyncio.shield(admitted.release())
            if not isinstance(error, UserFacingError):
                raise
            await status.edit(content=f"{status_text}\n❌ {error.message}")

    async def prepare(self, spec: JobSpec, references: Sequence[PendingReference]) -> PreparedJob:
        """Load every reference (concurrently) and let the JobRunner check and prepare the job.

        At most PREPARING_AT_ONCE jobs of the process do so at a time (`Services.preparing`): a burst's downloads
        would otherwise all be held in memory (megabytes each) while they wait for the few decoder processes.
        """
        if not references:
            return await prepare_job(self.services.settings, spec, encode=False)
        async with self.services.preparing:
            loaded = await asyncio.gather(*(self.load(reference) for reference in references))
            spec = dataclasses.replace(spec, references=tuple(loaded))
            return await prepare_job(self.services.settings, spec, encode=False)  # the worker encodes when it sends

    async def queue(
        self,
        admitted: Admitted,
        prepared: PreparedJob,
        delivery: Delivery,
        preface: str | None,
        *,
        member_language: str | None = None,
    ) -> None:
        """Store the prepared job (parameters, origin, references) and put it in line; a worker runs it.

        Until a worker starts it, this process keeps its status line at its place in line.
        """
        spec = prepared.spec
        params = stored_params(
            prepared, preface=preface, buttons=self.buttons is not None, member_language=member_language
        )
        references = [StoredReference(r.mime, r.width, r.height, r.data) for r in prepared.references]
        store = self.services.store
        try:
            queued = await store.queue.enqueue(
                admitted.job_id,
                params=params,
                origin=spec.origin or Origin(),
                references=references,
                resumes=spec.resumes,
                model=prepared.request.model,
                size=prepared.request.size,
            )
            if queued and spec.resumes:
                await store.journal.link_retry(spec.resumes, admitted.job_id)
        except Exception as error:
            log.warning("job %s: could not be queued", admitted.job_id, exc_info=True)
            raise StoreFailed() from error
        if not queued:  # its reservation ran out while the references loaded
            raise UserFacingError(
                _("That took too long to prepare, so nothing was made. Please try again."), code="expired"
            )
        set_job(admitted.job_id)
        log.info("job %s queued: %s of %d image(s)", admitted.job_id, spec.kind, spec.count)
        await self.services.board.add(admitted.job_id, delivery, spec.count)

    async def load(self, reference: PendingReference) -> ReferenceInput:
        """The bytes of one reference image."""
        if reference.data is not None:
            return ReferenceInput(name=reference.name, data=reference.data)
        if reference.kept is not None:
            kept = await self.services.store.references.load_one(*reference.kept)
            if kept is None:
                raise BadAttachment(
                    _("{file} is no longer kept, so it can't be used again.").format(file=text.code(reference.name))
                )
            return ReferenceInput(name=reference.name, data=kept.data)
        url = reference.url
        if url is None:
            url = await self.fresh_url(reference)
        data = await self.services.references.fetch(url, reference.name)
        return ReferenceInput(name=reference.name, data=data, url=url)

    async def fresh_url(self, reference: PendingReference) -> str:
        """Re-fetch the message that holds an attachment, for a URL that has not expired."""
        if reference.channel_id is None or reference.message_id is None:
            raise BadAttachment(_("{file} can no longer be found.").format(file=text.code(reference.name)))
        channel = self.client.get_partial_messageable(reference.channel_id)
        try:
            message = await channel.fetch_message(reference.message_id)
        except discord.NotFound:
            raise BadAttachment(_("That image was deleted, so it can't be used any more.")) from None
        except discord.HTTPException as error:
            raise BadAttachment(
                _("That image could not be read from Discord (HTTP {status}).").format(status=error.status)
            ) from None
        for image in images_of(message):  # attachments, and the files a gallery shows
            if image.filename == reference.name:
                return image.url
        raise BadAttachment(_("That image is no longer attached to its message, so it can't be used."))
