"""A server's language (`/imagine-admin set setting:Language value:ja`): what its public messages are written in.

Stored as the `language` key of the server's settings; unset, public messages follow Discord's server locale.
"""

from __future__ import annotations

import functools

from babel import Locale

from bot.errors import BadInput
from bot.i18n import LANGUAGES, N_, _, either

KEY = "language"
LABEL = N_("Language")
_RESET = {"default", "reset", "auto", ""}


def native_name(language: str) -> str:
    """The language's name in itself: 日本語, Deutsch, English (United States)."""
    return str(Locale.parse(LANGUAGES[language]).get_display_name() or language)


@functools.cache
def native_names() -> dict[str, str]:
    """Every language's name in itself, read once, when first needed (each reads that language's CLDR data)."""
    return {language: native_name(language) for language in LANGUAGES}


def parse_language(raw: str) -> str | None:
    """One of LANGUAGES from a Discord locale code (`ja`, `zh-cn`, `pt_BR`) or a native name; None: `default`."""
    text = raw.strip().replace("_", "-").casefold()
    if text in _RESET:
        return None
    for language, name in native_names().items():
        if text in (language.casefold(), name.casefold(), language.split("-")[0].casefold()):
            return language
    codes = either([f"`{language}`" for language in LANGUAGES])
    raise BadInput(
        _("Language: choose {codes} (or `default` to follow the server's Discord language).").format(codes=codes)
    )


def confirmation(language: str | None) -> str:
    """The answer to a change of the server's language."""
    if language is None:
        return _("Public messages here now follow the server's language in Discord.")
    return _("Public messages here are now written in **{language}**.").format(language=native_names()[language])


def overview_line(setting: object) -> str:
    """The language line of `/imagine-admin show` (✏️: set here)."""
    names = native_names()
    language = str(setting) if setting in names else None
    if language is None:
        return f"{_(LABEL)}: **{_('the server’s language in Discord')}**"
    return f"{_(LABEL)}: **{names[language]}** ✏️"
