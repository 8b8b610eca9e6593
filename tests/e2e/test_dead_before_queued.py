"""A request whose process dies while it is still being prepared (admitted, not yet queued) is not lost silently:
the reservation expires and the member is told, through what admission stored, that nothing was spent."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

from bot.store import UsageStore
from tests.e2e.process import BotProcess
from tests.images import png


def expire_reservations(path: Path) -> None:
    """What 300 seconds do to a pending reservation."""
    with sqlite3.connect(path) as db:
        db.execute("UPDATE jobs SET reserved_until = 0 WHERE status = 'pending'")


async def test_a_request_whose_process_dies_before_it_is_queued_is_answered_later(
    tmp_path: Path, discord_fake, image_api
) -> None:
    first = BotProcess(tmp_path, discord_fake, image_api, lease_seconds=3)
    second = BotProcess(tmp_path, discord_fake, image_api, lease_seconds=3)
    try:
        await first.start()
        discord_fake.cdn_delay = 60.0  # the reference never finishes downloading: the job stays `pending`
        alice = discord_fake.add_member("alice")
        reference = discord_fake.add_attachment(png(64, 64), "ref.png")
        interaction = await discord_fake.slash(alice, "imagine", prompt="a lighthouse", image1=reference)
        await interaction.wait_response()
        assert not interaction.ephemeral  # acknowledged publicly ("thinking…")
        first.send(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL
        discord_fake.cdn_delay = 0.0
        await asyncio.to_thread(expire_reservations, tmp_path / "bot.db")

        await second.start()  # its worker's sweeper finds the expired reservation
        told = await discord_fake.wait_for(
            lambda: interaction.original is not None and "nothing was spent" in (interaction.original.content or ""),
            timeout=30,
        )
        assert told and "a lighthouse" in interaction.original.content
        assert image_api.requests == []
        store = await UsageStore.open(tmp_path / "bot.db", single_process=False)  # reads beside the running bot
        try:
            for _ in range(200):  # the token is forgotten once the member was told
                [job] = await store.recent_jobs()
                entry = await store.journal.get(job.id)
                if entry is not None and entry.interaction_token is None:
                    break
                await asyncio.sleep(0.05)
        finally:
            await store.close()
        assert (job.status, job.error_code) == ("cancelled", "expired")
        assert entry is not None and entry.interaction_token is None
    finally:
        await first.stop()
        await second.stop()
