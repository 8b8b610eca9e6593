"""Languages for /settings, /usage, /leaderboard, forget-me and the quota refusals (issue 13): nothing bypasses the
catalogs (pseudo-locale), private answers in the member's language, leaderboards in the server's."""

from __future__ import annotations

from typing import Any

from tests.e2e.usage_helpers import record_job
from tests.fakes.discord_models import walk_components
from tests.i18n_check import assert_translated, untranslated_words

# What may appear as is: resolutions, ratios and sizes, model names, commands, and the emoji of the panel.
V40, V45 = "doubao-seedream-4-0-250828", "doubao-seedream-4-5-251128"
VERBATIM = ["/imagine", "/settings", "/imagine-admin", "UTC", "1K", "2K", "3K", "4K", "Seedream"]


def select_texts(message: Any) -> list[str]:
    """The texts of the selects' options whose labels are words (not ratios such as 16:9)."""
    found = []
    for component in walk_components(message.components):
        for option in component.get("options") or []:
            if not option["label"][0].isdigit():
                found.append(option["label"])
            if option.get("description"):
                found.append(option["description"])
    return found


async def slash_text(fake: Any, member: Any, command: str, **options: Any) -> Any:
    interaction = await fake.slash(member, command, **options)
    await interaction.wait_response()
    return interaction


async def test_pseudo_locale_settings_usage_and_leaderboard_have_no_text_outside_the_catalogs(
    discord_fake, image_api, start_bot
) -> None:
    harness = await start_bot(pseudo_locale=True, quota_max_set_size=4, quota_allow_4k=False)
    pat = discord_fake.add_member("pat")
    await record_job(harness.store, discord_fake.guild_id, pat.id, delivered=3)

    panel = (await slash_text(discord_fake, pat, "settings")).original
    assert_translated(panel.content, allowed=VERBATIM)
    texts = [c.get(k) or "" for c in walk_components(panel.components) for k in ("label", "placeholder")]
    for text in [*texts, *select_texts(panel)]:
        assert not untranslated_words(text, VERBATIM), text  # "1K", "16:9" are values, not words
    assert "⟦" in select_texts(panel)[0]
    click = await discord_fake.click(pat, panel, "settings:count", values=["6"])
    await click.wait_response()
    assert_translated(panel.content, allowed=VERBATIM)  # "Saved", and the set larger than the server allows

    usage = (await slash_text(discord_fake, pat, "usage show")).original
    # The tier line is bot/presentation/tier_text.py's (another area's texts).
    mine = "\n".join(line for line in usage.content.splitlines() if not line.startswith("Tier:"))
    assert_translated(mine, allowed=[f"<@{pat.id}>", *VERBATIM])
    hidden = (await slash_text(discord_fake, pat, "usage leaderboards", visible=False)).original
    assert_translated(hidden.content)
    shown = (await slash_text(discord_fake, pat, "usage leaderboards", visible=True)).original
    assert_translated(shown.content)

    board = await slash_text(discord_fake, pat, "leaderboard", period="month", metric="images")
    message = board.original
    assert_translated(message.text, allowed=VERBATIM)
    for component in walk_components(message.components):
        if component.get("label"):
            assert_translated(component["label"])
    thread = await discord_fake.wait_for(lambda: discord_fake._state.channels.get(message.id))
    assert_translated(thread["name"])
    chart = await discord_fake.wait_for(lambda: next(iter(discord_fake.channel_messages(message.id)), None))
    assert_translated(chart.attachments[0].description or "", allowed=VERBATIM)

    refusal = (await slash_text(discord_fake, pat, "imagine", prompt="a red fox", count=5)).original
    assert refusal.ephemeral
    assert_translated(refusal.text, allowed=["a red fox"])


