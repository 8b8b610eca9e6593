"""GuildConfigStore: per-server overrides, exempt roles, role tiers, allowed channels, blocked words, the audit log."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.db import Database
from bot.store.listener import Listener
from bot.store.schema import (
    admin_audit,
    guild_blocked_words,
    guild_channels,
    guild_exempt_roles,
    guild_role_tiers,
    guild_settings,
)


@dataclass(frozen=True, slots=True)
class RoleTier:
    """One role's limits. None: the server's default for that limit; images 0: no limit; models (): every model."""

    name: str
    daily_images: int | None = None
    monthly_images: int | None = None
    models: tuple[str, ...] | None = None
    max_resolution: str | None = None
    max_set_size: int | None = None


@dataclass(frozen=True, slots=True)
class GuildConfig:
    """Everything a server's admins changed from the defaults."""

    guild_id: int
    overrides: dict[str, Any] = field(default_factory=dict)
    exempt_roles: frozenset[int] = frozenset()
    channels: frozenset[int] = frozenset()
    blocked_words: tuple[str, ...] = ()
    tiers: dict[int, RoleTier] = field(default_factory=dict)  # by role id


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

    def __init__(self, db: Database, clock: Callable[[], float], listener: Listener) -> None:
        self._db = db
        self._clock = clock
        # A cache keeps quota checks (run before Discord's 3-second deadline) from paying five queries per request.
        # Every change goes through this class and is announced to every process (NOTIFY on PostgreSQL), which
        # drops its copy; nothing is cached while this process does not listen, and a lost listening connection
        # drops every copy (a change may have been missed). Concurrent misses of one server share one read (a
        # burst right after a start would otherwise read it once per request); a change made while a read is
        # under way keeps that read's result out of the cache.
        self._listener = listener
        listener.on(CHANGED, self._changed_elsewhere, lost=self._forget_all)
        self._cache: dict[int, GuildConfig] = {}
        self._reading: dict[int, asyncio.Future[GuildConfig]] = {}
        self._changes: dict[int, int] = {}

    async def load(self, guild_id: int) -> GuildConfig:
        """The server's overrides and lists."""
        cached = self._cache.get(guild_id)
        if cached is not None:
            return cached
        reading = self._reading.get(guild_id)
        if reading is None:
            reading = self._reading[guild_id] = asyncio.ensure_future(self._read(guild_id))
            reading.add_done_callback(functools.partial(self._read_done, guild_id))
        return await asyncio.shield(reading)

    def _read_done(self, guild_id: int, reading: asyncio.Future[GuildConfig]) -> None:
        if self._reading.get(guild_id) is reading:
            del self._reading[guild_id]
        if not reading.cancelled():
            reading.exception()  # its waiters saw it (or all of them were cancelled): not "never retrieved"

    async def _read(self, guild_id: int) -> GuildConfig:
        await self._listener.start()  # before reading: a change committed after the read is heard of
        changes = self._changes.get(guild_id, 0)
        s = guild_settings.c
        words = guild_blocked_words.c
        async with self._db.read(answering=True) as conn:  # not cached: a command's first answer waits for it
            rows = await conn.execute(sa.select(s.key, s.value).where(s.guild_id == guild_id))
            overrides = {row[0]: json.loads(row[1]) for row in rows}
            roles = await _ids(conn, guild_exempt_roles.c.role_id, guild_id)
            channels = await _ids(conn, guild_channels.c.channel_id, guild_id)
            query = sa.select(words.word).where(words.guild_id == guild_id).order_by(words.word)
            blocked = tuple(str(row[0]) for row in await conn.execute(query))
            tiers = await _tiers(conn, guild_id)
        config = GuildConfig(guild_id, overrides, frozenset(roles), frozenset(channels), blocked, tiers)
        if self._changes.get(guild_id, 0) == changes and self._listener.listening:
            self._cache[guild_id] = config
        return config

    def _forget(self, guild_id: int) -> None:
        """A change of the server's settings: drop the cached copy; reads under way neither cache nor are shared."""
        self._cache.pop(guild_id, None)
        self._reading.pop(guild_id, None)
        self._changes[guild_id] = self._changes.get(guild_id, 0) + 1

    def _changed_elsewhere(self, payload: str) -> None:
        self._forget(int(payload))

    def _forget_all(self) -> None:
        for guild_id in {*self._cache, *self._reading}:
            self._forget(guild_id)

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
        self._forget(guild_id)  # again after the commit: a read meanwhile may have seen the old state

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

    async def set_tier(self, guild_id: int, role_id: int, tier: RoleTier, *, by: int) -> None:
        """Give a role its tier (replacing the one it had)."""
        self._forget(guild_id)
        row = {
            "name": tier.name,
            "daily_images": tier.daily_images,
            "monthly_images": tier.monthly_images,
            "models": None if tier.models is None else json.dumps(list(tier.models)),
            "max_resolution": tier.max_resolution,
            "max_set_size": tier.max_set_size,
        }
        t = guild_role_tiers.c
        insert = self._db.insert(guild_role_tiers).values(guild_id=guild_id, role_id=role_id, **row)
        async with self._db.write() as conn:
            await conn.execute(insert.on_conflict_do_update(index_elements=[t.guild_id, t.role_id], set_=row))
            detail = f"{role_id}: " + ", ".join(f"{key}={json.dumps(value)}" for key, value in row.items())
            await self._audit(conn, guild_id, by, "set tier", detail)
        self._forget(guild_id)

    async def remove_tier(self, guild_id: int, role_id: int, *, by: int) -> bool:
        """Take a role's tier away; False when it had none."""
        self._forget(guild_id)
        t = guild_role_tiers.c
        async with self._db.write() as conn:
            removed = await conn.execute(guild_role_tiers.delete().where(t.guild_id == guild_id, t.role_id == role_id))
            changed = removed.rowcount > 0
            if changed:
                await self._audit(conn, guild_id, by, "remove tier", str(role_id))
        self._forget(guild_id)
        return changed

    async def _audit(self, conn: AsyncConnection, guild_id: int, user_id: int, action: str, detail: str) -> None:
        """Every change: its audit entry, and every process told (at commit) to drop its copy."""
        await audit(conn, self._clock(), guild_id, user_id, action, detail)
        await self._listener.announce(conn, CHANGED, str(guild_id))

    async def audit_log(self, guild_id: int, limit: int = 15) -> list[AuditEntry]:
        """The newest admin changes of a server."""
        query = admin_audit.select().where(admin_audit.c.guild_id == guild_id).order_by(admin_audit.c.id.desc())
        async with self._db.read() as conn:
            return [AuditEntry(*row) for row in await conn.execute(query.limit(limit))]


