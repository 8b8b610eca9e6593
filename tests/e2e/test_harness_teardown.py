"""Stopping the bot leaves no discord.py task behind for the event loop's teardown to cancel."""

from __future__ import annotations

import asyncio


async def test_a_bot_stopped_right_after_connecting_leaves_no_ready_waiters(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot()  # stopped well within discord.py's 2 s wait for the guilds of READY
    await harness.stop()
    await asyncio.sleep(0)
    left = [t for t in asyncio.all_tasks() if "_delay" in repr(t.get_coro())]
    assert left == [], "these would dispatch on_ready into the closing loop: 'Client._run_event' never awaited"
    harness.bot = harness.services = harness._task = harness._http = None  # stopped already
