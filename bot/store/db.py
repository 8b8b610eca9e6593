"""The engine behind the store: URL conversion, connection set-up, transactions and cross-process locks."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.store.schema import for_postgresql

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql

Backend = Literal["sqlite", "postgresql"]
Insert = Union[sqlite.Insert, "postgresql.Insert"]

# A 32 MiB page cache per connection (SQLite's default is 2 MiB): a big history's index pages stay in memory.
_SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    "foreign_keys=ON",
    "busy_timeout=5000",
    "synchronous=NORMAL",
    "cache_size=-32768",
)
# A pooled PostgreSQL connection idle for longer than this is checked (one round trip) before it is used: the server
# may have restarted or a proxy closed it meanwhile. A busy connection is not (SQLAlchemy's pool_pre_ping costs three
# round trips on every checkout); if it fails anyway, SQLAlchemy invalidates the pool and the next use reconnects.
PING_IDLE_SECONDS = 10.0
POSTGRESQL_WRITERS = 2  # write transactions of one process at a time on PostgreSQL (see WriteGate)
# 20 PostgreSQL connections stay open (more would be closed again at once under a steady load, and a new one costs a
# server process, a handshake and every statement prepared again); 30 at most.
POSTGRESQL_POOL = 20
POSTGRESQL_POOL_MAX = 30
# Connections of their own for the reads a member's first answer waits on (`Database.read(answering=True)`), kept
# open; as many more when a burst needs them.
ANSWERING_POOL = 2


def dialect_insert(backend: str, table: sa.Table) -> Insert:
    """INSERT for `backend` ("sqlite" or "postgresql"), with `on_conflict_do_nothing` / `on_conflict_do_update`."""
    if backend == "postgresql":
        from sqlalchemy.dialects import postgresql  # loaded on PostgreSQL only

        return postgresql.insert(table)
    return sqlite.insert(table)


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


def _stamp_use(_dbapi_connection: Any, record: Any) -> None:
    record.info["used"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Checkout: a connection idle for PING_IDLE_SECONDS is pinged; a dead one is replaced by the pool."""
    if time.monotonic() - record.info.get("used", 0.0) <= PING_IDLE_SECONDS:
        return
    try:  # a simple query (no prepared statement, no transaction): one round trip
        dbapi_connection.run_async(lambda connection: connection.execute("SELECT 1"))
    except Exception as error:
        raise sa.exc.DisconnectionError("a pooled connection was dead") from error
    record.info["used"] = time.monotonic()


class WriteGate:
    """This process's write transactions, `slots` at a time, queued on the event loop; an urgent writer (an
    admission, which a member is waiting on) goes before every other waiting writer.

    SQLite has one write lock: one slot, so a writer waits here rather than in SQLite's busy handler (which sleeps
    and retries). PostgreSQL takes many writers, but a burst of them (a hundred requests a second, each queued
    after its admission) floods the event loop with interleaved round trips, and an admission's own round trips,
    and the acknowledgement after it, wait behind all of them: a few slots keep the loop responsive and let the
    admission through first."""

    def __init__(self, slots: int = 1) -> None:
        self._slots = slots
        self._held = 0
        self._urgent: collections.deque[asyncio.Future[None]] = collections.deque()
        self._normal: collections.deque[asyncio.Future[None]] = collections.deque()

    @contextlib.asynccontextmanager
    async def held(self, *, urgent: bool = False) -> AsyncIterator[None]:
        """Hold a slot for the block."""
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgent: bool) -> None:
        if self._held < self._slots and not self._urgent and not self._normal:
            self._held += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        line = self._urgent if urgent else self._normal
        line.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():  # handed over just as it was cancelled: pass it on
                self._release()
            elif waiter in line:  # a release may already have passed over (and dropped) the cancelled waiter
                line.remove(waiter)
            raise

    def _release(self) -> None:
        for line in (self._urgent, self._normal):
            while line:
                waiter = line.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the slot stays held, now by that waiter
                    return
        self._held -= 1


@dataclass(slots=True)
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # holding or waiting


