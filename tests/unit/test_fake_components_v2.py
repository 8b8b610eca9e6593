"""The fake Discord's components v2: what Discord rejects (and accepts) with the IS_COMPONENTS_V2 flag.

Raw REST calls show each rule; one discord.py round trip shows the fake takes what discord.py 2.7 sends.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from tests.fakes.discord import FakeDiscord
from tests.unit.test_fake_discord import MakeFake, StartBot, make_fake, png, start_bot

__all__ = ["make_fake", "start_bot"]  # fixtures used here

pytestmark = pytest.mark.asyncio

V2 = 1 << 15


def text(content: str) -> dict[str, Any]:
    return {"type": 10, "content": content}


def gallery(*urls: str, description: str | None = None) -> dict[str, Any]:
    return {"type": 12, "items": [{"media": {"url": url}, "description": description} for url in urls]}


def row(*custom_ids: str) -> dict[str, Any]:
    return {"type": 1, "components": [{"type": 2, "style": 2, "label": c, "custom_id": c} for c in custom_ids]}


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as started:
        yield started


async def call(
    fake: FakeDiscord, method: str, path: str, payload: dict[str, Any], files: dict[str, bytes] | None = None
) -> tuple[int, Any]:
    """A bot-authorized REST call: JSON, or multipart with `payload_json` and `files[n]`."""
    headers = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        if files:
            form = aiohttp.FormData()
            form.add_field("payload_json", json.dumps(payload), content_type="application/json")
            for index, (name, data) in enumerate(files.items()):
                form.add_field(f"files[{index}]", data, filename=name, content_type="application/octet-stream")
            request = session.request(method, f"{fake.base_url}{path}", data=form, headers=headers)
        else:
            request = session.request(method, f"{fake.base_url}{path}", json=payload, headers=headers)
        async with request as response:
            return response.status, await response.json() if response.content_length != 0 else None


async def post(fake: FakeDiscord, payload: dict[str, Any], files: dict[str, bytes] | None = None) -> tuple[int, Any]:
    return await call(fake, "POST", f"/channels/{fake.channel_id}/messages", payload, files)


async def patch(
    fake: FakeDiscord, message_id: str, payload: dict[str, Any], files: dict[str, bytes] | None = None
) -> tuple[int, Any]:
    return await call(fake, "PATCH", f"/channels/{fake.channel_id}/messages/{message_id}", payload, files)


def rejected(answer: tuple[int, Any], where: str) -> bool:
    """A 400 Invalid Form Body whose error tree has `where` (dotted path) at its top."""
    status, body = answer
    return status == 400 and body["code"] == 50035 and where.split(".")[0] in body["errors"]


async def test_legacy_fields_are_refused_with_the_flag(fake: FakeDiscord) -> None:
    layout = [text("hi")]
    assert rejected(await post(fake, {"flags": V2, "components": layout, "content": "x"}), "content")
    assert rejected(await post(fake, {"flags": V2, "components": layout, "embeds": [{"title": "t"}]}), "content")
    assert rejected(await post(fake, {"flags": V2, "components": layout, "sticker_ids": ["1"]}), "content")
    assert rejected(await post(fake, {"flags": V2, "components": layout, "poll": {"question": {}}}), "content")
    status, body = await post(fake, {"flags": V2, "components": layout})
    assert status == 200 and body["flags"] & V2 and body["content"] == ""


async def test_v2_components_need_the_flag(fake: FakeDiscord) -> None:
    assert rejected(await post(fake, {"components": [text("hi")]}), "components")
    assert rejected(await post(fake, {"components": [gallery("https://example.com/a.png")]}), "components")


async def test_where_each_component_may_appear(fake: FakeDiscord) -> None:
    thumbnail = {"type": 11, "media": {"url": "https://example.com/t.png"}}
    section = {"type": 9, "components": [text("caption")], "accessory": thumbnail}
    container = {"type": 17, "components": [text("a"), gallery("https://example.com/a.png"), row("go")]}
    assert rejected(await post(fake, {"flags": V2, "components": [thumbnail]}), "components")
    assert rejected(
        await post(fake, {"flags": V2, "components": [{"type": 17, "components": [container]}]}), "components"
    )
    assert rejected(await post(fake, {"flags": V2, "components": [{**section, "accessory": text("x")}]}), "components")
    assert rejected(await post(fake, {"flags": V2, "components": [{**section, "components": []}]}), "components")
    assert rejected(await post(fake, {"flags": V2, "components": [{"type": 14, "spacing": 3}]}), "components")
    status, body = await post(fake, {"flags": V2, "components": [section, container, {"type": 14}]})
    assert status == 200 and [c["type"] for c in body["components"]] == [9, 17, 14]


async def test_media_gallery_holds_one_to_ten_items_with_alt_text_up_to_1024(fake: FakeDiscord) -> None:
    url = "https://example.com/a.png"
    assert rejected(await post(fake, {"flags": V2, "components": [gallery()]}), "components")
    assert rejected(await post(fake, {"flags": V2, "components": [gallery(*[url] * 11)]}), "components")
    long_alt = gallery(url, description="a" * 1025)
    assert rejected(await post(fake, {"flags": V2, "components": [long_alt]}), "components")
    assert rejected(await post(fake, {"flags": V2, "components": [gallery("ftp://example.com/a.png")]}), "components")
    status, _ = await post(fake, {"flags": V2, "components": [gallery(*[url] * 10, description="a" * 1024)]})
    assert status == 200


async def test_at_most_40_components_and_4000_characters_of_text(fake: FakeDiscord) -> None:
    rows = [row(*[f"b{r}{c}" for c in range(4)]) for r in range(8)]  # 8 rows of 4 buttons = 40 components
    assert rejected(await post(fake, {"flags": V2, "components": [*rows, text("one too many")]}), "components")
    assert (await post(fake, {"flags": V2, "components": rows}))[0] == 200
    assert rejected(await post(fake, {"flags": V2, "components": [text("a" * 2001), text("b" * 2000)]}), "components")
    assert (await post(fake, {"flags": V2, "components": [text("a" * 2000), text("b" * 2000)]}))[0] == 200
    duplicated = [row("same"), row("same")]
    assert rejected(await post(fake, {"flags": V2, "components": duplicated}), "components")


async def test_attachment_references_must_name_a_file_of_the_message(fake: FakeDiscord) -> None:
    files = {"a.png": png(), "b.png": png()}
    missing = {"flags": V2, "components": [gallery("attachment://nope.png")]}
    assert rejected(await post(fake, missing, files), "components")
    file_component = {"type": 13, "file": {"url": "https://example.com/a.png"}}
    assert rejected(await post(fake, {"flags": V2, "components": [file_component]}, files), "components")

    status, body = await post(fake, {"flags": V2, "components": [text("t"), gallery("attachment://a.png")]}, files)
    assert status == 200
    [item] = body["components"][1]["items"]
    stored = fake.messages[body["id"]]
    shown = next(a for a in stored.attachments if a.filename == "a.png")
    assert item["media"]["attachment_id"] == shown.id and item["media"]["url"] == shown.url
    assert [a["filename"] for a in body["attachments"]] == ["b.png"], "only the file no component shows is listed"


async def test_the_flag_is_never_removed_and_content_stays_refused(fake: FakeDiscord) -> None:
    status, body = await post(fake, {"flags": V2, "components": [gallery("attachment://a.png")]}, {"a.png": png()})
    assert status == 200
    assert rejected(await patch(fake, body["id"], {"content": "now text"}), "content")
    assert rejected(await patch(fake, body["id"], {"flags": 0, "content": "now text"}), "content")
    status, edited = await patch(fake, body["id"], {"flags": 0, "components": [text("still v2")]})
    assert status == 200 and edited["flags"] & V2


async def test_a_legacy_message_becomes_v2_only_by_resetting_its_content(fake: FakeDiscord) -> None:
    status, body = await post(fake, {"content": "legacy text"})
    assert status == 200 and not body["flags"] & V2
    layout = {"flags": V2, "components": [text("now v2")]}
    assert rejected(await patch(fake, body["id"], layout), "content")
    status, edited = await patch(fake, body["id"], {**layout, "content": None})
    assert status == 200 and edited["flags"] & V2 and edited["content"] == ""
    assert fake.messages[body["id"]].text == "now v2"


async def test_edits_keep_files_that_components_still_name(fake: FakeDiscord) -> None:
    first = {"flags": V2, "components": [gallery("attachment://a.png")]}
    _, body = await post(fake, first, {"a.png": png()})
    message = fake.messages[body["id"]]
    [kept] = message.attachments

    grown = {
        "flags": V2,
        "components": [gallery("attachment://a.png", "attachment://b.png")],
        "attachments": [{"id": kept.id}, {"id": 0, "filename": "b.png"}],
    }
    status, edited = await patch(fake, body["id"], grown, {"b.png": png()})
    assert status == 200 and edited["attachments"] == []
    assert [a.filename for a in message.gallery_files()] == ["a.png", "b.png"]

    status, _ = await patch(fake, body["id"], {"flags": V2, "components": [text("x"), *grown["components"]]})
    assert status == 200, "a file kept by the edit (no attachments field) can still be named"
    dropped = {"flags": V2, "components": [gallery("attachment://a.png")], "attachments": []}
    assert rejected(await patch(fake, body["id"], dropped), "components")


async def test_discord_py_layout_view_round_trip(make_fake: MakeFake, start_bot: StartBot) -> None:
    fake = await make_fake()
    bot = await start_bot(fake)
    channel = bot.get_channel(int(fake.channel_id))
    assert isinstance(channel, discord.TextChannel)
    view = discord.ui.LayoutView()
    view.add_item(discord.ui.TextDisplay("**a set**"))
    view.add_item(
        discord.ui.MediaGallery(discord.MediaGalleryItem("attachment://one.png", description="the first image"))
    )
    view.add_item(discord.ui.ActionRow(discord.ui.Button(label="Go", custom_id="go")))

    sent = await channel.send(view=view, file=discord.File(io.BytesIO(png()), "one.png"))

    assert sent.flags.components_v2 and sent.attachments == []
    [shown] = [c for c in sent.components if isinstance(c, discord.MediaGalleryComponent)]
    stored = fake.messages[str(sent.id)]
    assert shown.items[0].media.attachment_id == int(stored.attachments[0].id)
    assert shown.items[0].description == "the first image" and stored.text == "**a set**"
    assert stored.component_types() == [10, 12, 1, 2]
    with pytest.raises(discord.HTTPException) as caught:
        await sent.edit(content="plain text again")
    assert caught.value.status == 400 and caught.value.code == 50035
