"""The engine behind the store: URL conversion, connection set-up, transactions and cross-process locks."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

Backend = Literal["sqlite", "postgresql"]
Insert = sqlite.Insert | postgresql.Insert

# A 32 MiB page cache per connection (SQLite's default is 2 MiB): a big history's index pages stay in memory.
_SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    "foreign_keys=ON",
    "busy_timeout=5000",
    "synchronous=NORMAL",
    "cache_size=-32768",
)


def async_url(database_url: str) -> sa.URL:
    """`sqlite:///rel.db`, `sqlite:////abs.db`, a plain path or `postgres(ql)://…` as an async driver URL."""
    if "://" not in database_url:
        return sa.URL.create("sqlite+aiosqlite", database=database_url)
    scheme, rest = database_url.split("://", 1)
    if scheme == "sqlite":
        return sa.make_url(f"sqlite+aiosqlite://{rest}")
    if scheme in ("postgres", "postgresql"):
        return sa.make_url(f"postgresql+asyncpg://{rest}")
    raise ValueError("DATABASE_URL must be an sqlite:/// or postgresql:// URL")


def sqlite_file(url: sa.URL) -> Path | None:
    """The file of an SQLite URL (None for PostgreSQL and in-memory databases)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a name."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # PRAGMA journal_mode may not run inside a transaction
    cursor = dbapi_connection.cursor()
    for pragma in _SQLITE_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()
    # The driver opens a transaction right before the first INSERT/UPDATE/DELETE, taking SQLite's write lock at
    # once (waiting up to busy_timeout): a transaction never fails to upgrade a read lock, and reads (even the
    # ones inside a write transaction, before its first write) run without holding a snapshot.
    dbapi_connection.isolation_level = "IMMEDIATE"


class WriteGate:
    """SQLite's one write lock, queued in this process: a writer waits on the event loop (not in SQLite's busy
    handler, which sleeps and retries) and an urgent writer (an admission, which a member is waiting on) goes
    before every other waiting writer, so it waits for at most the one transaction in progress."""

    def __init__(self) -> None:
        self._held = False
        self._urgent: collections.deque[asyncio.Future[None]] = collections.deque()
        self._normal: collections.deque[asyncio.Future[None]] = collections.deque()

    @contextlib.asynccontextmanager
    async def held(self, *, urgent: bool = False) -> AsyncIterator[None]:
        """Hold the gate for the block."""
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgent: bool) -> None:
        if not self._held and not self._urgent and not self._normal:
            self._held = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        line = self._urgent if urgent else self._normal
        line.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():  # handed over just as it was cancelled: pass it on
                self._release()
            else:
                line.remove(waiter)
            raise

    def _release(self) -> None:
        for line in (self._urgent, self._normal):
            while line:
                waiter = line.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the gate stays held, now by that waiter
                    return
        self._held = False


class Database:
    """An async engine plus the few dialect differences the store's SQL needs to know about."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.backend: Backend = "postgresql" if engine.dialect.name == "postgresql" else "sqlite"
        if self.backend == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_connect)
            self._reader = engine
        else:
            self._reader = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._local_locks: dict[str, asyncio.Lock] = {}
        self.gate = WriteGate()

    @classmethod
    def connect(cls, url: sa.URL) -> Database:
        """Build the engine for `url` (a pool; nothing is connected yet). SQL is never logged (echo off)."""
        if url.get_backend_name() == "sqlite":
            memory = sqlite_file(url) is None
            pool: dict[str, Any] = {"poolclass": sa.StaticPool} if memory else {"pool_size": 5, "max_overflow": 10}
            return cls(create_async_engine(url, echo=False, **pool))
        return cls(create_async_engine(url, echo=False, pool_size=10, max_overflow=20, pool_pre_ping=True))

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction: committed when the block ends, rolled back if it raises (on SQLite, through the gate)."""
        if self.backend == "postgresql":
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self.gate.held(), self.engine.begin() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def serialized(self, lock: str, *, urgent: bool = False) -> AsyncIterator[AsyncConnection]:
        """A transaction that reads and then writes as one step: it holds SQLite's write lock from its start, or
        on PostgreSQL the transaction-level advisory lock `lock`, so no other serialized step interleaves.
        `urgent` (SQLite): before every other waiting writer (someone is waiting for the answer)."""
        if self.backend == "postgresql":
            async with self.engine.begin() as conn:
                await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_key(lock))))
                yield conn
            return
        async with self.gate.held(urgent=urgent), self.engine.begin() as conn:
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
            yield conn

    def read(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        """A connection for reads, outside any write transaction (SQLite WAL readers do not wait for writers)."""
        return self._reader.connect()

    def insert(self, table: sa.Table) -> Insert:
        """INSERT for this dialect, with `on_conflict_do_nothing` / `on_conflict_do_update`."""
        return postgresql.insert(table) if self.backend == "postgresql" else sqlite.insert(table)

    @contextlib.asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[None]:
        """Hold the lock `name` for the block: across processes on PostgreSQL, within this process on SQLite."""
        if self.backend == "sqlite":
            async with self._local_lock(name):
                yield
            return
        async with self._advisory(name, wait=True):
            yield

    @contextlib.asynccontextmanager
    async def try_exclusive(self, name: str) -> AsyncIterator[bool]:
        """Like `exclusive`, but never waits: yields False (and holds nothing) when another holder has it."""
        if self.backend == "sqlite":
            lock = self._local_lock(name)
            if lock.locked():
                yield False
                return
            async with lock:
                yield True
            return
        async with self._advisory(name, wait=False) as held:
            yield held

    def _local_lock(self, name: str) -> asyncio.Lock:
        return self._local_locks.setdefault(name, asyncio.Lock())

    @contextlib.asynccontextmanager
    async def _advisory(self, name: str, *, wait: bool) -> AsyncIterator[bool]:
        """A session-level advisory lock on a connection kept for the block (closed, not pooled, on trouble)."""
        key = lock_key(name)
        conn = await self._reader.connect()
        try:
            try:
                call = sa.func.pg_advisory_lock(key) if wait else sa.func.pg_try_advisory_lock(key)
                result = await conn.execute(sa.select(call))
                held = True if wait else bool(result.scalar())
            except BaseException:
                await conn.invalidate()  # cancelled while waiting: the server may still grant it to this session
                raise
            try:
                yield held
            finally:
                if held:
                    await self._unlock(conn, key)
        finally:
            await conn.close()

    @staticmethod
    async def _unlock(conn: AsyncConnection, key: int) -> None:
        try:
            await conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))
        except BaseException:
            await conn.invalidate()  # never return a connection that may still hold the lock to the pool
            raise

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
