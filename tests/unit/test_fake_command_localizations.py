"""The fake Discord checks command localizations as Discord does: locale keys, name rules, lengths (400, 50035)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.fakes.discord import FakeDiscord


async def put_commands(fake: FakeDiscord, commands: list[dict[str, Any]]) -> tuple[int, Any]:
    url = f"{fake.base_url}/applications/{fake.application_id}/guilds/{fake.guild_id}/commands"
    async with (
        aiohttp.ClientSession() as session,
        session.put(url, json=commands, headers={"Authorization": f"Bot {fake.token}"}) as response,
    ):
        return response.status, await response.json()


def command(**extra: Any) -> dict[str, Any]:
    option = {"type": 3, "name": "setting", "description": "What", "choices": [{"name": "Language", "value": "l"}]}
    return {"type": 1, "name": "set", "description": "Change a setting", "options": [option], **extra}


async def test_valid_localizations_are_stored(discord_fake: FakeDiscord) -> None:
    good = command(name_localizations={"ru": "задать", "zh-CN": "设置"}, description_localizations={"ja": "設定を変更"})
    good["options"][0]["name_localizations"] = {"de": "einstellung"}
    good["options"][0]["choices"][0]["name_localizations"] = {"fr": "Langue (pour tout le serveur)"}
    status, body = await put_commands(discord_fake, [good])
    assert status == 200 and body[0]["name_localizations"]["zh-CN"] == "设置"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"name_localizations": {"xx-YY": "set"}}, "name_localizations"),  # not a Discord locale
        ({"name_localizations": {"en-US": "Set"}}, "name_localizations"),  # capitals
        ({"name_localizations": {"fr": "changer un réglage"}}, "name_localizations"),  # a space
        ({"name_localizations": {"de": "x" * 33}}, "name_localizations"),  # too long
        ({"description_localizations": {"ja": ""}}, "description_localizations"),
        ({"description_localizations": {"ko": "가" * 101}}, "description_localizations"),
        ({"description_localizations": ["ja"]}, "description_localizations"),
    ],
)
async def test_bad_command_localizations_are_refused(discord_fake: FakeDiscord, change: dict, where: str) -> None:
    status, body = await put_commands(discord_fake, [command(**change)])
    assert status == 400 and body["code"] == 50035
    assert where in body["errors"]["0"]


async def test_bad_option_and_choice_localizations_are_refused(discord_fake: FakeDiscord) -> None:
    bad = command()
    bad["options"][0]["name_localizations"] = {"ru": "Язык"}
    bad["options"][0]["choices"][0]["name_localizations"] = {"ja": "言" * 101}
    status, body = await put_commands(discord_fake, [bad])
    assert status == 400
    option = body["errors"]["0"]["options"]["0"]
    assert "name_localizations" in option and "name_localizations" in option["choices"]["0"]


async def test_two_options_may_not_share_a_localized_name(discord_fake: FakeDiscord) -> None:
    twins = command()
    twins["options"] = [
        {"type": 3, "name": "first", "description": "a", "name_localizations": {"ru": "имя"}},
        {"type": 3, "name": "second", "description": "b", "name_localizations": {"ru": "имя"}},
    ]
    status, body = await put_commands(discord_fake, [twins])
    assert status == 400 and "name_localizations" in body["errors"]["0"]["options"]["1"]


async def test_context_menu_names_may_be_localized_with_spaces(discord_fake: FakeDiscord) -> None:
    menu = {"type": 3, "name": "Add to references", "name_localizations": {"fr": "Ajouter aux références"}}
    status, _ = await put_commands(discord_fake, [menu])
    assert status == 200
    menu["name_localizations"] = {"fr": "x" * 33}
    status, _ = await put_commands(discord_fake, [menu])
    assert status == 400


async def test_each_command_type_gets_its_own_name_rule(discord_fake: FakeDiscord) -> None:
    free = {"de": "Zu Referenzen hinzufügen", "zh-CN": "添加到参考图"}  # spaces and capitals: a menu's rule
    user_menu = {"type": 2, "name": "Show usage", "name_localizations": free}
    message_menu = {"type": 3, "name": "Add to references", "name_localizations": free}
    status, _ = await put_commands(discord_fake, [user_menu, message_menu])
    assert status == 200
    status, body = await put_commands(discord_fake, [command(name_localizations=free)])  # a slash command: refused
    assert status == 400 and "de" in body["errors"]["0"]["name_localizations"]
    assert "zh-CN" not in body["errors"]["0"]["name_localizations"]


async def test_the_longest_localization_counts_towards_the_8000_character_limit(discord_fake: FakeDiscord) -> None:
    choices = [{"name": "c", "value": f"v{i}"} for i in range(10)]
    options = [{"type": 3, "name": f"opt{i}", "description": "d", "choices": choices} for i in range(25)]
    big = command(options=options)
    status, _ = await put_commands(discord_fake, [big])
    assert status == 200  # about 800 characters in English
    localized = [dict(c, name_localizations={"de": "x" * 100}) for c in choices]
    big["options"] = [dict(o, choices=localized) for o in options]  # 25 x 10 x 100 characters in German
    status, body = await put_commands(discord_fake, [big])
    assert status == 400 and body["errors"]["0"]["_errors"][0]["code"] == "APPLICATION_COMMAND_TOO_LARGE"
