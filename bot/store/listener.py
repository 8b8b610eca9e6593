"""What other processes announce: one PostgreSQL connection per process LISTENs on the store's channels (the queue
moved; a server's settings changed) and hands each notification to the part of the store that asked for it.

SQLite has one process, which announces to itself directly: nothing to listen to. A lost listening connection is
reported to every `on_lost` callback (notifications may have been missed meanwhile) and made again at the next
`start`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.db import Database

log = logging.getLogger(__name__)

Handler = Callable[[str], None]  # the notification's payload


class Listener:
    """LISTEN on PostgreSQL for the channels registered with `on`; `announce` is the NOTIFY side."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._handlers: dict[str, list[Handler]] = {}
        self._lost: list[Callable[[], None]] = []
        self._conn: AsyncConnection | None = None
        self._driver: Any = None  # asyncpg's connection under `_conn`
        self._dead: AsyncConnection | None = None  # a lost listening connection, given back at the next start
        self._starting = asyncio.Lock()

    def on(self, channel: str, handler: Handler, *, lost: Callable[[], None] | None = None) -> None:
        """Call `handler(payload)` for each notification on `channel` (register before `start`); `lost()` when the
        listening connection dropped (some notifications may be missing)."""
        self._handlers.setdefault(channel, []).append(handler)
        if lost is not None:
            self._lost.append(lost)

    @property
    def listening(self) -> bool:
        """Whether another process's announcements reach this one now (always on SQLite: there is no other)."""
        return self._db.backend == "sqlite" or self._conn is not None

    async def start(self) -> None:
        """Listen (again, after a lost connection); nothing on SQLite or when already listening."""
        if self.listening:
            return
        async with self._starting:
            if self._conn is not None:
                return
            await self._bury()
            conn = await self._db.engine.connect()
            try:
                driver: Any = (await conn.get_raw_connection()).driver_connection
                for channel in self._handlers:
                    await driver.add_listener(channel, self._notified)
                driver.add_termination_listener(self._terminated)
            except BaseException:
                with contextlib.suppress(Exception):
                    await conn.close()
                raise
            self._conn, self._driver = conn, driver

    def _notified(self, _connection: object, _pid: int, channel: str, payload: str) -> None:
        for handler in self._handlers.get(channel, ()):
            try:
                handler(payload)
            except Exception:
                log.exception("a %s notification could not be handled", channel)

    def _terminated(self, _connection: object) -> None:
        log.warning("the database connection listening for other processes' changes closed; listening again")
        self._dead, self._conn, self._driver = self._conn, None, None
        for lost in self._lost:
            lost()

    async def announce(self, conn: AsyncConnection, channel: str, payload: str = "") -> None:
        """Tell every process (this one included) when `conn`'s transaction commits; nothing on SQLite (the
        caller tells its own process directly)."""
        if self._db.backend == "postgresql":
            await conn.execute(sa.select(sa.func.pg_notify(channel, payload)))

    async def _bury(self) -> None:
        dead, self._dead = self._dead, None
        if dead is not None:
            with contextlib.suppress(Exception):
                await dead.invalidate()  # the pool makes a new one in its place
                await dead.close()

    async def close(self) -> None:
        """Stop listening (the connection goes back to the pool without its listeners)."""
        await self._bury()
        conn, driver, self._conn, self._driver = self._conn, self._driver, None, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            driver.remove_termination_listener(self._terminated)
            for channel in self._handlers:
                await driver.remove_listener(channel, self._notified)
        with contextlib.suppress(Exception):
            await conn.close()
