"""The "Blend with prompt…" modal: prompt, number of images, aspect ratio."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.errors import BadInput, UserFacingError
from bot.i18n import N_, _, ngettext, number
from bot.imagegen.catalog import ASPECT_SIZES
from bot.imagegen.models import MAX_PROMPT_CHARS, MAX_TOTAL_IMAGES
from bot.inline_options import not_an_aspect
from bot.presentation.replies import tell
from bot.textclean import ascii_number, code_span
from bot.tree import error_reference

log = logging.getLogger(__name__)

Submit = Callable[[discord.Interaction, str, int, str | None], Awaitable[None]]


def parse_count(value: str) -> int:
    """The modal's count field: empty means 1."""
    value = value.strip()
    if not value:
        return 1
    digits = ascii_number(value)
    if digits is None or "." in digits:
        raise BadInput(
            _("{value} is not a number of images; write a whole number such as 4.").format(value=code_span(value))
        )
    if not 1 <= int(digits) <= MAX_TOTAL_IMAGES:
        raise BadInput(
            _("The number of images must be from 1 to {most}; you wrote {count}.").format(
                most=number(MAX_TOTAL_IMAGES), count=number(int(digits))
            )
        )
    return int(digits)


def parse_aspect(value: str) -> str | None:
    """The modal's aspect field: empty means "from the prompt"."""
    value = value.strip()
    if not value:
        return None
    if value not in ASPECT_SIZES:
        raise BadInput(not_an_aspect(value))
    return value


PROMPT = N_("Prompt")
# Translators: a placeholder in the form's prompt field: an example of what to write.
PROMPT_EXAMPLE = N_("e.g. turn this into a watercolor")
COUNT = N_("Number of images (1-14)")
ASPECT = N_("Aspect ratio (optional)")


class BlendModal(discord.ui.Modal):
    """Asks for the prompt and count, then hands them to `submit`; its texts in the member's language."""

    def __init__(self, images: int, submit: Submit, *, count: int = 1, aspect: str | None = None) -> None:
        # Translators: a form's title: at most 45 characters.
        title = ngettext("Blend {count} image with a prompt", "Blend {count} images with a prompt", images)
        super().__init__(title=title.format(count=number(images))[:45], timeout=900)
        self.prompt: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=_(PROMPT),
            custom_id="blend:prompt",
            style=discord.TextStyle.paragraph,
            placeholder=_(PROMPT_EXAMPLE),
            max_length=MAX_PROMPT_CHARS,
        )
        self.count: discord.ui.TextInput[Any] = discord.ui.TextInput(  # the member's /settings defaults, to keep
            label=_(COUNT), custom_id="blend:count", default=str(count), required=False, max_length=2
        )
        self.aspect: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=_(ASPECT),
            custom_id="blend:aspect",
            placeholder="16:9, 1:1, 9:16 …",
            default=aspect,
            required=False,
            max_length=5,
        )
        for field in (self.prompt, self.count, self.aspect):
            self.add_item(field)
        self._submit = submit

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Check the fields, then start the job."""
        count = parse_count(self.count.value)
        aspect = parse_aspect(self.aspect.value)
        await self._submit(interaction, self.prompt.value, count, aspect)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:  # type: ignore[override]
        """Explain UserFacingErrors; log anything else with a reference."""
        if isinstance(error, UserFacingError):
            await tell(interaction, error.message)
            return
        ref = error_reference()
        log.error("blend modal by user %s failed (ref %s)", interaction.user.id, ref, exc_info=error)
        await tell(interaction, _("Something went wrong (ref {ref}). Please try again.").format(ref=ref))
