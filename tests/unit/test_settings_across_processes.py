"""Two processes on one PostgreSQL: a server's settings changed in one reach the cache of the other."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from bot.store import UsageStore
from bot.store.guilds import RoleTier

GUILD = 5


async def until(check, *, tries: int = 100) -> bool:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_change_in_one_process_reaches_the_others_cache(postgres_url: str) -> None:
    one, two = await UsageStore.open(postgres_url), await UsageStore.open(postgres_url)
    try:
        assert (await two.guilds.load(GUILD)).overrides == {}  # cached by `two`
        await one.guilds.set_value(GUILD, "daily_images", 3, by=1)

        async def seen() -> bool:
            return (await two.guilds.load(GUILD)).overrides.get("daily_images") == 3

        assert await until(seen)
        await one.guilds.set_tier(GUILD, 77, RoleTier(name="Gold", daily_images=50), by=1)

        async def tier_seen() -> bool:
            return 77 in (await two.guilds.load(GUILD)).tiers

        assert await until(tier_seen)
    finally:
        await one.close()
        await two.close()


async def test_a_lost_listening_connection_drops_the_cache(postgres_url: str) -> None:
    one, two = await UsageStore.open(postgres_url), await UsageStore.open(postgres_url)
    try:
        await two.guilds.load(GUILD)  # cached, and listening
        async with one.engine.connect() as conn:  # the listening session ends (a server restart, a proxy)
            ended = await conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                )
            )
            assert ended.all() == [(True,)]

        async def deaf() -> bool:
            return not two.listener.listening

        assert await until(deaf)
        await one.guilds.set_value(GUILD, "daily_images", 9, by=1)  # announced while `two` did not listen
        assert (await two.guilds.load(GUILD)).overrides.get("daily_images") == 9
        assert two.listener.listening  # listening again
    finally:
        await one.close()
        await two.close()
