"""Six tiny references that declare 35 megapixels each must not starve the bot or other members (loose bounds)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.e2e.helpers import final_original
from tests.images import declared_png, tiny


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _sample(lags: list[float], rss: list[float]) -> None:
    while True:
        before = time.monotonic()
        await asyncio.sleep(0.01)
        lags.append(time.monotonic() - before - 0.01)
        rss.append(_rss_mib())


async def test_six_huge_webps_do_not_starve_another_member(discord_fake, image_api, running_bot) -> None:
    refs = [discord_fake.add_attachment(tiny("WEBP", 7000, 5000), f"h{i}.webp", "image/webp") for i in range(6)]
    attacker, other = discord_fake.add_member(), discord_fake.add_member()
    lags: list[float] = []
    rss: list[float] = [_rss_mib()]
    sampler = asyncio.create_task(_sample(lags, rss))
    try:
        options = {f"image{i + 1}": ref for i, ref in enumerate(refs)}
        attack = await discord_fake.slash(attacker, "imagine", prompt="six huge nothings", **options)
        await asyncio.sleep(0.3)
        probe = await discord_fake.slash(other, "imagine", prompt="a red fox")
        await probe.wait_response(timeout=3)
        served = await final_original(discord_fake, probe, timeout=15)
        served_in = time.monotonic() - probe.created
        await final_original(discord_fake, attack, timeout=60)
    finally:
        sampler.cancel()
    assert probe.responded_at is not None and probe.responded_at - probe.created < 2.0
    assert served.attachments and served_in < 10.0
    assert max(rss) - rss[0] < 400, f"RSS rose by {max(rss) - rss[0]:.0f} MiB"
    assert max(lags) < 0.5, f"event loop lagged {max(lags) * 1000:.0f} ms"
    sizes = [(r.width, r.height) for request in image_api.requests for r in request.references]
    assert sizes == [(2048, 1463)] * 6


async def test_forty_megapixel_reference_is_refused_by_its_header(discord_fake, image_api, running_bot) -> None:
    huge = discord_fake.add_attachment(declared_png(8000, 5000), "huge.png", "image/png")
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a cat", image1=huge)
    message = await final_original(discord_fake, interaction, timeout=10)
    assert "`huge.png` is too large" in message.text and "36 megapixels" in message.text
    assert image_api.requests == []
