"""How long a job will take: recent jobs of the same model and size on this bot, per image (the status line).

At most one store query per model and size every CACHE_SECONDS in this process (every NO_HISTORY_SECONDS while
there is no history, or after the store was slow), never per status edit; no estimate at all without history (or
when the store is slow). A job's API request waits for its estimate: without the short wait between "no history"
readings, the jobs of a burst on a new bot would each read the history in turn, one after the other, before
their requests.
"""

from __future__ import annotations

import asyncio
import logging
import time

from bot.imagegen.models import GenerationRequest
from bot.store import UsageStore

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0  # how long one reading of the history serves every job of that model and size
NO_HISTORY_SECONDS = 5.0  # how long "no history yet" (or a failed reading) holds before the next reading
RECENT_SECONDS = 7 * 86_400  # older jobs say little about how fast the service is now
QUERY_TIMEOUT = 1.0  # an estimate is a nicety: a slow store gives none rather than delaying the job


class TimeEstimates:
    """Seconds per image of recent completed jobs, by (model, size), cached briefly in-process."""

    def __init__(self, store: UsageStore, *, ttl: float = CACHE_SECONDS, retry: float = NO_HISTORY_SECONDS) -> None:
        self.store = store
        self.ttl = ttl
        self.retry = retry
        self._cache: dict[tuple[str, str], tuple[float, float | None]] = {}  # key -> (valid until, seconds)
        self._lock = asyncio.Lock()  # jobs starting together share one query

    async def expected(self, request: GenerationRequest) -> float | None:
        """Seconds the request should take (its images × the recent time per image), or None without history."""
        per_image = await self.per_image(request.model, request.size)
        return None if per_image is None else per_image * request.count

    async def per_image(self, model: str, size: str) -> float | None:
        """Recent seconds per image of `model` at `size` on this bot (cached for `ttl` seconds)."""
        key = (model, size)
        if (hit := self._fresh(key)) is not None:
            return hit[1]
        async with self._lock:
            if (hit := self._fresh(key)) is not None:
                return hit[1]
            value = await self._read(model, size)
            # "No history yet" is kept only briefly, and until a job of this model and size completes.
            self._cache[key] = (time.monotonic() + (self.ttl if value is not None else self.retry), value)
            return value

    def completed(self, model: str, size: str) -> None:
        """A job of `model` at `size` has just completed: "no history yet" no longer holds (the next job reads it)."""
        hit = self._cache.get((model, size))
        if hit is not None and hit[1] is None:
            del self._cache[(model, size)]

    def _fresh(self, key: tuple[str, str]) -> tuple[float, float | None] | None:
        hit = self._cache.get(key)
        return hit if hit is not None and hit[0] > time.monotonic() else None

    async def _read(self, model: str, size: str) -> float | None:
        since = self.store.clock() - RECENT_SECONDS
        try:
            async with asyncio.timeout(QUERY_TIMEOUT):
                return await self.store.timings.seconds_per_image(model, size, since)
        except Exception:
            log.warning("could not read recent job durations; no time estimate for now", exc_info=True)
            return None
