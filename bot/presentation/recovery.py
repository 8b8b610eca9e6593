"""Answering journalled jobs after a restart, over REST: the token adapter, the Retry button, the notices."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

import discord

from bot.errors import UserFacingError
from bot.i18n import N_, _, ngettext, speaking
from bot.jobs.model import JobSpec, PreparedJob
from bot.presentation import text
from bot.presentation.buttons import services_of
from bot.presentation.gallery import Body, Controls, body_of, images_of
from bot.presentation.launch import NOT_STARTED, Launcher
from bot.presentation.replies import tell, token_expired
from bot.store import JobRecord, UsageStore
from bot.store.journal import JournalEntry

log = logging.getLogger(__name__)


class _Requester:
    def __init__(self, user_id: int) -> None:
        self.id = user_id
        self.mention = f"<@{user_id}>"


class TokenInteraction:
    """The parts of an Interaction that ResultPoster uses, rebuilt after a restart from the journal."""

    def __init__(self, bot: discord.Client, record: JobRecord, entry: JournalEntry | None) -> None:
        token = entry.interaction_token if entry else None
        # The interaction's own follow-up webhook (type 3, "application"), as discord.py builds it: it may send
        # ephemeral messages, which a plain partial webhook may not.
        payload = {"id": bot.application_id or 0, "type": 3, "token": token or "expired"}
        self.followup = discord.Webhook.from_state(data=payload, state=bot._connection)  # type: ignore[arg-type]
        self.channel_id = record.channel_id
        self.guild_id = record.guild_id
        self.channel = bot.get_partial_messageable(record.channel_id or 0, guild_id=record.guild_id)
        self.filesize_limit = (entry.upload_limit if entry else None) or discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES
        self.user = _Requester(record.user_id)
        self.message_id: int | str = "@original"

    async def edit_original_response(self, **fields: Any) -> discord.WebhookMessage:
        """Edit the journalled status message through the interaction token."""
        return await self.followup.edit_message(self.message_id, **fields)  # type: ignore[arg-type]

    async def original_response(self) -> discord.WebhookMessage:
        """The journalled status message, read through the interaction token."""
        return await self.followup.fetch_message(self.message_id)  # type: ignore[arg-type]

    async def delete_original_response(self) -> None:
        """Delete the journalled status message through the interaction token."""
        await self.followup.delete_message(self.message_id)  # type: ignore[arg-type]


RETRY = N_("Retry")


class RetryButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"img:retry:(?P<job>\d+)"):
    """Retry an interrupted job: generates the images it still owes, as a new job."""

    def __init__(self, job_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=_(RETRY), emoji="🔁", style=discord.ButtonStyle.primary, custom_id=f"img:retry:{job_id}"
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> RetryButton:
        """Rebuild the button from its custom_id (works across restarts)."""
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Check, reserve a place in the queue, acknowledge, then run the new job."""
        await retry(interaction, self.job_id)


def retry_controls(job_id: int) -> Controls:
    """Only the Retry button of `job_id`."""
    return [[RetryButton(job_id)]]


async def retry(interaction: discord.Interaction, job_id: int) -> None:
    """Run the rest of an interrupted job for the member who asked for it, through the admission gate."""
    started = time.monotonic()
    services = services_of(interaction)
    record = await services.store.get_job(job_id)
    if record is None or record.user_id != interaction.user.id:
        await tell(interaction, _refusal(record))
        return
    try:
        rest = await services.recovery.rest_of(record)
    except UserFacingError as error:
        await tell(interaction, error.message)
        return
    if not await services.store.journal.claim_retry(job_id, interaction.user.id):
        entry = await services.store.journal.get(job_id)
        if entry is not None and entry.recovered_at is None:  # the takeover shows the button, then finishes the job
            await tell(
                interaction, _("That request is still being wrapped up after the restart. Try again in a moment.")
            )
        else:
            await tell(interaction, _("This request was already retried."))
        return

    async def prepare(spec: JobSpec) -> PreparedJob:
        return await rest.prepared(services.settings, spec)

    launcher = Launcher(interaction.client, services)
    try:
        await launcher.start(
            interaction, rest.spec, len(rest.references), prepare, started=started, on_defer=_take_button_away
        )
    except UserFacingError as error:  # refused by the gate (quota, channel, restarting…): privately
        await tell(interaction, error.message)
    finally:  # a no-op once the new job is journalled as the retry
        await services.store.journal.release_retry(job_id)


async def _take_button_away(interaction: discord.Interaction) -> None:
    """A used Retry button is taken off its message (a second click would be refused anyway); a gallery stays."""
    message = interaction.message
    if message is not None:
        with contextlib.suppress(discord.HTTPException):
            if message.flags.components_v2:
                await message.edit(**body_of(message).edit())
            else:
                await message.edit(view=None)


def _refusal(record: JobRecord | None) -> str:
    if record is None:
        return _("That request no longer exists.")
    return _("Only the member who made this request can retry it.")


def interrupted_notice(record: JobRecord, *, resuming: bool) -> str:
    """What the member sees about a job the restart interrupted (public: in the job's language)."""
    with speaking(record.language):
        return _interrupted(record, resuming=resuming)


