"""Pseudo-locale checks for end-to-end tests: no member-visible English that bypassed the catalogs.

Start the bot with `pseudo_locale=True`: every text that went through `_()` / `ngettext()` / `pgettext()` then
reads as accented English inside ⟦ ⟧ markers. `assert_translated(text, allowed=[...])` fails when plain English
words are left outside the markers; `allowed` lists what may legitimately appear as is (member-supplied text such
as a prompt or a name, command names like `/imagine`, model names).

    harness = await start_bot(pseudo_locale=True)
    ...
    assert_translated(message.text, allowed=["a red fox", "/imagine"])
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.i18n.pseudo import CLOSE, OPEN

_MARKED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
_VERBATIM = re.compile(r"<[@#&!:t][^<>]*>|https?://\S+")  # mentions, timestamps and links are not words
_TOKEN = re.compile(r"[A-Za-z0-9]+")  # a token with a digit (`2K`, a request id's `55ffeb`) is not a word
# a request id placed into a translated text ("(ref {ref})"): an id, even when its six hex digits are all letters
_ID_VALUE = re.compile(f"(?<={CLOSE})[0-9a-f]{{6}}(?={OPEN})")


def untranslated_words(text: str, allowed: Iterable[str] = ()) -> list[str]:
    """English words of `text` outside the pseudo-locale's markers, `allowed` strings removed first."""
    rest = _ID_VALUE.sub(" ", text)
    while True:  # a translated text may hold translated parts ("⟦Ŝéţš öƒ ⟦3 îɱåĝéš⟧⟧"): innermost first
        inner = _MARKED.sub(" ", rest)
        if inner == rest:
            break
        rest = inner
    for piece in sorted(allowed, key=len, reverse=True):
        rest = rest.replace(piece, " ")
    tokens = _TOKEN.findall(_VERBATIM.sub(" ", rest))
    return [token for token in tokens if len(token) > 1 and not any(c.isdigit() for c in token)]


def assert_translated(text: str, allowed: Iterable[str] = ()) -> None:
    """Fail, naming the words, when `text` shows English that did not go through the catalogs."""
    words = untranslated_words(text, allowed)
    assert not words, f"English outside the catalogs: {words} in {text!r}"
    assert OPEN in text, f"no translated text at all in {text!r}"
