"""MemberDefaultsStore: each member's /settings in each server (resolution, aspect, set size, model)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from bot.store.db import Database
from bot.store.schema import member_defaults

_d = member_defaults.c


@dataclass(frozen=True, slots=True)
class MemberDefaults:
    """What a member chose in /settings; None everywhere is "nothing chosen" (the bot's and server's defaults)."""

    resolution: str | None = None
    aspect: str | None = None
    count: int | None = None
    model: str | None = None


FIELDS = tuple(f.name for f in fields(MemberDefaults))


class MemberDefaultsStore:
    """SQL for `member_defaults`; guild 0 is "outside a server"."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    async def get(self, guild_id: int | None, user_id: int) -> MemberDefaults:
        """The member's defaults in this server (all None when they never chose any)."""
        query = member_defaults.select().where(_d.guild_id == (guild_id or 0), _d.user_id == user_id)
        async with self._db.read() as conn:
            row = (await conn.execute(query)).one_or_none()
        if row is None:
            return MemberDefaults()
        return MemberDefaults(**{name: row._mapping[name] for name in FIELDS})

    async def update(self, guild_id: int | None, user_id: int, **changes: Any) -> MemberDefaults:
        """Set some defaults (None clears one) and return them all."""
        unknown = set(changes) - set(FIELDS)
        if unknown:
            raise ValueError(f"not a member default: {sorted(unknown)}")
        values = {**changes, "updated_at": self._clock()}
        insert = self._db.insert(member_defaults).values(guild_id=guild_id or 0, user_id=user_id, **values)
        upsert = insert.on_conflict_do_update(index_elements=[_d.guild_id, _d.user_id], set_=values)
        async with self._db.write() as conn:
            await conn.execute(upsert)
        return await self.get(guild_id, user_id)

    async def reset(self, guild_id: int | None, user_id: int) -> None:
        """Forget the member's defaults in this server."""
        async with self._db.write() as conn:
            await conn.execute(member_defaults.delete().where(_d.guild_id == (guild_id or 0), _d.user_id == user_id))

    async def forget_user(self, user_id: int) -> None:
        """Delete the member's defaults in every server (forget-me)."""
        async with self._db.write() as conn:
            await conn.execute(member_defaults.delete().where(_d.user_id == user_id))
