"""UsageStore: the only place that speaks SQL (SQLAlchemy Core over SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.db import Backend, Database, async_url, sqlite_file
from bot.store.guard import ProcessLock
from bot.store.guilds import GuildConfigStore
from bot.store.journal import JobJournal, JournalEntry, close_entry, read_entry
from bot.store.keys import GuildKeyStore
from bot.store.listener import Listener
from bot.store.member_defaults import MemberDefaultsStore
from bot.store.migrate import current as migrated_revision
from bot.store.migrate import upgrade as migrate_to
from bot.store.queue import QueueStore
from bot.store.recording import ImageRecorder
from bot.store.references import JobReferences
from bot.store.schema import job_images, jobs, meta
from bot.store.spend import SpendStore, add_spend
from bot.store.timings import JobTimings
from bot.store.tray import TrayStore
from bot.store.usage import UsageQueries, add_to_rollups

log = logging.getLogger(__name__)

FINAL_STATUSES = ("completed", "partial", "failed", "blocked")  # "cancelled" only through QueueStore.cancel


@dataclass(frozen=True, slots=True)
class NewJob:
    """What is known about a job when it is accepted."""

    guild_id: int | None
    channel_id: int | None
    user_id: int
    prompt: str
    images_requested: int
    params: dict[str, Any] = field(default_factory=dict)
    kind: str = "imagine"
    model: str | None = None  # what the API is asked for (the time estimates read them)
    size: str | None = None


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A row of `jobs`."""

    id: int
    guild_id: int | None
    channel_id: int | None
    user_id: int
    kind: str
    prompt: str
    params: dict[str, Any]
    images_requested: int
    images_delivered: int
    images_failed: int
    output_tokens: int
    images_billed: int
    cost: float
    status: str
    error_code: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    queued_at: float | None = None
    reserved_until: float | None = None
    member_cap: int | None = None
    worker_id: str | None = None
    lease_expires_at: float | None = None
    attempts: int = 0
    model: str | None = None
    size: str | None = None
    price: float | None = None  # of one image, when the job was admitted (None: admitted before budgets)
    role_ids: tuple[int, ...] = ()  # the member's roles when the job was admitted
    language: str | None = None  # its public messages' language (None: admitted before languages, English)


@dataclass(frozen=True, slots=True)
class DeliveredImage:
    """A row of `job_images`: one image that reached Discord."""

    job_id: int
    index: int
    message_id: int | None
    channel_id: int | None
    url: str | None
    width: int | None
    height: int | None
    bytes: int | None


