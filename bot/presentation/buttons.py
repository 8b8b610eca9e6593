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
from bot.i18n import N_, _
from bot.jobs.model import Outcome
from bot.presentation.access import JobGone
from bot.presentation.actions import ResultActions
from bot.presentation.gallery import Controls, GalleryImage, layout, plain_view
from bot.presentation.replies import tell
from bot.presentation.text import alt_text
from bot.services import Services
from bot.tree import error_reference

log = logging.getLogger(__name__)

Work = Callable[[ResultActions], Awaitable[None]]
# Labels are translated when a button is made: result messages are made in their job's language.
JOB_BUTTONS = {
    "reroll": (N_("Reroll"), "🔁", discord.ButtonStyle.secondary),
    "delete": (N_("Delete"), "🗑️", discord.ButtonStyle.danger),
}
IMAGE_BUTTONS = {
    "vary": (N_("Variations"), "🎨", discord.ButtonStyle.secondary),
    "up": (N_("Upscale"), "⬆️", discord.ButtonStyle.secondary),
    "ref": (N_("Use as reference"), "📌", discord.ButtonStyle.secondary),
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
        await tell(interaction, _("Something went wrong (ref {ref}). Please try again.").format(ref=ref))


class JobButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"img:(?P<action>reroll|delete):(?P<job>\d+)"):
    """Reroll or Delete for a whole job."""

    def __init__(self, action: str, job_id: int) -> None:
        label, emoji, style = JOB_BUTTONS[action]
        custom_id = f"img:{action}:{job_id}"
        super().__init__(discord.ui.Button(label=_(label), emoji=emoji, style=style, custom_id=custom_id))
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
        super().__init__(discord.ui.Button(label=_(label), emoji=emoji, style=style, custom_id=custom_id))
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
        options = [
            discord.SelectOption(label=_("Image {number}").format(number=n), value=str(n)) for n in range(1, count + 1)
        ]
        select: discord.ui.Select[Any] = discord.ui.Select(
            placeholder=_("Pick an image for variations, upscale or reference…"),
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
        """Show the chosen image privately, with its buttons."""
        number = int(self.item.values[0])

        async def offer(actions: ResultActions) -> None:
            job = await actions.job(interaction, self.job_id)
            _image, reference = await actions.image(job, number)
            await interaction.response.defer(ephemeral=True, thinking=True)
            url = await actions.launcher.fresh_url(reference)  # the message's URL is signed and expires
            shown = GalleryImage(reference.name, alt_text(job.prompt), url=url)
            heading = _("Image {number} of job #{id}:").format(number=number, id=job.id)
            view = layout(heading, [shown], image_controls(job.id, number))
            await interaction.followup.send(view=view, ephemeral=True)

        await guarded(interaction, self.custom_id, offer)


RESULT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (JobButton, ImageButton, ImagePicker)


def image_controls(job_id: int, number: int) -> Controls:
    """The buttons for one image of a job."""
    return [[ImageButton(action, job_id, number) for action in IMAGE_BUTTONS]]


def result_controls(job_id: int, images: int) -> Controls:
    """Buttons for a job's result: all five for one image; Reroll, Delete and an image picker for a set."""
    first: list[discord.ui.Item[Any]] = [JobButton("reroll", job_id)]
    if images == 1:
        first.extend(ImageButton(action, job_id, 1) for action in IMAGE_BUTTONS)
    first.append(JobButton("delete", job_id))
    return [first, [ImagePicker(job_id, images)]] if images > 1 else [first]


def result_view(job_id: int, images: int) -> discord.ui.View:
    """The result buttons as a legacy view (for a message with content, like /job's card)."""
    return plain_view(result_controls(job_id, images))


def buttons_for(outcome: Outcome) -> Controls | None:
    """The result buttons for a finished job (a `ButtonsFactory`)."""
    return result_controls(outcome.job_id, outcome.delivered)


__all__ = ["RESULT_ITEMS", "JobGone", "buttons_for", "image_controls", "result_controls", "result_view"]
