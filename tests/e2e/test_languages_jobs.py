"""Languages of the job lifecycle (issue 13): what a job's public message says when images or the whole job fail
comes out of the catalogs, in the job's language (the server's), whatever the language of the member's client;
a refusal of a button click, in the clicking member's language."""

from __future__ import annotations

import re

from tests.e2e.helpers import final_original, job_done
from tests.e2e.test_languages import admin_sets_language
from tests.e2e.test_recovery import RETRY, interrupt_a_job, retry_id
from tests.fakes.image_api import Fault
from tests.i18n_check import assert_translated
from tests.images import png

PROMPT = "a red fox"


def failure_lines(text: str) -> str:
    """What a job's final message says went wrong (the texts of bot/jobs and bot/imagegen), without the request
    id reference bot/presentation/text.py adds (`(ref …)`); the header, size label and footer are other areas'."""
    lines = [line for line in text.splitlines() if line.startswith(("⚠️", "❌"))]
    assert lines, text
    return re.sub(r" \(ref [\w-]+\)", "", "\n".join(lines))


async def test_pseudo_locale_job_failures_have_no_text_outside_the_catalogs(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(pseudo_locale=True)
    alice = discord_fake.add_member("alice")
    seen = []
    for count, fault in [
        (3, Fault.item_failed(1)),  # one image blocked, the rest delivered
        (2, Fault.expired_urls()),  # every image failed to download
        (1, Fault.status(400, "InvalidParameter")),  # the whole request refused
        (1, Fault.status(401, "AuthenticationError")),  # the owner's key
    ]:
        image_api.script(fault)
        message = await final_original(
            discord_fake, await discord_fake.slash(alice, "imagine", prompt=PROMPT, count=count)
        )
        seen.append(message.text)
        assert_translated(failure_lines(message.text))
    jobs = await job_done(harness, count=4)
    assert [job.status for job in reversed(jobs)] == ["partial", "failed", "failed", "failed"], seen


async def test_a_russian_server_reads_its_job_failures_in_russian(discord_fake, image_api, running_bot) -> None:
    await admin_sets_language(discord_fake, "ru")
    alice = discord_fake.add_member("alice")  # an English client: the job's public message is in the server's

    image_api.script(Fault.expired_urls())
    failed = await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt=PROMPT, count=3))
    assert "⚠️ Не удалось сделать 3 изображения: Срок хранения созданного изображения на сервисе уже истёк. (×3)" in (
        failed.text
    ), failed.text

    image_api.script(Fault.item_failed(1))
    partial = await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt=PROMPT, count=2))
    assert "⚠️ Не удалось сделать 1 изображение: Фильтр безопасности сервиса изображений заблокировал созданное" in (
        partial.text
    ), partial.text

    image_api.script(Fault.status(400, "InvalidParameter"))
    refused = await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt=PROMPT))
    assert "❌ Сервис изображений отклонил параметры запроса." in refused.text, refused.text
    jobs = await job_done(running_bot, count=3)
    assert {job.language for job in jobs} == {"ru"}
    assert not any(word in text for text in (failed.text, partial.text, refused.text) for word in ("image", "could"))


async def test_a_retry_refused_after_a_restart_answers_in_the_members_language(
    discord_fake, image_api, start_bot
) -> None:
    first = await start_bot()
    li = discord_fake.add_member("li", locale="zh-CN")
    ref = discord_fake.add_attachment(png(300, 200), "cat.png", "image/png")
    interaction = await interrupt_a_job(discord_fake, image_api, first, li, image1=ref)
    second = await start_bot(**RETRY)
    notice = await discord_fake.wait_for(lambda: retry_id(interaction.original) and interaction.original)
    assert await second.store.journal.prune_references(second.store.clock() + 1)  # its references are gone

    click = await discord_fake.click(li, notice, retry_id(notice))
    await click.wait_response()
    assert click.ephemeral and click.original.text == "那个请求的参考图片已不再保存。请重新运行命令。"
    assert len(image_api.requests) == 1


async def test_an_image_discord_refused_is_explained_in_the_servers_language(
    discord_fake, image_api, start_bot, tmp_path
) -> None:
    harness = await start_bot(delivery_retries=1, delivery_retry_delay=0.01, undelivered_dir=tmp_path / "kept")
    await admin_sets_language(discord_fake, "ru")
    discord_fake.drop_next("PATCH", r"/webhooks/.*/messages/@original", times=2, uploads_only=True)
    interaction = await discord_fake.slash(discord_fake.add_member("alice"), "imagine", prompt=PROMPT)
    message = await final_original(discord_fake, interaction)
    [job] = await job_done(harness)
    assert job.error_code == "delivery_failed" and message.attachments == []
    assert "Discord не принял изображение; владелец бота может восстановить его в течение " in message.text
    assert f"(задача {job.id})." in message.text and " h " not in message.text


async def test_a_full_queue_refuses_in_the_members_language(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(max_concurrent_jobs=1, max_queue_length=1)
    image_api.image_delay = 0.4
    await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="first in line")
    await image_api.wait_for(lambda: image_api.requests)
    second = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="second in line")
    await discord_fake.wait_for(lambda: second.original and "#1 in queue" in second.original.text)

    third = await discord_fake.slash(discord_fake.add_member("li", locale="zh-CN"), "imagine", prompt="one too many")
    await third.wait_response()
    assert third.ephemeral and third.original.text == "机器人现在很忙，队列已满。请过一分钟再试。"
    await job_done(harness, 2)


async def test_a_blocked_prompt_is_told_privately_in_the_members_language(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot()
    discord_fake.set_guild_locale("ja")  # public texts in Japanese; the safety filter's verdict is ivan's alone
    ivan = discord_fake.add_member("ivan", locale="ru")
    image_api.script(Fault.content_blocked())
    interaction = await discord_fake.slash(ivan, "imagine", prompt="something not allowed")
    [job] = await job_done(harness)
    note = await discord_fake.wait_for(lambda: next((m for m in interaction.followups if m.ephemeral), None))
    assert "❌ Фильтр безопасности сервиса изображений заблокировал этот текст запроса." in note.text, note.text
    assert not re.search("[\u3040-\u30ff]", note.text), "no Japanese in what only ivan sees"
    assert job.status == "blocked" and interaction.original.deleted
    stored = await harness.store.get_job(job.id)
    assert stored is not None and stored.params["member_language"] == "ru"  # a worker elsewhere tells him in it too
