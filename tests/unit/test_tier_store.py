"""Role tiers, monthly use and spending in the store, on SQLite and PostgreSQL: tiers round-trip and are audited,
a job's cost is reserved while it runs and spent (per month of its creation) when it finishes, budget notices are
claimed once, monthly use survives forget-me, and databases from before tiers keep their exempt roles."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from bot.periods import DAY, month_start_day
from bot.store import UsageStore
from bot.store.guilds import RoleTier
from bot.store.queue import Admit, Standing

JUNE_11 = datetime(2025, 6, 11, 12, tzinfo=UTC).timestamp()
JUNE = month_start_day(JUNE_11)
JULY = month_start_day(JUNE_11 + 20 * DAY)


class Clock:
    def __init__(self, now: float = JUNE_11) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def request(user: int = 7, images: int = 2, price: float = 0.03, *, clock: Clock, roles: tuple[int, ...] = ()) -> Admit:
    day = int(clock.now // DAY)
    return Admit(1, 5, user, "a fox", images, "imagine", day, 300.0, 2, price, roles, month_start_day(clock.now))


def accept(_: Standing) -> None:
    """An admission check that lets everything through."""


async def open_store(database_url: str, clock: Clock) -> UsageStore:
    return await UsageStore.open(database_url, clock=clock)


async def test_role_tiers_round_trip_and_are_audited(database_url: str) -> None:
    store = await open_store(database_url, Clock())
    try:
        free = RoleTier("Free", daily_images=5, monthly_images=50, models=(), max_resolution="2K", max_set_size=4)
        await store.guilds.set_tier(1, 10, free, by=99)
        await store.guilds.set_tier(1, 11, RoleTier("Custom", daily_images=3, models=("m-1", "m-2")), by=99)
        await store.guilds.set_tier(2, 10, RoleTier("Custom", max_resolution="1K"), by=99)
        tiers = (await store.guilds.load(1)).tiers
        assert tiers == {10: free, 11: RoleTier("Custom", daily_images=3, models=("m-1", "m-2"))}
        assert tiers[11].monthly_images is None and tiers[11].max_set_size is None  # unset: the server's default
        await store.guilds.set_tier(1, 10, RoleTier("Unlimited", 0, 0, (), "4K", 15), by=98)
        assert (await store.guilds.load(1)).tiers[10].daily_images == 0
        assert await store.guilds.remove_tier(1, 11, by=98)
        assert not await store.guilds.remove_tier(1, 11, by=98)
        assert list((await store.guilds.load(1)).tiers) == [10]
        assert list((await store.guilds.load(2)).tiers) == [10]
        actions = [(e.action, e.user_id) for e in await store.guilds.audit_log(1)]
        assert actions == [("remove tier", 98), ("set tier", 98), ("set tier", 99), ("set tier", 99)]
    finally:
        await store.close()


async def test_a_jobs_cost_is_reserved_while_it_runs_and_spent_in_its_month(database_url: str) -> None:
    clock = Clock(JUNE_11 + 19 * DAY + 43000)  # 30 June, 23:56 UTC
    store = await open_store(database_url, clock)
    try:
        seen: list[Standing] = []
        first = await store.queue.admit(request(images=3, price=0.05, clock=clock, roles=(10, 11)), seen.append)
        await store.queue.admit(request(images=1, price=0.05, clock=clock), seen.append)
        assert round(seen[1].server_cost_reserved, 6) == 0.15 and seen[1].server_spent == 0
        record = await store.get_job(first)
        assert record is not None and record.price == 0.05 and record.role_ids == (10, 11)

        for index in range(2):
            await store.record_image(first, index, message_id=index, channel_id=5, url=None)
        clock.now += 250  # finished on 1 July: its images were asked for (and count) in June
        await store.finish_job(first, "partial")
        await store.record_image(first, 2, message_id=2, channel_id=5, url=None)  # a late image
        assert round(await store.spend.spent(1, JUNE), 6) == 0.15
        assert await store.spend.spent(1, JULY) == 0.0
        july = await store.queue.standing(1, 7, int(clock.now // DAY), JULY)
        assert (july.server_spent, round(july.server_cost_reserved, 6)) == (0.0, 0.05)  # the second still waits
    finally:
        await store.close()


async def test_one_batch_of_admissions_sees_each_others_reserved_cost(database_url: str) -> None:
    clock = Clock()
    store = await open_store(database_url, clock)
    try:
        seen: list[Standing] = []
        admissions = [store.queue.admit(request(user, 2, 0.04, clock=clock), seen.append) for user in (7, 8, 9)]
        await asyncio.gather(*admissions)
        assert [round(s.server_cost_reserved, 6) for s in seen] == [0.0, 0.08, 0.16]
    finally:
        await store.close()


async def test_a_budget_notice_is_claimed_once_per_level_and_month(database_url: str) -> None:
    store = await open_store(database_url, Clock())
    try:
        assert await store.spend.claim_notice(1, JUNE, 80)
        assert not await store.spend.claim_notice(1, JUNE, 80)
        assert await store.spend.claim_notice(1, JUNE, 100)
        assert not await store.spend.claim_notice(1, JUNE, 80)  # 100 % was told: 80 % is implied
        assert await store.spend.claim_notice(1, JULY, 100)
        assert await store.spend.claim_notice(2, JUNE, 80)
        results = await asyncio.gather(*(store.spend.claim_notice(3, JUNE, 80) for _ in range(5)))
        assert sorted(results) == [False, False, False, False, True]
    finally:
        await store.close()


async def test_monthly_use_counts_this_month_only_and_survives_forget_me(database_url: str) -> None:
    clock = Clock(JUNE_11 - 12 * DAY)  # 30 May
    store = await open_store(database_url, clock)
    try:
        for when, images in ((JUNE_11 - 12 * DAY, 4), (JUNE_11 - DAY, 2), (JUNE_11, 1)):
            clock.now = when
            job_id = await store.queue.admit(request(images=images, clock=clock), accept)
            for index in range(images):
                await store.record_image(job_id, index, message_id=index, channel_id=5, url=None)
            await store.finish_job(job_id, "completed")
        today = int(JUNE_11 // DAY)
        standing = await store.queue.standing(1, 7, today, JUNE)
        assert (standing.member_images, standing.member_month_images) == (1, 3)
        await store.usage.forget_user(7)
        kept = await store.queue.standing(1, 7, today, JUNE)
        assert (kept.member_images, kept.member_month_images) == (1, 3)
        assert (await store.queue.standing(1, 7, today + 20, JULY)).member_month_images == 0
    finally:
        await store.close()


async def test_a_database_from_before_tiers_keeps_its_exempt_roles(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = await UsageStore.open(path, upto=7, clock=Clock())
    try:
        await old.guilds.set_member("guild_exempt_roles", 1, 10, True, by=99)
        async with old.engine.begin() as conn:  # a job as a version-7 bot admitted it
            running = (
                await conn.execute(
                    sa.text(
                        "INSERT INTO jobs (guild_id, channel_id, user_id, prompt, images_requested, status, created_at,"
                        " member_cap) VALUES (1, 5, 7, 'p', 2, 'running', :now, 2) RETURNING id"
                    ),
                    {"now": JUNE_11},
                )
            ).scalar_one()
    finally:
        await old.close()
    store = await UsageStore.open(path, clock=Clock())
    try:
        config = await store.guilds.load(1)
        assert config.exempt_roles == frozenset({10}) and config.tiers == {}
        record = await store.get_job(running)
        assert record is not None and record.price is None and record.role_ids == ()
        assert (await store.queue.standing(1, 7, int(JUNE_11 // DAY), JUNE)).server_cost_reserved == 0
        await store.record_image(running, 0, message_id=1, channel_id=5, url=None)
        await store.finish_job(running, "partial")
        assert await store.spend.spent(1, JUNE) == 0.0
    finally:
        await store.close()
