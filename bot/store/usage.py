"""UsageQueries: usage totals, leaderboards, server statistics, export and forgetting a member.

Reads the rollup tables `usage_daily` / `usage_total` (kept by `add_to_rollups`, in the transaction that
finishes a job) so that answers stay fast however long the job history grows.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.periods import month_start_day
from bot.store.db import Database, dialect_insert
from bot.store.schema import forgotten_today, job_references, jobs, leaderboard_optout, usage_daily, usage_total

METRICS = {"images": "images", "requests": "requests"}  # metric name -> rollup column (never user text)
IN_FLIGHT = ("pending", "queued", "running")  # unfinished: they will count once they finish
COUNTS = ("images", "requests", "failed", "blocked", "tokens")
ROLLUP_COLUMNS = (*COUNTS, "cost")  # the counts, and the money billed (a float)
DAY_SECONDS = 86_400
FORGET_BATCH = 2_000  # job rows one forget-me transaction anonymises
EXPORT_COLUMNS = (
    "job_id",
    "created_at_utc",
    "guild_id",
    "channel_id",
    "user_id",
    "kind",
    "status",
    "error_code",
    "images_requested",
    "images_delivered",
    "images_failed",
    "output_tokens",
    "size",
    "model",
    "images_billed",
    "cost",
)


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """Counts for one member or a whole server over a period."""

    images: int = 0
    requests: int = 0
    failed: int = 0
    blocked: int = 0
    tokens: int = 0
    cost: float = 0.0  # billed images x their models' prices


@dataclass(frozen=True, slots=True)
class BoardEntry:
    """One line of a leaderboard."""

    rank: int
    user_id: int
    images: int
    requests: int


@dataclass(frozen=True, slots=True)
class Board:
    """A page of a leaderboard, how many members are ranked, and the caller's own line."""

    entries: list[BoardEntry]
    ranked: int
    caller: BoardEntry | None


@dataclass(frozen=True, slots=True)
class InFlight:
    """Jobs accepted but not finished, and the images they asked for."""

    jobs: int = 0
    images: int = 0


@dataclass(frozen=True, slots=True)
class DayCount:
    """Server totals for one UTC day."""

    day: int
    images: int
    requests: int
    failed: int  # failed or blocked requests


@dataclass(frozen=True, slots=True)
class KeyCount:
    """A count per key (a channel id, an error kind)."""

    key: str
    requests: int
    images: int


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What forget-me did: finished jobs anonymised, and the member's jobs still unfinished (kept for now)."""

    jobs: int
    unfinished: int


