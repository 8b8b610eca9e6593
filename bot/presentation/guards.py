"""Discord-side helpers for quotas: the cost confirmation and the mod-log report."""

from __future__ import annotations

import asyncio
import logging
import time

import discord

from bot.budget import BudgetNotice
from bot.i18n import N_, NC_, _, money, ngettext, number, pgettext, speaking
from bot.jobs.model import JobSpec, Outcome
from bot.presentation import text
from bot.presentation.tier_text import budget_notice
from bot.quotas import QuotaGrant, RefusedRequest

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT = 60.0
MAX_CONTENT = 2000  # Discord's limit for a message's content
GENERATE = N_("Generate")
CANCEL = N_("Cancel")
KIND, STATUS = "job kind", "job status"  # contexts: the kind of a job in the mod-log ("imagine job 42"), how it ended
KINDS = {
    "imagine": NC_("job kind", "imagine"),
    "blend": NC_("job kind", "blend"),
    "reroll": NC_("job kind", "reroll"),
    "variations": NC_("job kind", "variations"),
    "upscale": NC_("job kind", "upscale"),
}
REASON = "refusal reason"  # context: why a request was refused, in the mod-log ("refused before any cost · …")
REASONS = {
    "blocked_word": NC_("refusal reason", "a blocked word"),
    "quota_cooldown": NC_("refusal reason", "too soon after their last request"),
    "quota_waiting": NC_("refusal reason", "too many of their requests waiting"),
    "quota_channel": NC_("refusal reason", "a channel where the bot is off"),
    "quota_model": NC_("refusal reason", "a model their roles do not allow"),
    "quota_4k": NC_("refusal reason", "a resolution their roles do not allow"),
    "quota_set_size": NC_("refusal reason", "a larger set than their roles allow"),
    "quota_member_daily": NC_("refusal reason", "their daily limit"),
    "quota_member_monthly": NC_("refusal reason", "their monthly limit"),
    "quota_server_daily": NC_("refusal reason", "the server's daily limit"),
    "quota_budget": NC_("refusal reason", "the server's monthly budget"),
    "quota": NC_("refusal reason", "a limit"),
    "server_key_missing": NC_("refusal reason", "no API key for this server"),
    "server_key_unusable": NC_("refusal reason", "this server's API key cannot be used"),
    "queue_full": NC_("refusal reason", "the queue is full"),
    "restarting": NC_("refusal reason", "the bot is restarting"),
    "store_failed": NC_("refusal reason", "a database error"),
}
STATUSES = {
    "completed": NC_("job status", "completed"),
    "partial": NC_("job status", "partial"),
    "failed": NC_("job status", "failed"),
    "blocked": NC_("job status", "blocked"),
    "cancelled": NC_("job status", "cancelled"),
}


class _ConfirmCost(discord.ui.View):
    """Generate / Cancel buttons on the member's private cost question."""

    def __init__(self, owner_id: int) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT)
        self.owner_id = owner_id
        self.answer: discord.Interaction | None = None
        self.confirmed = False
        self.generate.label = _(GENERATE)  # the class's labels are English: the member's language, now
        self.cancel.label = _(CANCEL)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Only the member who asked may answer."""
        return interaction.user.id == self.owner_id

    @discord.ui.button(label=GENERATE, style=discord.ButtonStyle.success)
    async def generate(self, interaction: discord.Interaction, _: discord.ui.Button[_ConfirmCost]) -> None:
        """Go ahead."""
        self.answer, self.confirmed = interaction, True
        self.stop()

    @discord.ui.button(label=CANCEL, style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, _: discord.ui.Button[_ConfirmCost]) -> None:
        """Do not spend anything."""
        self.answer = interaction
        self.stop()


class CostQuestion:
    """The admission gate's cost question for an interaction; afterwards `interaction` is the one to answer."""

    def __init__(self, interaction: discord.Interaction, *, count: int, resolution: str) -> None:
        self.interaction = interaction
        self.count = count
        self.resolution = resolution

    async def __call__(self, grant: QuotaGrant) -> bool:
        """Ask; True when the member pressed Generate (then `interaction` is that click)."""
        answer = await confirm_cost(self.interaction, grant, count=self.count, resolution=self.resolution)
        if answer is None:
            return False
        self.interaction = answer
        return True


async def confirm_cost(
    interaction: discord.Interaction, grant: QuotaGrant, *, count: int, resolution: str
) -> discord.Interaction | None:
    """Ask privately before an expensive job; the interaction to continue with, or None (declined or no answer)."""
    if not grant.needs_confirmation:
        return interaction
    view = _ConfirmCost(interaction.user.id)
    images = ngettext("{count} image", "{count} images", count).format(count=number(count))
    if grant.show_cost:
        question = _("This request makes {images} at {resolution}{cost}. Generate it?").format(
            images=images, resolution=resolution, cost=cost_words(grant)
        )
    else:
        question = _(
            "This request makes {images} at {resolution}, more than this server makes without asking first. "
            "Generate it?"
        ).format(images=images, resolution=resolution)
    await interaction.response.send_message(question, view=view, ephemeral=True)
    timed_out = await view.wait()
    if view.confirmed and view.answer is not None:
        await interaction.edit_original_response(content="✅ " + _("Confirmed."), view=None)
        return view.answer
    late, cancelled = _("Not confirmed in time; nothing was generated."), _("Cancelled; nothing was generated.")
    note = late if timed_out else cancelled
    if view.answer is not None:
        await view.answer.response.edit_message(content=note, view=None)
    else:
        await interaction.edit_original_response(content=note, view=None)
    return None