def _interrupted(record: JobRecord, *, resuming: bool) -> str:
    head = text.header(record.prompt, f"<@{record.user_id}>")
    delivered, requested = record.images_delivered, record.images_requested
    owed = requested - delivered
    if owed <= 0:
        arrived = ngettext(
            "{count} image arrived before the bot restarted.",
            "All {count} images arrived before the bot restarted.",
            requested,
        ).format(count=requested)
        return f"{head}\n✅ {arrived}"
    if delivered:
        stopped = ngettext(
            "The bot restarted before this request was finished ({delivered} of {count} image arrived).",
            "The bot restarted before this request was finished ({delivered} of {count} images arrived).",
            requested,
        ).format(delivered=delivered, count=requested)
        then = (
            ngettext("Making the other {owed} now…", "Making the other {owed} now…", owed).format(owed=owed)
            if resuming
            else _("Press **{retry}** to get the rest.").format(retry=_(RETRY))
        )
    else:
        stopped = _("The bot restarted before this request was finished (no image was made yet).")
        then = _("Making it again now…") if resuming else _("Press **{retry}** to try again.").format(retry=_(RETRY))
    return f"{head}\n⚠️ {stopped} {then}"


def not_started_notice(record: JobRecord) -> str:
    """What the member sees about a request its process never queued (it died while preparing it): public, so in
    the job's language."""
    with speaking(record.language):
        return f"{text.header(record.prompt, f'<@{record.user_id}>')}\n{_(NOT_STARTED)}"


RECONCILED_INDEX = 1000  # job_images index for an image found on Discord but never recorded (API indices are 0-14)
PAGE_SCAN = 200  # channel messages read after a job's newest known page, looking for one nobody recorded


async def shown_images(
    bot: discord.Client, record: JobRecord, message_ids: set[int], token: str | None
) -> dict[int, int]:
    """How many of the job's images Discord shows on each of the given messages (unreadable ones are skipped)."""
    prefix = f"seedream_{record.id}_"
    webhook = discord.Webhook.partial(bot.application_id or 0, token, client=bot) if token else None
    channel = bot.get_partial_messageable(record.channel_id or 0, guild_id=record.guild_id)
    shown: dict[int, int] = {}
    for message_id in message_ids:
        try:
            message: Any = await (webhook.fetch_message(message_id) if webhook else channel.fetch_message(message_id))
        except discord.HTTPException:
            continue
        shown[message_id] = sum(1 for image in images_of(message) if image.filename.startswith(prefix))
    return shown


async def unrecorded_pages(bot: discord.Client, record: JobRecord, after: int, known: set[int]) -> dict[int, int]:
    """The job's images on messages posted after `after` that the store never recorded (a new page whose commit a
    crash prevented), from the channel's history (needs VIEW_CHANNEL and READ_MESSAGE_HISTORY: else nothing)."""
    prefix = f"seedream_{record.id}_"
    me = bot.user.id if bot.user is not None else None
    channel = bot.get_partial_messageable(record.channel_id or 0, guild_id=record.guild_id)
    found: dict[int, int] = {}
    try:
        async for message in channel.history(after=discord.Object(after), limit=PAGE_SCAN, oldest_first=True):
            images = sum(1 for image in images_of(message) if image.filename.startswith(prefix))
            if images and message.id not in known and message.author.id == me:
                found[message.id] = images
    except discord.HTTPException as error:
        log.info("job %s: could not read the channel for unrecorded pages (%s)", record.id, error.status)
    return found


async def reconcile(
    bot: discord.Client, store: UsageStore, record: JobRecord, entry: JournalEntry | None, now: float
) -> int:
    """Count images Discord accepted just before a crash but the database never recorded; returns how many.

    Reads the job's status message and every page it recorded an image on, then the channel after the newest of
    them for a page nobody recorded (the crash fell between Discord accepting a new page and the commit).
    """
    recorded = await store.job_images(record.id)
    message_ids = {r.message_id for r in recorded if r.message_id is not None}
    if entry is not None and entry.status_message_id is not None:
        message_ids.add(entry.status_message_id)
    token = entry.interaction_token if entry is not None and entry.token_valid(now) else None
    shown = await shown_images(bot, record, message_ids, token)
    if message_ids and sum(shown.values()) < record.images_requested:  # a page may be missing
        shown |= await unrecorded_pages(bot, record, max(message_ids), message_ids)
    found = 0
    base = max(RECONCILED_INDEX, await store.queue.next_index(record.id))  # after every index a takeover used
    for message_id, count in shown.items():
        for _missing in range(count - sum(1 for r in recorded if r.message_id == message_id)):
            found += await store.record_image(
                record.id, base + found, message_id=message_id, channel_id=record.channel_id, url=None
            )
    if found:
        log.warning("job %s: %d image(s) were on Discord but not recorded (crash); counted now", record.id, found)
    return found


async def tell_member(
    bot: discord.Client,
    record: JobRecord,
    entry: JournalEntry | None,
    content: str,
    controls: Controls | None,
    now: float,
) -> Any:
    """Through the journalled token while it is valid (editing the status message, keeping its gallery), else
    in the channel."""
    if entry is not None and entry.token_valid(now):
        interaction = TokenInteraction(bot, record, entry)
        try:
            status = await interaction.original_response()
            return await interaction.edit_original_response(**body_of(status, content, controls).edit())
        except discord.HTTPException as error:
            if not token_expired(error):
                raise
    channel = bot.get_partial_messageable(record.channel_id or 0, guild_id=record.guild_id)
    reference = None
    target = None if entry is None else entry.status_message_id or entry.reply_to_id  # the status, else the request
    if target is not None:
        reference = discord.MessageReference(
            message_id=target,
            channel_id=channel.id,
            guild_id=record.guild_id,
            fail_if_not_exists=False,
        )
    return await channel.send(**Body(content, None, controls).new(), reference=reference or discord.utils.MISSING)
