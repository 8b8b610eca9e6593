"""Store primitives for several processes: named locks on both backends, one process per SQLite file."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import sqlalchemy as sa

from bot.store import UsageStore
from bot.store.db import POSTGRESQL_WRITERS, Database, async_url

ROOT = Path(__file__).resolve().parents[2]


async def test_exclusive_lets_one_holder_in_at_a_time(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    order: list[str] = []

    async def duty(name: str) -> None:
        async with store.exclusive("prune"):
            order.append(f"{name} in")
            await asyncio.sleep(0.05)
            order.append(f"{name} out")

    try:
        await asyncio.gather(duty("a"), duty("b"))
        assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    finally:
        await store.close()


async def test_try_exclusive_does_not_wait_for_a_holder(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        async with (
            store.try_exclusive("sync") as first,
            store.try_exclusive("sync") as second,
            store.try_exclusive("other") as other,
        ):
            assert (first, second, other) == (True, False, True)
        async with store.try_exclusive("sync") as again:
            assert again
    finally:
        await store.close()


async def test_an_advisory_lock_holds_across_processes_sharing_postgresql(postgres_url: str) -> None:
    one = await UsageStore.open(postgres_url)
    two = await UsageStore.open(postgres_url)  # its own pool: another process as far as PostgreSQL can tell
    try:
        assert one.backend == "postgresql"
        async with one.exclusive("command-sync"):
            async with two.try_exclusive("command-sync") as held:
                assert not held
            waiter = asyncio.create_task(two.exclusive("command-sync").__aenter__())
            await asyncio.sleep(0.2)
            assert not waiter.done()
            waiter.cancel()  # a waiter cancelled mid-wait must not keep (or later get) the lock
            await asyncio.gather(waiter, return_exceptions=True)
        async with two.try_exclusive("command-sync") as held:
            assert held
    finally:
        await one.close()
        await two.close()


async def _waiting_for_a_lock(db: Database) -> bool:
    async with db.read() as conn:
        waiting = sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return bool((await conn.execute(waiting)).scalar())


async def test_a_step_waiting_for_another_processs_lock_keeps_no_write_slot(postgres_url: str) -> None:
    """A claim waiting for another worker's claim must not keep an admission waiting for a write slot."""
    mine, other = Database.connect(async_url(postgres_url)), Database.connect(async_url(postgres_url))
    entered, all_in, release = [], asyncio.Event(), asyncio.Event()

    async def step() -> None:
        async with mine.serialized("claim"):
            entered.append("step")

    async def writer() -> None:
        async with mine.write():
            entered.append("writer")
            if entered.count("writer") == POSTGRESQL_WRITERS:
                all_in.set()
            await release.wait()

    try:
        async with other.serialized("claim"):  # another process holds the lock
            stepping = asyncio.create_task(step())
            for _ in range(500):  # until the step waits for it
                if await _waiting_for_a_lock(other):
                    break
                await asyncio.sleep(0.02)
            writers = [asyncio.create_task(writer()) for _ in range(POSTGRESQL_WRITERS)]
            await asyncio.wait_for(all_in.wait(), 10)  # every slot was free for them
            release.set()
            await asyncio.gather(*writers)
        await asyncio.wait_for(stepping, 10)
        assert entered == ["writer"] * POSTGRESQL_WRITERS + ["step"]
        assert not mine._turns  # nothing kept per lock once nobody holds or waits for it (one per server otherwise)
    finally:
        release.set()
        await mine.close()
        await other.close()


async def run_bot_process(database: Path, tmp_path: Path) -> tuple[int, str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DISCORD_TOKEN": "t" * 20, "IMAGE_API_KEY": "k" * 9}
    env["PYTHONPATH"] = str(ROOT)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, err.decode()


async def test_a_second_process_on_the_same_sqlite_file_is_refused_in_one_line(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    store = await UsageStore.open(database)
    also = await UsageStore.open(f"sqlite:///{database}")  # the same process may open it again
    try:
        code, err = await run_bot_process(database, tmp_path)
    finally:
        await also.close()
        await store.close()
    assert code == 1
    assert err.strip().count("\n") == 0 and "another process is using the database" in err, err


async def test_the_file_is_free_for_another_process_once_the_store_is_closed(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    store = await UsageStore.open(database)
    await store.close()
    script = f"import asyncio; from bot.store import UsageStore; asyncio.run(UsageStore.open({str(database)!r}))"
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", script, cwd=ROOT)
    assert await asyncio.wait_for(process.wait(), 60) == 0
