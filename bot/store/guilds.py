"""GuildConfigStore: per-server overrides, exempt roles, allowed channels, blocked words and the audit log."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiosqlite


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

    def __init__(self, db: aiosqlite.Connection, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock
        # Every change goes through this class, in this process: a write-through cache keeps quota checks (run
        # before Discord's 3-second deadline) from paying four queries per request.
        self._cache: dict[int, GuildConfig] = {}

    async def load(self, guild_id: int) -> GuildConfig:
        """The server's overrides and lists."""
        cached = self._cache.get(guild_id)
        if cached is not None:
            return cached
        async with self._db.execute("SELECT key, value FROM guild_settings WHERE guild_id = ?", (guild_id,)) as cur:
            overrides = {row[0]: json.loads(row[1]) for row in await cur.fetchall()}
        roles = await self._ids("SELECT role_id FROM guild_exempt_roles WHERE guild_id = ?", guild_id)
        channels = await self._ids("SELECT channel_id FROM guild_channels WHERE guild_id = ?", guild_id)
        sql = "SELECT word FROM guild_blocked_words WHERE guild_id = ? ORDER BY word"
        async with self._db.execute(sql, (guild_id,)) as cur:
            words = tuple(row[0] for row in await cur.fetchall())
        config = GuildConfig(guild_id, overrides, frozenset(roles), frozenset(channels), words)
        self._cache[guild_id] = config
        return config

    async def _ids(self, sql: str, guild_id: int) -> list[int]:
        async with self._db.execute(sql, (guild_id,)) as cursor:
            return [int(row[0]) for row in await cursor.fetchall()]

    async def set_value(self, guild_id: int, key: str, value: Any, *, by: int) -> None:
        """Override one setting (None clears the override)."""
        self._cache.pop(guild_id, None)
        if value is None:
            await self._db.execute("DELETE FROM guild_settings WHERE guild_id = ? AND key = ?", (guild_id, key))
        else:
            await self._db.execute(
                "INSERT INTO guild_settings (guild_id, key, value) VALUES (?, ?, ?)"
                " ON CONFLICT (guild_id, key) DO UPDATE SET value = excluded.value",
                (guild_id, key, json.dumps(value)),
            )
        await self._audit(guild_id, by, "set", f"{key} = {'default' if value is None else json.dumps(value)}")

    async def set_member(self, table: str, guild_id: int, item: int | str, present: bool, *, by: int) -> bool:
        """Add or remove a role, channel or word; returns False when nothing changed."""
        self._cache.pop(guild_id, None)
        column = _LIST_TABLES[table]
        if present:
            sql = f"INSERT INTO {table} (guild_id, {column}) VALUES (?, ?) ON CONFLICT DO NOTHING"
        else:
            sql = f"DELETE FROM {table} WHERE guild_id = ? AND {column} = ?"
        cursor = await self._db.execute(sql, (guild_id, item))
        changed = cursor.rowcount > 0
        if changed:
            await self._audit(guild_id, by, f"{'add' if present else 'remove'} {column}", str(item))
        else:
            await self._db.commit()
        return changed

    async def _audit(self, guild_id: int, user_id: int, action: str, detail: str) -> None:
        await self._db.execute(
            "INSERT INTO admin_audit (guild_id, user_id, action, detail, created_at) VALUES (?, ?, ?, ?, ?)",
            (guild_id, user_id, action, detail, self._clock()),
        )
        await self._db.commit()
        self._cache.pop(guild_id, None)  # again after the commit: a read meanwhile may have cached the old state

    async def audit_log(self, guild_id: int, limit: int = 15) -> list[AuditEntry]:
        """The newest admin changes of a server."""
        sql = "SELECT * FROM admin_audit WHERE guild_id = ? ORDER BY id DESC LIMIT ?"
        async with self._db.execute(sql, (guild_id, limit)) as cursor:
            return [AuditEntry(*row) for row in await cursor.fetchall()]


_LIST_TABLES = {"guild_exempt_roles": "role_id", "guild_channels": "channel_id", "guild_blocked_words": "word"}
