"""Identify pacing: Discord lets one IDENTIFY per concurrency bucket start every 5 seconds.

A bucket is `shard_id % max_concurrency` (`max_concurrency` comes from `GET /gateway/bot`).
discord.py paces only the shards of its own process; an `IdentifyGate` shared by every process
of a deployment paces them all. `LocalIdentifyGate` covers one process; `SharedIdentifyGate` covers
every gateway process on one PostgreSQL database (an advisory lock per bucket around "sleep until the
last identify + interval, then record now").
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractAsyncContextManager
from typing import Protocol

IDENTIFY_INTERVAL = 5.0  # seconds between IDENTIFYs of one bucket (Discord's rule)


class IdentifyGate(Protocol):
    """Hands out IDENTIFY turns per concurrency bucket, spaced by the identify interval."""

    async def wait_turn(self, bucket: int) -> None:
        """Return when an IDENTIFY of `bucket` may be sent; the caller sends it at once.

        Implementations space turns of the same bucket at least the identify interval apart
        (measured from the previous turn) and let different buckets proceed independently.
        """
        ...


class LocalIdentifyGate:
    """An `IdentifyGate` for the shards of one process (or of tasks sharing one event loop)."""

    def __init__(self, interval: float = IDENTIFY_INTERVAL) -> None:
        self.interval = interval
        self._next_turn: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def wait_turn(self, bucket: int) -> None:
        """Sleep until `interval` has passed since the bucket's previous turn, then take this one."""
        lock = self._locks.setdefault(bucket, asyncio.Lock())
        async with lock:
            delay = self._next_turn.get(bucket, 0.0) - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next_turn[bucket] = time.monotonic() + self.interval


def identify_bucket(shard_id: int | None, max_concurrency: int) -> int:
    """The concurrency bucket of a shard (an unsharded client is shard 0)."""
    return (shard_id or 0) % max(1, max_concurrency)


class Timeline(Protocol):
    """What a shared gate needs from the database: a named lock across processes and a small key/value."""

    def exclusive(self, name: str) -> AbstractAsyncContextManager[None]:
        """Hold the lock `name` (every process of the deployment) for a block."""
        ...

    async def get_meta(self, key: str) -> str | None:
        """A stored value."""
        ...

    async def set_meta(self, key: str, value: str) -> None:
        """Store a value."""
        ...


class SharedIdentifyGate:
    """An `IdentifyGate` for every process of a deployment: a database lock per bucket, the last turn stored.

    Turns are measured in wall-clock time, so the machines' clocks should agree to well under a second.
    """

    def __init__(self, timeline: Timeline, interval: float = IDENTIFY_INTERVAL) -> None:
        self.timeline = timeline
        self.interval = interval

    async def wait_turn(self, bucket: int) -> None:
        """Under the bucket's lock: sleep until `interval` after its previous turn (any process), take this one."""
        key = f"identify:{bucket}"
        async with self.timeline.exclusive(key):
            previous = float(await self.timeline.get_meta(key) or 0.0)
            delay = previous + self.interval - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.timeline.set_meta(key, repr(time.time()))
