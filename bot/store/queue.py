"""QueueStore: the durable job queue shared by every process of a deployment.

A job row is its own quota reservation from the moment it is admitted:

    pending  (admitted; the member is answered, references load)   -> queued | cancelled
    queued   (runnable: parameters, origin and references stored)  -> running | cancelled
    running  (claimed by a worker that holds a lease)              -> completed | partial | failed | blocked
             a lease that runs out puts the job up for takeover by any worker (`claim` takes those first).

Claims are serialized deployment-wide (an advisory transaction lock on PostgreSQL, the write lock on SQLite), so
MAX_CONCURRENT_JOBS and the per-member caps hold across all workers; the rows a claim takes are locked
`FOR UPDATE SKIP LOCKED`, so a claim never waits on a row another transaction is changing. Workers are woken by
LISTEN/NOTIFY on PostgreSQL, by an in-process event on SQLite, when a job is queued or a slot is freed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.db import Database
from bot.store.hints import rare, unindexed
from bot.store.journal import Origin, StoredReference, entry_row, write_entry, write_references
from bot.store.listener import Listener
from bot.store.schema import job_images, job_journal, jobs
from bot.store.standing import UNFINISHED as UNFINISHED
from bot.store.standing import WAITING, pending_row, read_standings
from bot.store.standing import Admit as Admit
from bot.store.standing import Standing as Standing

log = logging.getLogger(__name__)

CHANNEL = "seedream_jobs"  # LISTEN/NOTIFY channel: "the queue moved"
_CLAIM_LOCK = "bot.store.queue.claim"
_SCAN = 500  # queued rows a claim looks at (members at their cap are skipped, FIFO otherwise)
# Admissions of one server reserved in one transaction at most: each batch's members are answered when it commits,
# so a burst is answered a batch at a time, oldest first, not all together at the end of one long transaction.
ADMIT_BATCH = 64


# One INSERT … VALUES for a batch's rows (SQLAlchemy's "insertmanyvalues"), compiled once, ids in the rows' order.
_INSERT_PENDING = jobs.insert().returning(jobs.c.id, sort_by_parameter_order=True)

# pending -> queued with the job's parameters (every job runs it: built once)
_QUEUE = (
    jobs.update()
    .where(jobs.c.id == sa.bindparam("queued_job"), jobs.c.status == "pending")
    .values(status="queued", reserved_until=None)
)
_Admission = tuple[Admit, Callable[[Standing], None], "asyncio.Future[int]"]


@dataclass(frozen=True, slots=True)
class Claim:
    """A job a worker now holds; `taken_over` when another worker's lease ran out on it."""

    job_id: int
    taken_over: bool


