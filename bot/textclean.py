"""Plain-text clean-up of member input, shared by the job checks and the message texts."""

from __future__ import annotations

import re
import unicodedata

from bot.i18n import _

# Zero-width, direction-control and other invisible format characters, plus C0/C1 controls except \t \n \r.
_INVISIBLE = re.compile(r"[\u00ad\u034f\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Characters that render as blank space although Unicode does not call them whitespace: Hangul fillers,
# the Braille blank, Khmer inherent vowels, musical spacing.
_BLANK = re.compile("[\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0\U0001d159\U0001d173-\U0001d17a]")
# Variation selectors: they change how the character before them looks and show nothing themselves.
_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def strip_invisible(text: str) -> str:
    """Remove characters that show nothing (zero-width, bidi controls, control codes)."""
    return _CONTROL.sub("", _INVISIBLE.sub("", text))


def clean_prompt(prompt: str) -> str:
    """Drop invisible characters and squeeze whitespace."""
    return " ".join(strip_invisible(prompt).split())


def api_text(text: str) -> str:
    """The text exactly as the image API receives it, and as blocked words are checked on.

    NFKC (full-width and compatibility letters become plain ones), every format (Cf) and invisible character
    removed, characters that render blank turned into spaces, and whitespace collapsed.
    """
    text = unicodedata.normalize("NFKC", strip_invisible(text))
    text = "".join(ch for ch in _SELECTORS.sub("", text) if unicodedata.category(ch) != "Cf")
    return " ".join(_BLANK.sub(" ", strip_invisible(text)).split())


def code_span(value: str, limit: int = 60) -> str:
    """A member's value (a file name, an option) shown in a code span it cannot break out of.

    Invisible characters go, whitespace is squeezed, backticks become look-alike `ˋ` (a code span cannot
    contain its own delimiter), and the text is cut to `limit`; an empty value shows as `(empty)`.
    """
    text = " ".join(strip_invisible(value).split()).replace("`", "\u02cb")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if not text:
        text = _("(empty)")
    return f"`{text}`"


def ascii_number(value: str) -> str | None:
    """The text if it is a plain number in ASCII digits (`12`, `0.5`), else None (no `١٢`, `１２`, `1e3`, `nan`)."""
    text = value.strip()
    return text if _ASCII_NUMBER.fullmatch(text) else None


_ASCII_NUMBER = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,6})?")
