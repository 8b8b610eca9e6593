"""Which language a reply is written in, set automatically for every interaction, and the command translator.

- Private replies (ephemeral, modals, DMs): the member's `interaction.locale`. `speak_members_language` wraps
  discord.py's INTERACTION_CREATE handler so every task it starts (app commands, autocomplete, view and dynamic
  item callbacks, modal submits) runs under `speaking(member language)`; no handler has to ask for it.
- Public messages: `server_language(config, guild_locale)`: the server's `language` setting, else Discord's
  `guild_locale`, else en-US. A job keeps the language it was admitted with (`jobs.language`).
- Command, option and choice names and descriptions: `CatalogTranslator` (registered in setup_hook).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where

from bot.i18n import LANGUAGES, SOURCE_LANGUAGE, _, language_for, pgettext, pseudo_enabled, speaking
from bot.store.guilds import GuildConfigStore

log = logging.getLogger(__name__)

# Discord's rule for command and option names: ^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$, lower case.
# Context menu names are free text (spaces, capitals) of 1-32 characters.
NAME = re.compile(r"^[-_\w]{1,32}$")
MENU_NAME_LENGTH = 32
NAME_CONTEXT = "command name"
_NAMES = {Where.command_name, Where.group_name, Where.parameter_name}


def member_language(interaction: discord.Interaction) -> str:
    """The language of the member's Discord client."""
    return language_for(str(interaction.locale))


def server_language(setting: str | None, guild_locale: object | None) -> str:
    """A server's public language: its `language` setting, else Discord's guild locale, else en-US."""
    return language_for(setting or (str(guild_locale) if guild_locale else None))


async def public_language(guilds: GuildConfigStore, guild_id: int | None, guild_locale: object | None) -> str:
    """The language of a server's public messages now (en-US outside a server)."""
    if not guild_id:
        return language_for(None)
    setting = (await guilds.load(guild_id)).overrides.get("language")
    return server_language(str(setting) if setting else None, guild_locale)


def speak_members_language(client: discord.Client) -> None:
    """Run every interaction's handlers in the member's language (see the module docstring)."""
    parsers: dict[str, Callable[[dict[str, Any]], None]] = client._connection.parsers
    parse = parsers["INTERACTION_CREATE"]

    def parse_in_members_language(data: dict[str, Any]) -> None:
        with speaking(data.get("locale")):  # the tasks discord.py creates here copy this context
            parse(data)

    parsers["INTERACTION_CREATE"] = parse_in_members_language


def valid_name(name: str) -> bool:
    """Whether Discord accepts `name` as a chat command, option or localized name."""
    return bool(NAME.match(name)) and name == name.lower()


def valid_menu_name(name: str) -> bool:
    """Whether Discord accepts `name` as a context menu's (localized) name."""
    return 1 <= len(name) <= MENU_NAME_LENGTH


class CatalogTranslator(app_commands.Translator):
    """Names (looked up as pgettext("command name", ...)), descriptions and choice names from the catalogs."""

    def __init__(self) -> None:
        self._warned: set[tuple[str, str]] = set()

    async def translate(
        self, string: app_commands.locale_str, locale: discord.Locale, context: app_commands.TranslationContextTypes
    ) -> str | None:
        """The text for one of our languages; None (Discord shows the English) when missing or invalid."""
        language = str(locale)
        if language not in LANGUAGES or language == SOURCE_LANGUAGE or pseudo_enabled():
            return None
        source = string.message
        is_name = context.location in _NAMES
        with speaking(language):
            text = pgettext(NAME_CONTEXT, source) if is_name else _(source)
        if text == source:
            return None
        if is_name and isinstance(context.data, app_commands.ContextMenu):
            if not valid_menu_name(text):
                self._refuse(language, source, f"{text!r} is not a valid context menu name (1-32 characters)")
                return None
        elif is_name and not valid_name(text):
            self._refuse(language, source, f"{text!r} is not a valid command name")
            return None
        if not is_name and not 1 <= len(text) <= 100:
            self._refuse(language, source, "it is longer than 100 characters")
            return None
        return text

    def _refuse(self, language: str, source: str, why: str) -> None:
        if (language, source) not in self._warned:
            self._warned.add((language, source))
            log.warning("the %s translation of %r is not used: %s", language, source, why)
