"""Copy every table of one store into another, empty one (SQLite → PostgreSQL), keeping ids."""

from __future__ import annotations

import sqlalchemy as sa

from bot.store import schema
from bot.store.store import UsageStore

BATCH = 500


class TargetNotEmpty(Exception):
    """The target database already holds data; copying would mix two histories."""


async def row_counts(store: UsageStore) -> dict[str, int]:
    """Rows per table, in dependency order."""
    counts = {}
    async with store.engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            counts[table.name] = int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar() or 0)
    return counts


async def copy_store(source: UsageStore, target: UsageStore) -> dict[str, int]:
    """Copy all rows of `source` into `target` in one transaction; returns rows copied per table."""
    found = {name: n for name, n in (await row_counts(target)).items() if n}
    if found:
        listed = ", ".join(f"{name}: {n}" for name, n in found.items())
        raise TargetNotEmpty(f"the target database already has data ({listed}); copy into an empty database")
    copied: dict[str, int] = {}
    async with source.engine.connect() as reader, target.engine.begin() as writer:
        for table in schema.metadata.sorted_tables:
            copied[table.name] = 0
            result = await reader.stream(table.select())
            async for rows in result.partitions(BATCH):
                await writer.execute(table.insert(), [dict(row._mapping) for row in rows])
                copied[table.name] += len(rows)
        if target.backend == "postgresql":
            for table in (schema.jobs, schema.admin_audit):  # the next id continues after the copied ones
                await writer.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                        f" COALESCE((SELECT MAX(id) FROM {table.name}), 1),"
                        f" (SELECT MAX(id) FROM {table.name}) IS NOT NULL)"
                    )
                )
    return copied
