"""Languages end to end (issue 13): private replies in the member's language, public ones in the server's,
Russian plurals, localized command definitions that Discord accepted, and the pseudo-locale."""

from __future__ import annotations

from tests.e2e.helpers import final_original, job_done
from tests.i18n_check import assert_translated

EPHEMERAL_MESSAGE = 4


def card_text(embed: dict) -> str:
    fields = " ".join(f"{f['name']}\n{f['value']}" for f in embed.get("fields", []))
    return f"{embed.get('title', '')}\n{embed.get('description', '')}\n{fields}"


async def help_card(fake, member) -> dict:
    interaction = await fake.slash(member, "help")
    await interaction.wait_response()
    assert interaction.response_type == EPHEMERAL_MESSAGE and interaction.ephemeral
    [embed] = interaction.original.embeds
    return embed


async def admin_sets_language(fake, value: str, *, locale: str = "en-US") -> str:
    admin = fake.add_member("boss", manage_guild=True, locale=locale)
    interaction = await fake.slash(admin, "imagine-admin set", setting="language", value=value)
    await interaction.wait_response()
    assert interaction.ephemeral
    return str(interaction.original.content)


async def test_a_chinese_member_gets_help_in_chinese(discord_fake, image_api, running_bot) -> None:
    embed = await help_card(discord_fake, discord_fake.add_member("li", locale="zh-CN"))
    text = card_text(embed)
    assert embed["title"] == f"{discord_fake.bot.username} 能做什么"
    assert [f["name"] for f in embed["fields"]] == ["你在本服务器的限额", "通过回复来融合"]
    assert "**命令**" in text and "示例：`/imagine prompt:四季中的灯塔 count:4 aspect:16:9`" in text
    assert "今天还剩 10/10 张图片" not in text  # the default quota is 100 a day
    assert "今天还剩 100/100 张图片" in text and "UTC 00:00" in text
    assert "Commands" not in text and "Your limits" not in text
    # An English member of the same server still reads English: the language is per member, not per process.
    english = card_text(await help_card(discord_fake, discord_fake.add_member("ann")))
    assert "**Commands**" in english and "能做什么" not in english


async def test_a_russian_member_sees_three_plural_forms(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_max_set_size=5)
    ivan = discord_fake.add_member("ivan", locale="ru")
    guild = int(discord_fake.guild_id)
    seen = []
    for count in (1, 3, 5):
        await harness.store.member_defaults.update(guild, int(ivan.id), count=count)
        [limits] = [
            f for f in (await help_card(discord_fake, ivan))["fields"] if f["name"] == "Ваши лимиты на этом сервере"
        ]
        seen.append(limits["value"])
    assert "В серии максимум 5 изображений" in seen[0]
    assert "· 1 изображение (`/settings`)" in seen[0]
    assert "· 3 изображения (`/settings`)" in seen[1]
    assert "· 5 изображений (`/settings`)" in seen[2]


async def test_a_japanese_server_gets_its_public_job_messages_in_japanese(discord_fake, image_api, running_bot) -> None:
    answer = await admin_sets_language(discord_fake, "ja", locale="de")
    assert answer == "✅ Öffentliche Nachrichten hier werden jetzt auf **日本語** geschrieben.", (
        "the admin's own language"
    )
    alice = discord_fake.add_member("alice")  # an English client: the public result is still in the server's
    message = await final_original(
        discord_fake, await discord_fake.slash(alice, "imagine", prompt="a red fox", count=2)
    )
    [job] = await job_done(running_bot)
    assert job.language == "ja"
    assert "2 枚" in message.text and "images" not in message.text
    # The status line said so while the images came (the progress line is public too).
    edits = [r.json.get("content") or "" for r in discord_fake.requests if r.method == "PATCH" and r.json]
    assert any("画像を生成しています" in e or "枚完了" in e for e in edits), edits


async def test_the_server_locale_is_the_default_public_language(discord_fake, image_api, running_bot) -> None:
    discord_fake.set_guild_locale("ja")
    alice = discord_fake.add_member("alice")
    message = await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt="a red fox"))
    [job] = await job_done(running_bot)
    assert job.language == "ja" and "1 枚" in message.text
    # `default` gives the choice back to Discord's server locale; an unknown language is refused in words.
    assert "Discord" in await admin_sets_language(discord_fake, "default")
    refusal = await admin_sets_language(discord_fake, "klingon")
    assert "`zh-CN`" in refusal and "`default`" in refusal


async def test_a_job_keeps_the_language_it_was_admitted_with(discord_fake, image_api, running_bot) -> None:
    await admin_sets_language(discord_fake, "fr")
    alice = discord_fake.add_member("alice")
    message = await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt="a red fox"))
    await admin_sets_language(discord_fake, "de")  # later jobs only
    [job] = await job_done(running_bot)
    assert job.language == "fr" and "1 image ·" in message.text
    stored = await running_bot.store.get_job(job.id)
    assert stored is not None and stored.language == "fr"


async def test_synced_commands_carry_localizations_discord_accepted(discord_fake, image_api, running_bot) -> None:
    commands = {c["name"]: c for c in discord_fake.commands[discord_fake.guild_id]}
    help_command = commands["help"]
    localized = help_command["description_localizations"]
    assert localized["zh-CN"] == "这个机器人能做什么（附示例），以及你在这里的限额"
    assert localized["ru"] == "Что умеет этот бот, с примерами, и ваши лимиты здесь"
    assert set(localized) == {"zh-CN", "zh-TW", "ja", "ko", "es-ES", "pt-BR", "fr", "de", "ru"}
    admin = {o["name"]: o for o in commands["imagine-admin"]["options"]}
    setting = {o["name"]: o for o in admin["set"]["options"]}["setting"]
    [language] = [c for c in setting["choices"] if c["value"] == "language"]
    assert language["name"] == "Language" and language["name_localizations"]["ja"] == "言語"
    assert help_command["name_localizations"]["ja"] == "ヘルプ"  # names too (tests/e2e/test_command_names.py)


async def test_pseudo_locale_help_has_no_text_outside_the_catalogs(discord_fake, image_api, start_bot) -> None:
    await start_bot(pseudo_locale=True)
    embed = await help_card(discord_fake, discord_fake.add_member("pat"))
    commands = ["/imagine-admin", "/imagine", "/settings", "/tray", "/job", "/usage", "/leaderboard", "/help"]
    commands += ["show", "leaderboards", "forget-me"]  # subcommands
    assert_translated(card_text(embed), allowed=[discord_fake.bot.username, *commands])


async def test_admin_show_names_the_servers_language(discord_fake, image_api, running_bot) -> None:
    async def show() -> str:
        admin = discord_fake.add_member("boss", manage_guild=True)
        interaction = await discord_fake.slash(admin, "imagine-admin show")
        await interaction.wait_response()
        return str(interaction.original.content)

    assert "Language: **the server’s language in Discord**" in await show()
    await admin_sets_language(discord_fake, "日本語")
    assert "Language: **日本語** ✏️" in await show()
