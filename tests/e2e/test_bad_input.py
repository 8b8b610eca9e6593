"""Bad input catalogue for /imagine: each case gets a clear message, no API call, no traceback, one log line.

Cases covered elsewhere: non-image content type and a file pretending to be a PNG, references + count over 15
(tests/e2e/test_imagine.py); more than 14 references (tests/unit/test_job_checks.py: /imagine has six slots);
hosts off the allow-list and redirects (tests/unit/test_references.py).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.image_api import Fault
from tests.images import png
from tests.logcapture import CapturedLogs, capture_logs

MESSAGE = 4


@pytest.fixture
def logs() -> Iterator[CapturedLogs]:
    """Log output as the bot formats it."""
    with capture_logs(["fake-bot-token", "fake-api-key"]) as captured:
        yield captured


def huge_png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of any size that stays small on disk (it would need gigabytes decoded)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row * 500) for _ in range(height // 500)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


async def refused_privately(interaction: Any) -> str:
    """The ephemeral answer sent instead of a defer."""
    await interaction.wait_response()
    assert interaction.response_type == MESSAGE and interaction.ephemeral
    return str(interaction.original.text)


async def refused_after_defer(fake: Any, interaction: Any) -> str:
    """The ❌ line that replaced the 'thinking' message."""
    message = await fake.wait_for(
        lambda: interaction.original if interaction.original and "❌" in interaction.original.text else None
    )
    return str(message.text)


def assert_logged_once(logs: CapturedLogs, interaction: Any) -> None:
    lines = logs.lines("refused", f"interaction={interaction.id}")
    assert len(lines) == 1, logs.text
    assert "Traceback" not in logs.text


@pytest.mark.parametrize("prompt", ["   ", "\u200b\u200b\u200d\ufeff"], ids=["blank", "zero-width-only"])
async def test_empty_prompt_is_refused_privately(discord_fake, image_api, running_bot, logs, prompt) -> None:
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt=prompt)
    assert "prompt is empty" in await refused_privately(interaction)
    assert image_api.requests == []
    assert_logged_once(logs, interaction)


async def test_prompt_over_the_limit_is_refused_even_if_discord_let_it_through(
    discord_fake, image_api, running_bot, logs
) -> None:
    # A stale registration (an older version synced a longer max_length) lets Discord pass 4500 characters.
    [command] = [c for c in discord_fake.commands[discord_fake.guild_id] if c["name"] == "imagine"]
    next(o for o in command["options"] if o["name"] == "prompt")["max_length"] = 6000
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a" * 4500)
    text = await refused_privately(interaction)
    assert "4500 characters" in text and "4000" in text
    assert image_api.requests == []
    assert_logged_once(logs, interaction)


async def test_zero_byte_file_is_refused_privately(discord_fake, image_api, running_bot, logs) -> None:
    empty = discord_fake.add_attachment(b"", "empty.png", "image/png", width=10, height=10)
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a cat", image1=empty)
    assert "`empty.png` is an empty file" in await refused_privately(interaction)
    assert image_api.requests == []
    assert_logged_once(logs, interaction)


async def test_reference_over_the_size_cap_is_refused_privately(discord_fake, image_api, start_bot, logs) -> None:
    await start_bot(reference_max_bytes=2 * 1024 * 1024)
    big = discord_fake.add_attachment(png(64, 48) + b"\0" * (3 * 1024 * 1024), "big.png", "image/png")
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a cat", image1=big)
    assert "larger than the 2 MB limit" in await refused_privately(interaction)
    assert image_api.requests == []
    assert_logged_once(logs, interaction)


async def test_truncated_image_is_refused(discord_fake, image_api, running_bot, logs) -> None:
    broken = discord_fake.add_attachment(png(400, 300)[:200], "broken.png", "image/png", width=400, height=300)
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a cat", image1=broken)
    assert "`broken.png` is not a readable image" in await refused_after_defer(discord_fake, interaction)
    assert image_api.requests == []
    assert_logged_once(logs, interaction)


async def test_one_pixel_image_is_refused(discord_fake, image_api, running_bot, logs) -> None:
    dot = discord_fake.add_attachment(png(1, 1), "dot.png", "image/png")
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a cat", image1=dot)
    text = await refused_after_defer(discord_fake, interaction)
    assert "`dot.png` is too small (1x1)" in text and "15 pixels" in text
    assert image_api.requests == []
    assert_logged_once(logs, interaction)


async def test_decompression_bomb_is_refused_without_decoding(discord_fake, image_api, running_bot, logs) -> None:
    bomb = discord_fake.add_attachment(huge_png(20000, 20000), "bomb.png", "image/png", width=20000, height=20000)
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a cat", image1=bomb)
    assert "`bomb.png` is far too large" in await refused_after_defer(discord_fake, interaction)
    assert image_api.requests == []
    assert_logged_once(logs, interaction)


async def test_extreme_aspect_ratio_is_refused(discord_fake, image_api, running_bot, logs) -> None:
    strip = discord_fake.add_attachment(png(2000, 40), "strip.png", "image/png")
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a cat", image1=strip)
    assert "too long and thin (2000x40)" in await refused_after_defer(discord_fake, interaction)
    assert image_api.requests == []
    assert_logged_once(logs, interaction)


async def test_zero_width_characters_are_removed_from_prompt_and_echo(discord_fake, image_api, running_bot) -> None:
    prompt = "a\u200b red\u200d fox\u202e in\ufeff snow"
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt=prompt)
    message = await discord_fake.wait_for(
        lambda: interaction.original if interaction.original and interaction.original.attachments else None
    )
    assert image_api.requests[0].json["prompt"] == "a red fox in snow"
    assert "a red fox in snow" in message.text
    assert message.attachments[0].description == "a red fox in snow"


async def test_prompt_of_mentions_and_markdown_is_echoed_inert(discord_fake, image_api, running_bot) -> None:
    prompt = "<@&123456789012345678> @everyone ||spoiler|| `code` [link](https://evil.example) ~~x~~ **bold**"
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt=prompt)
    message = await discord_fake.wait_for(
        lambda: interaction.original if interaction.original and interaction.original.attachments else None
    )
    echoed = message.text.split(" — ")[0]
    assert "@\u200beveryone" in echoed and "@\u200b&123456789012345678" in echoed
    assert "\\[link]" in echoed, "a masked link must not render"
    for raw in ("||spoiler||", "`code`", "~~x~~", "**bold**"):
        assert raw not in echoed, raw
    assert message.allowed_mentions == {"parse": []}


async def test_api_error_shows_a_short_reference_not_the_raw_body(discord_fake, image_api, running_bot, logs) -> None:
    image_api.script(Fault.status(400, "InvalidParameter"))
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a cat")
    text = await refused_after_defer(discord_fake, interaction)
    request_id = image_api.requests[0].request_id
    assert request_id not in text and "Request id" not in text and "InvalidParameter" not in text
    assert f"(ref {request_id[-6:]})" in text
    assert request_id in logs.text, "the full request id belongs in the log"
