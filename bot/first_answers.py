"""First answers first: interactions of this process still waiting for their first answer (Discord drops one not
answered within 3 s), and a way for work that can wait a moment to let them go first.

A burst of /imagine shares one event loop: without this, the first jobs acknowledged are prepared, queued and
started (their API requests, status messages) while the rest of the burst still waits for its acknowledgement, and
that work delays those acknowledgements past Discord's deadline."""

from __future__ import annotations

import asyncio
import contextlib

# The longest a job already acknowledged waits for the others' first answers (Discord's deadline: none waits longer).
AT_MOST = 3.0


class FirstAnswers:
    """The interactions (by id) whose first answer is still to come."""

    def __init__(self) -> None:
        self._waiting: set[int] = set()
        self._none = asyncio.Event()
        self._none.set()

    def waiting(self, interaction_id: int) -> None:
        """This interaction waits for its first answer."""
        self._waiting.add(interaction_id)
        self._none.clear()

    def answered(self, interaction_id: int) -> None:
        """It was answered (or will not be by us); safe to call twice."""
        self._waiting.discard(interaction_id)
        if not self._waiting:
            self._none.set()

    async def settled(self) -> None:
        """Return once no interaction waits for its first answer, or after AT_MOST seconds."""
        if self._waiting:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._none.wait(), AT_MOST)
