"""Localized command names end to end (issue 13): the real client syncs name_localizations for every command,
subcommand, option and context menu in the nine languages, the fake Discord (which checks them as Discord does)
accepts them, and the translator refused none."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from bot.i18n import LANGUAGES, SOURCE_LANGUAGE, pgettext, speaking

LOCALES = sorted(set(LANGUAGES) - {SOURCE_LANGUAGE})  # Discord locale values: zh-CN, ..., ru
SUBCOMMAND, GROUP, MESSAGE_MENU = 1, 2, 3


def named(items: list[dict[str, Any]], depth: int = 0) -> Iterator[tuple[str, dict[str, Any]]]:
    """(kind, item) of every command, subcommand / group and option of a synced payload."""
    for item in items:
        if depth == 0:
            yield ("menu" if item.get("type") == MESSAGE_MENU else "command"), item
        else:
            yield ("subcommand" if item.get("type") in (SUBCOMMAND, GROUP) else "option"), item
        yield from named(item.get("options") or [], depth + 1)


async def test_synced_names_are_localized_in_every_language(discord_fake, image_api, start_bot, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.presentation.speaking"):
        await start_bot()
    assert not [r.getMessage() for r in caplog.records if r.name == "bot.presentation.speaking"], "refused names"
    synced = discord_fake.commands[discord_fake.guild_id]  # stored: Discord (the fake) accepted the payload
    items = list(named(synced))
    assert {kind for kind, _item in items} == {"command", "subcommand", "option", "menu"}
    fully_localized: set[str] = set()
    for kind, item in items:
        localized = item.get("name_localizations") or {}
        for locale in LOCALES:
            with speaking(locale):
                expected = pgettext("command name", item["name"])
            assert localized.get(locale, item["name"]) == expected, (locale, item["name"])
        if set(localized) == set(LOCALES):
            fully_localized.add(kind)
    assert fully_localized == {"command", "subcommand", "option", "menu"}
    by_name = {c["name"]: c for c in synced}
    assert by_name["imagine"]["name_localizations"]["ru"] == "нарисовать"
    assert by_name["Add to references"]["name_localizations"]["fr"] == "Ajouter aux références"
    usage = {o["name"]: o for o in by_name["usage"]["options"]}
    assert usage["forget-me"]["name_localizations"]["de"] == "vergiss-mich"
    prompt = {o["name"]: o for o in by_name["imagine"]["options"]}["prompt"]
    assert prompt["name_localizations"]["zh-CN"] == "提示词"
