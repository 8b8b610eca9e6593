"""The "Blend with prompt…" modal: prompt, number of images, aspect ratio."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.errors import BadInput, UserFacingError
from bot.imagegen.catalog import ASPECT_SIZES
from bot.imagegen.models import MAX_PROMPT_CHARS, MAX_TOTAL_IMAGES
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
    number = ascii_number(value)
    if number is None or "." in number:
        raise BadInput(f"{code_span(value)} is not a number of images; write a whole number such as 4.")
    if not 1 <= int(number) <= MAX_TOTAL_IMAGES:
        raise BadInput(f"The number of images must be from 1 to {MAX_TOTAL_IMAGES}; you wrote {int(number)}.")
    return int(number)


def parse_aspect(value: str) -> str | None:
    """The modal's aspect field: empty means "from the prompt"."""
    value = value.strip()
    if not value:
        return None
    if value not in ASPECT_SIZES:
        raise BadInput(f"{code_span(value)} is not a supported aspect ratio; use one of {', '.join(ASPECT_SIZES)}.")
    return value


class BlendModal(discord.ui.Modal, title="Blend with prompt"):
    """Asks for the prompt and count, then hands them to `submit`."""

    prompt: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Prompt",
        custom_id="blend:prompt",
        style=discord.TextStyle.paragraph,
        placeholder="e.g. turn this into a watercolor",
        max_length=MAX_PROMPT_CHARS,
    )
    count: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Number of images (1-14)", custom_id="blend:count", default="1", required=False, max_length=2
    )
    aspect: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Aspect ratio (optional)",
        custom_id="blend:aspect",
        placeholder="16:9, 1:1, 9:16 …",
        required=False,
        max_length=5,
    )

    def __init__(self, images: int, submit: Submit, *, count: int = 1, aspect: str | None = None) -> None:
        title = f"Blend {images} image{'s' if images != 1 else ''} with a prompt"
        super().__init__(title=title, timeout=900)
        self.count.default = str(count)  # the member's /settings defaults, to change or keep
        self.aspect.default = aspect
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
        await tell(interaction, f"Something went wrong (ref {ref}). Please try again.")
