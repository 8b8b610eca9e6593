"""/usage and /leaderboard: who made what, quota left, top creators with page buttons and a chart."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from typing import Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.charts import top_chart
from bot.client import ImageBot
from bot.i18n import N_, _, ngettext, number, speaking
from bot.presentation import usage_text
from bot.presentation.access import role_ids
from bot.presentation.speaking import public_language
from bot.store.usage import Forgotten
from bot.usage import BoardPage

log = logging.getLogger(__name__)

PERIODS = [
    app_commands.Choice(name=N_("today"), value="today"),
    app_commands.Choice(name=N_("this week"), value="week"),
    app_commands.Choice(name=N_("this month"), value="month"),
    app_commands.Choice(name=N_("all time"), value="all"),
]
METRICS = [
    app_commands.Choice(name=N_("images"), value="images"),
    app_commands.Choice(name=N_("requests"), value="requests"),
]

FORGET_STARTED = N_(
    "Deleting your prompts, history, kept images and /settings defaults now. A long history takes a few minutes: "
    "I'll tell you here when it's done."
)
FORGET_BUSY = N_("Your history is already being deleted. I'll tell you when it's done.")


def forget_done(forgotten: Forgotten) -> str:
    """What the member is told once forget-me finished."""
    text = _(
        "Done: your prompts, history, kept images and /settings defaults are deleted ({requests}). "
        "The servers keep anonymous counts for their budgets."
    ).format(requests=usage_text.requests(forgotten.jobs))
    if forgotten.unfinished:
        kept = ngettext(
            "{count} request of yours still running or waiting is kept until it finishes. "
            "Run this again afterwards to delete it too.",
            "{count} requests of yours still running or waiting are kept until they finish. "
            "Run this again afterwards to delete them too.",
            forgotten.unfinished,
        ).format(count=number(forgotten.unfinished))
        text = f"{text} {kept}"
    return text


class LeaderboardPage(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"lb:(?P<period>today|week|month|all):(?P<metric>images|requests):(?P<page>\d+)",
):
    """A page button; its custom_id holds the whole state, so it keeps working after a restart."""

    def __init__(self, period: str, metric: str, page: int, *, label: str = "", disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or _("Page {page}").format(page=number(page + 1)),
                custom_id=f"lb:{period}:{metric}:{page}",
                disabled=disabled,
                style=discord.ButtonStyle.secondary,
            )
        )
        self.period, self.metric, self.page = period, metric, page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> LeaderboardPage:
        """Rebuild the button from a click."""
        return cls(match["period"], match["metric"], int(match["page"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Show the requested page in place, with the clicker's own rank (in the server's language: it is public)."""
        if interaction.guild_id is None:
            return
        services = cast(ImageBot, interaction.client).services
        page = await services.usage.leaderboard(
            interaction.guild_id, self.period, self.metric, self.page, interaction.user.id
        )
        with speaking(await public_language(services.store.guilds, interaction.guild_id, interaction.guild_locale)):
            content, view = usage_text.leaderboard(page, interaction.user.mention), pager(page)
        await interaction.response.edit_message(content=content, view=view)


def pager(page: BoardPage) -> discord.ui.View:
    """Previous / next buttons (disabled at the ends)."""
    view = discord.ui.View(timeout=None)
    period, metric = page.period.name, page.metric
    previous = _("◀ Previous")
    view.add_item(LeaderboardPage(period, metric, max(0, page.page - 1), label=previous, disabled=page.page == 0))
    last = page.page + 1 >= page.pages
    view.add_item(LeaderboardPage(period, metric, page.page + 1, label=_("Next ▶"), disabled=last))
    return view