class UsageStore:
    """Async access to the bot's database: SQLite (WAL, one process) or PostgreSQL (any number of processes)."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time, lock: ProcessLock | None = None) -> None:
        self._db = db
        self._lock = lock
        self.clock = clock
        self.references = JobReferences(db)  # reference images kept for Reroll
        self.journal = JobJournal(db, lambda: self.clock())
        self.usage = UsageQueries(db, lambda: self.clock())  # usage, leaderboards (reads self.clock late)
        self.listener = Listener(db)  # other processes' announcements (PostgreSQL)
        self.guilds = GuildConfigStore(db, lambda: self.clock(), self.listener)  # per-server settings and audit log
        self.queue = QueueStore(db, lambda: self.clock(), self.listener)  # the durable job queue (claims, leases)
        self.tray = TrayStore(db, lambda: self.clock())  # "Add to references" trays
        self.member_defaults = MemberDefaultsStore(db, lambda: self.clock())  # members' /settings
        self.timings = JobTimings(db)  # recent jobs' durations (time estimates)
        self.spend = SpendStore(db, lambda: self.clock())  # monthly spending and budget notices
        self.keys = GuildKeyStore(db, lambda: self.clock())  # servers' own API keys, sealed
        self._images = ImageRecorder(db, lambda: self.clock())  # delivered images, counted once

    @classmethod
    async def open(
        cls,
        url_or_path: str | Path,
        *,
        clock: Callable[[], float] = time.time,
        upto: int | None = None,
        single_process: bool = True,
    ) -> UsageStore:
        """Open a DATABASE_URL (or an SQLite file path) and migrate it to the newest schema or `upto`.

        An SQLite file is held by one process: another process opening it raises DatabaseInUse, unless
        `single_process` is False (tools that only read while the bot runs).
        """
        url = async_url(str(url_or_path))
        path = sqlite_file(url)
        lock = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            if single_process:
                lock = ProcessLock(path)
                lock.acquire()
        store = cls(Database.connect(url), clock, lock)
        try:
            await store.migrate(upto)
        except BaseException:
            await store.close()
            raise
        return store

    @property
    def backend(self) -> Backend:
        """ "sqlite" or "postgresql"."""
        return self._db.backend

    @property
    def engine(self) -> AsyncEngine:
        """The SQLAlchemy AsyncEngine (for `bot.store` helpers and benchmarks; callers use the methods)."""
        return self._db.engine

    async def close(self) -> None:
        """Close the connections (and let another process open an SQLite file)."""
        await self.listener.close()
        await self._db.close()
        if self._lock is not None:
            self._lock.release()

    async def warm_up(self) -> int:
        """Open the pool's connections now (PostgreSQL; a gateway process, before it takes requests); how many. A
        failure is only logged: the pool opens connections when they are needed, as it would have anyway."""
        try:
            opened = await self._db.warm_up()
        except Exception:
            log.warning("could not open the database connections ahead of time", exc_info=True)
            return 0
        if opened:
            log.debug("%d database connections opened ahead of the first requests", opened)
        return opened

    def exclusive(self, name: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Hold the named lock for a block: deployment-wide on PostgreSQL (advisory lock), in-process on SQLite."""
        return self._db.exclusive(name)

    def try_exclusive(self, name: str) -> contextlib.AbstractAsyncContextManager[bool]:
        """Yields True while holding the named lock, or False at once when someone else holds it."""
        return self._db.try_exclusive(name)

    async def schema_version(self) -> int:
        """The number of the newest migration applied (0 for an empty database)."""
        async with self._db.read() as conn:
            found = await conn.run_sync(migrated_revision)
        return int(found) if found else 0

    async def migrate(self, upto: int | None = None) -> None:
        """Apply every migration newer than the database (up to `upto`), all in one transaction.

        Alembic keeps its migration context in a module global, so two stores of one process migrate in turn.
        """
        async with _migrating(), self._db.write() as conn:
            if self.backend == "sqlite":  # DDL too: the driver would only open the transaction for DML
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
            await conn.run_sync(migrate_to, upto)

    async def create_job(self, job: NewJob) -> int:
        """Insert a job in state `queued` and return its id."""
        values = {
            "guild_id": job.guild_id,
            "channel_id": job.channel_id,
            "user_id": job.user_id,
            "kind": job.kind,
            "prompt": job.prompt,
            "params": json.dumps(job.params, sort_keys=True),
            "images_requested": job.images_requested,
            "status": "queued",
            "created_at": self.clock(),
            "model": job.model,
            "size": job.size,
        }
        async with self._db.write() as conn:
            return int((await conn.execute(jobs.insert().values(values).returning(jobs.c.id))).scalar_one())

    async def mark_running(self, job_id: int) -> None:
        """The job is about to call the API."""
        async with self._db.write() as conn:
            await conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.status == "queued")
                .values(status="running", started_at=self.clock())
            )

    async def record_image(
        self,
        job_id: int,
        index: int,
        *,
        message_id: int | None,
        channel_id: int | None,
        url: str | None,
        width: int | None = None,
        height: int | None = None,
        size: int | None = None,
    ) -> bool:
        """Count one delivered image, exactly once per (job, index). Returns False if already counted. Images
        recorded at the same moment share a transaction (`ImageRecorder`)."""
        row: dict[str, object] = {"job_id": job_id, "idx": index, "message_id": message_id, "channel_id": channel_id}
        return await self._images.record(row | {"url": url, "width": width, "height": height, "bytes": size})

    async def finish_job(
        self,
        job_id: int,
        status: str,
        *,
        error_code: str | None = None,
        images_failed: int = 0,
        output_tokens: int = 0,
        images_billed: int | None = None,
        price: float = 0.0,
        close_journal: bool = False,
    ) -> None:
        """Record the outcome and add it to the usage rollups, in one transaction; a job is finished once only.

        `images_billed` is what the API billed (None: it did not say, so the delivered images count); the job's
        cost is that many images at the price stored when it was admitted (else `price`, its model's price).
        `close_journal`: forget the job's interaction token in the same transaction (`JobJournal.close`).
        """
        if status not in FINAL_STATUSES:
            raise ValueError(f"not a final status: {status}")
        values: dict[str, object] = {
            "finished_job": job_id,
            "final_status": status,
            "final_error": error_code,
            "final_failed": images_failed,
            "final_tokens": output_tokens,
            "fallback_price": price,
            "finished_now": self.clock(),
        }
        if images_billed is not None:
            values["final_billed"] = images_billed
        async with self._db.write() as conn:
            if close_journal:
                await close_entry(conn, job_id)
            job = (await conn.execute(_finishing(billed=images_billed is not None), values)).one_or_none()
            if job is None:
                return
            await add_to_rollups(
                self._db,
                conn,
                job.guild_id,
                job.user_id,
                job.created_at,
                images=job.images_delivered,
                requests=1,
                failed=int(status == "failed"),
                blocked=int(status == "blocked"),
                tokens=output_tokens,
                cost=float(job.cost),
            )
            # What the API billed counts against the monthly budget (jobs admitted before budgets had no price).
            spent = float(job.cost) if job.price is not None else 0.0
            await add_spend(self._db, conn, job.guild_id, job.created_at, spent)
            await self.queue.announce(conn)  # a slot is free

    async def get_job(self, job_id: int) -> JobRecord | None:
        """One job by id, or None."""
        async with self._db.read() as conn:
            row = (await conn.execute(_job_by_id(), {"wanted_job": job_id})).one_or_none()
        return _job(row) if row else None

    async def job_and_entry(self, job_id: int) -> tuple[JobRecord | None, JournalEntry | None]:
        """One job by id and its journal entry (each None when missing), read on one connection."""
        async with self._db.read() as conn:
            row = (await conn.execute(_job_by_id(), {"wanted_job": job_id})).one_or_none()
            if row is None:
                return None, None
            return _job(row), await read_entry(conn, job_id)

    async def job_images(self, job_id: int) -> list[DeliveredImage]:
        """The delivered images of a job, by index."""
        columns = [c for c in job_images.c if c.name != "delivered_at"]
        query = sa.select(*columns).where(job_images.c.job_id == job_id).order_by(job_images.c.idx)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [DeliveredImage(*row) for row in rows]

    async def recent_jobs(self, limit: int = 50) -> list[JobRecord]:
        """Newest jobs first."""
        async with self._db.read() as conn:
            rows = (await conn.execute(jobs.select().order_by(jobs.c.id.desc()).limit(limit))).all()
        return [_job(row) for row in rows]

    async def get_meta(self, key: str) -> str | None:
        """A value from the `meta` table."""
        async with self._db.read() as conn:
            value = (await conn.execute(sa.select(meta.c.value).where(meta.c.key == key))).scalar()
        return None if value is None else str(value)

    async def meta_keys(self, prefix: str) -> list[str]:
        """Keys of the `meta` table that start with `prefix`."""
        query = sa.select(meta.c.key).where(meta.c.key.startswith(prefix, autoescape=True)).order_by(meta.c.key)
        async with self._db.read() as conn:
            return [str(row[0]) for row in await conn.execute(query)]

    async def delete_meta(self, key: str) -> None:
        """Remove a key of the `meta` table (nothing if absent)."""
        async with self._db.write() as conn:
            await conn.execute(meta.delete().where(meta.c.key == key))

    async def set_meta(self, key: str, value: str) -> None:
        """Set a value in the `meta` table."""
        insert = self._db.insert(meta).values(key=key, value=value)
        async with self._db.write() as conn:
            await conn.execute(insert.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": value}))


_MIGRATION_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _migrating() -> asyncio.Lock:
    """The lock that serializes migrations within this process (one per event loop)."""
    return _MIGRATION_LOCKS.setdefault(asyncio.get_running_loop(), asyncio.Lock())


@functools.cache
def _job_by_id() -> sa.Select[Any]:
    """get_job's statement, built once (every job is read by id when it starts)."""
    return jobs.select().where(jobs.c.id == sa.bindparam("wanted_job"))


@functools.cache
def _finishing(*, billed: bool) -> sa.Update:
    """finish_job's statement, built once per kind (`billed`: the API said how many images it billed; else the
    delivered images count)."""
    j = jobs.c
    images_billed: sa.ColumnElement[int] = j.images_delivered
    if billed:
        images_billed = sa.bindparam("final_billed", type_=j.images_billed.type)
    fallback = sa.bindparam("fallback_price", type_=sa.Float)
    return (
        jobs.update()
        .where(j.id == sa.bindparam("finished_job"), j.finished_at.is_(None))
        .values(
            status=sa.bindparam("final_status", type_=j.status.type),
            error_code=sa.bindparam("final_error", type_=j.error_code.type),
            images_failed=sa.bindparam("final_failed", type_=j.images_failed.type),
            output_tokens=sa.bindparam("final_tokens", type_=j.output_tokens.type),
            images_billed=images_billed,
            cost=images_billed * sa.func.coalesce(j.price, fallback),
            finished_at=sa.bindparam("finished_now", type_=j.finished_at.type),
            worker_id=None,
            lease_expires_at=None,
            reserved_until=None,
        )
        .returning(*(j[name] for name in ("guild_id", "user_id", "created_at", "images_delivered", "cost", "price")))
    )


def _job(row: sa.Row[Any]) -> JobRecord:
    values = dict(row._mapping)
    values["params"] = json.loads(values["params"] or "{}")
    values["role_ids"] = tuple(int(r) for r in json.loads(values["role_ids"] or "[]"))
    return JobRecord(**values)