async def add_to_rollups(
    db: Database,
    conn: AsyncConnection,
    guild_id: int | None,
    user_id: int,
    created_at: float,
    cost: float = 0.0,
    **counts: int,
) -> None:
    """Add a finished job (or a late image) to `usage_daily` and `usage_total`, inside the caller's transaction."""
    key = {"guild_id": guild_id or 0, "user_id": user_id}
    values: dict[str, float] = {name: counts.get(name, 0) for name in COUNTS}
    values["cost"] = cost
    for table, row in ((usage_daily, {**key, "day": int(created_at // DAY_SECONDS)}), (usage_total, key)):
        await conn.execute(_rollup_upsert(db.backend, table), {**row, **values})


@functools.cache
def _rollup_upsert(backend: str, table: sa.Table) -> sa.Executable:
    """add_to_rollups' statement for one table, built once (every finished job runs both)."""
    insert = dialect_insert(backend, table)
    merge = {name: table.c[name] + insert.excluded[name] for name in ROLLUP_COLUMNS}
    keys = [c.name for c in table.primary_key.columns]
    return insert.on_conflict_do_update(index_elements=keys, set_=merge)


def top_channels_query(guild_id: int, since: float, limit: int) -> sa.Select[Any]:
    """A server's channels by requests since `since` (read from the `jobs_guild_stats` index alone)."""
    n = sa.func.count().label("n")
    return (
        sa.select(jobs.c.channel_id, n, sa.func.sum(jobs.c.images_delivered))
        .where(jobs.c.guild_id == guild_id, jobs.c.created_at >= since)
        .group_by(jobs.c.channel_id)
        .order_by(n.desc(), jobs.c.channel_id)
        .limit(limit)
    )


def outcomes_query(guild_id: int, since: float) -> sa.Select[Any]:
    """A server's finished requests since `since` by outcome (read from the `jobs_guild_stats` index alone)."""
    failure = jobs.c.status + ":" + sa.func.coalesce(jobs.c.error_code, "?")
    outcome = sa.case((jobs.c.status == "completed", "ok"), else_=failure).label("outcome")
    n = sa.func.count().label("n")
    return (
        sa.select(outcome, n, sa.func.sum(jobs.c.images_delivered))
        .where(jobs.c.guild_id == guild_id, jobs.c.created_at >= since, jobs.c.finished_at.is_not(None))
        .group_by(outcome)
        .order_by(n.desc(), outcome)
    )


def _in_guild(guild_id: int) -> sa.ColumnElement[bool]:
    """Jobs of a server; guild 0 means outside any server (their rows hold NULL)."""
    return jobs.c.guild_id == guild_id if guild_id else sa.or_(jobs.c.guild_id.is_(None), jobs.c.guild_id == 0)


def _live(now: float) -> sa.ColumnElement[bool]:
    """Jobs that are not over: queued, running, or pending with a reservation still valid."""
    c = jobs.c
    pending = sa.and_(c.status == "pending", sa.or_(c.reserved_until.is_(None), c.reserved_until >= now))
    return sa.or_(c.status.in_(("queued", "running")), pending)


def _int(value: Any) -> int:
    return int(value or 0)  # PostgreSQL sums BIGINT columns as NUMERIC (Decimal)


class UsageQueries:
    """SQL for usage and leaderboards, over the store's engine."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    async def totals(self, guild_id: int, user_id: int | None, start_day: int | None, end_day: int) -> UsageTotals:
        """Finished-job counts for a member (or the whole server when user_id is None) in [start_day, end_day)."""
        table = usage_total if start_day is None else usage_daily
        query = sa.select(*(sa.func.coalesce(sa.func.sum(table.c[name]), 0) for name in ROLLUP_COLUMNS))
        query = query.where(table.c.guild_id == guild_id)
        if user_id is not None:
            query = query.where(table.c.user_id == user_id)
        if start_day is not None:
            query = query.where(usage_daily.c.day >= start_day, usage_daily.c.day < end_day)
        async with self._db.read() as conn:
            row = (await conn.execute(query)).one_or_none()
        if row is None:
            return UsageTotals()
        images, requests, failed, blocked, tokens = map(_int, row[: len(COUNTS)])
        return UsageTotals(images, requests, failed, blocked, tokens, cost=float(row[-1] or 0))

    async def leaderboard(
        self, guild_id: int, start_day: int | None, end_day: int, metric: str, *, offset: int, limit: int, caller: int
    ) -> Board:
        """A page of members ordered by `metric` (ties: lower user id first), plus the caller's rank."""
        column = METRICS[metric]
        args: dict[str, object] = {"g": guild_id, "first": offset, "last": offset + limit, "caller": caller}
        if start_day is None:
            source = "SELECT user_id, images, requests FROM usage_total WHERE guild_id = :g"
        else:
            source = (
                "SELECT user_id, SUM(images) AS images, SUM(requests) AS requests FROM usage_daily"
                " WHERE guild_id = :g AND day >= :start AND day < :end GROUP BY user_id"
            )
            args |= {"start": start_day, "end": end_day}
        sql = (
            f"WITH board AS ({source}), ranked AS ("
            f" SELECT user_id, images, requests, ROW_NUMBER() OVER (ORDER BY {column} DESC, user_id) AS place,"
            "  COUNT(*) OVER () AS ranked FROM board"
            f" WHERE {column} > 0 AND user_id != 0 AND user_id NOT IN (SELECT user_id FROM leaderboard_optout))"
            " SELECT place, user_id, images, requests, ranked FROM ranked"
            " WHERE (place > :first AND place <= :last) OR user_id = :caller ORDER BY place"
        )
        async with self._db.read() as conn:
            rows = [tuple(map(_int, row)) for row in await conn.execute(sa.text(sql), args)]
            ranked = rows[0][4] if rows else await self._count_ranked(conn, source, args, column)
        entries = [BoardEntry(*row[:4]) for row in rows if offset < row[0] <= offset + limit]
        mine = next((BoardEntry(*row[:4]) for row in rows if row[1] == caller), None)
        return Board(entries, ranked, mine)

    @staticmethod
    async def _count_ranked(conn: AsyncConnection, source: str, args: dict[str, object], column: str) -> int:
        sql = (
            f"WITH board AS ({source}) SELECT COUNT(*) FROM board WHERE {column} > 0 AND user_id != 0"
            " AND user_id NOT IN (SELECT user_id FROM leaderboard_optout)"
        )
        used = {key: value for key, value in args.items() if f":{key}" in source}
        return _int((await conn.execute(sa.text(sql), used)).scalar())

    async def in_flight(self, guild_id: int, user_id: int | None, since: float) -> InFlight:
        """Queued or running jobs created after `since` (older ones are leftovers of a crash)."""
        query = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(jobs.c.images_requested), 0)).where(
            _in_guild(guild_id), jobs.c.created_at >= since, jobs.c.status.in_(IN_FLIGHT)
        )
        if user_id is not None:
            query = query.where(jobs.c.user_id == user_id)
        async with self._db.read() as conn:
            row = (await conn.execute(query)).one_or_none()
        return InFlight(*map(_int, row)) if row else InFlight()

    async def jobs_since(self, guild_id: int, after_id: int) -> list[tuple[int, int]]:
        """(user id, job id) of the server's jobs created after job `after_id`."""
        query = sa.select(jobs.c.user_id, jobs.c.id).where(jobs.c.id > after_id, _in_guild(guild_id))
        async with self._db.read() as conn:
            return [(int(row[0]), int(row[1])) for row in await conn.execute(query)]

    async def last_job_id(self) -> int:
        """The newest job id (0 when there are none)."""
        async with self._db.read() as conn:
            return _int((await conn.execute(sa.select(sa.func.max(jobs.c.id)))).scalar())

    async def daily_series(self, guild_id: int, start_day: int, end_day: int) -> list[DayCount]:
        """Server totals per UTC day in [start_day, end_day); days without jobs are filled with zeros."""
        c = usage_daily.c
        query = (
            sa.select(c.day, sa.func.sum(c.images), sa.func.sum(c.requests), sa.func.sum(c.failed + c.blocked))
            .where(c.guild_id == guild_id, c.day >= start_day, c.day < end_day)
            .group_by(c.day)
        )
        async with self._db.read() as conn:
            found = {int(row[0]): DayCount(*map(_int, row)) for row in await conn.execute(query)}
        return [found.get(day, DayCount(day, 0, 0, 0)) for day in range(start_day, end_day)]

    async def top_channels(self, guild_id: int, since: float, limit: int = 5) -> list[KeyCount]:
        """Channels with the most requests since `since`."""
        async with self._db.read() as conn:
            rows = await conn.execute(top_channels_query(guild_id, since, limit))
            return [KeyCount(str(row[0]), _int(row[1]), _int(row[2])) for row in rows]

    async def outcomes(self, guild_id: int, since: float) -> list[KeyCount]:
        """Finished requests since `since` by outcome: `ok`, or the error kind of failed/partial/blocked jobs."""
        query = outcomes_query(guild_id, since)
        async with self._db.read() as conn:
            return [KeyCount(str(row[0]), _int(row[1]), _int(row[2])) for row in await conn.execute(query)]

    async def export(self, guild_id: int, since: float, until: float) -> AsyncIterator[tuple[object, ...]]:
        """Job rows of a server created in [since, until), oldest first, as EXPORT_COLUMNS (no prompts)."""
        c = jobs.c
        query = (
            sa.select(c.id, c.created_at, c.guild_id, c.channel_id, c.user_id, c.kind, c.status, c.error_code)
            .add_columns(c.images_requested, c.images_delivered, c.images_failed, c.output_tokens, c.params)
            .add_columns(c.images_billed, c.cost)
            .where(c.guild_id == guild_id, c.created_at >= since, c.created_at < until)
            .order_by(c.created_at, c.id)
        )
        async with self._db.engine.connect() as conn:  # a transaction: PostgreSQL streams through a cursor
            async for row in await conn.stream(query):
                created = datetime.fromtimestamp(row[1], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                params = json.loads(row[12] or "{}")
                yield (row[0], created, *row[2:12], params.get("size"), params.get("model"), row[13], row[14])

    async def forget_user(self, user_id: int) -> Forgotten:
        """Blank a member's finished jobs' prompts, delete their kept references, anonymise them and their rollups.

        Unfinished jobs keep their member until they finish (they still count against the member's limits,
        and their prompt is needed to run them); forgetting again afterwards anonymises them too. The finished
        jobs go in small transactions with a pause between them (a long history must not hold the write lock);
        the rollups last, in one transaction with this month's images kept against the daily and monthly limits.
        """
        affected = 0
        while True:
            async with self._db.write() as conn:
                done = sa.and_(jobs.c.user_id == user_id, sa.not_(_live(self._clock())))
                batch = [
                    int(row[0]) for row in await conn.execute(sa.select(jobs.c.id).where(done).limit(FORGET_BATCH))
                ]
                if batch:
                    await conn.execute(job_references.delete().where(job_references.c.job_id.in_(batch)))
                    await conn.execute(jobs.update().where(jobs.c.id.in_(batch)).values(user_id=0, prompt=""))
            affected += len(batch)
            if len(batch) < FORGET_BATCH:
                break
            await asyncio.sleep(0)
        now = self._clock()
        async with self._db.write() as conn:
            await self._keep_month(conn, user_id, int(now // DAY_SECONDS), month_start_day(now))
            busy = sa.select(sa.func.count()).where(jobs.c.user_id == user_id, _live(self._clock()))
            unfinished = _int((await conn.execute(busy)).scalar())
            await self._merge_into_zero(conn, usage_daily, ["guild_id", "day", "user_id"], user_id)
            await self._merge_into_zero(conn, usage_total, ["guild_id", "user_id"], user_id)
        return Forgotten(affected, unfinished)

    async def _keep_month(self, conn: AsyncConnection, user_id: int, today: int, month: int) -> None:
        """Move the member's images of this month (per day) to `forgotten_today`, so forgetting never resets a daily
        or a monthly limit; earlier months' rows are dropped."""
        await conn.execute(forgotten_today.delete().where(forgotten_today.c.day < month))
        d = usage_daily.c
        kept = sa.select(d.guild_id, d.user_id, d.day, d.images).where(
            d.user_id == user_id, d.day >= month, d.day <= today, d.images > 0
        )
        insert = self._db.insert(forgotten_today).from_select(["guild_id", "user_id", "day", "images"], kept)
        f = forgotten_today.c
        await conn.execute(
            insert.on_conflict_do_update(
                index_elements=[f.guild_id, f.user_id, f.day], set_={"images": f.images + insert.excluded.images}
            )
        )

    async def _merge_into_zero(self, conn: AsyncConnection, table: sa.Table, key: list[str], user_id: int) -> None:
        """Add a member's rollup rows to user 0's, then delete them."""
        columns = [*key, *ROLLUP_COLUMNS]
        source = [sa.literal(0, sa.BigInteger) if name == "user_id" else table.c[name] for name in columns]
        insert = self._db.insert(table).from_select(columns, sa.select(*source).where(table.c.user_id == user_id))
        merge = {name: table.c[name] + insert.excluded[name] for name in ROLLUP_COLUMNS}
        await conn.execute(insert.on_conflict_do_update(index_elements=key, set_=merge))
        await conn.execute(table.delete().where(table.c.user_id == user_id))

    async def set_opt_out(self, user_id: int, hidden: bool) -> None:
        """Hide a member from (or show them again on) every leaderboard."""
        async with self._db.write() as conn:
            if hidden:
                row = {"user_id": user_id, "created_at": self._clock()}
                await conn.execute(self._db.insert(leaderboard_optout).values(row).on_conflict_do_nothing())
            else:
                await conn.execute(leaderboard_optout.delete().where(leaderboard_optout.c.user_id == user_id))

    async def opted_out(self, user_id: int) -> bool:
        """Whether a member is hidden from leaderboards."""
        query = sa.select(sa.literal(1)).where(leaderboard_optout.c.user_id == user_id)
        async with self._db.read() as conn:
            return (await conn.execute(query)).first() is not None
