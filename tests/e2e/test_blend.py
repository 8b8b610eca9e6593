"""Reply-with-image blending and the "Blend with prompt…" message command, end to end."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import NO_PINGS, bot_replies, decode, final_original, final_reply, gallery, job_done
from tests.images import png

MODAL = 9


async def test_reply_blends_the_parent_and_the_reply_images(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(message_content_intent=True)
    alice, bob = discord_fake.add_member("alice"), discord_fake.add_member("bob")
    parent = await discord_fake.send_message(
        bob,
        "my cat and my hat",
        attachments=[
            discord_fake.add_attachment(png(300, 200), "cat.png"),
            discord_fake.add_attachment(png(640, 480, (0, 200, 0)), "hat.png"),
        ],
    )
    mention = await discord_fake.send_message(
        alice,
        "put the hat on the cat, watercolor @everyone --n 2 --ar 16:9",
        mention_bot=True,
        reply_to=parent,
        attachments=[discord_fake.add_attachment(png(100, 120, (0, 0, 200)), "style.png")],
    )
    reply = await final_reply(discord_fake, mention)

    request = image_api.requests[0]
    assert [(r.width, r.height, r.source) for r in request.references] == [
        (300, 200, "data"),
        (640, 480, "data"),
        (100, 120, "data"),
    ]
    assert request.json["size"] == "2848x1600"
    assert request.json["sequential_image_generation_options"] == {"max_images": 2}
    assert "--n" not in request.json["prompt"] and "put the hat on the cat" in request.json["prompt"]
    assert len(reply.attachments) == 2 and all(decode(a.data).format == "JPEG" for a in reply.attachments)
    assert len(gallery(reply)) == 2, "a reply's set is a gallery too"
    assert reply.message_reference["message_id"] == mention.id
    assert f"<@{alice.id}>" in reply.text and "2 images" in reply.text
    assert all(m.allowed_mentions == NO_PINGS for m in bot_replies(discord_fake, mention))
    assert "@everyone" not in reply.text
    [job] = await job_done(harness)
    assert (job.kind, job.user_id, job.images_delivered) == ("blend", int(alice.id), 2)
    assert f"img:reroll:{job.id}" in reply.custom_ids()


async def test_reply_to_the_bots_own_result_uses_its_image(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    interaction = await discord_fake.slash(alice, "imagine", prompt="a lighthouse")
    result = await final_original(discord_fake, interaction)

    mention = await discord_fake.send_message(alice, "now at night x1", mention_bot=True, reply_to=result)
    reply = await final_reply(discord_fake, mention)

    [first, second] = image_api.requests
    assert first.references == []
    assert [(r.width, r.height) for r in second.references] == [(320, 240)]
    assert len(reply.attachments) == 1 and reply.message_reference["message_id"] == mention.id
    fetched = [r for r in discord_fake.requests if r.method == "GET" and r.path.endswith(f"/messages/{result.id}")]
    assert fetched, "the replied-to message must be fetched fresh"


async def test_reply_to_the_bots_own_set_uses_the_images_of_its_gallery(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    result = await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt="owls", count=2))
    assert result.payload()["attachments"] == [] and len(gallery(result)) == 2

    mention = await discord_fake.send_message(alice, "now at night x1", mention_bot=True, reply_to=result)
    reply = await final_reply(discord_fake, mention)

    references = image_api.requests[1].references
    assert [r.nbytes for r in references] == [len(f.data) for f in gallery(result)], "both images, in order"
    assert len(reply.attachments) == 1 and not reply.v2


async def test_blend_message_command_on_a_set_offers_its_gallery(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    result = await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt="owls", count=3))

    menu = await discord_fake.context_menu(alice, "Blend with prompt…", result)
    await menu.wait_response()
    assert menu.response_type == MODAL and "3 images" in menu.modal["title"]


async def test_without_the_intent_a_members_picture_is_explained(discord_fake, image_api, running_bot) -> None:
    alice, bob = discord_fake.add_member("alice"), discord_fake.add_member("bob")
    parent = await discord_fake.send_message(bob, "pic", attachments=[discord_fake.add_attachment(png(), "p.png")])
    mention = await discord_fake.send_message(alice, "make it blue", mention_bot=True, reply_to=parent)
    reply = await final_reply(discord_fake, mention)

    assert "can't see the images" in reply.text and "Blend with prompt" in reply.text
    assert reply.attachments == [] and image_api.requests == []


async def test_without_the_intent_the_mentions_own_images_still_work(discord_fake, image_api, running_bot) -> None:
    alice, bob = discord_fake.add_member("alice"), discord_fake.add_member("bob")
    parent = await discord_fake.send_message(bob, "pic", attachments=[discord_fake.add_attachment(png(), "p.png")])
    own = discord_fake.add_attachment(png(90, 60), "mine.png")
    mention = await discord_fake.send_message(
        alice, "make it blue", mention_bot=True, reply_to=parent, attachments=[own]
    )
    reply = await final_reply(discord_fake, mention)

    assert [(r.width, r.height) for r in image_api.requests[0].references] == [(90, 60)]
    assert len(reply.attachments) == 1 and "only your attachments are used" in reply.text


async def test_mention_without_images_gets_a_helpful_reply(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    mention = await discord_fake.send_message(alice, "draw me a cat", mention_bot=True)
    reply = await final_reply(discord_fake, mention)
    assert "Reply to a message that has images" in reply.text and "--n 4" in reply.text
    assert image_api.requests == [] and await running_bot.store.recent_jobs() == []


async def test_mention_with_only_other_files_is_told_they_are_not_images(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    notes = discord_fake.add_attachment(b"hello", "notes.txt", "text/plain")
    mention = await discord_fake.send_message(alice, "blend this", mention_bot=True, attachments=[notes])
    reply = await final_reply(discord_fake, mention)
    assert "None of those files is an image" in reply.text and image_api.requests == []


@pytest.mark.parametrize(
    ("model", "kept"), [("doubao-seedream-4-0-250828", 10), ("doubao-seedream-4-5-251128", 14)], ids=["4.0", "4.5"]
)
async def test_more_references_than_the_model_takes_are_cut_with_a_note(
    discord_fake, image_api, start_bot, model: str, kept: int
) -> None:
    await start_bot(message_content_intent=True, image_model=model)
    alice, bob = discord_fake.add_member("alice"), discord_fake.add_member("bob")
    sizes = [(40 + i, 40) for i in range(16)]
    files = [discord_fake.add_attachment(png(w, h), f"i{n}.png") for n, (w, h) in enumerate(sizes)]
    parent = await discord_fake.send_message(bob, "many", attachments=files[:10])
    mention = await discord_fake.send_message(
        alice, "a collage", mention_bot=True, reply_to=parent, attachments=files[10:]
    )
    reply = await final_reply(discord_fake, mention)

    assert image_api.requests[0].json["model"] == model
    assert [(r.width, r.height) for r in image_api.requests[0].references] == sizes[:kept]
    assert f"Only the first {kept} of 16 images" in reply.text and len(reply.attachments) == 1


async def test_blend_message_command_opens_a_modal_and_runs(discord_fake, image_api, running_bot) -> None:
    alice, bob = discord_fake.add_member("alice"), discord_fake.add_member("bob")
    target = await discord_fake.send_message(
        bob,
        "",
        attachments=[discord_fake.add_attachment(png(200, 100), "a.png"), discord_fake.add_attachment(png(), "b.png")],
    )
    menu = await discord_fake.context_menu(alice, "Blend with prompt…", target)
    await menu.wait_response()
    assert menu.response_type == MODAL and "2 images" in menu.modal["title"]

    submitted = await discord_fake.submit_modal(
        alice, menu, {"blend:prompt": "merge them into one poster", "blend:count": "3", "blend:aspect": "9:16"}
    )
    message = await final_original(discord_fake, submitted)

    request = image_api.requests[0]
    assert [(r.width, r.height) for r in request.references] == [(200, 100), (64, 48)]
    assert (
        request.json["size"] == "1600x2848" and request.json["sequential_image_generation_options"]["max_images"] == 3
    )
    assert len(message.attachments) == 3 and not submitted.ephemeral
    [job] = await job_done(running_bot)
    assert job.kind == "blend" and job.user_id == int(alice.id)


async def test_blend_message_command_on_a_message_without_images_is_refused(
    discord_fake, image_api, running_bot
) -> None:
    alice = discord_fake.add_member("alice")
    target = await discord_fake.send_message(alice, "just words")
    menu = await discord_fake.context_menu(alice, "Blend with prompt…", target)
    await menu.wait_response()
    assert menu.ephemeral and "no images" in menu.original.text


async def test_reply_to_an_image_embed_uses_the_proxied_image(discord_fake, image_api, start_bot) -> None:
    await start_bot(message_content_intent=True)
    alice, bob = discord_fake.add_member("alice"), discord_fake.add_member("bob")
    hosted = discord_fake.add_attachment(png(150, 100), "preview.png")
    embed = {
        "type": "image",
        "url": "https://example.com/preview.png",
        "thumbnail": {"url": "https://example.com/preview.png", "proxy_url": hosted["proxy_url"]},
    }
    parent = await discord_fake.send_message(bob, "https://example.com/preview.png", embeds=[embed])
    mention = await discord_fake.send_message(alice, "as a mosaic", mention_bot=True, reply_to=parent)
    reply = await final_reply(discord_fake, mention)

    assert [(r.width, r.height) for r in image_api.requests[0].references] == [(150, 100)]
    assert len(reply.attachments) == 1


async def test_a_big_reply_set_is_split_into_messages_of_ten(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    own = discord_fake.add_attachment(png(), "seed.png")
    mention = await discord_fake.send_message(alice, "a sticker sheet --n 12", mention_bot=True, attachments=[own])
    first = await final_reply(discord_fake, mention)
    [job] = await job_done(running_bot)

    replies = await discord_fake.wait_for(
        lambda: len(bot_replies(discord_fake, mention)) == 2 and bot_replies(discord_fake, mention)
    )
    assert [len(gallery(m, alt="a sticker sheet")) for m in replies] == [10, 2]
    assert replies[0] is first and "12 images" in first.text and "images 11–12 of 12" in replies[1].text
    assert (
        job.images_delivered == 12
        and image_api.requests[0].json["sequential_image_generation_options"]["max_images"] == 12
    )


async def test_a_plain_reply_to_a_result_is_not_a_request(discord_fake, image_api, running_bot) -> None:
    """Replying pings the bot (it is in `mentions`) but names nobody: that is chat, not a paid job."""
    alice = discord_fake.add_member("alice")
    result = await final_original(discord_fake, await discord_fake.slash(alice, "imagine", prompt="a lighthouse"))
    chat = await discord_fake.send_message(alice, "love it!", reply_to=result)
    assert any(m["id"] == discord_fake.bot.id for m in chat.mentions)
    asked = await discord_fake.send_message(alice, "now at night", reply_to=result, mention_bot=True)
    await final_reply(discord_fake, asked)
    assert [r.json["prompt"] for r in image_api.requests[1:]] == ["now at night"]
    assert not [m for m in discord_fake.channel_messages() if (m.message_reference or {}).get("message_id") == chat.id]
