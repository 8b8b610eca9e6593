"""The reference tray: Apps → "Add to references" collects images, `/tray` shows them, `/imagine use_tray` uses them."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import ImageBot
from bot.errors import BadInput
from bot.i18n import N_, _, duration, ngettext, number
from bot.presentation import text
from bot.tray import ReferenceTray, TrayItem
from cogs.blend._gather import images_in

log = logging.getLogger(__name__)

PLACEHOLDER_OPTION = discord.SelectOption(label="-")  # replaced by the tray's items
REMOVE = N_("Remove an image…")
CLEAR = N_("Clear")


def images_text(count: int) -> str:
    """`1 image`, `4 images`, in the current language."""
    return ngettext("{count} image", "{count} images", count).format(count=number(count))


def describe_tray(tray: ReferenceTray, items: list[TrayItem], guild_id: int | None, lead: str = "") -> str:
    """The tray as an ephemeral message: one line per image with a link to where it came from."""
    head = f"{lead}\n" if lead else ""
    if not items:
        return head + _("📌 Your reference tray is empty. Use **Apps → Add to references** on a message with images.")
    count = f"{number(len(items))}/{number(tray.limit)}"
    kept = duration(tray.ttl)
    lines = [
        _("📌 Your references ({count}, each kept for {kept}); `/imagine use_tray:True` uses them:").format(
            count=count, kept=kept
        )
    ]
    for position, item in enumerate(items, 1):
        link = f"https://discord.com/channels/{guild_id or '@me'}/{item.channel_id}/{item.message_id}"
        lines.append(f"{position}. [{text.link_text(item.name)}]({link})")
    return head + "\n".join(lines)


class TrayView(discord.ui.View):
    """Remove one image or clear the tray; only for its owner, for a limited time."""

    def __init__(
        self,
        tray: ReferenceTray,
        items: list[TrayItem],
        guild_id: int | None,
        user_id: int,
        shown_by: discord.Interaction,
        timeout: float,
    ) -> None:
        super().__init__(timeout=timeout)
        self.tray, self.guild_id, self.user_id = tray, guild_id, user_id
        self.shown_by = shown_by  # the interaction whose response shows this panel (to take the controls away)
        self.remove.placeholder = _(REMOVE)  # type: ignore[assignment]  # the class's texts are English
        self.clear.label = _(CLEAR)
        if not items:
            self.remove_item(self.remove)
            self.remove_item(self.clear)
            return
        self.remove.options = [  # type: ignore[assignment]
            discord.SelectOption(label=f"{n}. {text.shorten(item.name, 90)}", value=str(n - 1))
            for n, item in enumerate(items, 1)
        ]

    async def on_timeout(self) -> None:
        """Take the controls away once they stop working, rather than leaving dead buttons."""
        with contextlib.suppress(discord.HTTPException):
            await self.shown_by.edit_original_response(view=None)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Only the tray's owner can change it."""
        if interaction.user.id == self.user_id:
            return True
        await interaction.response.send_message(_("This is someone else's reference tray."), ephemeral=True)
        return False

    @discord.ui.select(placeholder=REMOVE, custom_id="tray:remove", options=[PLACEHOLDER_OPTION])
    async def remove(self, interaction: discord.Interaction, select: discord.ui.Select[Any]) -> None:
        """Remove the chosen image."""
        removed = await self.tray.remove(self.guild_id, self.user_id, int(select.values[0]))
        if removed:
            lead = _("Removed {file}.").format(file=text.code(removed.name))
        else:
            lead = _("That image was already gone.")
        await self._redraw(interaction, lead)

    @discord.ui.button(label=CLEAR, emoji="🧹", style=discord.ButtonStyle.danger, custom_id="tray:clear")
    async def clear(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        """Empty the tray."""
        count = await self.tray.clear(self.guild_id, self.user_id)
        await self._redraw(interaction, _("Cleared {images}.").format(images=images_text(count)))

    async def _redraw(self, interaction: discord.Interaction, lead: str) -> None:
        self.stop()  # before the new view is stored: both use the same custom_ids
        items = await self.tray.items(self.guild_id, self.user_id)
        view = TrayView(self.tray, items, self.guild_id, self.user_id, interaction, self.timeout or 600.0)
        content = describe_tray(self.tray, items, self.guild_id, lead)
        await interaction.response.edit_message(content=content, view=view)


class Tray(commands.Cog):
    """The "Add to references" message command and `/tray`."""

    def __init__(self, bot: ImageBot, tray: ReferenceTray, max_bytes: int, panel_timeout: float) -> None:
        self.bot = bot
        self.tray = tray
        self.max_bytes = max_bytes
        self.panel_timeout = panel_timeout
        self.menu = app_commands.ContextMenu(name="Add to references", callback=self.add_menu)
        self.menu.guild_only = True

    async def cog_load(self) -> None:
        """Register the message command."""
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        """Unregister the message command."""
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    async def add_menu(self, interaction: discord.Interaction, target: discord.Message) -> None:
        """Put the message's images into the member's tray and show the tray."""
        found = images_in(target, self.max_bytes)
        if not found.images:
            raise BadInput(_("That message has no images to add."))
        images = [(image.name, image.url) for image in found.images if image.url]
        added, full = await self.tray.add(
            interaction.guild_id, interaction.user.id, images, channel_id=target.channel.id, message_id=target.id
        )
        lead = _("Added {images}.").format(images=images_text(added))
        if full:
            did_not_fit = ngettext(
                "{count} image did not fit: the tray holds {limit}.",
                "{count} images did not fit: the tray holds {limit}.",
                full,
            ).format(count=number(full), limit=number(self.tray.limit))
            lead = f"{lead} {did_not_fit}"
        await self._show(interaction, lead)

    @app_commands.command(name="tray", description=N_("Show the images you collected with Apps → Add to references"))
    @app_commands.guild_only()
    async def show_tray(self, interaction: discord.Interaction) -> None:
        """Show the member's tray privately, with buttons to remove images or clear it."""
        await self._show(interaction, "")

    async def _show(self, interaction: discord.Interaction, lead: str) -> None:
        items = await self.tray.items(interaction.guild_id, interaction.user.id)
        content = describe_tray(self.tray, items, interaction.guild_id, lead)
        view = TrayView(self.tray, items, interaction.guild_id, interaction.user.id, interaction, self.panel_timeout)
        await interaction.response.send_message(content, view=view, ephemeral=True)


async def setup(bot: ImageBot) -> None:
    """Extension entry point."""
    services = bot.services
    settings = services.settings
    await bot.add_cog(Tray(bot, services.tray, settings.reference_max_bytes, settings.tray_panel_timeout))