async def test_pseudo_locale_forget_me_has_no_text_outside_the_catalogs(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(pseudo_locale=True)
    pat = discord_fake.add_member("pat")
    await record_job(harness.store, discord_fake.guild_id, pat.id, delivered=2)
    forget = await slash_text(discord_fake, pat, "usage forget-me")
    assert_translated(forget.original.content, allowed=["/settings"])
    await discord_fake.wait_for(lambda: forget.followups, timeout=30)
    assert_translated(forget.followups[-1].content, allowed=["/settings"])


async def test_a_russian_member_reads_usage_and_settings_in_russian(discord_fake, image_api, running_bot) -> None:
    ivan = discord_fake.add_member("ivan", locale="ru")
    guild = discord_fake.guild_id
    for delivered in (1, 1, 3):
        await record_job(running_bot.store, guild, ivan.id, delivered=delivered)

    usage = (await slash_text(discord_fake, ivan, "usage show")).original.content
    assert f"📊 **Использование <@{ivan.id}>**" in usage
    [today] = [line for line in usage.splitlines() if line.startswith("**Сегодня (")]
    assert today.endswith("**: 5 изображений · 3 запроса (не удалось: 0, заблокировано: 0) · 300 токенов"), today
    assert "**За всё время**: 5 изображений" in usage

    panel = (await slash_text(discord_fake, ivan, "settings")).original
    assert "⚙️ **Ваши настройки по умолчанию на этом сервере.**" in panel.content
    assert "Разрешение: **2K** (сервер)" in panel.content
    labels = {o["value"]: o["label"] for c in walk_components(panel.components) for o in c.get("options") or []}
    assert (labels["1"], labels["2"], labels["5"]) == ("1 изображение", "2 изображения", "5 изображений")


async def test_a_chinese_member_is_refused_in_chinese(discord_fake, image_api, start_bot) -> None:
    await start_bot(quota_max_set_size=4)
    li = discord_fake.add_member("li", locale="zh-CN")
    refusal = (await slash_text(discord_fake, li, "imagine", prompt="一只狐狸", count=6)).original
    assert refusal.ephemeral
    assert "每组数量上限：本服务器每次请求最多 4 张图片；你请求了 6 张。" in refusal.text


async def test_a_japanese_servers_leaderboard_is_in_japanese_for_everyone(discord_fake, image_api, running_bot) -> None:
    discord_fake.set_guild_locale("ja")
    alice = discord_fake.add_member("alice")  # an English client: the board is public, in the server's language
    await record_job(running_bot.store, discord_fake.guild_id, alice.id, delivered=3)
    for i in range(10):  # two pages
        await record_job(running_bot.store, discord_fake.guild_id, discord_fake.add_member(f"m{i}").id, delivered=9)
    board = await slash_text(discord_fake, alice, "leaderboard", period="all", metric="images")
    message = board.original
    assert not board.ephemeral
    assert "🏆 **画像数のトップクリエイター（全期間）**" in message.text
    assert f"<@{alice.id}> の順位：**11 位**（3 枚）。" in message.text
    labels = [c["label"] for c in walk_components(message.components) if c.get("label")]
    assert labels == ["◀ 前へ", "次へ ▶"]
    next_id = next(c for c in message.custom_ids() if c.endswith(":1"))
    click = await discord_fake.click(discord_fake.add_member("bob", locale="de"), message, next_id)
    await click.wait_response()
    assert "画像数のトップクリエイター" in message.text, "a page turned by a German member stays Japanese"
    thread = await discord_fake.wait_for(lambda: discord_fake._state.channels.get(message.id))
    assert thread["name"] == "ランキングのグラフ · 全期間"


async def test_private_usage_stays_in_the_members_language_on_a_japanese_server(
    discord_fake, image_api, running_bot
) -> None:
    discord_fake.set_guild_locale("ja")
    hans = discord_fake.add_member("hans", locale="de")
    answer = (await slash_text(discord_fake, hans, "usage leaderboards", visible=False)).original
    assert answer.ephemeral and answer.content == "Du bist jetzt in den Bestenlisten ausgeblendet."


async def test_help_says_settings_has_a_model_menu(discord_fake, image_api, running_bot) -> None:
    interaction = await slash_text(discord_fake, discord_fake.add_member("ann"), "help")
    [embed] = interaction.original.embeds
    assert "a model menu when several models are offered" in embed["description"]
    chinese = await slash_text(discord_fake, discord_fake.add_member("li", locale="zh-CN"), "help")
    assert "提供多个模型时还有模型菜单" in chinese.original.embeds[0]["description"]


async def test_a_forget_me_finished_after_a_restart_is_told_in_the_members_language(
    discord_fake, image_api, start_bot
) -> None:
    first = await start_bot()
    hans = discord_fake.add_member("hans", locale="de")
    await record_job(first.store, discord_fake.guild_id, hans.id, delivered=1)
    await first.store.set_meta(f"forget-me:{hans.id}", "de")  # what a German request stopped in the middle leaves
    await first.stop()

    await start_bot()
    dm = discord_fake.dm_channel(hans)
    told = await discord_fake.wait_for(
        lambda: [m for m in discord_fake.channel_messages(dm) if m.content.startswith("Fertig")], timeout=30
    )
    assert "(1 Anfrage)" in told[0].content


async def test_a_forget_me_request_writes_down_the_members_language(discord_fake, image_api, running_bot) -> None:
    hans = discord_fake.add_member("hans", locale="de")
    await record_job(running_bot.store, discord_fake.guild_id, hans.id, delivered=1)
    seen: list[str | None] = []
    store = running_bot.store
    set_meta = store.set_meta

    async def spy(key: str, value: str) -> None:
        if key.startswith("forget-me:"):
            seen.append(value)
        await set_meta(key, value)

    store.set_meta = spy  # type: ignore[method-assign]
    forget = await slash_text(discord_fake, hans, "usage forget-me")
    assert forget.original.content.startswith("Ich lösche jetzt")
    await discord_fake.wait_for(lambda: forget.followups, timeout=30)
    assert seen == ["de"] and forget.followups[-1].content.startswith("Fertig: ")


async def test_pseudo_locale_model_menu_of_settings(discord_fake, image_api, start_bot) -> None:
    await start_bot(pseudo_locale=True, image_models=[V40, V45])
    pat = discord_fake.add_member("pat")
    panel = (await slash_text(discord_fake, pat, "settings")).original
    models = ["Seedream 4.0", "Seedream 4.5"]
    assert_translated(panel.content, allowed=[*models, *VERBATIM])
    [menu] = [c for c in walk_components(panel.components) if c.get("custom_id") == "settings:model"]
    assert_translated(menu["placeholder"])
    for option in menu["options"]:
        assert not untranslated_words(option["label"], models), option
        assert_translated(option["description"], allowed=VERBATIM)