class Database:
    """An async engine plus the few dialect differences the store's SQL needs to know about."""

    def __init__(
        self, engine: AsyncEngine, writer: AsyncEngine | None = None, answering: AsyncEngine | None = None
    ) -> None:
        self.engine = engine
        # The gate's transactions (`write`, `serialized`): on an SQLite file, their own connection, so that a writer
        # (an admission) never waits for a pooled connection behind a burst of reads (they take every one of them).
        self._writer = writer or engine
        # The reads a member's first answer waits on: their own pool, for the same reason.
        answering = answering or engine
        self._engines = list(dict.fromkeys((engine, self._writer, answering)))  # each once, the shared one first
        self.backend: Backend = "postgresql" if engine.dialect.name == "postgresql" else "sqlite"
        if self.backend == "sqlite":
            for each in self._engines:
                event.listen(each.sync_engine, "connect", _sqlite_connect)
            self._reader, self._answering = engine, answering
        else:
            for_postgresql()
            for each in self._engines:
                event.listen(each.sync_engine, "checkout", _ping_if_idle)
                event.listen(each.sync_engine, "checkin", _stamp_use)
                event.listen(each.sync_engine, "connect", _stamp_use)
            self._reader = engine.execution_options(isolation_level="AUTOCOMMIT")
            self._answering = answering.execution_options(isolation_level="AUTOCOMMIT")
        self._turns: dict[str, _Turn] = {}  # this process's holders of a lock, per name (`_in_turn`)
        self.gate = WriteGate(1 if self.backend == "sqlite" else POSTGRESQL_WRITERS)

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        """Every engine (pool) this store has: the shared one first."""
        return tuple(self._engines)

    @classmethod
    def connect(cls, url: sa.URL) -> Database:
        """Build the engine for `url` (a pool; nothing is connected yet). SQL is never logged (echo off)."""
        if url.get_backend_name() == "sqlite":
            if sqlite_file(url) is None:  # one in-memory database: one connection for everything
                return cls(create_async_engine(url, echo=False, poolclass=sa.StaticPool))
            readers = create_async_engine(url, echo=False, pool_size=5, max_overflow=10)
            writer = create_async_engine(url, echo=False, pool_size=1, max_overflow=1)
            answering = create_async_engine(url, echo=False, pool_size=ANSWERING_POOL, max_overflow=ANSWERING_POOL)
            return cls(readers, writer, answering)
        # Last in, first out: the connection just used (its statements prepared, no ping due) serves the next one.
        overflow = POSTGRESQL_POOL_MAX - POSTGRESQL_POOL
        return cls(
            create_async_engine(url, echo=False, pool_size=POSTGRESQL_POOL, max_overflow=overflow, pool_use_lifo=True),
            answering=create_async_engine(
                url, echo=False, pool_size=ANSWERING_POOL, max_overflow=ANSWERING_POOL, pool_use_lifo=True
            ),
        )

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction through the gate: committed when the block ends, rolled back if it raises."""
        async with self.gate.held(), self._writer.begin() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def serialized(self, lock: str, *, urgent: bool = False) -> AsyncIterator[AsyncConnection]:
        """A transaction that reads and then writes as one step: it holds SQLite's write lock from its start, or
        on PostgreSQL the transaction-level advisory lock `lock`, so no other serialized step interleaves.
        `urgent`: before every other waiting writer of this process (someone is waiting for the answer).

        On PostgreSQL the lock comes before the gate: a step waiting for another process's holder (every worker
        claims under one lock) keeps none of this process's write slots from the writers behind it, an admission
        among them. Once it holds the lock, which other processes may be waiting for, it goes first. This
        process's steps of one lock ask for it one at a time, in the order they came (one server's admission
        batches, first come, first served)."""
        if self.backend == "postgresql":
            async with self._in_turn(lock), self._writer.begin() as conn:
                await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_key(lock))))
                async with self.gate.held(urgent=True):
                    yield conn
            return
        async with self.gate.held(urgent=urgent), self._writer.begin() as conn:
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
            yield conn

    async def warm_up(self) -> int:
        """Open the connections the pool keeps (PostgreSQL), before the first requests come: else the first burst
        makes them, each a server process, a handshake and the driver's type set-up, while requests wait for
        them and the event loop does their work. Returns how many were opened (none on SQLite)."""
        if self.backend == "sqlite":
            return 0
        pools = [(self.engine, POSTGRESQL_POOL)]
        if self._answering is not self._reader:
            pools.append((self._answering, ANSWERING_POOL))
        opened = await asyncio.gather(
            *(engine.connect().start() for engine, size in pools for _ in range(size)),
            return_exceptions=True,
        )
        for conn in opened:  # back to the pool, open
            if isinstance(conn, AsyncConnection):
                await conn.close()
        failed = [error for error in opened if isinstance(error, BaseException)]
        if failed:
            raise failed[0]
        return len(opened)

    def read(self, *, answering: bool = False) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        """A connection for reads, outside any write transaction (SQLite WAL readers do not wait for writers).

        `answering`: a read that a member's first answer waits on (their /settings defaults, the server's settings
        before an admission). It takes a connection of its own pool: 800 jobs in flight can hold every connection
        of the shared one, and a command would wait behind them."""
        return (self._answering if answering else self._reader).connect()

    def insert(self, table: sa.Table) -> Insert:
        """INSERT for this dialect, with `on_conflict_do_nothing` / `on_conflict_do_update`."""
        return dialect_insert(self.backend, table)

    @contextlib.asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[None]:
        """Hold the lock `name` for the block: across processes on PostgreSQL, within this process on SQLite."""
        if self.backend == "sqlite":
            async with self._in_turn(name):
                yield
            return
        async with self._advisory(name, wait=True):
            yield

    @contextlib.asynccontextmanager
    async def try_exclusive(self, name: str) -> AsyncIterator[bool]:
        """Like `exclusive`, but never waits: yields False (and holds nothing) when another holder has it."""
        if self.backend == "sqlite":
            turn = self._turns.get(name)
            if turn is not None and turn.lock.locked():
                yield False
                return
            async with self._in_turn(name):
                yield True
            return
        async with self._advisory(name, wait=False) as held:
            yield held

    @contextlib.asynccontextmanager
    async def _in_turn(self, lock: str) -> AsyncIterator[None]:
        """This process's holders of `lock` one at a time, first come first served (an asyncio lock is fair); kept
        only while someone holds or waits for it (one per server would pile up otherwise)."""
        turn = self._turns.get(lock)
        if turn is None:
            turn = self._turns[lock] = _Turn()
        turn.users += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.users -= 1
            if not turn.users:
                del self._turns[lock]

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
        for engine in self._engines:
            await engine.dispose()
