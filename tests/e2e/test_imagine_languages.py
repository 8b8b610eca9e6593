"""Languages of /imagine, blending and the reference tray (issue 13), end to end with the real client.

The pseudo-locale runs prove that no text of these flows bypasses the catalogs (replies, refusals, the tray panel
and its controls, the blend form, the cost question); the real-language runs check what members read: private
answers in the member's language, public ones (a refusal after the public defer, an answer to a mention, the
mod-log) in the server's.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.helpers import final_original, final_reply, job_done
from tests.fakes.discord_models import walk_components
from tests.i18n_check import assert_translated
from tests.images import png

MODAL = 9
# What may show as is: the message commands' names (Discord shows them in English), /commands and their options,
# file formats.
KEPT = ["Add to references", "Blend with prompt…", "/imagine", "use_tray:True", "/settings", "PNG", "JPEG", "WebP"]
KEPT += ["GIF", "BMP", "TIFF", "--n", "--ar"]


def controls(message: Any) -> list[str]:
    """Every label and placeholder of a message's components."""
    found = []
    for component in walk_components(message.components):
        found += [component[key] for key in ("label", "placeholder") if component.get(key)]
    return found


async def answer(fake: Any, interaction: Any) -> str:
    await interaction.wait_response()
    assert interaction.ephemeral, "a private answer"
    return str(interaction.original.text)


async def refused_after_defer(fake: Any, interaction: Any) -> str:
    """The ❌ line that replaced the public 'thinking' message."""
    message = await fake.wait_for(
        lambda: interaction.original if interaction.original and "❌" in interaction.original.text else None
    )
    return str(message.text)


async def test_pseudo_locale_imagine_refusals_and_the_tray(discord_fake, image_api, start_bot) -> None:
    await start_bot(pseudo_locale=True)
    alice = discord_fake.add_member("alice")
    files = ["notes.txt", "a.png", "b.png", "broken.png"]
    kept = [*KEPT, *files]

    assert_translated(await answer(discord_fake, await discord_fake.slash(alice, "tray")), kept)
    empty_tray = await discord_fake.slash(alice, "imagine", prompt="a fox", use_tray=True)
    assert_translated(await answer(discord_fake, empty_tray), kept)
    text_file = discord_fake.add_attachment(b"hello", "notes.txt", "text/plain")
    not_an_image = await discord_fake.slash(alice, "imagine", prompt="a fox", image1=text_file)
    assert_translated(await answer(discord_fake, not_an_image), kept)
    # A refusal after the public defer: the decoder (another process) found the file unreadable.
    broken = discord_fake.add_attachment(png(400, 300)[:200], "broken.png", "image/png", width=400, height=300)
    unreadable = await discord_fake.slash(alice, "imagine", prompt="a fox", image1=broken)
    assert_translated(await refused_after_defer(discord_fake, unreadable), kept)

    source = await discord_fake.send_message(
        alice,
        "",
        attachments=[discord_fake.add_attachment(png(90, 70), "a.png"), discord_fake.add_attachment(png(), "b.png")],
    )
    added = await discord_fake.context_menu(alice, "Add to references", source)
    panel_text = await answer(discord_fake, added)
    assert "a.png" in panel_text
    panel = added.original
    assert_translated(panel_text, kept)
    for label in controls(panel):
        assert_translated(label, kept)
    removed = await discord_fake.click(alice, panel, "tray:remove", values=["0"])
    await removed.wait_response()
    assert_translated(panel.text, kept)
    cleared = await discord_fake.click(alice, panel, "tray:clear")
    await cleared.wait_response()
    assert_translated(panel.text, kept)
    assert image_api.requests == []


async def test_pseudo_locale_blend_form_refusals_and_mentions(discord_fake, image_api, start_bot) -> None:
    await start_bot(pseudo_locale=True)
    alice = discord_fake.add_member("alice")
    source = await discord_fake.send_message(alice, "", attachments=[discord_fake.add_attachment(png(), "c.png")])
    menu = await discord_fake.context_menu(alice, "Blend with prompt…", source)
    await menu.wait_response()
    assert menu.response_type == MODAL
    form = menu.modal
    assert_translated(form["title"], KEPT)
    for label in controls(type("Form", (), {"components": form["components"]})()):
        if label != "16:9, 1:1, 9:16 …":  # the aspect field's example: ratios, no words
            assert_translated(label, KEPT)
    bad_count = await discord_fake.submit_modal(
        alice, menu, {"blend:prompt": "make it blue", "blend:count": "xx", "blend:aspect": ""}
    )
    assert_translated(await answer(discord_fake, bad_count), [*KEPT, "`xx`"])
    bad_aspect = await discord_fake.submit_modal(
        alice, menu, {"blend:prompt": "make it blue", "blend:count": "1", "blend:aspect": "5:4"}
    )
    assert_translated(await answer(discord_fake, bad_aspect), KEPT)
    nothing = await discord_fake.send_message(
        alice, "", attachments=[discord_fake.add_attachment(b"x", "x.txt", "text/plain")]
    )
    no_images = await discord_fake.context_menu(alice, "Blend with prompt…", nothing)
    assert_translated(await answer(discord_fake, no_images), KEPT)

    # A mention is answered in the channel (the server's language; here the pseudo-locale).
    mention = await discord_fake.send_message(alice, "make it blue", mention_bot=True)
    reply = await final_reply(discord_fake, mention)
    assert_translated(reply.text, [*KEPT, discord_fake.bot.username, "--n 4 --ar 16:9"])
    bad_option = await discord_fake.send_message(alice, "make it blue --ar 5:4", mention_bot=True, reply_to=source)
    assert_translated((await final_reply(discord_fake, bad_option)).text, KEPT)
    assert image_api.requests == []


