"""The in-process SQLite write gate: a waiter cancelled while it waits leaves the gate usable."""

from __future__ import annotations

import asyncio

import pytest

from bot.store.db import WriteGate


async def _hold(gate: WriteGate, entered: asyncio.Event) -> None:
    async with gate.held():
        entered.set()


async def test_waiter_cancelled_then_passed_over_by_release_raises_cancelled_only() -> None:
    gate = WriteGate()
    entered = asyncio.Event()
    async with gate.held():
        waiter = asyncio.create_task(_hold(gate, entered))
        await asyncio.sleep(0)  # the task now waits in line
        waiter.cancel()  # its future is cancelled at once; the release below passes over it
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert not entered.is_set()
    again = asyncio.Event()
    await asyncio.wait_for(_hold(gate, again), 1)  # the gate is free, nothing left in line
    assert again.is_set()


async def test_waiter_cancelled_while_the_gate_is_still_held_leaves_the_line() -> None:
    gate = WriteGate()
    entered = asyncio.Event()
    async with gate.held():
        waiter = asyncio.create_task(_hold(gate, entered))
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    again = asyncio.Event()
    await asyncio.wait_for(_hold(gate, again), 1)
    assert again.is_set() and not entered.is_set()
