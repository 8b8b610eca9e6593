"""First answers first: interactions of this process still waiting for their first answer (Discord drops one not
answered within 3 s) go through in the order they came, AT_ONCE at a time, and work that can wait a moment lets
them go first.

A burst of /imagine shares one event loop, which runs every ready task in turn: without this, each of 800
interactions moves one step at a time together with all the others, so that all of them are answered late rather
than the first ones early; and the first jobs acknowledged are prepared, queued and started (their API requests,
status messages) while the rest of the burst still waits for its acknowledgement."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

DEADLINE = 3.0  # seconds Discord gives an interaction's first answer (the interaction is gone after that)
AT_ONCE = 64  # interactions on their way to their first answer at a time (enough to fill an admission batch)
# The longest a job already acknowledged waits for the others' first answers, and the longest an interaction waits
# for its turn (then it goes anyway): Discord's deadline, which none of them can usefully wait past.
AT_MOST = DEADLINE


class FirstAnswers:
    """The interactions (by id) whose first answer is still to come: in turn, and those waiting for their turn."""

    def __init__(self) -> None:
        self._turns = asyncio.Semaphore(AT_ONCE)
        self._waiting: dict[int, bool] = {}  # interaction id -> holds one of the turns
        self._queued = 0  # interactions waiting for a turn
        self._none = asyncio.Event()
        self._none.set()

    @contextlib.asynccontextmanager
    async def answering(self, interaction_id: int) -> AsyncIterator[None]:
        """Wait for this interaction's turn (first come, first served; at most AT_MOST), then hold it for the block
        or until `answered`. Within a block that already holds it (a command's handler, then the launcher), nothing
        more is taken."""
        if interaction_id in self._waiting:
            yield
            return
        self._queued += 1
        self._none.clear()
        try:
            try:
                await asyncio.wait_for(self._turns.acquire(), AT_MOST)
                turn = True
            except TimeoutError:
                turn = False  # the turns are all taken for that long: go anyway
        finally:
            self._queued -= 1
        self._waiting[interaction_id] = turn
        try:
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
        turn = self._waiting.pop(interaction_id, None)
        if turn:
            self._turns.release()
        if not self._waiting and not self._queued:
            self._none.set()

    async def settled(self) -> None:
        """Return once no interaction waits for its first answer, or after AT_MOST seconds."""
        if self._waiting or self._queued:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._none.wait(), AT_MOST)
