"""What an admission reads and writes: the members' and the server's standing (one statement), the pending rows."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.hints import rare, unindexed
from bot.store.journal import Origin
from bot.store.schema import forgotten_today, guild_spend, jobs, usage_daily

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
    member_month_images: int = 0  # delivered this month (forgotten ones included)
    server_spent: float = 0.0  # the cost of the server's images delivered this month
    server_cost_reserved: float = 0.0  # the cost of the server's unfinished jobs (all their images)


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
    price: float = 0.0  # of one image of this job: its cost counts against the server's budget
    role_ids: tuple[int, ...] = ()  # the member's roles (their tier), kept for a takeover's recheck
    month: int = 0  # UTC day number of this month's 1st
    params: str = "{}"  # what is known of the job's parameters (JSON) until it is queued with all of them
    language: str | None = None  # the job's public language (its status, results)

    @property
    def cost(self) -> float:
        """What the job costs if every image is delivered (reserved against the budget while unfinished)."""
        return self.images * self.price

    origin: Origin | None = None  # where to tell the member if the job is never queued (its process died)


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
        "params": request.params,
        "price": request.price,
        "role_ids": json.dumps(list(request.role_ids)),
        "language": request.language,
    }


async def read_standings(
    conn: AsyncConnection, guild: int, user_ids: Sequence[int], day: int, month: int, now: float
) -> dict[int, Standing]:
    """Everything `admit` checks, for each of these members of one server, in one statement."""
    sqlite = conn.dialect.name == "sqlite"
    query = standings_query(sqlite=sqlite, server=bool(guild))
    standings = {}
    for row in await conn.execute(query, standings_parameters(guild, user_ids, day, month, now)):
        images, server_images, reserved, server_reserved, member_waiting, waiting, running = (
            int(v or 0) for v in row[1:8]
        )
        last = None if row[8] is None else float(row[8])
        standings[int(row[0])] = Standing(
            images,
            server_images,
            reserved,
            server_reserved,
            member_waiting,
            waiting,
            running,
            last,
            member_month_images=int(row[9] or 0),
            server_spent=float(row[10] or 0),
            server_cost_reserved=float(row[11] or 0),
        )
    return standings


def standings_parameters(guild: int, user_ids: Sequence[int], day: int, month: int, now: float) -> dict[str, Any]:
    """The bound values of `standings_query`: the members are one value whatever their number (a JSON list), so
    the statement stays one prepared statement."""
    members = json.dumps(sorted(set(user_ids)))
    return {"guild": guild, "members": members, "day": day, "month": month, "now": now}


@functools.cache
def standings_query(*, sqlite: bool, server: bool) -> sa.Select[Any]:
    """The admission's one statement (built once; `standings_parameters` fills it): a row per member with their
    standing and the server's. `server` False: direct messages (no server). On SQLite the status terms are marked
    `unlikely`: unfinished jobs are a few among millions of finished ones, which SQLite's per-index averages cannot
    tell (it would scan the table). Its server and member terms of the unfinished-job counts are written so that no
    index serves them (`guild_id + 0`), which leaves the status index: a server's (or a busy member's) whole history
    is not read to find its few unfinished jobs. The member's newest request is the last entry of their (guild,
    member, created) index, not a maximum over all of it."""
    j, d, f, g = jobs.c, usage_daily.c, forgotten_today.c, guild_spend.c
    guild = sa.bindparam("guild", type_=sa.BigInteger)
    day, now = sa.bindparam("day", type_=sa.Integer), sa.bindparam("now", type_=sa.Float)
    month = sa.bindparam("month", type_=sa.Integer)  # UTC day number of this month's 1st
    # The members as a one-column table, from one JSON list (a text parameter: no array type for the driver to
    # look up on each new connection).
    listed = sa.bindparam("members", type_=sa.String)
    if sqlite:
        members = sa.func.json_each(listed).table_valued("value").alias("members")
    else:
        from sqlalchemy.dialects import postgresql  # loaded on PostgreSQL only

        elements = sa.func.json_array_elements_text(sa.cast(listed, postgresql.JSON))
        members = elements.table_valued("value").render_derived().alias("members")
    member = sa.cast(members.c.value, sa.BigInteger)

    unfinished = rare(j.status.in_(UNFINISHED), sqlite=sqlite)
    live = sa.and_(unfinished, sa.or_(j.status != "pending", j.reserved_until >= now))
    server_jobs = j.guild_id == guild if server else j.guild_id.is_(None)
    mine = sa.and_(server_jobs, j.user_id == member)  # the member's history, through their index
    # for the unfinished jobs (found through the status index, not the server's)
    in_server = unindexed(j.guild_id, sqlite=sqlite) == guild if server else j.guild_id.is_(None)
    mine_here = sa.and_(in_server, unindexed(j.user_id, sqlite=sqlite) == member)

    def total(column: Any, *where: Any) -> Any:
        return sa.select(sa.func.coalesce(sa.func.sum(column), 0)).where(*where).correlate(members).scalar_subquery()

    def count(*where: Any) -> Any:
        return sa.select(sa.func.count()).select_from(jobs).where(*where).correlate(members).scalar_subquery()

    newest = (
        sa.select(j.created_at)
        .where(mine, j.status != "cancelled")
        .order_by(j.created_at.desc())
        .limit(1)
        .correlate(members)
    )
    return sa.select(
        member,
        total(d.images, d.guild_id == guild, d.user_id == member, d.day == day)
        + total(f.images, f.guild_id == guild, f.user_id == member, f.day == day),
        total(d.images, d.guild_id == guild, d.day == day),
        total(j.images_requested, mine_here, live),  # rollups count a job's images when it finishes
        total(j.images_requested, in_server, live),
        count(mine_here, rare(j.status.in_(WAITING), sqlite=sqlite), live),
        count(rare(j.status.in_(WAITING), sqlite=sqlite), live),
        count(rare(j.status == "running", sqlite=sqlite), j.lease_expires_at > now),
        newest.scalar_subquery(),
        total(d.images, d.guild_id == guild, d.user_id == member, d.day >= month, d.day <= day)
        + total(f.images, f.guild_id == guild, f.user_id == member, f.day >= month, f.day <= day),
        total(g.spent, g.guild_id == guild, g.month == month),
        total(j.images_requested * sa.func.coalesce(j.price, 0.0), in_server, live),
    ).select_from(members)
