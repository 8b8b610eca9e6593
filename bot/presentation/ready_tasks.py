"""A discord.py leftover at shutdown: the tasks that wait for READY's guilds outlive `close()`."""

from __future__ import annotations

import asyncio
from typing import Any

import discord


def ready_tasks(client: discord.Client) -> list[asyncio.Task[Any]]:
    """discord.py's `_delay_ready` / `_delay_shard_ready` tasks of this client that are still running."""
    state = getattr(client, "_connection", None)
    found = [getattr(state, "_ready_task", None), *(getattr(state, "_ready_tasks", None) or {}).values()]
    return [task for task in found if isinstance(task, asyncio.Task) and not task.done()]


async def stop_ready_tasks(client: discord.Client) -> None:
    """Cancel and await the READY waiters; call it right after `close()`.

    A bot closed within about two seconds of connecting leaves them waiting; when the event loop is torn
    down later, the shard waiter swallows its cancellation, the outer one then dispatches `on_ready` into
    the closing loop, and Python warns "coroutine 'Client._run_event' was never awaited".
    """
    tasks = ready_tasks(client)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
