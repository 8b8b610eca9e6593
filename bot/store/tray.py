"""TrayStore: "Add to references" trays, kept in the database so they hold across processes and restarts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.db import Database
from bot.store.schema import reference_tray

_t = reference_tray.c


@dataclass(frozen=True, slots=True)
class TrayItem:
    """One collected image: where it came from and how to download it."""

    name: str
    url: str
    channel_id: int
    message_id: int
    added: float


class TrayStore:
    """SQL for the trays; every method takes the member's (guild, user) and the items' time to live."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    async def items(self, guild_id: int | None, user_id: int, ttl: float) -> list[TrayItem]:
        """The member's unexpired items, oldest first (expired ones are deleted)."""
        async with self._db.write() as conn:
            return await self._items(conn, guild_id or 0, user_id, ttl)

    async def add(
        self,
        guild_id: int | None,
        user_id: int,
        images: Sequence[tuple[str, str]],
        *,
        channel_id: int,
        message_id: int,
        ttl: float,
        limit: int,
    ) -> tuple[int, int]:
        """Add (name, url) images not already there; returns (added, left out because the tray is full)."""
        guild = guild_id or 0
        async with self._db.write() as conn:
            current = await self._items(conn, guild, user_id, ttl)
            known = {(item.message_id, item.name) for item in current}
            fresh = [(name, url) for name, url in images if (message_id, name) not in known]
            room = max(0, limit - len(current))
            now = max([self._clock(), *(item.added + 1e-6 for item in current)])  # after every item already there
            rows = [
                {"guild_id": guild, "user_id": user_id, "message_id": message_id, "name": name, "url": url}
                | {"channel_id": channel_id, "added_at": now + i * 1e-6}  # keeps the order of one message's images
                for i, (name, url) in enumerate(fresh[:room])
            ]
            if rows:
                await conn.execute(reference_tray.insert(), rows)
        return len(rows), len(fresh) - len(rows)

    async def remove(self, guild_id: int | None, user_id: int, position: int, ttl: float) -> TrayItem | None:
        """Remove the item at `position` (0-based); None when there is no such item."""
        guild = guild_id or 0
        async with self._db.write() as conn:
            current = await self._items(conn, guild, user_id, ttl)
            if not 0 <= position < len(current):
                return None
            item = current[position]
            mine = sa.and_(_t.guild_id == guild, _t.user_id == user_id)
            await conn.execute(
                reference_tray.delete().where(mine, _t.message_id == item.message_id, _t.name == item.name)
            )
        return item

    async def clear(self, guild_id: int | None, user_id: int, ttl: float) -> int:
        """Empty the member's tray; returns how many unexpired items it held."""
        guild = guild_id or 0
        async with self._db.write() as conn:
            held = len(await self._items(conn, guild, user_id, ttl))
            await conn.execute(reference_tray.delete().where(_t.guild_id == guild, _t.user_id == user_id))
        return held

    async def forget_user(self, user_id: int) -> None:
        """Delete every tray item of a member (forget-me)."""
        async with self._db.write() as conn:
            await conn.execute(reference_tray.delete().where(_t.user_id == user_id))

    async def _items(self, conn: AsyncConnection, guild: int, user_id: int, ttl: float) -> list[TrayItem]:
        mine = sa.and_(_t.guild_id == guild, _t.user_id == user_id)
        await conn.execute(reference_tray.delete().where(mine, _t.added_at <= self._clock() - ttl))
        query = sa.select(_t.name, _t.url, _t.channel_id, _t.message_id, _t.added_at).where(mine).order_by(_t.added_at)
        return [TrayItem(str(r[0]), str(r[1]), int(r[2]), int(r[3]), float(r[4])) for r in await conn.execute(query)]
