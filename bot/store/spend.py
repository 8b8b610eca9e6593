"""SpendStore: what each server spent per UTC month (its budget) and the budget notices its mod-log was given.

A job's cost (its images x the price it was admitted at) is reserved by its unfinished row (see `standing`); when
the job finishes, the cost of its delivered images is added here, in the transaction that finishes it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.periods import month_start_day
from bot.store.db import Database, dialect_insert
from bot.store.schema import guild_spend


async def add_spend(db: Database, conn: AsyncConnection, guild_id: int | None, created_at: float, cost: float) -> None:
    """Add `cost` to the month of `created_at` (the job's month, as the rollups count it), in the caller's
    transaction."""
    if cost <= 0:
        return
    row = {"guild_id": guild_id or 0, "month": month_start_day(created_at), "spent": cost}
    await conn.execute(_spend_upsert(db.backend), row)


@functools.cache
def _spend_upsert(backend: str) -> sa.Executable:
    """add_spend's statement, built once (every finished job that cost something runs it)."""
    s = guild_spend.c
    insert = dialect_insert(backend, guild_spend)
    return insert.on_conflict_do_update(
        index_elements=[s.guild_id, s.month], set_={"spent": s.spent + insert.excluded.spent}
    )


class SpendStore:
    """SQL for monthly spending and budget notices, over the store's engine."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    async def spent(self, guild_id: int, month: int) -> float:
        """The cost of the server's images delivered in the month starting on UTC day `month`."""
        s = guild_spend.c
        query = sa.select(s.spent).where(s.guild_id == guild_id, s.month == month)
        async with self._db.read() as conn:
            return float((await conn.execute(query)).scalar() or 0.0)

    async def claim_notice(self, guild_id: int, month: int, level: int) -> bool:
        """Record that the server's mod-log is told it reached `level` % of this month's budget; True for the one
        caller (in any process, before or after a restart) that should tell it, False when it was told already."""
        s = guild_spend.c
        insert = self._db.insert(guild_spend).values(guild_id=guild_id, month=month, spent=0.0, notified=level)
        upsert = insert.on_conflict_do_update(
            index_elements=[s.guild_id, s.month], set_={"notified": level}, where=s.notified < level
        )
        async with self._db.write() as conn:
            return (await conn.execute(upsert)).rowcount == 1
