"""Helpers for usage tests: a clock the test moves, and jobs recorded through the store's own API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.store import NewJob, UsageStore

# A Wednesday, so that the next day is in the same UTC week and month.
WEDNESDAY = datetime(2025, 6, 11, tzinfo=UTC).timestamp()


class Clock:
    """Epoch seconds that only move when told to (install with `harness.store.clock = clock`)."""

    def __init__(self, now: float = WEDNESDAY + 12 * 3600) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move forward."""
        self.now += seconds


async def record_job(
    store: UsageStore,
    guild_id: str | int,
    user_id: str | int,
    *,
    delivered: int,
    requested: int | None = None,
    status: str = "completed",
    channel_id: int = 1,
) -> int:
    """A finished job with `delivered` images, recorded the way JobRunner records one."""
    job_id = await store.create_job(
        NewJob(
            guild_id=int(guild_id),
            channel_id=channel_id,
            user_id=int(user_id),
            prompt="seeded",
            images_requested=requested or max(1, delivered),
        )
    )
    await store.mark_running(job_id)
    for index in range(delivered):
        await store.record_image(job_id, index, message_id=None, channel_id=channel_id, url=None)
    await store.finish_job(job_id, status, error_code=None if status == "completed" else "x", output_tokens=100)
    return job_id


async def forget_me(fake: Any, user: Any, timeout: float = 30) -> Any:
    """Run /usage forget-me; the interaction once the bot said it is done (a follow-up of the first answer)."""
    forget = await fake.slash(user, "usage forget-me")
    await forget.wait_response()
    assert forget.ephemeral and "Deleting your prompts" in forget.original.content
    await fake.wait_for(lambda: any("Done" in m.content for m in forget.followups), timeout=timeout)
    return forget


def done_text(forget: Any) -> str:
    """The "Done" follow-up of a forget-me interaction."""
    return next(m.content for m in forget.followups if "Done" in m.content)
