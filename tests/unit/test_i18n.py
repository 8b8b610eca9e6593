"""bot.i18n: languages, the current language, plurals, per-language formatting, the pseudo-locale, and the
command translator's fallbacks."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import subprocess
import sys

import discord
import pytest
from discord import app_commands
from discord.app_commands import TranslationContext, TranslationContextLocation

from bot import i18n
from bot.i18n import _, current_language, language_for, ngettext, speaking
from bot.i18n.pseudo import pseudo
from bot.presentation.speaking import CatalogTranslator, server_language, valid_name
from tests.i18n_check import untranslated_words


@pytest.mark.parametrize(
    ("discord_locale", "language"),
    [
        ("zh-CN", "zh-CN"),
        ("ru", "ru"),
        ("en-GB", "en-US"),
        ("es-419", "es-ES"),
        ("it", "en-US"),
        (None, "en-US"),
        ("", "en-US"),
        (discord.Locale.japanese, "ja"),
    ],
)
def test_discord_locales_map_to_our_languages(discord_locale: object, language: str) -> None:
    assert language_for(discord_locale) == language  # type: ignore[arg-type]


def test_server_language_prefers_the_setting_then_the_guild_locale() -> None:
    assert server_language("ja", discord.Locale.german) == "ja"
    assert server_language(None, discord.Locale.german) == "de"
    assert server_language(None, None) == "en-US"


async def test_speaking_is_per_task_and_restored() -> None:
    async def in_language(language: str) -> str:
        with speaking(language):
            await asyncio.sleep(0)  # the other task runs meanwhile in its own language
            return _("Your limits in this server")

    assert await asyncio.gather(in_language("de"), in_language("fr")) == [
        "Deine Limits auf diesem Server",
        "Vos limites sur ce serveur",
    ]
    assert current_language() == "en-US" and _("Your limits in this server") == "Your limits in this server"


def test_russian_has_three_plural_forms_and_japanese_one() -> None:
    def images(n: int) -> str:
        return ngettext("{count} image", "{count} images", n).format(count=n)

    with speaking("ru"):
        assert [images(n) for n in (1, 3, 5, 11, 21, 22)] == [
            "1 изображение",
            "3 изображения",
            "5 изображений",
            "11 изображений",
            "21 изображение",
            "22 изображения",
        ]
    with speaking("ja"):
        assert {images(n) for n in (1, 2)} == {"1 枚", "2 枚"}
    assert [images(n) for n in (1, 2)] == ["1 image", "2 images"]


def test_numbers_money_and_durations_follow_the_language() -> None:
    assert (i18n.number(1234.5), i18n.money(1.5), i18n.duration(125)) == ("1,234.5", "$1.50", "2 minutes")
    with speaking("de"):
        assert (i18n.number(1234.5), i18n.money(1.5), i18n.duration(125)) == ("1.234,5", "1,50\xa0$", "2 Minuten")
        assert i18n.percent(0.25) == "25\xa0%" and i18n.either(["a", "b", "c"]) == "a, b oder c"
    with speaking("zh-CN"):
        assert i18n.duration(5, short=True) == "5秒" and i18n.relative(300) == "5分钟后"
    with speaking("fr"):
        assert i18n.number(1234.5) == "1\u202f234,5"


def test_pseudo_locale_marks_and_accents_but_keeps_placeholders() -> None:
    text = pseudo("What {bot} can do for <@123> at https://example.com/x")
    assert text.startswith("⟦") and text.endswith("⟧")
    assert "{bot}" in text and "<@123>" in text and "https://example.com/x" in text
    assert "What" not in text and text.format(bot="Imagebot").count("Imagebot") == 1
    i18n.use_pseudo(True)
    try:
        assert _("Your limits in this server") == pseudo("Your limits in this server")
        assert ngettext("{count} image", "{count} images", 2) == pseudo("{count} images")
    finally:
        i18n.use_pseudo(False)


def test_the_checker_finds_english_outside_the_markers() -> None:
    inner = pseudo("{count} images").format(count=3)
    text = pseudo("Sets of up to {images}").format(images=inner) + " · 4K allowed · `/imagine`"
    assert untranslated_words(text, allowed=["/imagine"]) == ["allowed"]
    assert untranslated_words(pseudo("Hello <@1> {name}").format(name="Zoë"), allowed=["Zoë"]) == []


def test_a_value_that_bypassed_the_catalogs_shows_even_inside_a_translated_text() -> None:
    text = pseudo("🚫 {member} · refused · {reason}").format(member="<@1>", reason="blocked_word")
    assert untranslated_words(text) == ["blocked", "word"]
    assert untranslated_words(text + " (ref 55ffeb)") == ["blocked", "word", "ref"], "ids with digits are not words"
    ref = pseudo("{message} (ref {ref})").format(message=pseudo("Failed."), ref="dfcdcd")
    assert untranslated_words(ref) == [], "a request id placed into a translated text, even all letters"


def test_pseudo_locale_marks_what_cldr_writes_but_not_the_items_of_a_list() -> None:
    i18n.use_pseudo(True)
    try:
        assert i18n.either(["`1K`", "`2K`"]) == "`1K`⟦ or ⟧`2K`"
        assert untranslated_words(i18n.every(["a fox", "2K"])) == ["fox"]
        assert untranslated_words(i18n.duration(3600) + " " + i18n.date_pattern(dt.date(2026, 12, 1), "MMMMd")) == []
    finally:
        i18n.use_pseudo(False)


async def translate(text: str, locale: discord.Locale, where: TranslationContextLocation) -> str | None:
    context = TranslationContext(location=where, data=None)
    return await CatalogTranslator().translate(app_commands.locale_str(text), locale, context)  # type: ignore[arg-type]


async def test_translator_gives_descriptions_and_choices_of_our_languages_only() -> None:
    described = "What this bot can do, with examples, and your limits here"
    where = TranslationContextLocation.command_description
    assert (
        await translate(described, discord.Locale.japanese, where)
        == "このボットにできること（例つき）と、ここでのあなたの上限"
    )
    assert await translate(described, discord.Locale.american_english, where) is None  # the source itself
    assert await translate(described, discord.Locale.italian, where) is None  # no catalog: Discord shows English
    assert await translate("no such text", discord.Locale.french, where) is None
    choice = TranslationContextLocation.choice_name
    assert await translate("Language", discord.Locale.brazil_portuguese, choice) == "Idioma"


async def test_translator_refuses_a_name_discord_would_reject(monkeypatch, caplog) -> None:
    names = {"help": "Aide Rapide", "tray": "плато"}  # a space and capitals; a valid Cyrillic name
    monkeypatch.setattr("bot.presentation.speaking.pgettext", lambda context, name: names.get(name, name))
    where = TranslationContextLocation.command_name
    with caplog.at_level(logging.WARNING, logger="bot.presentation.speaking"):
        translator = CatalogTranslator()
        for _attempt in range(2):
            context = TranslationContext(location=where, data=None)
            assert await translator.translate(app_commands.locale_str("help"), discord.Locale.french, context) is None
    assert len([r for r in caplog.records if "not a valid command name" in r.getMessage()]) == 1, "warned once"
    assert await translate("tray", discord.Locale.russian, where) == "плато"
    assert valid_name("生成") and valid_name("forget-me") and not valid_name("Forget") and not valid_name("a b")


def test_importing_reads_no_cldr_data_and_after_warm_formatting_reads_none() -> None:
    script = """
import datetime, babel.localedata as data, bot.i18n as i18n
print(len(data._cache))  # importing read nothing
i18n.warm()
def refuse(*args, **kwargs):
    raise AssertionError(f"read from disk: {args}")
data.load = refuse
for language in i18n.LANGUAGES:
    with i18n.speaking(language):
        i18n.money(1.5), i18n.number(1234.5), i18n.percent(0.5), i18n.duration(3600), i18n.relative(-60)
        i18n.either(["a", "b"]), i18n.every(["a", "b"]), i18n.date_pattern(datetime.date(2026, 12, 1), "MMMMd")
        i18n.datetime_text(datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)), i18n.ngettext("a", "b", 3)
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["0", "ok"], out.stderr[-2000:]
