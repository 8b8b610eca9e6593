"""Result buttons, the image picker and /job, end to end (including after a restart)."""

from __future__ import annotations

import asyncio

from tests.e2e.helpers import final_original, job_done
from tests.images import png

DEFER = 5
EPHEMERAL_MESSAGE = 4


async def imagine(fake, user, **options):
    """Run /imagine and return the settled result message."""
    interaction = await fake.slash(user, "imagine", **options)
    return await final_original(fake, interaction)


async def test_reroll_repeats_prompt_references_and_options(discord_fake, image_api, running_bot) -> None:
    alice, bob = discord_fake.add_member("alice"), discord_fake.add_member("bob")
    ref = discord_fake.add_attachment(png(300, 200), "cat.png")
    result = await imagine(discord_fake, alice, prompt="a cat in a hat", aspect="3:2", resolution="1K", image1=ref)
    [job] = await job_done(running_bot)

    click = await discord_fake.click(bob, result, f"img:reroll:{job.id}")
    await click.wait_response()
    assert click.response_type == DEFER and not click.ephemeral
    again = await final_original(discord_fake, click)

    first, second = image_api.requests
    assert second.json["prompt"] == first.json["prompt"] and second.json["size"] == first.json["size"] == "1248x832"
    assert [(r.width, r.height) for r in second.references] == [(300, 200)]
    assert second.json["image"] == first.json["image"]
    assert len(again.attachments) == 1 and f"<@{bob.id}>" in again.text and f"Reroll of job #{job.id}" in again.text
    [rerolled, _] = await job_done(running_bot, 2)
    assert (rerolled.kind, rerolled.user_id, rerolled.images_delivered) == ("reroll", int(bob.id), 1)