async def test_pseudo_locale_cost_question(discord_fake, image_api, start_bot) -> None:
    await start_bot(pseudo_locale=True, cost_confirm_above=0.10, show_costs=True)
    user = discord_fake.add_member()
    ask = await discord_fake.slash(user, "imagine", prompt="a big set", count=4)
    question = await answer(discord_fake, ask)
    assert_translated(question, ["$0.12"])
    labels = controls(ask.original)
    for label in labels:
        assert_translated(label)
    buttons = {b["label"]: b["custom_id"] for row in ask.original.components for b in row["components"]}
    [cancel] = [custom_id for label, custom_id in buttons.items() if "Çåñçéļ" in label]
    click = await discord_fake.click(user, ask.original, cancel)
    await click.wait_response()
    assert_translated(ask.original.text)
    assert image_api.requests == []


async def test_members_read_imagine_and_tray_answers_in_their_language(discord_fake, image_api, start_bot) -> None:
    await start_bot(cost_confirm_above=0.10)
    li, ivan = discord_fake.add_member("li", locale="zh-CN"), discord_fake.add_member("ivan", locale="ru")
    text_file = discord_fake.add_attachment(b"hello", "notes.txt", "text/plain")
    refusal = await answer(discord_fake, await discord_fake.slash(li, "imagine", prompt="a fox", image1=text_file))
    assert refusal == "`notes.txt` 不是图片。请附加 PNG、JPEG、WebP、GIF、BMP 或 TIFF 文件。"

    ask = await discord_fake.slash(li, "imagine", prompt="a big set", count=4)
    assert "这个请求会以 2K 生成 4 张图片" in await answer(discord_fake, ask)
    assert sorted(b["label"] for row in ask.original.components for b in row["components"]) == ["取消", "生成"]

    images = [discord_fake.add_attachment(png(50 + i, 50), f"f{i}.png") for i in range(3)]
    source = await discord_fake.send_message(ivan, "", attachments=images)
    added = await discord_fake.context_menu(ivan, "Add to references", source)
    panel = await answer(discord_fake, added)
    assert panel.startswith("Добавлено: 3 изображения.\n📌 Ваши референсы (3/14, каждый хранится 1 час)"), panel
    assert set(controls(added.original)) == {"Убрать изображение…", "Очистить"}
    cleared = await discord_fake.click(ivan, added.original, "tray:clear")
    await cleared.wait_response()
    assert added.original.text.startswith("Лоток очищен: 3 изображения.\n📌 Ваш лоток пуст.")

    menu = await discord_fake.context_menu(ivan, "Blend with prompt…", source)
    await menu.wait_response()
    assert menu.modal["title"] == "Смешать 3 изображения по запросу"
    assert image_api.requests == []


async def test_public_answers_are_in_the_servers_language(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot()
    discord_fake.set_guild_locale("ru")
    ann = discord_fake.add_member("ann")  # an English client: public texts still follow the server
    # Refused by the decoder process after the public defer: written again in the job's language.
    broken = discord_fake.add_attachment(png(400, 300)[:200], "broken.png", "image/png", width=400, height=300)
    unreadable = await discord_fake.slash(ann, "imagine", prompt="a fox", image1=broken)
    text = await refused_after_defer(discord_fake, unreadable)
    assert "`broken.png` не удаётся прочитать как изображение (PNG, JPEG, WebP, GIF, BMP или TIFF)." in text

    mention = await discord_fake.send_message(ann, "make it blue", mention_bot=True)
    reply = await final_reply(discord_fake, mention)
    assert reply.text.startswith("Ответьте на сообщение с картинками"), reply.text

    mods = discord_fake.add_channel("mods")
    boss = discord_fake.add_member("boss", manage_guild=True)
    await (await discord_fake.slash(boss, "imagine-admin mod-log", channel=mods)).wait_response()
    await final_original(discord_fake, await discord_fake.slash(ann, "imagine", prompt="a red fox"))
    jobs = await job_done(harness, 2)
    entry = await discord_fake.wait_for(lambda: next(iter(discord_fake.channel_messages(mods)), None))
    assert f"задача {jobs[0].id} (генерация) · готово (1/1)" in entry.text, entry.text


async def test_notes_on_a_members_defaults_above_a_public_result_are_in_the_servers_language(
    discord_fake, image_api, start_bot
) -> None:
    harness = await start_bot(quota_allow_4k=False, quota_max_set_size=4)
    discord_fake.set_guild_locale("ja")
    ivan = discord_fake.add_member("ivan", locale="ru")  # his /settings ask for what this server does not allow
    await harness.store.member_defaults.update(int(discord_fake.guild_id), int(ivan.id), resolution="4K", count=6)
    result = await final_original(discord_fake, await discord_fake.slash(ivan, "imagine", prompt="a kite"))
    assert "ℹ️ このサーバーではデフォルト解像度の 4K が使えないため、今回は 2K を使います。" in result.text, result.text
    assert "ℹ️ デフォルトの 6 枚はこのサーバーの上限（4）を超えているため、今回は 4 枚作ります。" in result.text
    assert not any("а" <= letter <= "я" for letter in result.text.lower()), "no Russian in a public message"
