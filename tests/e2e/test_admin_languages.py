"""The admin area in every language (issue 13): /imagine-admin replies, refusals, the API key form and the
mod-log's budget notices go through the catalogs (pseudo-locale), an admin reads their own language, and the
mod-log speaks the server's."""

from __future__ import annotations

from typing import Any

from bot.i18n.pseudo import OPEN
from tests.e2e.key_helpers import SECRET, answer, enter_key, key_action
from tests.e2e.test_quotas import refused, run_job
from tests.e2e.test_tiers import admin_says
from tests.i18n_check import assert_translated

COMMANDS = ["/imagine-admin", "`/imagine-admin api-key`", "/imagine"]


def modal_texts(modal: dict[str, Any]) -> list[str]:
    """The form's title and every input's label and placeholder."""
    texts = [modal["title"]]
    for row in modal.get("components", []):
        fields = row.get("components", []) if row.get("type") == 1 else [row.get("component", {})]
        texts += [row["label"]] if row.get("label") else []
        for field in fields:
            texts += [field[key] for key in ("label", "placeholder") if field.get(key)]
    return texts


def budget_notices(discord_fake, channel: str) -> list[str]:
    return [m.content for m in discord_fake.channel_messages(channel) if "💸" in m.content]


async def test_pseudo_locale_admin_replies_have_no_text_outside_the_catalogs(
    discord_fake, image_api, start_bot
) -> None:
    harness = await start_bot(pseudo_locale=True, secret_key=SECRET)
    models = [text for m in harness.settings.catalog.offered for text in (m.name, m.id)]
    admin = discord_fake.add_member("boss", manage_guild=True)
    members, mods = discord_fake.add_role("members"), discord_fake.add_channel("mods")
    replies = [
        await admin_says(discord_fake, admin, "set", setting="member_daily_images", value="5"),
        await admin_says(discord_fake, admin, "set", setting="allow_4k", value="default"),
        await admin_says(discord_fake, admin, "set", setting="watermark", value="maybe"),
        await admin_says(discord_fake, admin, "set", setting="cooldown_seconds", value="lots"),
        await admin_says(discord_fake, admin, "set", setting="max_set_size", value="99"),
        await admin_says(discord_fake, admin, "set", setting="default_resolution", value="8K"),
        await admin_says(discord_fake, admin, "exempt", role=members),
        await admin_says(discord_fake, admin, "exempt", role=members, exempt=False),
        await admin_says(discord_fake, admin, "tier set", role=members, preset="standard"),
        await admin_says(discord_fake, admin, "tier set", role=members, daily=7),
        await admin_says(discord_fake, admin, "tier set", role=members, models="no such model"),
        await admin_says(discord_fake, admin, "tier list"),
        await admin_says(discord_fake, admin, "tier remove", role=members),
        await admin_says(discord_fake, admin, "tier remove", role=members),
        await admin_says(discord_fake, admin, "tier list"),
        await admin_says(discord_fake, admin, "channel", channel=mods, allowed=False),
        await admin_says(discord_fake, admin, "block-word", word="dragon"),
        await admin_says(discord_fake, admin, "block-word", word="dragon"),
        await admin_says(discord_fake, admin, "blocked-words"),
        await admin_says(discord_fake, admin, "block-word", word="dragon", blocked=False),
        await admin_says(discord_fake, admin, "blocked-words"),
        await admin_says(discord_fake, admin, "mod-log", channel=mods),
        await admin_says(discord_fake, admin, "mod-log"),
        await key_action(discord_fake, admin, "status"),
        await key_action(discord_fake, admin, "remove"),
        await enter_key(discord_fake, admin, "this is not a key at all"),
        await enter_key(discord_fake, admin, "sk-a-well-formed-key-0123456789", "http://relay.example/v1"),
        await enter_key(discord_fake, admin, "sk-a-well-formed-key-0123456789", "https://10.0.0.1/v1"),
    ]
    allowed = [*COMMANDS, *models, "dragon", "no such model", "lots", "maybe", "8K", "4K", "2K", "1K", "3K"]
    allowed += ["http://relay.example/v1", "https://10.0.0.1/v1"]  # (never echoed, but harmless)
    for reply in replies:
        assert_translated(reply, allowed=allowed)
    opened = await discord_fake.slash(admin, "imagine-admin api-key")
    await opened.wait_response()
    texts = modal_texts(opened.modal)
    assert len(texts) == 5, texts
    for text in texts:
        assert_translated(text, allowed=["https://relay.example/v1", "Seedream", "Volcengine Ark", "BytePlus ModelArk"])


