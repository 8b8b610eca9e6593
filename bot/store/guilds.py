"""GuildConfigStore: per-server overrides, exempt roles, allowed channels, blocked words and the audit log."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.db import Database
from bot.store.schema import admin_audit, guild_blocked_words, guild_channels, guild_exempt_roles, guild_settings


@dataclass(frozen=True, slots=True)
class GuildConfig:
    """Everything a server's admins changed from the defaults."""

    guild_id: int
    overrides: dict[str, Any] = field(default_factory=dict)
    exempt_roles: frozenset[int] = frozenset()
    channels: frozenset[int] = frozenset()
    blocked_words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded admin change."""

    id: int
    guild_id: int
    user_id: int
    action: str
    detail: str
    created_at: float


class GuildConfigStore:
    """SQL for server settings; every change is written together with its audit entry."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock
        # Every change goes through this class, in this process: a write-through cache keeps quota checks (run
        # before Discord's 3-second deadline) from paying four queries per request.
        self._cache: dict[int, GuildConfig] = {}
        # Loads under way: a burst of commands on a cold cache waits for one load instead of each making its own.
        self._loading: dict[int, asyncio.Future[GuildConfig]] = {}

    async def load(self, guild_id: int) -> GuildConfig:
        """The server's overrides and lists."""
        cached = self._cache.get(guild_id)
        if cached is not None:
            return cached
        loading = self._loading.get(guild_id)
        if loading is None:
            loading = self._loading[guild_id] = asyncio.ensure_future(self._load(guild_id))
            loading.add_done_callback(lambda done: self._loaded(guild_id, done))
        return await asyncio.shield(loading)  # one caller giving up does not stop the others' load

    def _loaded(self, guild_id: int, done: asyncio.Future[GuildConfig]) -> None:
        if self._loading.get(guild_id) is done:
            del self._loading[guild_id]

    async def _load(self, guild_id: int) -> GuildConfig:
        s = guild_settings.c
        words = guild_blocked_words.c
        async with self._db.read() as conn:
            rows = await conn.execute(sa.select(s.key, s.value).where(s.guild_id == guild_id))
            overrides = {row[0]: json.loads(row[1]) for row in rows}
            roles = await _ids(conn, guild_exempt_roles.c.role_id, guild_id)
            channels = await _ids(conn, guild_channels.c.channel_id, guild_id)
            query = sa.select(words.word).where(words.guild_id == guild_id).order_by(words.word)
            blocked = tuple(str(row[0]) for row in await conn.execute(query))
        config = GuildConfig(guild_id, overrides, frozenset(roles), frozenset(channels), blocked)
        if self._loading.get(guild_id) is asyncio.current_task():  # not invalidated by a change meanwhile
            self._cache[guild_id] = config
        return config

    def _forget(self, guild_id: int) -> None:
        """A change: the cached config is stale, and so is a load under way (later callers load afresh)."""
        self._cache.pop(guild_id, None)
        self._loading.pop(guild_id, None)

    async def set_value(self, guild_id: int, key: str, value: Any, *, by: int) -> None:
        """Override one setting (None clears the override)."""
        self._forget(guild_id)
        s = guild_settings.c
        async with self._db.write() as conn:
            if value is None:
                await conn.execute(guild_settings.delete().where(s.guild_id == guild_id, s.key == key))
            else:
                insert = self._db.insert(guild_settings).values(guild_id=guild_id, key=key, value=json.dumps(value))
                await conn.execute(
                    insert.on_conflict_do_update(
                        index_elements=[s.guild_id, s.key], set_={"value": insert.excluded.value}
                    )
                )
            detail = f"{key} = {'default' if value is None else json.dumps(value)}"
            await self._audit(conn, guild_id, by, "set", detail)
        self._forget(guild_id)  # again after the commit: a read meanwhile may have cached the old state

    async def set_member(self, table: str, guild_id: int, item: int | str, present: bool, *, by: int) -> bool:
        """Add or remove a role, channel or word; returns False when nothing changed."""
        self._forget(guild_id)
        target, column = _LIST_TABLES[table]
        async with self._db.write() as conn:
            if present:
                change: sa.Executable = (
                    self._db.insert(target).values({"guild_id": guild_id, column: item}).on_conflict_do_nothing()
                )
            else:
                change = target.delete().where(target.c.guild_id == guild_id, target.c[column] == item)
            changed = (await conn.execute(change)).rowcount > 0
            if changed:
                await self._audit(conn, guild_id, by, f"{'add' if present else 'remove'} {column}", str(item))
        self._forget(guild_id)
        return changed

    async def _audit(self, conn: AsyncConnection, guild_id: int, user_id: int, action: str, detail: str) -> None:
        row = {
            "guild_id": guild_id,
            "user_id": user_id,
            "action": action,
            "detail": detail,
            "created_at": self._clock(),
        }
        await conn.execute(admin_audit.insert().values(row))

    async def audit_log(self, guild_id: int, limit: int = 15) -> list[AuditEntry]:
        """The newest admin changes of a server."""
        query = admin_audit.select().where(admin_audit.c.guild_id == guild_id).order_by(admin_audit.c.id.desc())
        async with self._db.read() as conn:
            return [AuditEntry(*row) for row in await conn.execute(query.limit(limit))]


async def _ids(conn: AsyncConnection, column: sa.Column[int], guild_id: int) -> list[int]:
    query = sa.select(column).where(column.table.c.guild_id == guild_id)
    return [int(row[0]) for row in await conn.execute(query)]


_LIST_TABLES = {
    "guild_exempt_roles": (guild_exempt_roles, "role_id"),
    "guild_channels": (guild_channels, "channel_id"),
    "guild_blocked_words": (guild_blocked_words, "word"),
}
