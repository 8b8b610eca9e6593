"""Fair scheduling of image API calls: a global limit, a per-member limit and a bounded FIFO queue."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable

from bot.errors import UserFacingError


class QueueFull(UserFacingError):
    """Too many jobs are already waiting; the member should try again shortly."""

    def __init__(self) -> None:
        super().__init__(
            "The bot is busy right now and its queue is full. Please try again in a minute.", code="queue_full"
        )


class Ticket:
    """A job's place in the scheduler, from acceptance until its API call ends."""

    def __init__(self, scheduler: Scheduler, user_id: int) -> None:
        self.scheduler = scheduler
        self.user_id = user_id
        self.granted = False
        self.done = False
        self.position = 0
        self._changed = asyncio.Event()

    async def wait(self, on_position: Callable[[int], Awaitable[None]] | None = None) -> None:
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
        self.scheduler._release(self)

    def _notify(self) -> None:
        self._changed.set()


class Scheduler:
    """Grants API slots first come, first served, skipping members already at their own limit."""

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

    def reserve(self, user_id: int, *, force: bool = False) -> Ticket:
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
        if ticket.granted:
            self._running[ticket.user_id] -= 1
            if self._running[ticket.user_id] <= 0:
                del self._running[ticket.user_id]
        elif ticket in self._waiting:
            self._waiting.remove(ticket)
        self._dispatch()