def cost_words(grant: QuotaGrant) -> str:
    """`, an estimated **$0.12**` for a member who may see money, else nothing (members see images, not money,
    unless they have Manage Server or the server shows costs)."""
    if not grant.show_cost:
        return ""
    # Translators: appended to "This request makes 4 images at 2K"; keep the leading comma (or your language's).
    return _(", an estimated **{cost}**").format(cost=money(grant.estimated_cost))


async def report_to_modlog(client: discord.Client, channel_id: int | None, spec: JobSpec, outcome: Outcome) -> None:
    """Post the prompt, its requester and the outcome to the server's mod-log channel, if it has one."""
    if channel_id is None:
        return
    with speaking(spec.language):  # the mod-log is public: the job's (the server's) language
        kind, status = KINDS.get(spec.kind), STATUSES.get(outcome.status)
        line = _("🖼️ {member} in {channel} · {kind} job {job} · {status} ({delivered}/{requested})").format(
            member=f"<@{spec.user_id}>",
            channel=f"<#{spec.channel_id}>",
            kind=pgettext(KIND, kind) if kind else spec.kind,
            job=outcome.job_id,
            status=pgettext(STATUS, status) if status else outcome.status,
            delivered=number(outcome.delivered),
            requested=number(outcome.requested),
        )
    if outcome.error is not None:
        line += f" · `{outcome.error.code}`"  # the failure's code, as /imagine-admin stats lists it
    try:
        channel = client.get_partial_messageable(channel_id, guild_id=spec.guild_id)
        await channel.send(_fit(line, spec.prompt))
    except discord.HTTPException as error:
        log.warning("could not post to the mod-log channel %s (%s)", channel_id, error.status)


async def report_refusal_to_modlog(
    client: discord.Client, modlog_channel: int, request: RefusedRequest, *, folded: int = 0
) -> None:
    """Post a refused prompt (blocked word, limit, channel) with its requester to the mod-log channel."""
    member = f"<@{request.user_id}>"
    reason = REASONS.get(request.code)
    reason = pgettext(REASON, reason) if reason else f"`{request.code}`"  # a code not listed: as is
    if request.channel_id:
        line = _("🚫 {member} in {channel} · refused before any cost · {reason}").format(
            member=member, channel=f"<#{request.channel_id}>", reason=reason
        )
    else:
        line = _("🚫 {member} · refused before any cost · {reason}").format(member=member, reason=reason)
    if folded:
        line += " · " + ngettext(
            "{count} refused request in the last minute, folded into this post (the latest)",
            "{count} refused requests in the last minute, folded into this post (the latest)",
            folded,
        ).format(count=number(folded))
    try:
        channel = client.get_partial_messageable(modlog_channel, guild_id=request.guild_id)
        await channel.send(_fit(line, request.prompt))
    except discord.HTTPException as error:
        log.warning("could not post to the mod-log channel %s (%s)", modlog_channel, error.status)


async def report_budget(client: discord.Client, modlog_channel: int, notice: BudgetNotice) -> None:
    """Tell the mod-log that the month's spending reached 80 % or 100 % of the server's budget."""
    try:
        channel = client.get_partial_messageable(modlog_channel, guild_id=notice.guild_id)
        await channel.send(budget_notice(notice))
    except discord.HTTPException as error:
        log.warning("could not post to the mod-log channel %s (%s)", modlog_channel, error.status)


class RefusalReporter:
    """The refusal hook: at most one mod-log post per member per `window` seconds; the rest are counted and
    told in one later post, so one member cannot flood the mod-log."""

    def __init__(self, client: discord.Client, *, window: float = 60.0) -> None:
        self.client = client
        self.window = window
        self._posted: dict[tuple[int | None, int], float] = {}
        self._folded: dict[tuple[int | None, int], tuple[int, int, RefusedRequest]] = {}
        self._flushes: dict[tuple[int | None, int], asyncio.Task[None]] = {}

    async def __call__(self, modlog_channel: int, request: RefusedRequest) -> None:
        """Post now, or fold the refusal into the member's next post."""
        key, now = (request.guild_id, request.user_id), time.monotonic()
        last = self._posted.get(key)
        if last is None or now - last >= self.window:
            self._prune(now)
            self._posted[key] = now
            await report_refusal_to_modlog(self.client, modlog_channel, request)
            return
        count = self._folded[key][0] if key in self._folded else 0
        self._folded[key] = (count + 1, modlog_channel, request)
        if key not in self._flushes:
            self._flushes[key] = asyncio.create_task(self._flush(key, last + self.window - now))

    async def _flush(self, key: tuple[int | None, int], delay: float) -> None:
        await asyncio.sleep(delay)
        self._flushes.pop(key, None)
        count, channel, latest = self._folded.pop(key, (0, 0, None))
        if latest is not None:
            self._posted[key] = time.monotonic()
            await report_refusal_to_modlog(self.client, channel, latest, folded=count)

    def _prune(self, now: float) -> None:
        for key in [k for k, at in self._posted.items() if now - at >= self.window and k not in self._folded]:
            del self._posted[key]

    def close(self) -> None:
        """Drop the posts still waiting (the bot is stopping)."""
        for task in self._flushes.values():
            task.cancel()
        self._flushes.clear()


def _fit(line: str, prompt: str) -> str:
    """The line and the quoted prompt, shortened until the message fits (escaping can double a prompt)."""
    limit = 1500
    content = f"{line}\n> {text.echo(prompt, limit)}"
    while len(content) > MAX_CONTENT and limit > 100:
        limit -= 100
        content = f"{line}\n> {text.echo(prompt, limit)}"
    return content
