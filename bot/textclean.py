"""Plain-text clean-up of member input, shared by the job checks and the message texts."""

from __future__ import annotations

import re

# Zero-width, direction-control and other invisible format characters, plus C0/C1 controls except \t \n \r.
_INVISIBLE = re.compile(r"[\u00ad\u034f\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def strip_invisible(text: str) -> str:
    """Remove characters that show nothing (zero-width, bidi controls, control codes)."""
    return _CONTROL.sub("", _INVISIBLE.sub("", text))


def clean_prompt(prompt: str) -> str:
    """Drop invisible characters and squeeze whitespace."""
    return " ".join(strip_invisible(prompt).split())
