"""Discord's locales, and its checks of the localizations in a command sync payload.

`name_localizations` / `description_localizations` of commands and options, and `name_localizations` of choices,
are objects keyed by Discord locale; localized names follow the rules of names (a chat command's: lower case,
`^[-_\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$`; a context menu's: 1-32 characters), descriptions 1-100
characters, choice names 1-100 characters. Two options of one list may not share a localized name either.
"""

from __future__ import annotations

import re
from typing import Any

Errors = dict[str, Any]

LOCALES = frozenset(
    {
        "id",
        "da",
        "de",
        "en-GB",
        "en-US",
        "es-ES",
        "es-419",
        "fr",
        "hr",
        "it",
        "lt",
        "hu",
        "nl",
        "no",
        "pl",
        "pt-BR",
        "ro",
        "fi",
        "sv-SE",
        "vi",
        "tr",
        "cs",
        "el",
        "bg",
        "ru",
        "uk",
        "hi",
        "th",
        "zh-CN",
        "ja",
        "zh-TW",
        "ko",
    }
)
CHAT_NAME = re.compile(r"^[-_\w]{1,32}$")  # \w: letters and digits of every script, and _


def _error(code: str, message: str) -> Errors:
    return {"_errors": [{"code": code, "message": message}]}


def chat_name_ok(name: Any) -> bool:
    """A chat-input command's or an option's name, as Discord accepts it."""
    return isinstance(name, str) and bool(CHAT_NAME.match(name)) and name == name.lower()


def check_localizations(errors: Errors, item: dict[str, Any], *, names: str, descriptions: bool) -> None:
    """Errors of `item`'s localizations; `names` is "chat" (command/option rules), "menu" or "choice"."""
    _check(errors, "name_localizations", item.get("name_localizations"), lambda v: _name_problem(v, names))
    if descriptions:
        _check(errors, "description_localizations", item.get("description_localizations"), _description_problem)


def duplicate_localized_names(options: list[dict[str, Any]]) -> Errors:
    """Index -> error for an option whose localized name repeats a sibling's in the same locale."""
    seen: set[tuple[str, str]] = set()
    errors: Errors = {}
    for index, option in enumerate(options):
        for locale, name in (option.get("name_localizations") or {}).items():
            if (locale, name) in seen:
                errors[str(index)] = {
                    "name_localizations": _error(
                        "APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME", f"Option names must be unique ({locale})"
                    )
                }
            seen.add((locale, name))
    return errors


def _check(errors: Errors, key: str, value: Any, problem: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        errors[key] = _error("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    found: Errors = {}
    for locale, text in value.items():
        if locale not in LOCALES:
            found[locale] = _error("BASE_TYPE_CHOICES", f"Value must be one of {sorted(LOCALES)}.")
        elif (why := problem(text)) is not None:
            found[locale] = why
    if found:
        errors[key] = found


def _name_problem(text: Any, names: str) -> Errors | None:
    if names == "chat":
        if chat_name_ok(text):
            return None
        return _error("APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {text!r}")
    return _length_problem(text, 32 if names == "menu" else 100)


def _description_problem(text: Any) -> Errors | None:
    return _length_problem(text, 100)


def _length_problem(text: Any, high: int) -> Errors | None:
    if not isinstance(text, str):
        return _error("BASE_TYPE_STRING", "Must be a string.")
    if not 1 <= len(text) <= high:
        return _error("BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {high} in length.")
    return None
