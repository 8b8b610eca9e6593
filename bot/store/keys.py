"""GuildKeyStore: servers' own API keys, sealed (encrypted) before they reach this module; changes are audited."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.db import Database
from bot.store.guilds import audit
from bot.store.schema import guild_api_keys


@dataclass(frozen=True, slots=True)
class StoredKey:
    """A row of `guild_api_keys`: the sealed key and what may be shown of it."""

    guild_id: int
    sealed: str = field(repr=False)
    hint: str  # the key's last four characters
    host: str | None  # of its base URL, for display (None: IMAGE_API_BASE_URL); the URL itself is only sealed
    set_by: int
    set_at: float


class GuildKeyStore:
    """SQL for servers' own keys; never sees a key in clear."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    async def get(self, guild_id: int) -> StoredKey | None:
        """The server's key, if it stored one."""
        async with self._db.read() as conn:
            row = (await conn.execute(_key_of(), {"keyed_guild": guild_id})).first()
        return None if row is None else StoredKey(*row)

    async def put(self, guild_id: int, sealed: str, hint: str, host: str | None, *, by: int) -> StoredKey:
        """Store (or replace) the server's key, with an audit entry naming only its hint and host."""
        key = StoredKey(guild_id, sealed, hint, host, by, self._clock())
        values = {"sealed": sealed, "hint": hint, "host": host, "set_by": by, "set_at": key.set_at}
        insert = self._db.insert(guild_api_keys).values(guild_id=guild_id, **values)
        async with self._db.write() as conn:
            await conn.execute(insert.on_conflict_do_update(index_elements=[guild_api_keys.c.guild_id], set_=values))
            await self._audit(conn, guild_id, by, "set api key", f"…{hint} at {host or 'the bot default'}")
        return key

    async def delete(self, guild_id: int, *, by: int) -> StoredKey | None:
        """Remove the server's key; the removed row, or None when it had none."""
        delete = guild_api_keys.delete().where(guild_api_keys.c.guild_id == guild_id)
        async with self._db.write() as conn:
            row = (await conn.execute(delete.returning(*guild_api_keys.c))).first()
            if row is None:
                return None
            removed = StoredKey(*row)
            await self._audit(conn, guild_id, by, "remove api key", f"…{removed.hint}")
        return removed

    async def _audit(self, conn: AsyncConnection, guild_id: int, user_id: int, action: str, detail: str) -> None:
        await audit(conn, self._clock(), guild_id, user_id, action, detail)


@functools.cache
def _key_of() -> sa.Select[Any]:
    """get's statement, built once (every job of a server reads its key when it starts)."""
    return guild_api_keys.select().where(guild_api_keys.c.guild_id == sa.bindparam("keyed_guild"))