async def test_variations_use_the_result_as_reference_for_a_set(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    result = await imagine(discord_fake, alice, prompt="a robot")
    [job] = await job_done(running_bot)

    click = await discord_fake.click(alice, result, f"img:vary:{job.id}:1")
    varied = await final_original(discord_fake, click)

    request = image_api.requests[1]
    assert [(r.width, r.height) for r in request.references] == [(320, 240)]
    assert request.json["sequential_image_generation_options"] == {"max_images": 4}
    assert len(varied.attachments) == 4
    assert any(r.method == "GET" and r.path.endswith(f"/messages/{result.id}") for r in discord_fake.requests)


async def test_upscale_regenerates_at_4k_with_the_same_ratio(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    result = await imagine(discord_fake, alice, prompt="a harbour")
    [job] = await job_done(running_bot)

    click = await discord_fake.click(alice, result, f"img:up:{job.id}:1")
    upscaled = await final_original(discord_fake, click)

    request = image_api.requests[1]
    assert request.json["size"] == "4704x3520"  # 320x240 is 4:3
    assert [(r.width, r.height) for r in request.references] == [(320, 240)]
    assert len(upscaled.attachments) == 1 and "4K" in upscaled.text
    [upscale, _] = await job_done(running_bot, 2)
    assert upscale.kind == "upscale"


async def test_delete_by_the_requester_removes_the_result(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    result = await imagine(discord_fake, alice, prompt="a sketch")
    [job] = await job_done(running_bot)

    click = await discord_fake.click(alice, result, f"img:delete:{job.id}")
    await discord_fake.wait_for(lambda: result.deleted)
    answer = await discord_fake.wait_for(lambda: click.followups and click.followups[-1])
    assert click.ephemeral and "Deleted" in answer.text


async def test_delete_removes_every_gallery_of_a_set(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    interaction = await discord_fake.slash(alice, "imagine", prompt="a dozen owls", count=12)
    result = await final_original(discord_fake, interaction)
    [job] = await job_done(running_bot)
    [second_page] = interaction.followups

    await discord_fake.click(alice, result, f"img:delete:{job.id}")
    await discord_fake.wait_for(lambda: result.deleted and second_page.deleted)


async def test_delete_by_someone_else_is_refused_privately(discord_fake, image_api, running_bot) -> None:
    alice, mallory = discord_fake.add_member("alice"), discord_fake.add_member("mallory")
    result = await imagine(discord_fake, alice, prompt="a sketch")
    [job] = await job_done(running_bot)

    click = await discord_fake.click(mallory, result, f"img:delete:{job.id}")
    await click.wait_response()
    assert click.response_type == EPHEMERAL_MESSAGE and click.ephemeral
    assert "Only the member who asked" in click.original.text and not result.deleted


async def test_delete_by_a_moderator_is_allowed(discord_fake, image_api, running_bot) -> None:
    alice, mod = discord_fake.add_member("alice"), discord_fake.add_member("mod", manage_messages=True)
    result = await imagine(discord_fake, alice, prompt="a sketch")
    [job] = await job_done(running_bot)

    click = await discord_fake.click(mod, result, f"img:delete:{job.id}")
    await discord_fake.wait_for(lambda: result.deleted)
    answer = await discord_fake.wait_for(lambda: click.followups and click.followups[-1])
    assert "Deleted" in answer.text


async def test_picking_one_image_of_a_set_shows_it_with_its_buttons(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    result = await imagine(discord_fake, alice, prompt="three owls", count=3)
    [job] = await job_done(running_bot)
    assert f"img:vary:{job.id}:1" not in result.custom_ids()

    pick = await discord_fake.click(alice, result, f"img:pick:{job.id}:3", values=["2"])
    shown = await discord_fake.wait_for(lambda: pick.original and pick.original.gallery_items() and pick.original)
    assert pick.ephemeral and shown.v2 and f"Image 2 of job #{job.id}" in shown.text
    [item] = shown.gallery_items()
    second = result.gallery_files()[1]
    assert second.filename == f"seedream_{job.id}_2.jpg"
    assert item["media"]["url"] == second.url and item["description"] == "three owls", "the chosen image itself"
    assert shown.component_types() == [10, 12, 1, 2, 2, 2]
    assert shown.custom_ids() == [f"img:{action}:{job.id}:2" for action in ("vary", "up", "ref")]

    click = await discord_fake.click(alice, pick.original, f"img:vary:{job.id}:2")
    varied = await final_original(discord_fake, click)
    reference = image_api.requests[1].references[0]
    assert (reference.width, reference.height) == (320, 240) and reference.nbytes == len(second.data)
    assert len(varied.attachments) == 4


async def test_picking_an_image_whose_message_was_deleted_says_so(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    interaction = await discord_fake.slash(alice, "imagine", prompt="a dozen owls", count=12)
    result = await final_original(discord_fake, interaction)
    [job] = await job_done(running_bot)
    [second_page] = interaction.followups
    second_page.deleted = True  # images 11 and 12 were on it; the picker stays on the first page

    pick = await discord_fake.click(alice, result, f"img:pick:{job.id}:12", values=["12"])
    answer = await discord_fake.wait_for(lambda: pick.original and not pick.original.loading and pick.original)
    assert pick.ephemeral and "deleted" in answer.text and answer.gallery_items() == [] and answer.custom_ids() == []


async def test_buttons_work_after_a_restart(discord_fake, image_api, start_bot) -> None:
    first = await start_bot()
    alice = discord_fake.add_member("alice")
    ref = discord_fake.add_attachment(png(120, 90), "ref.png")
    result = await imagine(discord_fake, alice, prompt="a fox", image1=ref)
    [job] = await job_done(first)
    await first.stop()

    second = await start_bot()
    click = await discord_fake.click(alice, result, f"img:reroll:{job.id}")
    again = await final_original(discord_fake, click)
    assert len(again.attachments) == 1
    assert [(r.width, r.height) for r in image_api.requests[1].references] == [(120, 90)]
    [rerolled, _] = await job_done(second, 2)
    assert rerolled.kind == "reroll" and rerolled.status == "completed"


async def test_button_of_a_vanished_job_answers_privately(discord_fake, image_api, start_bot, tmp_path) -> None:
    first = await start_bot()
    alice = discord_fake.add_member("alice")
    result = await imagine(discord_fake, alice, prompt="a fox")
    [job] = await job_done(first)
    await first.stop()

    await start_bot(database_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    click = await discord_fake.click(alice, result, f"img:reroll:{job.id}")
    await click.wait_response()
    assert click.ephemeral and "no longer exists" in click.original.text
    assert len(image_api.requests) == 1


async def test_job_command_brings_back_a_past_job(discord_fake, image_api, running_bot) -> None:
    alice, bob = discord_fake.add_member("alice"), discord_fake.add_member("bob")
    result = await imagine(discord_fake, alice, prompt="two moons", count=2)
    [job] = await job_done(running_bot)

    shown = await discord_fake.slash(bob, "job", id=job.id)
    await shown.wait_response()
    card = shown.original
    assert not shown.ephemeral and f"Job #{job.id}" in card.text and "two moons" in card.text
    assert f"/{result.channel_id}/{result.id}" in card.text
    assert f"img:reroll:{job.id}" in card.custom_ids() and f"img:pick:{job.id}:2" in card.custom_ids()

    click = await discord_fake.click(bob, card, f"img:reroll:{job.id}")
    again = await final_original(discord_fake, click)
    assert len(again.attachments) == 2


async def test_job_command_for_an_unknown_job_is_private(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    shown = await discord_fake.slash(alice, "job", id=999)
    await shown.wait_response()
    assert shown.ephemeral and "no job #999" in shown.original.text


async def test_reroll_without_kept_references_is_refused_privately(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(keep_references_days=0)
    alice = discord_fake.add_member("alice")
    ref = discord_fake.add_attachment(png(120, 90), "ref.png")
    result = await imagine(discord_fake, alice, prompt="a fox", image1=ref)
    [job] = await job_done(harness)
    for _ in range(500):  # pruned right after the job's final message
        if not await harness.store.references.count(job.id):
            break
        await asyncio.sleep(0.02)

    click = await discord_fake.click(alice, result, f"img:reroll:{job.id}")
    await click.wait_response()
    assert click.ephemeral and "no longer kept" in click.original.text
    assert len(image_api.requests) == 1


async def test_button_jobs_share_the_queue_and_are_refused_privately_when_it_is_full(
    discord_fake, image_api, start_bot
) -> None:
    harness = await start_bot(max_concurrent_jobs=1, max_queue_length=0)
    alice, bob = discord_fake.add_member("alice"), discord_fake.add_member("bob")
    result = await imagine(discord_fake, alice, prompt="a lighthouse")
    [job] = await job_done(harness)

    image_api.image_delay = 0.5
    busy = await discord_fake.slash(alice, "imagine", prompt="keeps the only slot busy")
    await image_api.wait_for(lambda: len(image_api.requests) == 2)
    click = await discord_fake.click(bob, result, f"img:reroll:{job.id}")
    await click.wait_response()
    assert click.ephemeral and click.response_type == EPHEMERAL_MESSAGE
    assert "busy" in click.original.text
    await final_original(discord_fake, busy)
    assert len(image_api.requests) == 2
    assert [j.kind for j in await harness.store.recent_jobs() if j.status != "cancelled"] == ["imagine", "imagine"]


async def test_old_references_are_pruned_once_in_a_while_not_after_every_job(
    discord_fake, image_api, start_bot
) -> None:
    harness = await start_bot(keep_references_days=1)
    prunes: list[float] = []
    prune = harness.store.references.prune

    async def counted(older_than: float) -> int:
        prunes.append(older_than)
        return await prune(older_than)

    harness.store.references.prune = counted  # type: ignore[method-assign]
    alice = discord_fake.add_member("alice")
    for n in range(3):
        ref = discord_fake.add_attachment(png(120, 90), f"ref{n}.png")
        await imagine(discord_fake, alice, prompt=f"a fox {n}", image1=ref)
    jobs = await job_done(harness, 3)
    assert len(prunes) == 1  # after the first job; the next prune is due in PRUNE_INTERVAL
    assert [await harness.store.references.count(job.id) for job in jobs] == [1, 1, 1]  # a day: all kept
