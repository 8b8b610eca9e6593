"""The store's PostgreSQL connections: opened before a burst needs them; closed by the server (a restart, a proxy's
idle timeout), they cost at most one failed operation; an admission's round trips."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import event

from bot.store import UsageStore, db
from bot.store.journal import Origin
from bot.store.queue import Admit
from tests.postgres import RoundTrips, connections_to, counting_proxy


async def _close_every_connection_of(url: str) -> int:
    """What a server restart does to the store: every connection to its database is terminated."""
    admin = await asyncpg.connect(url)
    try:
        query = (
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(await admin.fetchval(query))
    finally:
        await admin.close()


async def test_an_idle_connection_the_server_closed_is_replaced_before_it_is_used(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await UsageStore.open(postgres_url)
    try:
        assert await store.get_job(1) is None  # a pooled connection now exists
        assert await _close_every_connection_of(postgres_url) >= 1
        monkeypatch.setattr(db, "PING_IDLE_SECONDS", 0.0)  # every pooled connection counts as idle
        assert await store.get_job(1) is None  # no error: the dead connection was replaced
        assert await store.queue.waiting() == 0
    finally:
        await store.close()


async def test_a_busy_connection_the_server_closed_fails_one_operation_then_the_pool_reconnects(
    postgres_url: str,
) -> None:
    store = await UsageStore.open(postgres_url)
    try:
        assert await store.get_job(1) is None
        await _close_every_connection_of(postgres_url)
        with pytest.raises(Exception):  # noqa: B017 - the driver's disconnect error, whichever it is
            await store.get_job(1)
        assert await store.get_job(1) is None
        assert await store.queue.waiting() == 0
    finally:
        await store.close()


async def test_an_admission_costs_six_round_trips_however_many_members_it_batches(postgres_url: str) -> None:
    """BEGIN, the server's advisory lock, one statement for every member's standing, one INSERT of the jobs, one of
    their origins, COMMIT; nothing else (pool_pre_ping alone cost three more per transaction, and each member's
    standing one more)."""
    trips = RoundTrips()
    async with counting_proxy(postgres_url, trips) as proxied:
        store = await UsageStore.open(proxied)
        try:

            async def admit(members: range) -> list[int]:
                requests = [
                    Admit(7, 8, user, "p", 1, "imagine", day=1, hold=300.0, member_cap=2, origin=Origin(user, "t"))
                    for user in members
                ]
                return await asyncio.gather(*(store.queue.admit(r, lambda _: None) for r in requests))

            await admit(range(1, 2))  # statements are prepared once per connection
            await admit(range(1, 11))
            before = trips.count
            await admit(range(20, 21))
            one = trips.count - before
            before = trips.count
            assert len(set(await admit(range(30, 40)))) == 10
            batch = trips.count - before
        finally:
            await store.close()
    assert (one, batch) == (6, 6)


async def test_a_warmed_up_store_meets_a_burst_with_the_connections_it_already_has(postgres_url: str) -> None:
    """A bot process opens its pool's connections before it takes requests: a burst right after the start makes
    none (each would cost a server process, a handshake and the driver's type set-up while requests wait)."""
    store = await UsageStore.open(postgres_url)
    made: list[object] = []
    event.listen(store.engine.sync_engine, "connect", lambda *_: made.append(1))
    try:
        opened = db.POSTGRESQL_POOL + db.ANSWERING_POOL  # the shared pool and the first answers' own
        assert await store.warm_up() == opened
        assert await connections_to(postgres_url) == opened
        made.clear()
        await asyncio.gather(*(store.get_job(1) for _ in range(db.POSTGRESQL_POOL)))
        assert made == []
    finally:
        await store.close()


async def test_warming_up_an_sqlite_store_opens_nothing(tmp_path) -> None:
    store = await UsageStore.open(tmp_path / "bot.db")
    try:
        assert await store.warm_up() == 0
    finally:
        await store.close()
