"""Sharding rules of the fake gateway: shard of a guild, IDENTIFY `shard` checks, session start limit,
identify pacing per concurrency bucket.

Discord's rules: a guild's events go to shard `(guild_id >> 22) % shard_count` and DMs to shard 0;
IDENTIFYs of one bucket (`shard_id % max_concurrency`) must be at least 5 s apart across every
connection of the bot; more than 2,500 guilds on one connection is refused with 4011.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

INVALID_SHARD = 4010
SHARDING_REQUIRED = 4011


def shard_of(guild_id: str | int | None, shard_count: int) -> int:
    """The shard that receives a guild's events (DMs, `None`, go to shard 0)."""
    return 0 if guild_id is None else (int(guild_id) >> 22) % shard_count


def parse_shard(value: Any) -> tuple[int, int] | None:
    """`[shard_id, shard_count]` from an IDENTIFY, or None when malformed or out of range."""
    if not isinstance(value, list) or len(value) != 2:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return None
    shard_id, count = value
    return (shard_id, count) if count >= 1 and 0 <= shard_id < count else None


@dataclass
class IdentifyViolation:
    """An IDENTIFY that came too soon after the previous one of its bucket (answered with op 9)."""

    shard: tuple[int, int]
    bucket: int
    gap: float  # seconds since the bucket's previous accepted IDENTIFY
    interval: float


@dataclass
class Sharding:
    """What `GET /gateway/bot` announces and how the gateway enforces it (all settable by tests)."""

    recommended_shards: int = 1
    max_concurrency: int = 1
    identify_interval: float = 5.0
    max_guilds_per_shard: int = 2500
    session_total: int = 1000
    session_remaining: int = 1000
    session_reset_after_ms: int = 14_400_000
    violations: list[IdentifyViolation] = field(default_factory=list)
    _last_identify: dict[int, float] = field(default_factory=dict)

    def gateway_bot(self, url: str) -> dict[str, Any]:
        """The `GET /gateway/bot` body."""
        limit = {
            "total": self.session_total,
            "remaining": self.session_remaining,
            "reset_after": self.session_reset_after_ms,
            "max_concurrency": self.max_concurrency,
        }
        return {"url": url, "shards": self.recommended_shards, "session_start_limit": limit}

    def admit(self, shard: tuple[int, int]) -> IdentifyViolation | None:
        """Record an IDENTIFY of `shard`; a violation (recorded too) if its bucket's interval has not passed."""
        now = time.monotonic()
        bucket = shard[0] % self.max_concurrency
        last = self._last_identify.get(bucket)
        if last is not None and now - last < self.identify_interval:
            violation = IdentifyViolation(shard, bucket, now - last, self.identify_interval)
            self.violations.append(violation)
            return violation
        self._last_identify[bucket] = now
        self.session_remaining = max(0, self.session_remaining - 1)
        return None
