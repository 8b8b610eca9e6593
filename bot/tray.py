"""ReferenceTray: images a member collected for later use as references, kept for a limited time.

The trays live in the database (`bot.store.tray`), so they hold across processes and restarts.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.imagegen.models import MAX_REFERENCES
from bot.store import UsageStore
from bot.store.tray import TrayItem

__all__ = ["ReferenceTray", "TrayItem"]


class ReferenceTray:
    """Per-member trays (up to 14 images each); each item expires `ttl` seconds after it was added."""

    def __init__(self, store: UsageStore, ttl: float, *, limit: int = MAX_REFERENCES) -> None:
        self.store = store
        self.ttl = ttl
        self.limit = limit

    async def items(self, guild_id: int | None, user_id: int) -> list[TrayItem]:
        """The member's unexpired items, oldest first."""
        return await self.store.tray.items(guild_id, user_id, self.ttl)

    async def add(
        self, guild_id: int | None, user_id: int, images: Sequence[tuple[str, str]], *, channel_id: int, message_id: int
    ) -> tuple[int, int]:
        """Add (name, url) images not already there; returns (added, left out because the tray is full)."""
        return await self.store.tray.add(
            guild_id, user_id, images, channel_id=channel_id, message_id=message_id, ttl=self.ttl, limit=self.limit
        )

    async def remove(self, guild_id: int | None, user_id: int, position: int) -> TrayItem | None:
        """Remove the item at `position` (0-based); None when there is no such item."""
        return await self.store.tray.remove(guild_id, user_id, position, self.ttl)

    async def clear(self, guild_id: int | None, user_id: int) -> int:
        """Empty the member's tray; returns how many items it held."""
        return await self.store.tray.clear(guild_id, user_id, self.ttl)
