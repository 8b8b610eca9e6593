"""The start-up clean-up runs beside the bot, not before it: on a big history it takes seconds."""

from __future__ import annotations

import asyncio

from bot.jobs.recovery import Recovery
from tests.e2e.helpers import final_original


async def test_members_are_served_while_the_start_up_clean_up_runs(
    discord_fake, image_api, start_bot, monkeypatch
) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    real = Recovery.prune

    async def slow_prune(self: Recovery) -> None:
        started.set()
        await asyncio.wait_for(release.wait(), 30)
        await real(self)

    monkeypatch.setattr(Recovery, "prune", slow_prune)
    harness = await asyncio.wait_for(start_bot(), 20)  # READY without waiting for the clean-up
    try:
        await asyncio.wait_for(started.wait(), 10)
        interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="served meanwhile")
        message = await final_original(discord_fake, interaction)
        assert len(message.attachments) == 1
        assert not release.is_set() and harness.bot is not None
    finally:
        release.set()