async def _ids(conn: AsyncConnection, column: sa.Column[int], guild_id: int) -> list[int]:
    query = sa.select(column).where(column.table.c.guild_id == guild_id)
    return [int(row[0]) for row in await conn.execute(query)]


async def _tiers(conn: AsyncConnection, guild_id: int) -> dict[int, RoleTier]:
    t = guild_role_tiers.c
    query = sa.select(
        t.role_id, t.name, t.daily_images, t.monthly_images, t.models, t.max_resolution, t.max_set_size
    ).where(t.guild_id == guild_id)
    tiers = {}
    for role_id, name, daily, monthly, models, resolution, set_size in await conn.execute(query):
        listed = None if models is None else tuple(str(m) for m in json.loads(models))
        tiers[int(role_id)] = RoleTier(name, daily, monthly, listed, resolution, set_size)
    return tiers


CHANGED = "seedream_guild_settings"  # NOTIFY channel: a server's settings changed (payload: its id)

_LIST_TABLES = {
    "guild_exempt_roles": (guild_exempt_roles, "role_id"),
    "guild_channels": (guild_channels, "channel_id"),
    "guild_blocked_words": (guild_blocked_words, "word"),
}


async def audit(conn: AsyncConnection, now: float, guild_id: int, user_id: int, action: str, detail: str) -> None:
    """One entry of a server's audit log (who changed what, when), in the caller's transaction."""
    row = {"guild_id": guild_id, "user_id": user_id, "action": action, "detail": detail, "created_at": now}
    await conn.execute(admin_audit.insert().values(row))
