"""A worker's heartbeat keeps every job it runs: the ones it claims or ends while a renewal is under way too."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from tests.e2e.helpers import final_original, job_done
from tests.logcapture import capture_logs


async def test_jobs_claimed_or_ended_during_a_renewal_keep_running(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(lease_seconds=3, max_concurrent_jobs=2)  # a renewal every second
    queue = harness.store.queue
    renew = queue.heartbeat

    async def slow_renewal(worker_id: str, job_ids: Sequence[int], lease: float) -> set[int]:
        held = await renew(worker_id, job_ids, lease)
        await asyncio.sleep(0.8)  # meanwhile jobs end and new ones are claimed
        return held

    queue.heartbeat = slow_renewal  # type: ignore[method-assign]
    image_api.image_delay = 0.3
    with capture_logs() as logs:
        sent = [
            await discord_fake.slash(discord_fake.add_member(), "imagine", prompt=f"job {n}", count=2)
            for n in range(12)
        ]
        finals = [await final_original(discord_fake, interaction, timeout=30) for interaction in sent]
        jobs = await job_done(harness, len(sent))

    assert logs.lines("lease lost") == []
    assert [job.attempts for job in jobs] == [1] * len(sent)  # none was stopped and taken over
    assert all(len(m.attachments) == 2 and "restarted" not in m.text for m in finals)