async def test_pseudo_locale_budget_notices_on_the_mod_log(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(pseudo_locale=True, monthly_budget=0.10, price_per_image=0.03)
    mods = discord_fake.add_channel("mods")
    admin, alice = discord_fake.add_member("boss", manage_guild=True), discord_fake.add_member("alice")
    await admin_says(discord_fake, admin, "mod-log", channel=mods)
    await run_job(discord_fake, harness, alice, prompt="three owls", count=3)  # $0.09: 90 %
    await discord_fake.wait_for(lambda: len(budget_notices(discord_fake, mods)) == 1)
    await refused(discord_fake, alice, prompt="one owl too many")
    await discord_fake.wait_for(lambda: len(budget_notices(discord_fake, mods)) == 2)
    for notice in budget_notices(discord_fake, mods):
        assert_translated(notice, allowed=COMMANDS)


async def test_a_russian_admin_reads_russian_and_a_japanese_servers_mod_log_reads_japanese(
    discord_fake, image_api, start_bot
) -> None:
    harness = await start_bot(monthly_budget=0.10, price_per_image=0.03, quota_member_daily_images=100)
    ivan = discord_fake.add_member("ivan", manage_guild=True, locale="ru")
    members, mods = discord_fake.add_role("members"), discord_fake.add_channel("mods")
    text = await admin_says(discord_fake, ivan, "tier set", role=members, preset="free")
    assert text == (
        f"✅ У <@&{members}> теперь уровень **Бесплатный**: 5 в день · 50 в месяц · до 2K · наборы до 4 · все модели."
    )
    assert "Пресеты: **Бесплатный**" in await admin_says(discord_fake, ivan, "tier list")
    refusal = await admin_says(discord_fake, ivan, "set", setting="max_set_size", value="99")
    assert (
        refusal
        == "Максимальный размер набора: укажите целое число от 1 до 15 (0 = без ограничения, где это применимо)."
    )
    assert (
        await key_action(discord_fake, ivan, "remove")
        == "У этого сервера нет собственного API-ключа; ничего не удалено."
    )

    await admin_says(discord_fake, ivan, "set", setting="language", value="ja")
    await admin_says(discord_fake, ivan, "mod-log", channel=mods)
    alice = discord_fake.add_member("alice")  # an English member: the mod-log still speaks the server's language
    await run_job(discord_fake, harness, alice, prompt="three owls", count=3)  # $0.09: 90 %
    await discord_fake.wait_for(lambda: len(budget_notices(discord_fake, mods)) == 1)
    [notice] = budget_notices(discord_fake, mods)
    assert notice.startswith("💸 今月の画像予算の 80% を使いました：$0.10 のうち $0.09（進行中のジョブを含む）。")
    english = await refused(discord_fake, alice, prompt="one owl too many")
    assert "budget" in english  # the member's own answer stays in the member's language
    await discord_fake.wait_for(lambda: len(budget_notices(discord_fake, mods)) == 2)
    assert "今月の画像予算 $0.10 を使い切りました" in budget_notices(discord_fake, mods)[1]


async def test_the_admin_commands_carry_localized_descriptions(discord_fake, image_api, running_bot) -> None:
    commands = {c["name"]: c for c in discord_fake.commands[discord_fake.guild_id]}
    admin = commands["imagine-admin"]
    assert admin["description_localizations"]["de"] == "Bildbot-Einstellungen für diesen Server"
    options = {o["name"]: o for o in admin["options"]}
    assert options["api-key"]["description_localizations"]["zh-CN"] == "本服务器自己的图片 API 密钥：输入、查看或移除"
    tier = {o["name"]: o for o in options["tier"]["options"]}
    presets = {o["name"]: o for o in tier["set"]["options"]}["preset"]["choices"]
    assert [c["name_localizations"]["ja"] for c in presets] == ["フリー", "スタンダード", "無制限"]
    setting = {o["name"]: o for o in options["set"]["options"]}["setting"]
    [budget] = [c for c in setting["choices"] if c["value"] == "monthly_budget"]
    assert budget["name_localizations"]["fr"] == "Budget mensuel ($ US)"


async def test_a_german_admin_gets_the_key_form_in_german(discord_fake, image_api, start_bot) -> None:
    await start_bot(secret_key=SECRET)
    anna = discord_fake.add_member("anna", manage_guild=True, locale="de")
    opened = await discord_fake.slash(anna, "imagine-admin api-key")
    await opened.wait_response()
    texts = modal_texts(opened.modal)
    assert texts[0] == "Bild-API-Schlüssel dieses Servers" and "API-Schlüssel" in texts
    submitted = await discord_fake.submit_modal(anna, opened, {"apikey:key": "this is not a key at all"})
    assert await answer(discord_fake, submitted) == (
        "❌ Das sieht nicht nach einem API-Schlüssel aus: Füge den ganzen Schlüssel ein (16 bis 256 Zeichen, "
        "keine Leerzeichen). Es wurde nichts gespeichert."
    )


def refusals(discord_fake, channel: str) -> list[str]:
    return [m.content for m in discord_fake.channel_messages(channel) if "🚫" in m.content]


async def test_pseudo_locale_refusals_on_the_mod_log_name_their_reason_through_the_catalogs(
    discord_fake, image_api, start_bot
) -> None:
    await start_bot(pseudo_locale=True)
    mods = discord_fake.add_channel("mods")
    admin, alice = discord_fake.add_member("boss", manage_guild=True), discord_fake.add_member("alice")
    await admin_says(discord_fake, admin, "mod-log", channel=mods)
    await admin_says(discord_fake, admin, "block-word", word="dragon")
    await refused(discord_fake, alice, prompt="a dragon")
    [entry] = await discord_fake.wait_for(lambda: refusals(discord_fake, mods) or None)
    assert_translated(entry, allowed=["a dragon"])
    reason = entry.split("\n")[0].rsplit("·", 1)[1]  # a value inside the frame: translated on its own too
    assert OPEN in reason, entry


async def test_a_refusal_on_a_japanese_servers_mod_log_reads_japanese_whoever_was_refused(
    discord_fake, image_api, start_bot
) -> None:
    await start_bot()
    discord_fake.set_guild_locale("ja")
    mods = discord_fake.add_channel("mods")
    boss, ivan = discord_fake.add_member("boss", manage_guild=True), discord_fake.add_member("ivan", locale="ru")
    await admin_says(discord_fake, boss, "mod-log", channel=mods)
    await admin_says(discord_fake, boss, "block-word", word="dragon")
    answer = await refused(discord_fake, ivan, prompt="a dragon")
    assert any("а" <= c <= "я" for c in answer.lower()), answer  # his own answer: in Russian
    [entry] = await discord_fake.wait_for(lambda: refusals(discord_fake, mods) or None)
    frame = f"🚫 <@{ivan.id}>（<#{discord_fake.channel_id}>）· 費用が発生する前に拒否 · "
    assert entry.startswith(frame + "ブロックした語句"), entry
    assert not any("а" <= c <= "я" for c in entry.lower()) and "blocked" not in entry
