"""ReferenceTray: images a member collected for later use as references, kept for a limited time."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.imagegen.models import MAX_REFERENCES


@dataclass(frozen=True, slots=True)
class TrayItem:
    """One collected image: where it came from and how to download it."""

    name: str
    url: str
    channel_id: int
    message_id: int
    added: float


class ReferenceTray:
    """Per-member trays in memory (up to 14 images each); each item expires `ttl` seconds after it was added."""

    def __init__(self, ttl: float, *, limit: int = MAX_REFERENCES, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.limit = limit
        self._clock = clock
        self._trays: dict[tuple[int | None, int], list[TrayItem]] = {}

    def items(self, guild_id: int | None, user_id: int) -> list[TrayItem]:
        """The member's unexpired items, oldest first."""
        key = (guild_id, user_id)
        cutoff = self._clock() - self.ttl
        kept = [item for item in self._trays.get(key, []) if item.added > cutoff]
        if kept:
            self._trays[key] = kept
        else:
            self._trays.pop(key, None)
        return list(kept)

    def add(
        self, guild_id: int | None, user_id: int, images: list[tuple[str, str]], *, channel_id: int, message_id: int
    ) -> tuple[int, int]:
        """Add (name, url) images not already there; returns (added, left out because the tray is full)."""
        current = self.items(guild_id, user_id)
        known = {(item.message_id, item.name) for item in current}
        fresh = [(name, url) for name, url in images if (message_id, name) not in known]
        room = max(0, self.limit - len(current))
        now = self._clock()
        added = [TrayItem(name, url, channel_id, message_id, now) for name, url in fresh[:room]]
        if added:
            self._trays[(guild_id, user_id)] = current + added
        return len(added), len(fresh) - len(added)

    def remove(self, guild_id: int | None, user_id: int, position: int) -> TrayItem | None:
        """Remove the item at `position` (0-based); None when there is no such item."""
        current = self.items(guild_id, user_id)
        if not 0 <= position < len(current):
            return None
        removed = current.pop(position)
        self._trays[(guild_id, user_id)] = current
        return removed

    def clear(self, guild_id: int | None, user_id: int) -> int:
        """Empty the member's tray; returns how many items it held."""
        return len(self._trays.pop((guild_id, user_id), []))

    def forget_user(self, user_id: int) -> None:
        """Empty every tray of the member, in every server (forget-me)."""
        for key in [key for key in self._trays if key[1] == user_id]:
            del self._trays[key]
