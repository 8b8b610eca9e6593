"""/imagine end to end: the real bot, the fake Discord, the fake image API."""

from __future__ import annotations

import re

from tests.e2e.helpers import NO_PINGS, decode, final_original, gallery, job_done, message_requests
from tests.fakes.image_api import Fault
from tests.images import png

DEFER = 5
EPHEMERAL = 64


async def test_single_image_is_delivered_with_a_summary(discord_fake, image_api, running_bot) -> None:
    alice = discord_fake.add_member("alice")
    interaction = await discord_fake.slash(alice, "imagine", prompt="a red fox in fresh snow")
    await interaction.wait_response()
    assert interaction.response_type == DEFER and not interaction.ephemeral

    message = await final_original(discord_fake, interaction)
    assert len(message.attachments) == 1 and not message.v2, "one image keeps its full-size attachment preview"
    attachment = message.attachments[0]
    assert decode(attachment.data).format == "JPEG"
    assert message.component_types() == [1, 2, 2, 2, 2, 2], "its five buttons in one row under it"
    assert attachment.description == "a red fox in fresh snow"
    assert "a red fox in fresh snow" in message.text and f"<@{alice.id}>" in message.text
    assert "1 image" in message.text and "2K" in message.text
    assert re.search(r"\b\d+s\b", message.text)

    body = image_api.requests[0].json
    assert body["size"] == "2K" and body["sequential_image_generation"] == "disabled"
    assert body["watermark"] is False and body["stream"] is True

    [job] = await job_done(running_bot)
    assert (job.status, job.images_requested, job.images_delivered) == ("completed", 1, 1)
    assert (job.user_id, job.guild_id) == (int(alice.id), int(discord_fake.guild_id))
    assert job.channel_id == int(discord_fake.channel_id) and job.prompt == "a red fox in fresh snow"
    assert job.params["size"] == "2K" and job.output_tokens > 0
    images = await running_bot.store.job_images(job.id)
    assert [image.message_id for image in images] == [int(message.id)]


async def test_set_of_four_arrives_in_one_message(discord_fake, image_api, running_bot) -> None:
    user = discord_fake.add_member()
    interaction = await discord_fake.slash(user, "imagine", prompt="a cat in four seasons", count=4, aspect="16:9")
    message = await final_original(discord_fake, interaction)
    [job] = await job_done(running_bot)

    files = gallery(message, alt="a cat in four seasons")
    assert [f.filename for f in files] == [f"seedream_{job.id}_{n}.jpg" for n in range(1, 5)]
    assert len({f.data for f in files}) == 4
    assert message.component_types() == [10, 12, 1, 2, 2, 1, 3], "summary, gallery, Reroll + Delete, the picker"
    assert message.custom_ids() == [f"img:reroll:{job.id}", f"img:delete:{job.id}", f"img:pick:{job.id}:4"]
    assert message.components[0]["content"] == message.text and message.text.startswith("**a cat in four seasons**")
    assert message.payload()["attachments"] == [], "Discord lists the files a gallery shows only in the gallery"
    first_image = next(r for r in discord_fake.requests if r.method == "PATCH" and r.files)
    assert first_image.json["flags"] == 1 << 15 and first_image.json["content"] is None, "status line → gallery"
    body = image_api.requests[0].json
    assert body["sequential_image_generation"] == "auto"
    assert body["sequential_image_generation_options"] == {"max_images": 4}
    assert "4 images" in body["prompt"] and body["size"] == "2848x1600"
    assert "4 images" in message.text and "16:9" in message.text
    assert job.images_delivered == 4 and job.status == "completed"
    images = await running_bot.store.job_images(job.id)
    assert [i.url for i in images] == [f.url for f in files], "each image's URL is its gallery item's"


async def test_set_of_fifteen_streams_over_two_messages(discord_fake, image_api, running_bot) -> None:
    image_api.image_delay = 0.08
    user = discord_fake.add_member()
    interaction = await discord_fake.slash(user, "imagine", prompt="a sticker sheet of robots", count=15)

    first = await discord_fake.wait_for(lambda: interaction.original and interaction.original.gallery_items())
    assert first
    assert image_api.requests[0].generated < 15, "the first image must be posted while the set is still streaming"
    assert "⏳" in interaction.original.text

    message = await final_original(discord_fake, interaction)
    [job] = await job_done(running_bot)
    assert len(gallery(message, alt="a sticker sheet of robots")) == 10
    assert f"img:pick:{job.id}:15" in message.custom_ids(), "the controls are under the first gallery"
    assert len(interaction.followups) == 1
    second = interaction.followups[0]
    assert len(gallery(second, alt="a sticker sheet of robots")) == 5 and "images 11–15 of 15" in second.text
    assert second.component_types() == [10, 12] and second.custom_ids() == []
    names = [a.filename for a in message.gallery_files() + second.gallery_files()]
    assert names == [f"seedream_{job.id}_{n}.jpg" for n in range(1, 16)]
    assert job.images_delivered == 15