class QueueStore:
    """SQL for the queue, over the store's engine."""

    def __init__(self, db: Database, clock: Callable[[], float], listener: Listener) -> None:
        self._db = db
        self._clock = clock
        self._waiters: set[asyncio.Event] = set()
        self._listener = listener  # other processes' "the queue moved"; a lost connection wakes everyone too
        listener.on(CHANNEL, lambda _: self.moved(), lost=self.moved)
        self._admitting: dict[int, list[_Admission]] = {}  # per server: admissions waiting for the next batch
        self._admitters: set[asyncio.Task[None]] = set()

    async def admit(self, request: Admit, check: Callable[[Standing], None]) -> int:
        """Check and reserve in one transaction: `check` raises to refuse; else a pending job row is the reservation.

        Admissions that arrive while one server's reserving transaction waits or runs share the next one (each
        checked in turn, seeing the rows reserved before it), so a burst costs a few commits, not one each. A batch
        takes at most ADMIT_BATCH admissions (the next arrival starts the next batch); batches run in the order
        they started, so admissions are reserved and answered first come, first served.
        """
        guild = request.guild_id or 0
        answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        batch = self._admitting.get(guild)
        if batch is None or len(batch) >= ADMIT_BATCH:
            batch = self._admitting[guild] = []
            task = asyncio.create_task(self._admit_batch(guild, batch))
            self._admitters.add(task)
            task.add_done_callback(self._admitters.discard)
        batch.append((request, check, answer))
        return await answer

    async def _admit_batch(self, guild: int, batch: list[_Admission]) -> None:
        answers: list[tuple[asyncio.Future[int], int | Exception]] = []
        try:
            # One server's admissions in turn; on SQLite ahead of every waiting bulk write (a member waits on it).
            async with self._db.serialized(f"admit:{guild}", urgent=True) as conn:
                self._close_batch(guild, batch)  # later arrivals start the next batch
                answers = await self._reserve(conn, guild, [a for a in batch if not a[2].cancelled()])
        except BaseException as error:
            self._close_batch(guild, batch)
            for _, _, answer in batch:
                if not answer.done():
                    answer.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        for answer, result in answers:  # committed
            if answer.done():
                continue
            if isinstance(result, Exception):
                answer.set_exception(result)
            else:
                answer.set_result(result)

    def _close_batch(self, guild: int, batch: list[_Admission]) -> None:
        """`batch` takes no more admissions (a full one already gave way to the next, which stays open)."""
        if self._admitting.get(guild) is batch:
            del self._admitting[guild]

    async def _reserve(
        self, conn: AsyncConnection, guild: int, batch: list[_Admission]
    ) -> list[tuple[asyncio.Future[int], int | Exception]]:
        """A batch of one server's admissions in the caller's transaction: one statement reads every member's
        standing, each check runs in turn on it plus what the batch reserved before it, one insert for the rows."""
        now = self._clock()
        if not batch:
            return []
        first = batch[0][0]
        read = await read_standings(conn, guild, [r.user_id for r, _, _ in batch], first.day, first.month, now)
        mine: dict[int, tuple[int, int]] = {}  # per member: images and jobs this batch reserved
        images = waiting = 0
        cost = 0.0
        answers: list[tuple[asyncio.Future[int], int | Exception]] = []
        rows: list[tuple[Admit, asyncio.Future[int], dict[str, Any]]] = []
        for request, check, answer in batch:
            base, (my_images, my_jobs) = read[request.user_id], mine.get(request.user_id, (0, 0))
            standing = dataclasses.replace(
                base,
                member_reserved=base.member_reserved + my_images,
                server_reserved=base.server_reserved + images,
                server_cost_reserved=base.server_cost_reserved + cost,
                member_waiting=base.member_waiting + my_jobs,
                waiting=base.waiting + waiting,
                last_request_at=now if my_jobs else base.last_request_at,
            )
            try:
                check(standing)
            except Exception as refusal:
                answers.append((answer, refusal))
                continue
            mine[request.user_id] = (my_images + request.images, my_jobs + 1)
            images, waiting, cost = images + request.images, waiting + 1, cost + request.cost
            rows.append((request, answer, pending_row(request, now)))
        if rows:
            inserted = await conn.execute(_INSERT_PENDING, [row for _, _, row in rows])
            ids = [int(job_id) for job_id in inserted.scalars()]
            answers += [(answer, job_id) for (_, answer, _), job_id in zip(rows, ids, strict=True)]
            # where each member is answered, so that the sweeper can tell them if this process dies before queuing
            origins = [entry_row(job_id, r.origin) for (r, _, _), job_id in zip(rows, ids, strict=True) if r.origin]
            if origins:
                await conn.execute(job_journal.insert(), origins)
        return answers

    async def standing(self, guild_id: int, user_id: int, day: int, month: int) -> Standing:
        """What an admission would see now (for /usage and a takeover's recheck), outside any reservation."""
        async with self._db.read() as conn:
            found = await read_standings(conn, guild_id, [user_id], day, month, self._clock())
            return found[user_id]

    async def enqueue(
        self,
        job_id: int,
        *,
        params: str,
        origin: Origin,
        references: Sequence[StoredReference] = (),
        resumes: int | None = None,
        model: str | None = None,
        size: str | None = None,
    ) -> bool:
        """pending -> queued, with the job's parameters (JSON), origin and references; False if no longer pending.

        `model` and `size` are what the API will be asked for (recent jobs' durations per model and size give the
        status line's time estimate).

        The references (megabytes) are written in their own transaction first, so the queue row's transaction
        stays short and an admission waits for neither of them for long.
        """
        if references and not await self._write_references(job_id, references):
            return False
        queue = {"queued_job": job_id, "params": params, "queued_at": self._clock(), "model": model, "size": size}
        async with self._db.write() as conn:
            if (await conn.execute(_QUEUE, queue)).rowcount != 1:
                return False
            await write_entry(conn, job_id, origin, (), resumes)
            await self.announce(conn)
        return True

    async def _write_references(self, job_id: int, references: Sequence[StoredReference]) -> bool:
        """Store a pending job's references; False (nothing written) if the job is no longer pending."""
        pending = sa.select(jobs.c.id).where(jobs.c.id == job_id, jobs.c.status == "pending")
        async with self._db.write() as conn:
            if (await conn.execute(pending)).first() is None:
                return False
            await write_references(conn, job_id, references)
        return True

    async def cancel(self, job_id: int, error_code: str = "cancelled") -> bool:
        """pending/queued -> cancelled (nothing was spent, nothing is counted); False if it had started or ended."""
        cancel = (
            jobs.update()
            .where(jobs.c.id == job_id, jobs.c.status.in_(WAITING))
            .values(status="cancelled", error_code=error_code, finished_at=self._clock(), reserved_until=None)
        )
        async with self._db.write() as conn:
            done = (await conn.execute(cancel)).rowcount == 1
            if done:
                forget = job_journal.update().where(job_journal.c.job_id == job_id).values(interaction_token=None)
                await conn.execute(forget)
                await self.announce(conn)
        return done

    async def claim(
        self, worker_id: str, *, limit: int, global_limit: int, lease: float, holding: Sequence[int] = ()
    ) -> list[Claim]:
        """Take up to `limit` jobs for `worker_id`: expired leases first (takeover), then queued ones in order.

        One statement reads the candidates with the running counts (the deployment's and each member's); only the
        rows taken are locked (`FOR UPDATE SKIP LOCKED`, in the UPDATE). No NOTIFY: a claim frees nothing, and every
        job it leaves behind was announced when it was queued. `holding`: jobs this worker still holds (never taken
        over by it, even when their leases ran out while its store was failing).
        """
        if limit <= 0:
            return []
        async with self._db.serialized(_CLAIM_LOCK) as conn:
            now = self._clock()
            query = _candidates(sqlite=conn.dialect.name == "sqlite")
            candidates = (await conn.execute(query, {"now": now})).all()
            if not candidates:
                return []
            room = min(limit, global_limit - int(candidates[0].total))
            per_member = {int(row.user_id): int(row.member_running) for row in candidates}
            chosen: dict[int, bool] = {}  # job id -> taken over
            mine = set(holding)
            for row in candidates:
                if len(chosen) >= room:
                    break
                if row.id in mine or per_member[row.user_id] >= (row.member_cap or 1):
                    continue
                per_member[row.user_id] += 1
                chosen[int(row.id)] = row.status == "running"
            if not chosen:
                return []
            taken = await conn.execute(_take(list(chosen), now, worker_id, lease))
            return [Claim(job_id, taken_over=chosen[job_id]) for job_id in sorted(int(r[0]) for r in taken)]

    async def heartbeat(self, worker_id: str, job_ids: Sequence[int], lease: float) -> set[int]:
        """Renew the leases of these jobs; returns the ids this worker still holds (a lost lease is dropped)."""
        if not job_ids:
            return set()
        renew = (
            jobs.update()
            .where(jobs.c.id.in_(list(job_ids)), jobs.c.worker_id == worker_id, jobs.c.status == "running")
            .values(lease_expires_at=self._clock() + lease)
            .returning(jobs.c.id)
        )
        async with self._db.write() as conn:
            return {int(row[0]) for row in await conn.execute(renew)}

    async def release(self, worker_id: str, job_ids: Sequence[int]) -> None:
        """Hand jobs over at once (shutdown): their leases end now, so any worker may take them over."""
        if not job_ids:
            return
        release = (
            jobs.update()
            .where(jobs.c.id.in_(list(job_ids)), jobs.c.worker_id == worker_id, jobs.c.status == "running")
            .values(lease_expires_at=self._clock(), worker_id=None)
        )
        async with self._db.write() as conn:
            await conn.execute(release)
            await self.announce(conn)

    async def release_all(self) -> int:
        """Every running job's lease ends now (SQLite at start-up: no other process can be running them)."""
        release = jobs.update().where(jobs.c.status == "running").values(lease_expires_at=self._clock(), worker_id=None)
        async with self._db.write() as conn:
            return (await conn.execute(release)).rowcount

    async def next_index(self, job_id: int) -> int:
        """The first image index a taken-over job may record (after every index already recorded)."""
        query = sa.select(sa.func.coalesce(sa.func.max(job_images.c.idx) + 1, 0)).where(job_images.c.job_id == job_id)
        async with self._db.read() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def positions(self, job_ids: Sequence[int]) -> dict[int, int]:
        """Place in line (1 = next) of each of these jobs that is still queued."""
        if not job_ids:
            return {}
        ahead = sa.alias(jobs, "ahead")
        place = sa.select(sa.func.count()).where(ahead.c.status == "queued", ahead.c.id <= jobs.c.id).scalar_subquery()
        query = sa.select(jobs.c.id, place).where(jobs.c.id.in_(list(job_ids)), jobs.c.status == "queued")
        async with self._db.read() as conn:
            return {int(job_id): int(n) for job_id, n in await conn.execute(query)}

    async def expire_pending(self) -> list[int]:
        """Cancel reservations that were never queued in time (their process died or stalled)."""
        expire = (
            jobs.update()
            .where(jobs.c.status == "pending", jobs.c.reserved_until < self._clock())
            .values(status="cancelled", error_code="expired", finished_at=self._clock())
            .returning(jobs.c.id)
        )
        async with self._db.write() as conn:
            expired = [int(row[0]) for row in await conn.execute(expire)]
            if expired:
                await self.announce(conn)
        return expired

    async def waiting(self) -> int:
        """Jobs waiting in the whole deployment (pending + queued)."""
        async with self._db.read() as conn:
            count = await conn.execute(sa.select(sa.func.count()).where(jobs.c.status.in_(WAITING)))
            return int(count.scalar_one())

    async def wait(self, timeout: float) -> bool:
        """Sleep until the queue moves (any process) or `timeout` passes; True when it moved."""
        await self._listener.start()
        event = asyncio.Event()
        self._waiters.add(event)
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(event)
        return True

    def moved(self) -> None:
        """Wake every waiter of this process (each `wait` in progress returns True)."""
        for event in self._waiters:
            event.set()

    async def notify(self) -> None:
        """Tell every process that the queue moved (a job finished and freed a slot)."""
        if self._db.backend == "sqlite":
            self.moved()
            return
        async with self._db.write() as conn:
            await self.announce(conn)

    async def announce(self, conn: AsyncConnection) -> None:
        """Tell every process, when `conn`'s transaction commits, that the queue moved."""
        await self._listener.announce(conn, CHANNEL)  # other processes: at commit
        self.moved()


