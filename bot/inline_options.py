"""Options written inline in a mention, e.g. `@Bot turn this into a watercolor --n 4 --ar 16:9`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import BadInput
from bot.i18n import _, either
from bot.imagegen.catalog import ASPECT_SIZES, RESOLUTIONS
from bot.textclean import code_span

_COUNT = re.compile(r"(?:(?<!\S)--(?:n|count)(?:\s+|=)(\d{1,3})|(?<!\S)[x×](\d{1,3}))(?!\S)", re.IGNORECASE | re.ASCII)
_ASPECT = re.compile(r"(?<!\S)--(?:ar|aspect)(?:\s+|=)(\S+)", re.IGNORECASE)
_RESOLUTION = re.compile(r"(?<!\S)--(?:res|resolution)(?:\s+|=)(\S+)", re.IGNORECASE)
_MENTION = re.compile(r"<@!?(\d+)>")


@dataclass(frozen=True, slots=True)
class InlineOptions:
    """The prompt without the options, and the options that were given."""

    prompt: str
    count: int | None = None
    aspect: str | None = None
    resolution: str | None = None


def strip_mentions(content: str, user_id: int) -> str:
    """Remove mentions of `user_id` (the bot) from a message."""
    return _MENTION.sub(lambda m: "" if int(m[1]) == user_id else m[0], content)


def not_an_aspect(value: str) -> str:
    """The refusal of an aspect ratio the models do not make (`--ar` here, the field of the blend form)."""
    return _("{value} is not a supported aspect ratio; use {ratios}.").format(
        value=code_span(value), ratios=either(list(ASPECT_SIZES))
    )


def parse_inline(text: str) -> InlineOptions:
    """Take `--n 4` / `x4`, `--ar 16:9` and `--res 4K` out of `text`; raise BadInput for bad values."""
    count = aspect = resolution = None
    if found := list(_COUNT.finditer(text)):
        count = int(found[-1][1] or found[-1][2])
        text = _COUNT.sub(" ", text)
    if found := list(_ASPECT.finditer(text)):
        aspect = found[-1][1]
        if aspect not in ASPECT_SIZES:
            raise BadInput(not_an_aspect(aspect))
        text = _ASPECT.sub(" ", text)
    if found := list(_RESOLUTION.finditer(text)):
        resolution = found[-1][1].upper()
        if resolution not in RESOLUTIONS:
            raise BadInput(
                _("{value} is not a resolution; use {resolutions}.").format(
                    value=code_span(found[-1][1]), resolutions=either(RESOLUTIONS)
                )
            )
        text = _RESOLUTION.sub(" ", text)
    return InlineOptions(" ".join(text.split()), count, aspect, resolution)