async def test_two_references_reach_the_api_as_images(discord_fake, image_api, running_bot) -> None:
    user = discord_fake.add_member()
    first = discord_fake.add_attachment(png(300, 200), "cat.png", "image/png")
    second = discord_fake.add_attachment(png(640, 480, (0, 200, 0)), "hat.png", "image/png")
    interaction = await discord_fake.slash(
        user, "imagine", prompt="put the hat on the cat", image1=first, image2=second
    )
    message = await final_original(discord_fake, interaction)
    assert len(message.attachments) == 1

    request = image_api.requests[0]
    assert [(r.width, r.height, r.source) for r in request.references] == [(300, 200, "data"), (640, 480, "data")]
    assert all(isinstance(ref, str) and ref.startswith("data:image/png;base64,") for ref in request.json["image"])


async def test_non_image_attachment_is_refused_privately_without_api_call(discord_fake, image_api, running_bot) -> None:
    user = discord_fake.add_member()
    notes = discord_fake.add_attachment(b"just some text", "notes.txt", "text/plain")
    interaction = await discord_fake.slash(user, "imagine", prompt="a cat", image1=notes)
    await interaction.wait_response()
    assert interaction.ephemeral and interaction.response_type == 4
    assert "notes.txt" in interaction.original.text and "not an image" in interaction.original.text
    assert image_api.requests == []
    assert await running_bot.store.recent_jobs() == []


async def test_file_pretending_to_be_an_image_is_refused_without_api_call(discord_fake, image_api, running_bot) -> None:
    user = discord_fake.add_member()
    fake_png = discord_fake.add_attachment(b"\x89PNG not really", "cat.png", "image/png")
    interaction = await discord_fake.slash(user, "imagine", prompt="a cat", image1=fake_png)
    message = await discord_fake.wait_for(
        lambda: interaction.original if interaction.original and "❌" in interaction.original.text else None
    )
    assert "cat.png" in message.text and "not a readable image" in message.text
    assert image_api.requests == []


async def test_too_many_images_with_references_is_refused_before_defer(discord_fake, image_api, running_bot) -> None:
    user = discord_fake.add_member()
    refs = [discord_fake.add_attachment(png(), f"r{i}.png", "image/png") for i in range(2)]
    interaction = await discord_fake.slash(user, "imagine", prompt="x", count=14, image1=refs[0], image2=refs[1])
    await interaction.wait_response()
    assert interaction.ephemeral and "at most 15" in interaction.original.text
    assert image_api.requests == []


async def test_blocked_prompt_is_explained_and_not_counted(discord_fake, image_api, running_bot) -> None:
    image_api.script(Fault.content_blocked())
    user = discord_fake.add_member()
    interaction = await discord_fake.slash(user, "imagine", prompt="something not allowed")
    [job] = await job_done(running_bot)
    note = await discord_fake.wait_for(lambda: next((m for m in interaction.followups if m.ephemeral), None))
    assert "❌" in note.text and "safety filter blocked this prompt" in note.text
    assert note.custom_ids() == [] and note.attachments == []
    assert interaction.original.deleted, "the public thinking message is removed"
    assert all("something not allowed" not in m.text for m in discord_fake.channel_messages())
    assert (job.status, job.images_delivered, job.error_code) == (
        "blocked",
        0,
        "InputTextSensitiveContentDetected",
    )


async def test_transient_errors_are_retried_transparently(discord_fake, image_api, running_bot) -> None:
    image_api.script(Fault.status(503, "ServiceUnavailable"), Fault.status(429, "ServerOverloaded", retry_after=0.05))
    user = discord_fake.add_member()
    interaction = await discord_fake.slash(user, "imagine", prompt="a quiet harbour")
    message = await final_original(discord_fake, interaction)
    assert len(message.attachments) == 1 and "❌" not in message.text
    assert [r.status for r in image_api.requests] == [503, 429, 200]


async def test_partly_failed_set_delivers_the_rest_and_explains(discord_fake, image_api, running_bot) -> None:
    image_api.script(Fault.item_failed(1))
    user = discord_fake.add_member()
    interaction = await discord_fake.slash(user, "imagine", prompt="three owls", count=3)
    message = await final_original(discord_fake, interaction)
    assert len(message.attachments) == 2
    assert "1 image could not be made" in message.text and "safety filter" in message.text
    [job] = await job_done(running_bot)
    assert (job.status, job.images_delivered, job.images_failed) == ("partial", 2, 1)


