"""What an admission reads and writes: the member's and the server's standing (one statement), the pending row."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

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

    @property
    def cost(self) -> float:
        """What the job costs if every image is delivered (reserved against the budget while unfinished)."""
        return self.images * self.price


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
    }


async def read_standing(conn: AsyncConnection, guild: int, user_id: int, day: int, month: int, now: float) -> Standing:
    """Everything `admit` checks, in one statement (`day`: today, `month`: this month's 1st, UTC day numbers)."""
    query = standing_query(guild, user_id, day, month, now, sqlite=conn.dialect.name == "sqlite")
    row = (await conn.execute(query)).one()
    images, server_images, reserved, server_reserved, member_waiting, waiting, running = (int(v or 0) for v in row[:7])
    return Standing(
        images,
        server_images,
        reserved,
        server_reserved,
        member_waiting,
        waiting,
        running,
        last_request_at=None if row[7] is None else float(row[7]),
        member_month_images=int(row[8] or 0),
        server_spent=float(row[9] or 0),
        server_cost_reserved=float(row[10] or 0),
    )


def standing_query(guild: int, user_id: int, day: int, month: int, now: float, *, sqlite: bool) -> sa.Select[Any]:
    """The admission's one statement. On SQLite the status terms are marked `unlikely`: unfinished jobs are a few
    among millions of finished ones, which SQLite's per-index averages cannot tell (it would scan the table)."""
    j, d, f, g = jobs.c, usage_daily.c, forgotten_today.c, guild_spend.c

    def rare(term: Any) -> Any:
        return sa.func.unlikely(term) if sqlite else term

    live = sa.and_(rare(j.status.in_(UNFINISHED)), sa.or_(j.status != "pending", j.reserved_until >= now))
    server = j.guild_id == guild if guild else j.guild_id.is_(None)
    mine = sa.and_(server, j.user_id == user_id)

    def total(column: Any, *where: Any) -> Any:
        return sa.select(sa.func.coalesce(sa.func.sum(column), 0)).where(*where).scalar_subquery()

    def count(*where: Any) -> Any:
        return sa.select(sa.func.count()).select_from(jobs).where(*where).scalar_subquery()

    return sa.select(
        total(d.images, d.guild_id == guild, d.user_id == user_id, d.day == day)
        + total(f.images, f.guild_id == guild, f.user_id == user_id, f.day == day),
        total(d.images, d.guild_id == guild, d.day == day),
        total(j.images_requested, mine, live),  # rollups count a job's images when it finishes
        total(j.images_requested, server, live),
        count(mine, rare(j.status.in_(WAITING)), live),
        count(rare(j.status.in_(WAITING)), live),
        count(rare(j.status == "running"), j.lease_expires_at > now),
        sa.select(sa.func.max(j.created_at)).where(mine, j.status != "cancelled").scalar_subquery(),
        total(d.images, d.guild_id == guild, d.user_id == user_id, d.day >= month, d.day <= day)
        + total(f.images, f.guild_id == guild, f.user_id == user_id, f.day >= month, f.day <= day),
        total(g.spent, g.guild_id == guild, g.month == month),
        total(j.images_requested * sa.func.coalesce(j.price, 0.0), server, live),
    )
