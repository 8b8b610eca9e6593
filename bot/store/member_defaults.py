"""MemberDefaultsStore: each member's /settings in each server (resolution, aspect, set size, model)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa

from bot.store.db import Database
from bot.store.schema import member_defaults

_d = member_defaults.c
READ_BATCH = 64  # members of one server whose defaults one statement reads at most
_READ = member_defaults.select().where(
    _d.guild_id == sa.bindparam("guild"), _d.user_id.in_(sa.bindparam("members", expanding=True))
)


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
        # per server: the members whose defaults the next read fetches (each /imagine reads them before it is
        # acknowledged: a burst shares a few statements and pooled connections instead of taking one each)
        self._reading: dict[int, dict[int, asyncio.Future[MemberDefaults]]] = {}
        self._readers: set[asyncio.Task[None]] = set()

    async def get(self, guild_id: int | None, user_id: int) -> MemberDefaults:
        """The member's defaults in this server (all None when they never chose any).

        Reads of one server that arrive before the next read starts share it (up to READ_BATCH members); a read
        that starts after a change sees it."""
        guild = guild_id or 0
        batch = self._reading.get(guild)
        if batch is None or (user_id not in batch and len(batch) >= READ_BATCH):
            batch = self._reading[guild] = {}
            task = asyncio.create_task(self._read(guild, batch))
            self._readers.add(task)
            task.add_done_callback(self._readers.discard)
        answer = batch.get(user_id)
        if answer is None:
            answer = batch[user_id] = asyncio.get_running_loop().create_future()
        return await asyncio.shield(answer)  # a cancelled caller leaves the others' answer alone

    async def _read(self, guild: int, batch: dict[int, asyncio.Future[MemberDefaults]]) -> None:
        found: dict[int, MemberDefaults] = {}
        try:
            async with self._db.read(answering=True) as conn:  # a command's first answer waits for it
                if self._reading.get(guild) is batch:
                    del self._reading[guild]  # later arrivals start the next read
                for row in await conn.execute(_READ, {"guild": guild, "members": list(batch)}):
                    found[int(row.user_id)] = MemberDefaults(**{name: row._mapping[name] for name in FIELDS})
        except BaseException as error:
            if self._reading.get(guild) is batch:
                del self._reading[guild]
            for answer in batch.values():
                if answer.done():
                    continue
                if isinstance(error, Exception):
                    answer.set_exception(error)
                else:
                    answer.cancel()
            if not isinstance(error, Exception):
                raise
            return
        for user_id, answer in batch.items():
            if not answer.done():
                answer.set_result(found.get(user_id, MemberDefaults()))

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
