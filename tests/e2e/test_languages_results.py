"""Languages of a job's result (issue 13): the status line, summary, result buttons, picker, button answers,
/job and the restart notices go through the catalogs; public ones in the server's language, private ones in the
clicking member's."""

from __future__ import annotations

from typing import Any

from tests.e2e.helpers import final_original, job_done
from tests.e2e.test_recovery import RETRY, interrupt_a_job, retry_id
from tests.fakes.discord_models import walk_components
from tests.i18n_check import assert_translated

EPHEMERAL_MESSAGE = 4


def shown(message: Any) -> str:
    """Everything a member reads on a message: its text, button and option labels, placeholders, alt texts."""
    parts = [message.text]
    for component in walk_components(message.components):
        parts += [component.get("label") or "", component.get("placeholder") or "", component.get("description") or ""]
        parts += [option.get("label", "") for option in component.get("options") or []]
    parts += [attachment.description or "" for attachment in message.attachments]
    return "\n".join(part for part in parts if part)


def labels(message: Any) -> list[str]:
    """The labels of a message's buttons, in order."""
    return [c["label"] for c in walk_components(message.components) if c.get("type") == 2]


async def followup(fake, interaction) -> Any:
    return await fake.wait_for(lambda: interaction.followups and interaction.followups[-1])


async def test_pseudo_locale_result_buttons_and_job_card_have_no_text_outside_the_catalogs(
    discord_fake, image_api, start_bot
) -> None:
    harness = await start_bot(pseudo_locale=True)
    alice = discord_fake.add_member("alice")
    prompt = "a red fox"
    interaction = await discord_fake.slash(alice, "imagine", prompt=prompt, count=2)
    result = await final_original(discord_fake, interaction)
    [job] = await job_done(harness)
    model = harness.services.settings.catalog.label(job.params.get("model"))
    allowed = [prompt, "/job", *([model] if model else [])]
    assert_translated(shown(result), allowed=allowed)
    # The status line while the images came (public, edited in place).
    statuses = [r.json.get("content") or "" for r in discord_fake.requests if r.method == "PATCH" and r.json]
    for status in [s for s in statuses if "⏳" in s]:
        assert_translated(status, allowed=allowed)

    pick = await discord_fake.click(alice, result, f"img:pick:{job.id}:2", values=["2"])
    private = await discord_fake.wait_for(lambda: pick.original and pick.original.gallery_items() and pick.original)
    assert_translated(shown(private), allowed=allowed)
    assert private.gallery_items()[0]["description"] == prompt

    card = await discord_fake.slash(alice, "job", id=job.id)
    await card.wait_response()
    assert_translated(shown(card.original), allowed=allowed)

    reference = await discord_fake.click(alice, private, f"img:ref:{job.id}:2")
    assert_translated((await followup(discord_fake, reference)).text, allowed=["/tray"])

    refused = await discord_fake.click(discord_fake.add_member("bob"), result, f"img:delete:{job.id}")
    await refused.wait_response()
    assert refused.ephemeral
    assert_translated(refused.original.text)

    reroll = await discord_fake.click(alice, result, f"img:reroll:{job.id}")
    again = await final_original(discord_fake, reroll)
    assert_translated(shown(again), allowed=allowed)

    deleted = await discord_fake.click(alice, result, f"img:delete:{job.id}")
    assert_translated((await followup(discord_fake, deleted)).text)


async def test_a_russian_server_shows_results_in_russian_and_answers_clicks_in_the_members_language(
    discord_fake, image_api, running_bot
) -> None:
    discord_fake.set_guild_locale("ru")
    li = discord_fake.add_member("li", locale="zh-CN")
    result = await final_original(discord_fake, await discord_fake.slash(li, "imagine", prompt="a red fox", count=2))
    [job] = await job_done(running_bot)
    assert job.language == "ru"
    assert "· 2 изображения ·" in result.text, result.text
    assert f"-# Задача #{job.id} · `/job {job.id}` покажет её снова" in result.text
    assert labels(result) == ["Заново", "Удалить"]
    [picker] = [c for c in walk_components(result.components) if c.get("type") == 3]
    assert picker["placeholder"] == "Выберите изображение для вариаций, увеличения или референса…"
    assert [o["label"] for o in picker["options"]] == ["Изображение 1", "Изображение 2"]

    # Private answers speak the clicking member's language: Chinese for li, German for hans.
    pick = await discord_fake.click(li, result, f"img:pick:{job.id}:2", values=["2"])
    private = await discord_fake.wait_for(lambda: pick.original and pick.original.gallery_items() and pick.original)
    assert pick.ephemeral and f"任务 #{job.id} 的第 2 张图片：" in private.text
    assert labels(private) == ["变体", "放大", "用作参考"]
    hans = discord_fake.add_member("hans", locale="de")
    refused = await discord_fake.click(hans, result, f"img:delete:{job.id}")
    await refused.wait_response()
    assert refused.response_type == EPHEMERAL_MESSAGE
    assert refused.original.text == (
        "Nur das Mitglied, das diese Bilder angefragt hat, oder ein Moderator kann sie löschen."
    )

    # /job posts its public card in the server's language, whoever asks.
    card = await discord_fake.slash(li, "job", id=job.id)
    await card.wait_response()
    assert not card.ephemeral
    text = card.original.text
    assert f"**Задача #{job.id}** · генерация ·" in text, text
    assert "запрошено 2 изображения · 0 референсов · готово" in text, text
    assert "[Изображение 1](" in text and labels(card.original) == ["Заново", "Удалить"]

    # A reroll from a Chinese member is a new public job of the Russian server: its preface is Russian.
    reroll = await discord_fake.click(li, result, f"img:reroll:{job.id}")
    again = await final_original(discord_fake, reroll)
    assert again.text.startswith(f"🔁 Заново: задача #{job.id}\n"), again.text


async def test_a_restart_notice_and_its_retry_button_speak_the_jobs_language(
    discord_fake, image_api, start_bot
) -> None:
    discord_fake.set_guild_locale("ru")
    first = await start_bot()
    ivan = discord_fake.add_member("ivan", locale="en-US")  # the notice is public: the job's language, not his
    interaction = await interrupt_a_job(discord_fake, image_api, first, ivan)
    assert "Бот перезапускается." in interaction.original.text, "the pause note of the status line"
    second = await start_bot(**RETRY)

    notice = await discord_fake.wait_for(lambda: retry_id(interaction.original) and interaction.original)
    assert "Бот перезапустился, не закончив этот запрос (пришло 1 из 3 изображений)." in notice.text, notice.text
    assert "Нажмите **Повторить**, чтобы получить остальное." in notice.text
    assert labels(notice) == ["Повторить"]
    stranger = discord_fake.add_member("yuki", locale="ja")
    refused = await discord_fake.click(stranger, notice, retry_id(notice))
    await refused.wait_response()
    assert refused.ephemeral and refused.original.text == "再試行できるのは、このリクエストをしたメンバーだけです。"
    await job_done(second)
