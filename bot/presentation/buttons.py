"""Result buttons that keep working after a restart: the custom_id carries the job id, the rest is read back.

Registered with `ImageBot.add_dynamic_items(*RESULT_ITEMS)` in `setup_hook`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.errors import UserFacingError
from bot.jobs.model import Outcome
from bot.presentation.access import JobGone
from bot.presentation.actions import ResultActions
from bot.presentation.replies import tell
from bot.services import Services
from bot.tree import error_reference

log = logging.getLogger(__name__)

Work = Callable[[ResultActions], Awaitable[None]]
JOB_BUTTONS = {
    "reroll": ("Reroll", "🔁", discord.ButtonStyle.secondary),
    "delete": ("Delete", "🗑️", discord.ButtonStyle.danger),
}
IMAGE_BUTTONS = {
    "vary": ("Variations", "🎨", discord.ButtonStyle.secondary),
    "up": ("Upscale", "⬆️", discord.ButtonStyle.secondary),
    "ref": ("Use as reference", "📌", discord.ButtonStyle.secondary),
}


def services_of(interaction: discord.Interaction) -> Services:
    """The bot's services (ImageBot carries them)."""
    services: Services = interaction.client.services  # type: ignore[attr-defined]
    return services


async def guarded(interaction: discord.Interaction, what: str, work: Work) -> None:
    """Run a button action; explain UserFacingErrors, log anything else with a reference."""
    actions = ResultActions(interaction.client, services_of(interaction), buttons=buttons_for)
    try:
        await work(actions)
    except UserFacingError as error:
        await tell(interaction, error.message)
    except Exception:
        ref = error_reference()
        log.exception("button %s by user %s failed (ref %s)", what, interaction.user.id, ref)
        await tell(interaction, f"Something went wrong (ref {ref}). Please try again.")


class JobButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"img:(?P<action>reroll|delete):(?P<job>\d+)"):
    """Reroll or Delete for a whole job."""

    def __init__(self, action: str, job_id: int) -> None:
        label, emoji, style = JOB_BUTTONS[action]
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=f"img:{action}:{job_id}"))
        self.action = action
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> JobButton:
        """Rebuild the button from its custom_id."""
        return cls(match["action"], int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Run the action."""
        if self.action == "reroll":
            await guarded(interaction, self.custom_id, lambda actions: actions.reroll(interaction, self.job_id))
        else:
            await guarded(interaction, self.custom_id, lambda actions: actions.delete(interaction, self.job_id))


class ImageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"img:(?P<action>vary|up|ref):(?P<job>\d+):(?P<number>\d+)"
):
    """Variations, Upscale or Use as reference for one image of a job."""

    def __init__(self, action: str, job_id: int, number: int) -> None:
        label, emoji, style = IMAGE_BUTTONS[action]
        custom_id = f"img:{action}:{job_id}:{number}"
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=custom_id))
        self.action = action
        self.job_id = job_id
        self.number = number

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ImageButton:
        """Rebuild the button from its custom_id."""
        return cls(match["action"], int(match["job"]), int(match["number"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Run the action."""
        job_id, number = self.job_id, self.number
        if self.action == "vary":
            work: Work = lambda actions: actions.variations(interaction, job_id, number)  # noqa: E731
        elif self.action == "up":
            work = lambda actions: actions.upscale(interaction, job_id, number)  # noqa: E731
        else:
            work = lambda actions: actions.use_as_reference(interaction, job_id, number)  # noqa: E731
        await guarded(interaction, self.custom_id, work)


class ImagePicker(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"img:pick:(?P<job>\d+):(?P<count>\d+)"):
    """A select to act on one image of a set; answers privately with that image's buttons."""

    def __init__(self, job_id: int, count: int) -> None:
        options = [discord.SelectOption(label=f"Image {n}", value=str(n)) for n in range(1, count + 1)]
        select: discord.ui.Select[Any] = discord.ui.Select(
            placeholder="Pick an image for variations, upscale or reference…",
            options=options,
            custom_id=f"img:pick:{job_id}:{count}",
        )
        super().__init__(select)
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ImagePicker:
        """Rebuild the select from its custom_id."""
        return cls(int(match["job"]), int(match["count"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Offer the chosen image's buttons privately."""
        number = int(self.item.values[0])

        async def offer(actions: ResultActions) -> None:
            job = await actions.job(interaction, self.job_id)
            view = image_view(job.id, number)
            await interaction.response.send_message(f"Image {number} of job #{job.id}:", view=view, ephemeral=True)

        await guarded(interaction, self.custom_id, offer)


RESULT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (JobButton, ImageButton, ImagePicker)


def image_view(job_id: int, number: int) -> discord.ui.View:
    """The buttons for one image of a job."""
    view = discord.ui.View(timeout=None)
    for action in IMAGE_BUTTONS:
        view.add_item(ImageButton(action, job_id, number))
    return view


def result_view(job_id: int, images: int) -> discord.ui.View:
    """Buttons for a job's result: all five for one image; Reroll, Delete and an image picker for a set."""
    view = discord.ui.View(timeout=None)
    view.add_item(JobButton("reroll", job_id))
    if images == 1:
        for action in IMAGE_BUTTONS:
            view.add_item(ImageButton(action, job_id, 1))
    view.add_item(JobButton("delete", job_id))
    if images > 1:
        view.add_item(ImagePicker(job_id, images))
    return view


def buttons_for(outcome: Outcome) -> discord.ui.View | None:
    """The result buttons for a finished job (a `ButtonsFactory`)."""
    return result_view(outcome.job_id, outcome.delivered)


__all__ = ["RESULT_ITEMS", "JobGone", "buttons_for", "image_view", "result_view"]
