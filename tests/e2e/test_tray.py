"""The reference tray: Apps → "Add to references", /tray, and /imagine use_tray, end to end."""

from __future__ import annotations

from tests.e2e.helpers import final_original, gallery, job_done
from tests.images import png


async def collect(fake, user, *messages):
    """Run "Add to references" on each message; return the last answer."""
    answer = None
    for message in messages:
        answer = await fake.context_menu(user, "Add to references", message)
        await answer.wait_response()
    return answer


async def test_tray_collects_images_from_several_messages_for_imagine(discord_fake, image_api, running_bot) -> None:
    alice, bob = discord_fake.add_member("alice"), discord_fake.add_member("bob")
    one = await discord_fake.send_message(bob, "", attachments=[discord_fake.add_attachment(png(100, 80), "a.png")])
    two = await discord_fake.send_message(
        bob,
        "",
        attachments=[
            discord_fake.add_attachment(png(90, 70), "b.png"),
            discord_fake.add_attachment(png(80, 60), "c.png"),
        ],
    )
    answer = await collect(discord_fake, alice, one, two)
    assert answer.ephemeral and "(3/14" in answer.original.text and "c.png" in answer.original.text

    interaction = await discord_fake.slash(alice, "imagine", prompt="combine them", use_tray=True)
    message = await final_original(discord_fake, interaction)
    assert [(r.width, r.height) for r in image_api.requests[0].references] == [(100, 80), (90, 70), (80, 60)]
    assert len(message.attachments) == 1
    [job] = await job_done(running_bot)
    assert job.params["references"] == 3


async def test_tray_is_per_member(discord_fake, image_api, running_bot) -> None:
    alice, bob = discord_fake.add_member("alice"), discord_fake.add_member("bob")
    one = await discord_fake.send_message(bob, "", attachments=[discord_fake.add_attachment(png(), "a.png")])
    await collect(discord_fake, alice, one)
    interaction = await discord_fake.slash(bob, "imagine", prompt="x", use_tray=True)
    await interaction.wait_response()
    assert interaction.ephemeral and "tray is empty" in interaction.original.text
    assert image_api.requests == []


async def test_tray_items_can_be_removed_and_cleared(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    files = [discord_fake.add_attachment(png(50 + i, 50), f"f{i}.png") for i in range(3)]
    source = await discord_fake.send_message(alice, "", attachments=files)
    answer = await collect(discord_fake, alice, source)
    panel = answer.original

    removed = await discord_fake.click(alice, panel, "tray:remove", values=["1"])
    await removed.wait_response()
    assert "Removed `f1.png`" in panel.text and "[f1.png]" not in panel.text and "(2/14" in panel.text

    cleared = await discord_fake.click(alice, panel, "tray:clear")
    await cleared.wait_response()
    assert "Cleared 2 images" in panel.text and "empty" in panel.text and panel.custom_ids() == []


async def test_result_image_can_be_added_to_the_tray(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    interaction = await discord_fake.slash(alice, "imagine", prompt="a key")
    result = await final_original(discord_fake, interaction)
    [job] = await job_done(running_bot)

    click = await discord_fake.click(alice, result, f"img:ref:{job.id}:1")
    answer = await discord_fake.wait_for(lambda: click.followups and click.followups[-1])
    assert click.ephemeral and "Added image 1" in answer.text

    shown = await discord_fake.slash(alice, "tray")
    await shown.wait_response()
    assert f"/{result.channel_id}/{result.id})" in shown.original.text and "(1/14" in shown.original.text


async def test_a_sets_gallery_goes_into_the_tray_and_back_out(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    result = await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt="keys", count=2))
    await job_done(running_bot)
    shown = gallery(result)
    answer = await collect(discord_fake, alice, result)
    assert "(2/14" in answer.original.text and shown[1].filename.replace("_", "\\_") in answer.original.text

    message = await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt="x", use_tray=True))
    assert [r.nbytes for r in image_api.requests[1].references] == [len(f.data) for f in shown]
    assert len(message.attachments) == 1


async def test_tray_panel_controls_are_removed_when_they_expire(discord_fake, image_api, start_bot) -> None:
    await start_bot(tray_panel_timeout=0.5)
    alice = discord_fake.add_member("alice")
    source = await discord_fake.send_message(alice, "", attachments=[discord_fake.add_attachment(png(), "a.png")])
    panel = (await collect(discord_fake, alice, source)).original
    assert panel.custom_ids() == ["tray:remove", "tray:clear"]
    await discord_fake.wait_for(lambda: panel.custom_ids() == [])
    assert "a.png" in panel.text
