"""First answers first: interactions of this process still waiting for their first answer (Discord drops one not
answered within 3 s) go through AT_ONCE at a time, members taking turns, and work that can wait a moment lets them
go first.

A burst of /imagine shares one event loop, which runs every ready task in turn: without this, each of 800
interactions moves one step at a time together with all the others, so that all of them are answered late rather
than the first ones early; and the first jobs acknowledged are prepared, queued and started (their API requests,
status messages) while the rest of the burst still waits for its acknowledgement.

Turns go round the members who are waiting, each member's interactions in the order they came: a member who sends
one command while others' hundreds wait is answered next, not after all of them."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from collections.abc import AsyncIterator

DEADLINE = 3.0  # seconds Discord gives an interaction's first answer (the interaction is gone after that)
AT_ONCE = 64  # interactions on their way to their first answer at a time (enough to fill an admission batch)
# The longest a job already acknowledged waits for the others' first answers, and the longest an interaction waits
# for its turn (then it goes anyway): Discord's deadline, which none of them can usefully wait past.
AT_MOST = DEADLINE


class Turns:
    """`size` turns, handed out round-robin over the members waiting for one, each member's waiters in the order
    they came."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiting: dict[int, deque[asyncio.Future[None]]] = {}  # member -> waiters; in the order of their turns

    def locked(self) -> bool:
        """No turn free."""
        return self._free == 0

    async def acquire(self, member: int) -> None:
        """Wait for a turn for one of `member`'s interactions."""
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(member, deque()).append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # given a turn as it was cancelled: it goes on
                self.release()
            else:
                self._forget(member, waiter)
            raise

    def release(self) -> None:
        """Give a turn back: to the next member waiting (who then goes to the back of the round), or free."""
        while self._waiting:
            member, line = next(iter(self._waiting.items()))
            del self._waiting[member]
            waiter = line.popleft()
            if line:
                self._waiting[member] = line
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1

    def _forget(self, member: int, waiter: asyncio.Future[None]) -> None:
        line = self._waiting.get(member)
        if line is not None and waiter in line:
            line.remove(waiter)
            if not line:
                del self._waiting[member]


class FirstAnswers:
    """The interactions (by id) whose first answer is still to come: in turn, and those waiting for their turn."""

    def __init__(self) -> None:
        self._turns = Turns(AT_ONCE)
        self._arrivals = itertools.count()
        self._pending: dict[int, int] = {}  # interaction id -> its place in arrival order, until it is answered
        self._turn_held: set[int] = set()  # the pending ones that hold one of the turns
        self._answered = asyncio.Event()  # replaced after each answer: wakes whoever waits for earlier arrivals

    @contextlib.asynccontextmanager
    async def answering(self, interaction_id: int, *, member: int) -> AsyncIterator[None]:
        """Wait for this interaction's turn (members in turn, each one's first come first served; at most AT_MOST),
        then hold it for the block or until `answered`. Within a block that already holds it (a command's handler,
        then the launcher), nothing more is taken."""
        if interaction_id in self._pending:
            yield
            return
        self._pending[interaction_id] = next(self._arrivals)
        try:
            try:
                await asyncio.wait_for(self._turns.acquire(member), AT_MOST)
                if interaction_id in self._pending:
                    self._turn_held.add(interaction_id)
                else:  # answered (given up) while it waited: the turn goes on
                    self._turns.release()
            except TimeoutError:
                pass  # the turns are all taken for that long: go anyway
            yield
        finally:
            self.answered(interaction_id)

    @staticmethod
    def too_late(received: float) -> bool:
        """Whether an interaction received at `received` (time.monotonic()) can no longer be answered: it came
        DEADLINE seconds ago or more (earlier still by Discord's clock). Starting its job would only delay the
        others' answers."""
        return time.monotonic() - received >= DEADLINE

    def answered(self, interaction_id: int) -> None:
        """It was answered (or will not be by us): its turn goes to the next one; safe to call twice."""
        if self._pending.pop(interaction_id, None) is None:
            return
        if interaction_id in self._turn_held:
            self._turn_held.discard(interaction_id)
            self._turns.release()
        answered, self._answered = self._answered, asyncio.Event()
        answered.set()

    async def settled(self) -> None:
        """Return once every interaction that came before this call has had its first answer, or after AT_MOST
        seconds. Interactions that come meanwhile do not hold it up: a steady stream of them would, for ever."""
        if not self._pending:
            return
        last = next(reversed(self._pending.values()))  # the newest arrival still waiting
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(AT_MOST):
                while self._pending and next(iter(self._pending.values())) <= last:
                    await self._answered.wait()
