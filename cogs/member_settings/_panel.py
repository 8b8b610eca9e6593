"""The /settings panel: the member's defaults as text, resolution buttons, aspect and count selects, Reset."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import discord

from bot.i18n import _, ngettext, number
from bot.imagegen.catalog import ASPECT_SIZES, Catalog, size_for
from bot.imagegen.models import MAX_TOTAL_IMAGES
from bot.limits import Limits
from bot.member_settings import FROM_PROMPT, MemberSettings, allowed_resolution
from bot.store.member_defaults import MemberDefaults

log = logging.getLogger(__name__)

SERVER = "server"  # the resolution button that goes back to the server's default


def panel_text(defaults: MemberDefaults, limits: Limits, catalog: Catalog, lead: str = "") -> str:
    """The member's defaults in words, with what this server's limits change about them."""
    if defaults.resolution:
        resolution = f"**{defaults.resolution}**"
    else:
        resolution = _("**{resolution}** (server)").format(resolution=limits.default_resolution)
    if defaults.resolution == "4K" and not limits.allow_4k:
        resolution += " " + _("⚠️ this server does not allow 4K: `/imagine` uses {resolution}").format(
            resolution=allowed_resolution(limits)
        )
    aspect = f"**{defaults.aspect}**" if defaults.aspect else _("**from the prompt**")
    count = defaults.count or 1
    images = f"**{number(count)}**"
    if count > limits.max_set_size:
        images += " " + _("⚠️ this server allows at most {most}: `/imagine` makes {most}").format(
            most=number(limits.max_set_size)
        )
    lines = [
        _("⚙️ **Your defaults in this server.** `/imagine` and blends use them for every option you leave empty."),
        _("Resolution: {resolution}").format(resolution=resolution),
        _("Aspect ratio: {aspect}").format(aspect=aspect),
        _("Images per request: {images}").format(images=images),
    ]
    if len(catalog.offered) > 1:
        chosen = catalog.get(defaults.model).name if defaults.model and catalog.offers(defaults.model) else None
        server = catalog.get(limits.default_model).name
        if chosen:
            lines.insert(1, _("Model: **{model}**").format(model=chosen))
        else:
            lines.insert(1, _("Model: **{model}** (server)").format(model=server))
    return "\n".join([lead, *lines] if lead else lines)


class SettingsPanel(discord.ui.View):
    """The controls; only the member who opened the panel can use them, for `timeout` seconds."""

    def __init__(
        self,
        settings: MemberSettings,
        defaults: MemberDefaults,
        limits: Limits,
        *,
        user_id: int,
        shown_by: discord.Interaction,
        timeout: float,
    ) -> None:
        super().__init__(timeout=timeout)
        self.settings, self.user_id, self.shown_by = settings, user_id, shown_by
        for value in (SERVER, *settings.quotas.settings.catalog.resolutions):  # what the offered models make
            self.add_item(self._resolution_button(value, defaults, limits))
        self.add_item(self._aspect_select(defaults, limits))
        self.add_item(self._count_select(defaults, limits))
        catalog = settings.quotas.settings.catalog
        if len(catalog.offered) > 1:
            self.add_item(self._model_select(defaults, limits, catalog))
        reset: discord.ui.Button[Any] = discord.ui.Button(
            label=_("Reset"), emoji="↩️", style=discord.ButtonStyle.danger, custom_id="settings:reset", row=4
        )
        reset.callback = self._reset  # type: ignore[method-assign]
        self.add_item(reset)

    def _resolution_button(self, value: str, defaults: MemberDefaults, limits: Limits) -> discord.ui.Button[Any]:
        chosen = (defaults.resolution or SERVER) == value
        label = _("Server default ({value})").format(value=limits.default_resolution) if value == SERVER else value
        if value == "4K" and not limits.allow_4k:
            label = _("4K (not allowed here)")
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label,
            style=discord.ButtonStyle.success if chosen else discord.ButtonStyle.secondary,
            custom_id=f"settings:resolution:{value}",
            row=0,
        )

        async def pressed(interaction: discord.Interaction) -> None:
            await self._change(interaction, resolution=None if value == SERVER else value)

        button.callback = pressed  # type: ignore[method-assign]
        return button

    def _aspect_select(self, defaults: MemberDefaults, limits: Limits) -> discord.ui.Select[Any]:
        resolution = defaults.resolution or limits.default_resolution
        options = [
            discord.SelectOption(
                label=_("From the prompt"),
                value=FROM_PROMPT,
                description=_("The model picks the ratio that suits the prompt"),
                default=defaults.aspect is None,
            )
        ]
        options += [
            discord.SelectOption(
                label=aspect,
                value=aspect,
                description=_("{size} pixels at {resolution}").format(
                    size=size_for(resolution, aspect), resolution=resolution
                ),
                default=defaults.aspect == aspect,
            )
            for aspect in ASPECT_SIZES
        ]
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id="settings:aspect", placeholder=_("Aspect ratio"), options=options, row=1
        )

        async def chosen(interaction: discord.Interaction) -> None:
            value = select.values[0]
            await self._change(interaction, aspect=None if value == FROM_PROMPT else value)

        select.callback = chosen  # type: ignore[method-assign]
        return select

    def _count_select(self, defaults: MemberDefaults, limits: Limits) -> discord.ui.Select[Any]:
        current = defaults.count or 1
        options = []
        for count in range(1, MAX_TOTAL_IMAGES + 1):
            about = _("One image") if count == 1 else _("A consistent set")
            if count > limits.max_set_size:
                about = _("More than this server allows (at most {most})").format(most=number(limits.max_set_size))
            label = ngettext("{count} image", "{count} images", count).format(count=number(count))
            option = discord.SelectOption(label=label, value=str(count), description=about)
            option.default = count == current
            options.append(option)
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id="settings:count", placeholder=_("Images per request"), options=options, row=2
        )

        async def chosen(interaction: discord.Interaction) -> None:
            count = int(select.values[0])
            await self._change(interaction, count=None if count == 1 else count)

        select.callback = chosen  # type: ignore[method-assign]
        return select

    def _model_select(self, defaults: MemberDefaults, limits: Limits, catalog: Catalog) -> discord.ui.Select[Any]:
        mine = defaults.model if defaults.model and catalog.offers(defaults.model) else None
        server = catalog.get(limits.default_model)
        options = [
            discord.SelectOption(
                label=_("Server default ({value})").format(value=server.name)[:100],
                value=SERVER,
                description=_("The model this server chose")[:100],
                default=mine is None,
            )
        ]
        options += [
            discord.SelectOption(
                label=model.name[:100],
                value=model.id,
                description=ngettext(
                    "{resolutions}, {count} reference image",
                    "{resolutions}, {count} reference images",
                    model.max_references,
                ).format(resolutions="/".join(model.resolutions), count=number(model.max_references))[:100],
                default=mine == model.id,
            )
            for model in catalog.offered
        ]
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id="settings:model", placeholder=_("Model"), options=options, row=3
        )

        async def chosen(interaction: discord.Interaction) -> None:
            value = select.values[0]
            await self._change(interaction, model=None if value == SERVER else value)

        select.callback = chosen  # type: ignore[method-assign]
        return select

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Only the member who opened the panel can change it."""
        if interaction.user.id == self.user_id:
            return True
        await interaction.response.send_message(_("These are someone else's settings."), ephemeral=True)
        return False

    async def on_timeout(self) -> None:
        """Take the controls away once they stop working (`/settings` opens a fresh panel)."""
        with contextlib.suppress(discord.HTTPException):
            await self.shown_by.edit_original_response(view=None)

    async def _change(self, interaction: discord.Interaction, **changes: str | int | None) -> None:
        defaults = await self.settings.update(interaction.guild_id, self.user_id, **changes)
        await self._redraw(interaction, defaults, _("✅ Saved."))

    async def _reset(self, interaction: discord.Interaction) -> None:
        await self.settings.reset(interaction.guild_id, self.user_id)
        await self._redraw(interaction, MemberDefaults(), _("↩️ Back to the server's and the bot's defaults."))

    async def _redraw(self, interaction: discord.Interaction, defaults: MemberDefaults, lead: str) -> None:
        """The same message, updated in place, with a fresh panel (the old one stops: same custom_ids)."""
        self.stop()
        limits = await self.settings.quotas.limits(interaction.guild_id or 0)
        view = SettingsPanel(
            self.settings, defaults, limits, user_id=self.user_id, shown_by=interaction, timeout=self.timeout or 600.0
        )
        await interaction.response.edit_message(
            content=panel_text(defaults, limits, self.settings.quotas.settings.catalog, lead), view=view
        )
