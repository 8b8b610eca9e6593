"""The job queue: a place in line, a slot when one is free, fair between members.

The runner and admission speak only to `JobQueue` and `Place`. `MemoryQueue` implements them in this
process; a store-backed queue (claim, lease, heartbeat) replaces it without changing its callers.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.errors import UserFacingError

OnPosition = Callable[[int], Awaitable[None]]


class QueueFull(UserFacingError):
    """Too many jobs are already waiting; the member should try again shortly."""

    def __init__(self) -> None:
        super().__init__(
            "The bot is busy right now and its queue is full. Please try again in a minute.", code="queue_full"
        )


class Place(Protocol):
    """A job's place: in line until it is granted a slot, then the slot, until released."""

    @property
    def position(self) -> int:
        """1 = next in line; 0 = not waiting (granted, or released)."""

    async def wait(self, on_position: OnPosition | None = None) -> None:
        """Wait for a slot, reporting each new position; a cancelled wait gives the place back."""

    def release(self) -> None:
        """Give the slot (or the place in line) back; safe to call more than once, never fails."""


class JobQueue(Protocol):
    """Grants slots first come, first served, within a global and a per-member limit."""

    @property
    def running(self) -> int:
        """Jobs holding a slot."""

    @property
    def waiting(self) -> int:
        """Jobs in line."""

    async def reserve(self, user_id: int, *, force: bool = False) -> Place:
        """Take a place now (a slot if one is free); QueueFull when the line is full, unless `force`."""


class Ticket:
    """A place in a MemoryQueue."""

    def __init__(self, queue: MemoryQueue, user_id: int) -> None:
        self.queue = queue
        self.user_id = user_id
        self.granted = False
        self.done = False
        self.position = 0
        self._changed = asyncio.Event()

    async def wait(self, on_position: OnPosition | None = None) -> None:
        """Wait for a slot, reporting each new queue position (1 = next in line)."""
        shown = -1
        try:
            while not self.granted:
                if on_position is not None and self.position != shown:
                    shown = self.position
                    await on_position(self.position)
                if self.granted:
                    break
                self._changed.clear()
                await self._changed.wait()
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        """Give the slot (or the place in the queue) back; safe to call more than once."""
        self.queue._release(self)

    def _notify(self) -> None:
        self._changed.set()


class MemoryQueue:
    """The queue of one process: FIFO, skipping members already at their own limit."""

    def __init__(self, global_limit: int, per_member: int, max_queue: int) -> None:
        self.global_limit = global_limit
        self.per_member = per_member
        self.max_queue = max_queue
        self._waiting: list[Ticket] = []
        self._running: Counter[int] = Counter()

    @property
    def running(self) -> int:
        """Jobs holding a slot."""
        return sum(self._running.values())

    @property
    def waiting(self) -> int:
        """Jobs in the queue."""
        return len(self._waiting)

    async def reserve(self, user_id: int, *, force: bool = False) -> Ticket:
        """Take a place now: a slot if one is free, else the end of the queue; QueueFull when it is full."""
        ticket = Ticket(self, user_id)
        if not self._can_start(user_id) and len(self._waiting) >= self.max_queue and not force:
            raise QueueFull()
        self._waiting.append(ticket)
        self._dispatch()
        return ticket

    def _can_start(self, user_id: int) -> bool:
        return self.running < self.global_limit and self._running[user_id] < self.per_member

    def _dispatch(self) -> None:
        started = True
        while started:
            started = False
            for ticket in self._waiting:
                if self._can_start(ticket.user_id):
                    self._waiting.remove(ticket)
                    self._running[ticket.user_id] += 1
                    ticket.granted = True
                    ticket.position = 0
                    ticket._notify()
                    started = True
                    break
        for position, ticket in enumerate(self._waiting, start=1):
            if ticket.position != position:
                ticket.position = position
                ticket._notify()

    def _release(self, ticket: Ticket) -> None:
        if ticket.done:
            return
        ticket.done = True
        ticket.position = 0
        if ticket.granted:
            self._running[ticket.user_id] -= 1
            if self._running[ticket.user_id] <= 0:
                del self._running[ticket.user_id]
        elif ticket in self._waiting:
            self._waiting.remove(ticket)
        self._dispatch()
