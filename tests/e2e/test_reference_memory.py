"""A job's references live until its request is sent: a retry builds the request again from the journal."""

from __future__ import annotations

import asyncio

import bot.imagegen.client as client_module
from tests.e2e.helpers import final_original
from tests.fakes.image_api import Fault
from tests.images import png


async def test_a_retry_sends_the_same_references_rebuilt_from_the_journal(
    discord_fake, image_api, running_bot, monkeypatch
) -> None:
    encoded: list[int] = []
    real = client_module.encode_body

    async def counting(request):  # type: ignore[no-untyped-def]
        body = await real(request)
        encoded.append(len(body))
        return body

    monkeypatch.setattr(client_module, "encode_body", counting)
    image_api.script(Fault.status(503, "ServiceUnavailable"), Fault.status(503, "ServiceUnavailable"))
    photo = discord_fake.add_attachment(png(640, 480, (0, 120, 200)), "photo.png", "image/png")
    interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="in blue", image1=photo)
    message = await final_original(discord_fake, interaction)

    assert len(message.attachments) == 1 and "❌" not in message.content
    assert [r.status for r in image_api.requests] == [503, 503, 200]
    sent = [r.json["image"] for r in image_api.requests]
    assert sent[0] == sent[1] == sent[2] and str(sent[0]).startswith("data:image/png;base64,")
    # The body (megabytes of base64 for real photos) was not kept between attempts: each retry encoded it anew.
    assert len(encoded) == 3 and len(set(encoded)) == 1


async def test_a_burst_downloads_and_decodes_a_few_references_at_a_time(
    discord_fake, image_api, running_bot, monkeypatch
) -> None:
    """Each download is megabytes: a burst's would all wait in memory for the few decoder processes."""
    from bot.presentation.launch import Launcher

    monkeypatch.setattr(running_bot.services.preparing, "_value", 2)  # two at a time, not eight
    loading, most = 0, 0
    real = Launcher.load

    async def slow_load(self, reference):  # type: ignore[no-untyped-def]
        nonlocal loading, most
        loading += 1
        most = max(most, loading)
        try:
            await asyncio.sleep(0.2)
            return await real(self, reference)
        finally:
            loading -= 1

    monkeypatch.setattr(Launcher, "load", slow_load)
    members = [discord_fake.add_member() for _ in range(6)]
    sent = []
    for n, member in enumerate(members):
        photo = discord_fake.add_attachment(png(64, 64, (n * 40, 0, 0)), f"p{n}.png", "image/png")
        sent.append(await discord_fake.slash(member, "imagine", prompt=f"photo {n}", image1=photo))
    for interaction in sent:
        await final_original(discord_fake, interaction)
    assert most == 2