class Usage(commands.Cog):
    """Usage reports, privacy requests and the leaderboard."""

    usage_group = app_commands.Group(name="usage", description=N_("Image usage and privacy"), guild_only=True)

    def __init__(self, bot: ImageBot) -> None:
        self.bot = bot
        self.usage = bot.services.usage
        self.forgetter = bot.services.forgetter

    @usage_group.command(name="show", description=N_("Your images, tier and what is left today and this month (UTC)"))
    @app_commands.describe(member=N_("Whose usage to show (others need Manage Server)"))
    async def show(self, interaction: discord.Interaction, member: discord.Member | None = None) -> None:
        """Answer privately with a member's usage."""
        assert interaction.guild_id is not None
        target = member or interaction.user
        manages = interaction.permissions.manage_guild
        if target.id != interaction.user.id and not manages:
            raise app_commands.MissingPermissions(["manage_guild"])
        report = await self.usage.report(interaction.guild_id, target.id, role_ids(target), viewer_manages=manages)
        text = usage_text.usage_report(target.mention, report, interaction.guild_id)
        await interaction.response.send_message(text, ephemeral=True)

    @usage_group.command(name="forget-me", description=N_("Delete your prompts and history (server totals stay)"))
    async def forget_me(self, interaction: discord.Interaction) -> None:
        """Anonymise the member's jobs and blank their prompts, in every server: in the background (a long history
        takes minutes); the member is told here when it is done, or by direct message after 15 minutes."""
        if self.forgetter.busy(interaction.user.id):
            await interaction.response.send_message(_(FORGET_BUSY), ephemeral=True)
            return
        await interaction.response.send_message(_(FORGET_STARTED), ephemeral=True)

        async def tell(_user_id: int, forgotten: Forgotten) -> None:  # in the member's language (the task's context)
            try:
                await interaction.followup.send(forget_done(forgotten), ephemeral=True)
            except discord.HTTPException:  # the interaction's token expired: a direct message instead
                await interaction.user.send(forget_done(forgotten))

        self.forgetter.start(interaction.user.id, tell)

    async def cog_load(self) -> None:
        """Finish the forget-me requests a stopped run left (the member hears of it by direct message, in the
        language they asked in)."""
        await self.forgetter.resume(self._tell_by_message)

    async def _tell_by_message(self, user_id: int, forgotten: Forgotten) -> None:
        user = await self.bot.fetch_user(user_id)
        await user.send(forget_done(forgotten))

    @usage_group.command(name="leaderboards", description=N_("Show or hide yourself on leaderboards"))
    @app_commands.describe(visible=N_("Appear on leaderboards?"))
    async def leaderboards(self, interaction: discord.Interaction, visible: bool) -> None:
        """Opt out of (or back into) every leaderboard."""
        await self.usage.set_hidden(interaction.user.id, not visible)
        state = _("You appear on leaderboards again.") if visible else _("You are now hidden from leaderboards.")
        await interaction.response.send_message(state, ephemeral=True)

    @app_commands.command(name="leaderboard", description=N_("Top image creators of this server (UTC periods)"))
    @app_commands.describe(period=N_("today, this week, this month or all time (UTC)"), metric=N_("Rank by"))
    @app_commands.choices(period=PERIODS, metric=METRICS)
    @app_commands.guild_only()
    async def leaderboard(self, interaction: discord.Interaction, period: str = "week", metric: str = "images") -> None:
        """Post the first page with page buttons, then the top-ten chart in a thread: in the server's language."""
        assert interaction.guild_id is not None
        page = await self.usage.leaderboard(interaction.guild_id, period, metric, 0, interaction.user.id)
        language = await public_language(self.bot.services.store.guilds, interaction.guild_id, interaction.guild_locale)
        with speaking(language):
            content, view = usage_text.leaderboard(page, interaction.user.mention), pager(page)
        await interaction.response.send_message(content, view=view)
        if page.board.entries:
            with speaking(language):
                await self._post_chart(interaction, page)

    async def _post_chart(self, interaction: discord.Interaction, page: BoardPage) -> None:
        rows = await _named_rows(interaction, page)
        if page.metric == "images":
            title = _("Top {count} by images, {period}").format(count=number(len(rows)), period=page.period.label)
        else:
            title = _("Top {count} by requests, {period}").format(count=number(len(rows)), period=page.period.label)
        unit = _("images") if page.metric == "images" else _("requests")
        png = await asyncio.to_thread(top_chart, title, rows, unit)
        file = discord.File(io.BytesIO(png), filename="leaderboard.png", description=title)
        try:
            message = await interaction.original_response()
            name = _("Leaderboard chart · {period}").format(period=page.period.short)
            thread = await message.create_thread(name=name[:100], auto_archive_duration=60)
            await thread.send(file=file)
        except (discord.HTTPException, ValueError) as error:
            log.info("no thread for the leaderboard chart (%s); posting it as a follow-up", error)
            file.reset()
            await interaction.followup.send(file=file)


async def _named_rows(interaction: discord.Interaction, page: BoardPage) -> list[tuple[str, int]]:
    """(display name, value) for the chart; names come from the cache or one fetch each."""
    guild = interaction.guild

    async def name(user_id: int) -> str:
        member = guild.get_member(user_id) if guild else None
        if member is None and guild is not None:
            try:
                member = await guild.fetch_member(user_id)
            except discord.HTTPException:
                member = None
        return member.display_name if member else _("member …{digits}").format(digits=str(user_id)[-4:])

    top = page.board.entries[:10] if page.page == 0 else []
    names = await asyncio.gather(*(name(entry.user_id) for entry in top))
    return [(label, getattr(entry, page.metric)) for label, entry in zip(names, top, strict=True)]


async def setup(bot: ImageBot) -> None:
    """Extension entry point."""
    bot.add_dynamic_items(LeaderboardPage)
    await bot.add_cog(Usage(bot))  # forget-me also empties the member's trays (in the store)
