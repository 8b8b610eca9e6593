"""The pseudo-locale: English with accents, inside ⟦ ⟧ markers; {placeholders}, <mentions> and URLs kept as they are.

A text that shows plain English letters outside the markers did not go through the catalogs.
"""

from __future__ import annotations

import re

OPEN, CLOSE = "⟦", "⟧"
_ACCENTED = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "åƀçðéƒĝĥîĵķļɱñöþǫŕšţûṽŵẋýžÅƁÇÐÉƑĜĤÎĴĶĻṀÑÖÞǪŔŠŢÛṼŴẊÝŽ",
)
# Kept verbatim: {placeholders} (filled after translation), <mentions>/<timestamps>, URLs.
_KEEP = re.compile(r"(\{[^{}]*\}|<[^<>]*>|https?://\S+)")


def pseudo(message: str) -> str:
    """The pseudo-localized form of an English source text."""
    if not message:
        return message
    parts = _KEEP.split(message)
    # A placeholder's value is left outside the markers: a value that bypassed the catalogs shows up too.
    accented = "".join(
        (f"{CLOSE}{part}{OPEN}" if part.startswith("{") else part) if index % 2 else part.translate(_ACCENTED)
        for index, part in enumerate(parts)
    )
    return f"{OPEN}{accented}{CLOSE}".replace(OPEN + CLOSE, "")
