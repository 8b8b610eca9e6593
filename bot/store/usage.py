"""UsageQueries: usage totals, leaderboards, server statistics, export and forgetting a member.

Reads the rollup tables `usage_daily` / `usage_total` (kept by triggers, see migration 0002) so that
answers stay fast however long the job history grows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiosqlite

METRICS = {"images": "images", "requests": "requests"}  # metric name -> rollup column (never user text)
IN_FLIGHT = ("queued", "running")
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
)


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """Counts for one member or a whole server over a period."""

    images: int = 0
    requests: int = 0
    failed: int = 0
    blocked: int = 0
    tokens: int = 0


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
class DaySnapshot:
    """Everything a quota check needs about today, read in one statement."""

    member_images: int = 0
    server_images: int = 0
    member_busy: InFlight = InFlight()
    server_busy: InFlight = InFlight()
    last_job_id: int = 0


class UsageQueries:
    """SQL for usage and leaderboards, over the store's connection."""

    def __init__(self, db: aiosqlite.Connection, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    async def totals(self, guild_id: int, user_id: int | None, start_day: int | None, end_day: int) -> UsageTotals:
        """Finished-job counts for a member (or the whole server when user_id is None) in [start_day, end_day)."""
        sums = "COALESCE(SUM(images), 0), COALESCE(SUM(requests), 0), COALESCE(SUM(failed), 0),"
        sums += " COALESCE(SUM(blocked), 0), COALESCE(SUM(tokens), 0)"
        who = "" if user_id is None else " AND user_id = ?"
        args: list[object] = [guild_id, *([] if user_id is None else [user_id])]
        if start_day is None:
            sql = f"SELECT {sums} FROM usage_total WHERE guild_id = ?{who}"
        else:
            sql = f"SELECT {sums} FROM usage_daily WHERE guild_id = ?{who} AND day >= ? AND day < ?"
            args += [start_day, end_day]
        async with self._db.execute(sql, args) as cursor:
            row = await cursor.fetchone()
        return UsageTotals(*row) if row else UsageTotals()

    async def leaderboard(
        self, guild_id: int, start_day: int | None, end_day: int, metric: str, *, offset: int, limit: int, caller: int
    ) -> Board:
        """A page of members ordered by `metric` (ties: lower user id first), plus the caller's rank."""
        column = METRICS[metric]
        if start_day is None:
            source = "SELECT user_id, images, requests FROM usage_total WHERE guild_id = ?"
            args: list[object] = [guild_id]
        else:
            source = (
                "SELECT user_id, SUM(images) AS images, SUM(requests) AS requests FROM usage_daily"
                " WHERE guild_id = ? AND day >= ? AND day < ? GROUP BY user_id"
            )
            args = [guild_id, start_day, end_day]
        sql = (
            f"WITH board AS ({source}), ranked AS ("
            f" SELECT user_id, images, requests, ROW_NUMBER() OVER (ORDER BY {column} DESC, user_id) AS rank,"
            "  COUNT(*) OVER () AS ranked FROM board"
            f" WHERE {column} > 0 AND user_id != 0 AND user_id NOT IN (SELECT user_id FROM leaderboard_optout))"
            " SELECT rank, user_id, images, requests, ranked FROM ranked"
            " WHERE (rank > ? AND rank <= ?) OR user_id = ? ORDER BY rank"
        )
        args += [offset, offset + limit, caller]
        async with self._db.execute(sql, args) as cursor:
            rows = list(await cursor.fetchall())
        entries = [BoardEntry(*row[:4]) for row in rows if offset < row[0] <= offset + limit]
        mine = next((BoardEntry(*row[:4]) for row in rows if row[1] == caller), None)
        ranked = rows[0][4] if rows else await self._count_ranked(source, args[: len(args) - 3], column)
        return Board(entries, ranked, mine)

    async def _count_ranked(self, source: str, args: list[object], column: str) -> int:
        sql = (
            f"WITH board AS ({source}) SELECT COUNT(*) FROM board WHERE {column} > 0 AND user_id != 0"
            " AND user_id NOT IN (SELECT user_id FROM leaderboard_optout)"
        )
        async with self._db.execute(sql, args) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def in_flight(self, guild_id: int, user_id: int | None, since: float) -> InFlight:
        """Queued or running jobs created after `since` (older ones are leftovers of a crash)."""
        who = "" if user_id is None else " AND user_id = ?"
        args: list[object] = [guild_id] + ([] if user_id is None else [user_id]) + [since, *IN_FLIGHT]
        sql = (
            "SELECT COUNT(*), COALESCE(SUM(images_requested), 0) FROM jobs"
            f" WHERE guild_id = ?{who} AND created_at >= ? AND status IN (?, ?)"
        )
        async with self._db.execute(sql, args) as cursor:
            row = await cursor.fetchone()
        return InFlight(*row) if row else InFlight()

    async def day_snapshot(self, guild_id: int, user_id: int, day: int, since: float) -> DaySnapshot:
        """Today's delivered images (member incl. forgotten ones, server), jobs in flight, newest job id.

        One statement, so a quota check costs one round trip to the database thread, not six.
        """
        busy = "FROM jobs WHERE guild_id = :g AND created_at >= :since AND status IN ('queued', 'running')"
        sql = (
            "SELECT"
            " (SELECT COALESCE(SUM(images), 0) FROM usage_daily WHERE guild_id = :g AND user_id = :u AND day = :d)"
            " + (SELECT COALESCE(SUM(images), 0) FROM forgotten_today WHERE guild_id = :g AND user_id = :u"
            " AND day = :d),"
            " (SELECT COALESCE(SUM(images), 0) FROM usage_daily WHERE guild_id = :g AND day = :d),"
            f" (SELECT COUNT(*) {busy} AND user_id = :u),"
            f" (SELECT COALESCE(SUM(images_requested), 0) {busy} AND user_id = :u),"
            f" (SELECT COUNT(*) {busy}),"
            f" (SELECT COALESCE(SUM(images_requested), 0) {busy}),"
            " (SELECT COALESCE(MAX(id), 0) FROM jobs)"
        )
        params = {"g": guild_id, "u": user_id, "d": day, "since": since}
        async with self._db.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return DaySnapshot()
        return DaySnapshot(row[0], row[1], InFlight(row[2], row[3]), InFlight(row[4], row[5]), row[6])

    async def jobs_since(self, guild_id: int, after_id: int) -> list[tuple[int, int]]:
        """(user id, job id) of the server's jobs created after job `after_id`."""
        sql = "SELECT user_id, id FROM jobs WHERE id > ? AND guild_id = ?"
        async with self._db.execute(sql, (after_id, guild_id)) as cursor:
            return [(int(row[0]), int(row[1])) for row in await cursor.fetchall()]

    async def last_job_id(self) -> int:
        """The newest job id (0 when there are none)."""
        async with self._db.execute("SELECT COALESCE(MAX(id), 0) FROM jobs") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def daily_series(self, guild_id: int, start_day: int, end_day: int) -> list[DayCount]:
        """Server totals per UTC day in [start_day, end_day); days without jobs are filled with zeros."""
        sql = (
            "SELECT day, SUM(images), SUM(requests), SUM(failed + blocked) FROM usage_daily"
            " WHERE guild_id = ? AND day >= ? AND day < ?"
            " GROUP BY day"
        )
        async with self._db.execute(sql, (guild_id, start_day, end_day)) as cursor:
            found = {row[0]: DayCount(*row) for row in await cursor.fetchall()}
        return [found.get(day, DayCount(day, 0, 0, 0)) for day in range(start_day, end_day)]

    async def top_channels(self, guild_id: int, since: float, limit: int = 5) -> list[KeyCount]:
        """Channels with the most requests since `since`."""
        sql = (
            "SELECT channel_id, COUNT(*) AS n, SUM(images_delivered) FROM jobs WHERE guild_id = ? AND created_at >= ?"
            " GROUP BY channel_id ORDER BY n DESC, channel_id LIMIT ?"
        )
        async with self._db.execute(sql, (guild_id, since, limit)) as cursor:
            return [KeyCount(str(row[0]), row[1], row[2] or 0) for row in await cursor.fetchall()]

    async def outcomes(self, guild_id: int, since: float) -> list[KeyCount]:
        """Finished requests since `since` by outcome: `ok`, or the error kind of failed/partial/blocked jobs."""
        sql = (
            "SELECT CASE WHEN status = 'completed' THEN 'ok' ELSE status || ':' || COALESCE(error_code, '?') END"
            " AS outcome, COUNT(*) AS n, SUM(images_delivered) FROM jobs"
            " WHERE guild_id = ? AND created_at >= ? AND finished_at IS NOT NULL"
            " GROUP BY outcome ORDER BY n DESC, outcome"
        )
        async with self._db.execute(sql, (guild_id, since)) as cursor:
            return [KeyCount(row[0], row[1], row[2] or 0) for row in await cursor.fetchall()]

    async def export(self, guild_id: int, since: float, until: float) -> AsyncIterator[tuple[object, ...]]:
        """Job rows of a server created in [since, until), oldest first, as EXPORT_COLUMNS (no prompts)."""
        sql = (
            "SELECT id, strftime('%Y-%m-%dT%H:%M:%SZ', created_at, 'unixepoch'), guild_id, channel_id, user_id, kind,"
            " status, error_code, images_requested, images_delivered, images_failed, output_tokens,"
            " json_extract(params, '$.size') FROM jobs WHERE guild_id = ? AND created_at >= ? AND created_at < ?"
            " ORDER BY created_at, id"
        )
        async with self._db.execute(sql, (guild_id, since, until)) as cursor:
            async for row in cursor:
                yield tuple(row)

    async def forget_user(self, user_id: int) -> int:
        """Blank a member's prompts and anonymise their jobs and rollups to user 0; returns jobs affected."""
        columns = "images, requests, failed, blocked, tokens"
        merge = (
            "images = images + excluded.images, requests = requests + excluded.requests,"
            " failed = failed + excluded.failed, blocked = blocked + excluded.blocked,"
            " tokens = tokens + excluded.tokens"
        )
        today = int(self._clock() // 86_400)
        try:
            await self._db.execute("DELETE FROM forgotten_today WHERE day < ?", (today,))
            await self._db.execute(
                "INSERT INTO forgotten_today (guild_id, user_id, day, images) SELECT guild_id, user_id, day, images"
                " FROM usage_daily WHERE user_id = ? AND day = ? AND images > 0"
                " ON CONFLICT (guild_id, user_id, day) DO UPDATE SET images = images + excluded.images",
                (user_id, today),
            )
            cursor = await self._db.execute("UPDATE jobs SET user_id = 0, prompt = '' WHERE user_id = ?", (user_id,))
            affected = cursor.rowcount
            await self._db.execute(
                f"INSERT INTO usage_daily (guild_id, day, user_id, {columns}) SELECT guild_id, day, 0, {columns}"
                f" FROM usage_daily WHERE user_id = ? ON CONFLICT (guild_id, day, user_id) DO UPDATE SET {merge}",
                (user_id,),
            )
            await self._db.execute(
                f"INSERT INTO usage_total (guild_id, user_id, {columns}) SELECT guild_id, 0, {columns}"
                f" FROM usage_total WHERE user_id = ? ON CONFLICT (guild_id, user_id) DO UPDATE SET {merge}",
                (user_id,),
            )
            await self._db.execute("DELETE FROM usage_daily WHERE user_id = ?", (user_id,))
            await self._db.execute("DELETE FROM usage_total WHERE user_id = ?", (user_id,))
        except BaseException:
            await self._db.rollback()
            raise
        await self._db.commit()
        return affected

    async def set_opt_out(self, user_id: int, hidden: bool) -> None:
        """Hide a member from (or show them again on) every leaderboard."""
        if hidden:
            await self._db.execute(
                "INSERT INTO leaderboard_optout (user_id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (user_id, self._clock()),
            )
        else:
            await self._db.execute("DELETE FROM leaderboard_optout WHERE user_id = ?", (user_id,))
        await self._db.commit()

    async def opted_out(self, user_id: int) -> bool:
        """Whether a member is hidden from leaderboards."""
        async with self._db.execute("SELECT 1 FROM leaderboard_optout WHERE user_id = ?", (user_id,)) as cursor:
            return await cursor.fetchone() is not None
