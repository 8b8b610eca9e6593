"""RestDeliveries: a worker's way to Discord, built from what the journal stored (no gateway connection needed).

An interaction job is answered through its token while the token is valid (editing the deferred message,
followups), then in its channel with the bot token; a job started from a plain message edits its status reply
and replies to the member's message.
"""

from __future__ import annotations

import time

import discord

from bot.i18n import ngettext, speaking
from bot.jobs.model import Delivery, Outcome, spec_of
from bot.jobs.worker import StoredJob
from bot.presentation.buttons import buttons_for
from bot.presentation.guards import report_to_modlog
from bot.presentation.message_poster import MessagePoster
from bot.presentation.recovery import (
    TokenInteraction,
    interrupted_notice,
    not_started_notice,
    reconcile,
    retry_controls,
    tell_member,
)
from bot.presentation.replies import token_expired
from bot.presentation.result_poster import ResultPoster
from bot.quotas import QuotaService
from bot.settings import Settings
from bot.store import UsageStore


class RestDeliveries:
    """The `JobDeliveries` of the Discord bot: posters from stored origins, reconciling, notices, the mod-log."""

    def __init__(self, client: discord.Client, settings: Settings, store: UsageStore, quotas: QuotaService) -> None:
        self.client = client
        self.settings = settings
        self.store = store
        self.quotas = quotas

    async def delivery(self, job: StoredJob, *, continuing: bool) -> Delivery:
        """A poster for the job's origin; a continued job's new images go below what was already posted."""
        record, entry = job.record, job.entry
        params = record.params
        buttons = buttons_for if params.get("buttons", True) else None
        preface = params.get("preface")
        if entry is not None and entry.origin_kind == "message":
            channel = self.client.get_partial_messageable(record.channel_id or 0, guild_id=record.guild_id)
            status = channel.get_partial_message(entry.status_message_id) if entry.status_message_id else None
            message_poster = MessagePoster(
                channel.get_partial_message(entry.reply_to_id or entry.status_message_id or 0),
                None if continuing else status,
                requester=f"<@{record.user_id}>",
                upload_limit=entry.upload_limit or discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES,
                prompt=record.prompt,
                size_label=str(params.get("size_label", "")),
                buttons=buttons,
                preface=preface,
            )
            message_poster.language = record.language
            return message_poster
        interaction = TokenInteraction(self.client, record, entry)
        now, ttl = time.time(), self.settings.interaction_token_ttl
        expires = entry.token_expires_at if entry is not None and entry.token_valid(now) else now - 1
        poster = ResultPoster(
            interaction,  # type: ignore[arg-type]
            prompt=record.prompt,
            size_label=str(params.get("size_label", "")),
            token_ttl=ttl,
            safety_margin=self.settings.token_safety_margin,
            original_id=entry.status_message_id if entry else None,
            started=time.monotonic() - ttl + ((expires or now) - now),
            buttons=buttons,
            preface=preface,
        )
        poster.language = record.language
        member = params.get("member_language")
        poster.member_language = str(member) if member else None
        if continuing and poster.token_alive():  # new images go below the notice, never over the delivered ones
            try:
                with speaking(record.language):
                    more = ngettext("{count} more…", "{count} more…", job.owed).format(count=job.owed)
                message = await interaction.followup.send(f"⏳ {more}", wait=True)
                interaction.message_id = message.id
            except discord.HTTPException as error:
                if not token_expired(error):
                    raise
                poster.token_dead()
        return poster

    async def reconcile(self, job: StoredJob) -> int:
        """Images the last worker posted but never recorded are recorded (and counted) now."""
        return await reconcile(self.client, self.store, job.record, job.entry, time.time())

    async def interrupted(self, job: StoredJob, *, resuming: bool) -> None:
        """The notice on the job's status message (or in its channel), with Retry when it does not continue."""
        with speaking(job.record.language):  # a public notice: its Retry button in the job's language too
            controls = retry_controls(job.record.id) if job.owed and not resuming else None
        notice = interrupted_notice(job.record, resuming=resuming)
        await tell_member(self.client, job.record, job.entry, notice, controls, time.time())

    async def finished(self, job: StoredJob, outcome: Outcome) -> None:
        """Tell the server's mod-log, if it has one."""
        limits = await self.quotas.limits(job.record.guild_id or 0)
        await report_to_modlog(
            self.client, limits.modlog_channel, spec_of(job.record, count=outcome.requested), outcome
        )

    async def not_started(self, job: StoredJob) -> None:
        """Its status message (or its channel) says the request was never started and nothing was spent."""
        await tell_member(self.client, job.record, job.entry, not_started_notice(job.record), None, time.time())
