"""The current language (a contextvar), the compiled catalogs, and the gettext calls the package exports."""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from bot.i18n.pseudo import pseudo

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en-US"
# Discord locale value -> Babel locale id (also the catalog's directory under bot/locales/).
LANGUAGES: dict[str, str] = {
    "en-US": "en_US",
    "zh-CN": "zh_CN",
    "zh-TW": "zh_TW",
    "ja": "ja",
    "ko": "ko",
    "es-ES": "es_ES",
    "pt-BR": "pt_BR",
    "fr": "fr",
    "de": "de",
    "ru": "ru",
}
# Discord locales that are not in LANGUAGES but read one of them well.
_NEAREST = {"en-GB": "en-US", "es-419": "es-ES"}

_current: ContextVar[str] = ContextVar("language", default=SOURCE_LANGUAGE)
_pseudo = [False]


def _load() -> dict[str, gettext.NullTranslations]:
    """Every compiled catalog, read once at import (never from the event loop)."""
    loaded: dict[str, gettext.NullTranslations] = {}
    for language, babel_id in LANGUAGES.items():
        path = LOCALES_DIR / babel_id / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if language == SOURCE_LANGUAGE or not path.exists():
            loaded[language] = gettext.NullTranslations()
        else:
            with path.open("rb") as file:
                loaded[language] = gettext.GNUTranslations(file)
    return loaded


_CATALOGS = _load()


def language_for(discord_locale: str | None) -> str:
    """One of LANGUAGES for a Discord locale value (`interaction.locale`, `guild_locale`, a stored setting)."""
    text = str(getattr(discord_locale, "value", discord_locale or ""))
    if text in LANGUAGES:
        return text
    if text in _NEAREST:
        return _NEAREST[text]
    return SOURCE_LANGUAGE


def babel_locale(language: str | None = None) -> str:
    """The Babel locale id of a language (the current one by default), for Babel's formatting functions."""
    return LANGUAGES.get(language or _current.get(), LANGUAGES[SOURCE_LANGUAGE])


def current_language() -> str:
    """The language texts are being written in now."""
    return _current.get()


@contextmanager
def speaking(language: str | None) -> Iterator[str]:
    """Write texts in `language` (any Discord locale; None or unknown: en-US) inside the block."""
    chosen = language_for(language)
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def use_pseudo(enabled: bool) -> None:
    """Turn the pseudo-locale on or off for the whole process (setting PSEUDO_LOCALE; tests)."""
    _pseudo[0] = enabled


def pseudo_enabled() -> bool:
    """Whether every text comes out pseudo-localized."""
    return _pseudo[0]


def _catalog() -> gettext.NullTranslations:
    return _CATALOGS[_current.get()]


def _(message: str) -> str:
    """`message` in the current language."""
    if _pseudo[0]:
        return pseudo(message)
    return _catalog().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for `n` of a message with plurals, in the current language's rules; then `.format(n=...)`."""
    if _pseudo[0]:
        return pseudo(singular if n == 1 else plural)
    return _catalog().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """`message` in the current language, told apart from the same English words in another `context`."""
    if _pseudo[0]:
        return pseudo(message)
    return _catalog().pgettext(context, message)


def N_(message: str) -> str:
    """Mark a module-level constant for extraction; translate it where it is used, with `_(CONSTANT)`."""
    return message


def NC_(context: str, name: str) -> str:
    """Mark a command, option or choice name for extraction under `context` ("command name"); returns `name`.

    The command translator looks names up with `pgettext("command name", name)`.
    """
    return name


def use_language(language: str | None) -> None:
    """Speak `language` for the rest of the current task (framework hooks only; code uses `speaking`)."""
    _current.set(language_for(language))
