"""What an admission reads and writes: the member's and the server's standing (one statement), the pending row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.schema import forgotten_today, jobs, usage_daily

WAITING = ("pending", "queued")
UNFINISHED = ("pending", "queued", "running")


@dataclass(frozen=True, slots=True)
class Standing:
    """What an admission check needs, read in the admission transaction (one statement)."""

    member_images: int = 0  # delivered today (forgotten ones included)
    server_images: int = 0
    member_reserved: int = 0  # images of the member's unfinished jobs
    server_reserved: int = 0
    member_waiting: int = 0  # the member's pending + queued jobs
    waiting: int = 0  # pending + queued jobs of the whole deployment
    running: int = 0  # jobs running in the whole deployment (live leases)
    last_request_at: float | None = None  # the member's newest request in this server that was not cancelled


@dataclass(frozen=True, slots=True)
class Admit:
    """A request to reserve: who, where, how many images, and for how long the reservation waits to be queued."""

    guild_id: int | None
    channel_id: int | None
    user_id: int
    prompt: str
    images: int
    kind: str
    day: int
    hold: float  # seconds a pending row stays a reservation without being queued
    member_cap: int  # jobs this member may run at once


def pending_row(request: Admit, now: float) -> dict[str, Any]:
    """The job row of an admission: `pending`, a reservation until `now + hold`."""
    return {
        "guild_id": request.guild_id,
        "channel_id": request.channel_id,
        "user_id": request.user_id,
        "kind": request.kind,
        "prompt": request.prompt,
        "images_requested": request.images,
        "status": "pending",
        "created_at": now,
        "reserved_until": now + request.hold,
        "member_cap": request.member_cap,
    }


async def read_standing(conn: AsyncConnection, guild: int, user_id: int, day: int, now: float) -> Standing:
    """Everything `admit` checks, in one statement."""
    query = standing_query(guild, user_id, day, now, sqlite=conn.dialect.name == "sqlite")
    row = (await conn.execute(query)).one()
    images, server_images, reserved, server_reserved, member_waiting, waiting, running = (int(v or 0) for v in row[:7])
    last = None if row[7] is None else float(row[7])
    return Standing(images, server_images, reserved, server_reserved, member_waiting, waiting, running, last)


def standing_query(guild: int, user_id: int, day: int, now: float, *, sqlite: bool) -> sa.Select[Any]:
    """The admission's one statement. Unfinished jobs are a few among millions of finished ones, which SQLite's
    per-index averages cannot tell: it would read a whole server's (or a busy member's) history through the
    (guild, member) index. On SQLite the server and member terms of the unfinished-job counts are therefore
    written so that no index serves them (`guild_id + 0`), which leaves the status index. The member's newest
    request is the last entry of their (guild, member, created) index, not a maximum over all of it."""
    j, d, f = jobs.c, usage_daily.c, forgotten_today.c

    def rare(term: Any) -> Any:
        return sa.func.unlikely(term) if sqlite else term

    def unindexed(column: Any) -> Any:
        return column + 0 if sqlite else column

    live = sa.and_(rare(j.status.in_(UNFINISHED)), sa.or_(j.status != "pending", j.reserved_until >= now))
    server = j.guild_id == guild if guild else j.guild_id.is_(None)
    mine = sa.and_(server, j.user_id == user_id)
    in_server = unindexed(j.guild_id) == guild if guild else j.guild_id.is_(None)  # for the unfinished jobs
    mine_here = sa.and_(in_server, unindexed(j.user_id) == user_id)

    def total(column: Any, *where: Any) -> Any:
        return sa.select(sa.func.coalesce(sa.func.sum(column), 0)).where(*where).scalar_subquery()

    def count(*where: Any) -> Any:
        return sa.select(sa.func.count()).select_from(jobs).where(*where).scalar_subquery()

    newest = sa.select(j.created_at).where(mine, j.status != "cancelled").order_by(j.created_at.desc()).limit(1)
    return sa.select(
        total(d.images, d.guild_id == guild, d.user_id == user_id, d.day == day)
        + total(f.images, f.guild_id == guild, f.user_id == user_id, f.day == day),
        total(d.images, d.guild_id == guild, d.day == day),
        total(j.images_requested, mine_here, live),  # rollups count a job's images when it finishes
        total(j.images_requested, in_server, live),
        count(mine_here, rare(j.status.in_(WAITING)), live),
        count(rare(j.status.in_(WAITING)), live),
        count(rare(j.status == "running"), j.lease_expires_at > now),
        newest.scalar_subquery(),
    )