def _claimable(now: float) -> Any:
    return sa.or_(jobs.c.status == "queued", sa.and_(jobs.c.status == "running", jobs.c.lease_expires_at <= now))


def _oldest(which: Any, takeover: int) -> Any:
    """The oldest jobs of one status: the (status, id) index gives them in order (an OR of two statuses would
    scan the table on SQLite)."""
    j = jobs.c
    query = sa.select(j.id, j.user_id, j.status, j.member_cap, sa.literal(takeover).label("takeover"))
    return sa.select(query.where(which).order_by(j.id).limit(_SCAN).subquery())


@functools.cache
def _candidates(*, sqlite: bool) -> sa.Select[Any]:
    """Jobs a claim may take, oldest first (expired leases first: takeover), each with its member's running jobs
    and the deployment's running jobs (live leases); `now` is a parameter (the statement is built once: building it
    cost more than running it). On SQLite the status terms are marked `unlikely`: unfinished jobs are a few among
    millions of finished ones, which its per-index averages cannot tell."""
    j = jobs.c
    now = sa.bindparam("now", type_=sa.Float)

    running_now = rare(j.status == "running", sqlite=sqlite)
    live = sa.and_(running_now, j.lease_expires_at > now)
    expired = _oldest(sa.and_(running_now, j.lease_expires_at <= now), 0)
    queued = _oldest(rare(j.status == "queued", sqlite=sqlite), 1)
    oldest = sa.union_all(expired, queued).subquery("candidates")
    # Grouped by `user_id + 0` on SQLite: grouped by the bare column, it read the members' index in order, all of
    # it (37 s at 10 M rows), rather than the few running jobs through the status index.
    member = unindexed(j.user_id, sqlite=sqlite)
    running = sa.select(j.user_id, sa.func.count().label("n")).where(live).group_by(member).subquery("running")
    total = sa.select(sa.func.count()).select_from(jobs).where(live).scalar_subquery()
    return (
        sa.select(
            oldest.c.id,
            oldest.c.user_id,
            oldest.c.status,
            oldest.c.member_cap,
            sa.func.coalesce(running.c.n, 0).label("member_running"),
            total.label("total"),
        )
        .select_from(oldest.outerjoin(running, running.c.user_id == oldest.c.user_id))
        .order_by(oldest.c.takeover, oldest.c.id)
    )


def _take(job_ids: list[int], now: float, worker_id: str, lease: float) -> Any:
    """Claim these jobs (those still claimable; a row another transaction holds is skipped, not waited for)."""
    lockable = sa.select(jobs.c.id).where(jobs.c.id.in_(job_ids), _claimable(now)).with_for_update(skip_locked=True)
    return (
        jobs.update()
        .where(jobs.c.id.in_(lockable))
        .values(
            status="running",
            worker_id=worker_id,
            lease_expires_at=now + lease,
            started_at=sa.func.coalesce(jobs.c.started_at, now),
            attempts=jobs.c.attempts + 1,
        )
        .returning(jobs.c.id)
    )
