"""Command, option and context menu names are listed for the catalogs and translated validly (issue 13)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import discord
from discord import app_commands
from discord.app_commands import TranslationContext, TranslationContextLocation

from bot.i18n import LANGUAGES, SOURCE_LANGUAGE, pgettext, speaking
from bot.presentation.command_names import CONTEXT_MENUS, NAMES
from bot.presentation.speaking import CatalogTranslator, valid_menu_name, valid_name
from tests.conftest import BotHarness

Siblings = list[str]


def tree_names(tree: app_commands.CommandTree) -> Iterator[tuple[str, Siblings]]:
    """Every chat name of the tree with its siblings (itself included)."""
    top = [c.name for c in tree.get_commands(type=discord.AppCommandType.chat_input)]
    yield from ((name, top) for name in top)
    for command in tree.walk_commands():
        if isinstance(command, app_commands.Group):
            children = [c.name for c in command.commands]
        else:
            children = [p.display_name for p in command.parameters]
        yield from ((name, children) for name in children)


def menu_names(tree: app_commands.CommandTree) -> list[str]:
    kinds = (discord.AppCommandType.message, discord.AppCommandType.user)
    return [c.name for kind in kinds for c in tree.get_commands(type=kind)]


async def test_every_name_of_the_command_tree_is_listed_and_nothing_else(running_bot: BotHarness) -> None:
    tree = running_bot.bot.tree
    names = {name for name, _siblings in tree_names(tree)}
    menus = set(menu_names(tree))
    assert menus == set(CONTEXT_MENUS)
    assert (names | menus) - NAMES == set(), "names of the tree missing from bot/presentation/command_names.py"
    assert NAMES - (names | menus) == set(), "bot/presentation/command_names.py lists names the tree no longer has"


async def test_every_name_is_translated_validly_and_siblings_stay_apart(running_bot: BotHarness) -> None:
    tree = running_bot.bot.tree
    named = list(tree_names(tree))
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        with speaking(language):
            for name, siblings in named:
                text = pgettext("command name", name)
                assert valid_name(text), (language, name, text)
                translated = [pgettext("command name", s) for s in siblings]
                assert len(set(translated)) == len(translated), (language, siblings, translated)
            for menu in menu_names(tree):
                text = pgettext("command name", menu)
                assert text != menu and valid_menu_name(text), (language, menu, text)


async def noop(interaction: discord.Interaction, message: discord.Message) -> None:
    """A context menu's callback."""


async def test_a_context_menu_name_is_checked_by_the_menu_rule(monkeypatch, caplog) -> None:
    names = {"Add to references": "Zu Referenzen hinzufügen", "Blend with prompt…": "M" * 33}
    monkeypatch.setattr("bot.presentation.speaking.pgettext", lambda context, name: names.get(name, name))
    translator = CatalogTranslator()
    where = TranslationContextLocation.command_name

    async def translated(name: str) -> str | None:
        menu = app_commands.ContextMenu(name=name, callback=noop)
        context = TranslationContext(location=where, data=menu)
        return await translator.translate(app_commands.locale_str(name), discord.Locale.german, context)

    with caplog.at_level(logging.WARNING, logger="bot.presentation.speaking"):
        assert await translated("Add to references") == "Zu Referenzen hinzufügen"  # spaces, capitals: fine
        assert await translated("Blend with prompt…") is None  # 33 characters: Discord refuses it
    [warning] = [r.getMessage() for r in caplog.records]
    assert "context menu name" in warning
    slash = TranslationContext(location=where, data=None)  # the same text for a slash command is refused
    source = app_commands.locale_str("Add to references")
    assert await translator.translate(source, discord.Locale.german, slash) is None
