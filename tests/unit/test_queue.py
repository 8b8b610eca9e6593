"""MemoryQueue: global and per-member limits, FIFO order, queue positions, a bounded queue."""

from __future__ import annotations

import asyncio

import pytest

from bot.jobs.queue import MemoryQueue, QueueFull


async def test_global_limit_then_first_come_first_served() -> None:
    queue = MemoryQueue(global_limit=1, per_member=5, max_queue=5)
    first, second, third = [await queue.reserve(user) for user in (1, 2, 3)]
    assert (first.granted, second.granted, third.granted) == (True, False, False)
    assert (second.position, third.position) == (1, 2)
    first.release()
    assert second.granted and not third.granted and third.position == 1


async def test_member_at_their_limit_is_overtaken() -> None:
    queue = MemoryQueue(global_limit=2, per_member=1, max_queue=5)
    await queue.reserve(1)
    alice_again = await queue.reserve(1)
    bob = await queue.reserve(2)
    assert bob.granted and not alice_again.granted


async def test_full_queue_refuses_but_a_free_slot_never_does() -> None:
    queue = MemoryQueue(global_limit=1, per_member=1, max_queue=1)
    await queue.reserve(1)
    await queue.reserve(2)
    with pytest.raises(QueueFull):
        await queue.reserve(3)
    assert (await queue.reserve(4, force=True)).position == 2


async def test_waiting_reports_each_position_and_a_cancelled_wait_leaves_the_queue() -> None:
    queue = MemoryQueue(global_limit=1, per_member=1, max_queue=5)
    running = await queue.reserve(1)
    gone, waiting = await queue.reserve(2), await queue.reserve(3)
    seen: list[int] = []

    async def report(position: int) -> None:
        seen.append(position)

    gone_task = asyncio.create_task(gone.wait())
    waiter = asyncio.create_task(waiting.wait(report))
    await asyncio.sleep(0)
    gone_task.cancel()
    await asyncio.gather(gone_task, return_exceptions=True)
    await asyncio.sleep(0)
    running.release()
    await asyncio.wait_for(waiter, 1)
    assert seen == [2, 1] and waiting.granted and queue.waiting == 0