async def test_fewer_images_than_asked_is_said(discord_fake, image_api, running_bot) -> None:
    image_api.set_cap = 2
    user = discord_fake.add_member()
    interaction = await discord_fake.slash(user, "imagine", prompt="a comic", count=4)
    message = await final_original(discord_fake, interaction)
    assert len(message.attachments) == 2
    assert "returned 2 images of the 4 asked for" in message.text


async def test_oversized_output_is_made_to_fit(discord_fake, image_api, running_bot) -> None:
    image_api.render_size = (1600, 1200)
    image_api.noise = True
    discord_fake.attachment_size_limit = 400_000
    user = discord_fake.add_member()
    interaction = await discord_fake.slash(user, "imagine", prompt="static on a tv")
    message = await final_original(discord_fake, interaction)
    [attachment] = message.attachments
    assert len(attachment.data) <= 400_000
    assert decode(attachment.data).format == "JPEG"
    images = await running_bot.store.job_images((await job_done(running_bot))[0].id)
    assert images[0].bytes == len(attachment.data)


async def test_mentions_in_prompts_never_ping(discord_fake, image_api, running_bot) -> None:
    user = discord_fake.add_member()
    prompt = "@everyone @here <@123456789012345678> <@&42424242> **loud** cat"
    interaction = await discord_fake.slash(user, "imagine", prompt=prompt, count=2)
    message = await final_original(discord_fake, interaction)
    sent = message_requests(discord_fake)
    assert sent, "the bot sent no message content at all"
    assert all(r.json.get("allowed_mentions") == NO_PINGS for r in sent)
    assert "@everyone" not in message.text and "@here" not in message.text
    assert "**loud**" not in message.text


async def test_relay_without_streaming_and_b64_results(discord_fake, image_api, start_bot) -> None:
    await start_bot(response_format="b64_json")
    image_api.ignore_stream = True
    user = discord_fake.add_member()
    interaction = await discord_fake.slash(user, "imagine", prompt="a relay test", count=2)
    message = await final_original(discord_fake, interaction)
    assert len(message.attachments) == 2
    assert image_api.results_fetched == []


async def test_long_set_switches_to_channel_replies_before_the_token_expires(
    discord_fake, image_api, start_bot
) -> None:
    harness = await start_bot(interaction_token_ttl=2.0, token_safety_margin=0.8)
    image_api.image_delay = 0.5
    user = discord_fake.add_member()
    interaction = await discord_fake.slash(user, "imagine", prompt="a slow set", count=4)
    [job] = await job_done(harness)

    def summary_reply():  # the final summary comes as a channel reply once the token is gone
        replies = [m for m in discord_fake.channel_messages() if m.message_reference and "4 images" in m.text]
        return replies[-1] if replies else None

    summary = await discord_fake.wait_for(summary_reply)
    original_id = interaction.original.id
    in_original = len(interaction.original.attachments)
    channel_pages = [m for m in discord_fake.channel_messages() if m.attachments and m.interaction_token is None]
    assert 1 <= in_original < 4 and len(gallery(interaction.original)) == in_original
    assert sum(len(gallery(m, alt="a slow set")) for m in channel_pages) == 4 - in_original
    assert not summary.v2 and f"img:pick:{job.id}:4" in summary.custom_ids(), "the summary and controls follow"
    assert all(m.message_reference["message_id"] == original_id for m in [*channel_pages, summary])
    assert job.images_delivered == 4 and job.status == "completed"


async def test_expired_token_mid_set_falls_back_to_the_channel(discord_fake, image_api, running_bot) -> None:
    image_api.image_delay = 0.3
    user = discord_fake.add_member()
    interaction = await discord_fake.slash(user, "imagine", prompt="an early expiry", count=3)
    await discord_fake.wait_for(lambda: interaction.original and interaction.original.attachments)
    discord_fake.expire_token(interaction.token)
    [job] = await job_done(running_bot)
    assert job.images_delivered == 3
    in_channel = [m for m in discord_fake.channel_messages() if m.attachments and m.interaction_token is None]
    assert len(interaction.original.attachments) + sum(len(m.attachments) for m in in_channel) == 3
    assert in_channel


async def test_status_line_comes_with_the_acknowledgement(discord_fake, image_api, start_bot) -> None:
    await start_bot(progress_interval=30)
    image_api.image_delay = 3.0
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a patient heron")
    await interaction.wait_response()
    status = await discord_fake.wait_for(
        lambda: interaction.original and "⏳" in interaction.original.text and interaction.original, timeout=1.5
    )
    assert "Generating your image" in status.text and status.attachments == []
