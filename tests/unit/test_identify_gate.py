"""The identify gate shared by every process of a deployment (PostgreSQL): one IDENTIFY per bucket per interval."""

from __future__ import annotations

import asyncio
import itertools
import time

from bot.identify import SharedIdentifyGate
from bot.store import UsageStore


async def test_processes_sharing_a_database_take_turns_per_bucket(postgres_url: str) -> None:
    stores = [await UsageStore.open(postgres_url, single_process=False) for _ in range(3)]
    try:
        gates = [SharedIdentifyGate(store, interval=1.0) for store in stores]  # one gate per "process"
        turns: list[tuple[int, float]] = []

        async def identify(gate: SharedIdentifyGate, bucket: int) -> None:
            await gate.wait_turn(bucket)
            turns.append((bucket, time.monotonic()))

        await asyncio.gather(*(identify(gate, 0) for gate in gates), identify(gates[0], 1))
        bucket0 = sorted(at for bucket, at in turns if bucket == 0)
        assert all(later - earlier >= 0.8 for earlier, later in itertools.pairwise(bucket0)), bucket0
        [bucket1] = [at for bucket, at in turns if bucket == 1]
        assert bucket1 < bucket0[-1], "another bucket does not wait behind bucket 0's turns"
    finally:
        for store in stores:
            await store.close()
