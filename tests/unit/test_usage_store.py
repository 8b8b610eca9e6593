"""Usage rollups: exactly-once counting, leaderboards, forgetting a member (both backends)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event

from bot.limits import effective_limits
from bot.settings import Settings
from bot.store import NewJob, UsageStore
from bot.store.guilds import GuildConfig
from bot.store.journal import Origin, StoredReference

DAY = 86400.0


def job(user: int, guild: int = 1, requested: int = 2) -> NewJob:
    return NewJob(guild_id=guild, channel_id=5, user_id=user, prompt=f"prompt of {user}", images_requested=requested)


async def finished(store: UsageStore, user: int, delivered: int, status: str = "completed", guild: int = 1) -> int:
    job_id = await store.create_job(job(user, guild))
    for index in range(delivered):
        await store.record_image(job_id, index, message_id=index, channel_id=5, url=None)
    await store.finish_job(job_id, status, output_tokens=10)
    return job_id


async def test_a_job_and_its_images_are_counted_once(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        job_id = await store.create_job(job(3, requested=3))
        await asyncio.gather(
            *(store.record_image(job_id, i % 2, message_id=1, channel_id=5, url=None) for i in range(6))
        )
        await asyncio.gather(store.finish_job(job_id, "partial"), store.finish_job(job_id, "completed"))
        await store.record_image(job_id, 1, message_id=1, channel_id=5, url=None)  # a repeat after the finish
        await store.record_image(job_id, 2, message_id=1, channel_id=5, url=None)  # a late, new image
        totals = await store.usage.totals(1, 3, None, 0)
        assert (totals.images, totals.requests) == (3, 1)
        day = int(store.clock() // DAY)
        assert (await store.usage.totals(1, 3, day, day + 1)).images == 3
    finally:
        await store.close()


async def test_leaderboard_ties_are_broken_by_member_id(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        for user, delivered in ((30, 2), (10, 2), (20, 5), (40, 0)):
            await finished(store, user, delivered)
        board = await store.usage.leaderboard(1, None, 0, "images", offset=0, limit=10, caller=40)
        assert [(e.rank, e.user_id) for e in board.entries] == [(1, 20), (2, 10), (3, 30)]
        assert board.ranked == 3 and board.caller is None
    finally:
        await store.close()


async def test_forgetting_a_member_keeps_anonymous_totals(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        await finished(store, 5, 2)
        await finished(store, 5, 1, guild=2)
        await finished(store, 6, 1)
        assert (await store.usage.forget_user(5)).jobs == 2
        assert all(j.prompt == "" for j in await store.recent_jobs() if j.user_id == 0)
        assert (await store.usage.totals(1, 5, None, 0)).requests == 0
        assert (await store.usage.totals(1, None, None, 0)).images == 3
        assert (await store.usage.totals(2, 0, None, 0)).images == 1
        day = int(store.clock() // DAY)
        assert (await store.usage.totals(1, None, day, day + 1)).images == 3
    finally:
        await store.close()


async def test_server_settings_and_lists_are_audited(database_url: str) -> None:
    store = await UsageStore.open(database_url, clock=lambda: 50.0)
    try:
        guilds = store.guilds
        await guilds.set_value(1, "quota", 5, by=9)
        await guilds.set_value(1, "quota", 6, by=9)
        assert await guilds.set_member("guild_blocked_words", 1, "fox", True, by=9)
        assert not await guilds.set_member("guild_blocked_words", 1, "fox", True, by=9)
        assert await guilds.set_member("guild_channels", 1, 2**62, True, by=9)
        assert await guilds.set_member("guild_exempt_roles", 1, 77, True, by=9)
        assert await guilds.set_member("guild_exempt_roles", 1, 77, False, by=9)
        config = await guilds.load(1)
        assert (config.overrides, config.blocked_words, config.channels, config.exempt_roles) == (
            {"quota": 6},
            ("fox",),
            frozenset({2**62}),
            frozenset(),
        )
        await guilds.set_value(1, "quota", None, by=9)
        assert (await guilds.load(1)).overrides == {}
        log = await guilds.audit_log(1)
        actions = ["set", "remove role_id", "add role_id", "add channel_id", "add word", "set", "set"]
        assert [e.action for e in log] == actions
        assert log[0].detail == "quota = default" and log[0].created_at == 50.0
    finally:
        await store.close()


async def test_concurrent_loads_of_a_servers_settings_read_them_once(database_url: str) -> None:
    """A burst right after a start: every request misses the cache at once; one read serves them all."""
    store = await UsageStore.open(database_url)
    reads = 0

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        nonlocal reads
        reads += "FROM guild_settings" in statement

    for engine in store._db.engines:
        event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        await store.guilds.set_value(1, "quota", 5, by=9)
        configs = await asyncio.gather(*(store.guilds.load(1) for _ in range(20)))
        assert [c.overrides for c in configs] == [{"quota": 5}] * 20
        assert reads == 1
    finally:
        await store.close()


async def test_a_change_during_a_read_of_a_servers_settings_is_not_hidden_by_it(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        reading = asyncio.ensure_future(store.guilds.load(1))
        await asyncio.sleep(0)  # the read is under way
        await store.guilds.set_value(1, "quota", 7, by=9)
        await reading
        assert (await store.guilds.load(1)).overrides == {"quota": 7}
    finally:
        await store.close()


async def test_leaderboard_opt_out_hides_a_member(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        await finished(store, 11, 3)
        await finished(store, 12, 1)
        await store.usage.set_opt_out(11, True)
        await store.usage.set_opt_out(11, True)
        assert await store.usage.opted_out(11)
        board = await store.usage.leaderboard(1, None, 0, "images", offset=0, limit=10, caller=11)
        assert [e.user_id for e in board.entries] == [12] and board.caller is None
        await store.usage.set_opt_out(11, False)
        assert not await store.usage.opted_out(11)
    finally:
        await store.close()


async def test_forgetting_keeps_unfinished_jobs_counted_and_repeating_resets_nothing(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        await finished(store, 5, 2)
        running = await store.create_job(job(5, requested=3))
        await store.mark_running(running)
        first = await store.usage.forget_user(5)
        assert (first.jobs, first.unfinished) == (1, 1)
        again = await store.usage.forget_user(5)
        assert (again.jobs, again.unfinished) == (0, 1)
        day = int(store.clock() // DAY)
        snapshot = await store.queue.standing(1, 5, day, day)
        assert snapshot.member_images == 2 and snapshot.member_reserved == 3
        for index in range(3):
            await store.record_image(running, index, message_id=index, channel_id=5, url=None)
        await store.finish_job(running, "completed")
        assert (await store.usage.forget_user(5)).jobs == 1
        assert (await store.usage.forget_user(5)).jobs == 0
        snapshot = await store.queue.standing(1, 5, day, day)
        assert snapshot.member_images == 5 and snapshot.member_reserved == 0
    finally:
        await store.close()


async def test_forgetting_deletes_kept_references_and_the_tray(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        done = await finished(store, 5, 1)
        other = await finished(store, 6, 1)
        for job_id in (done, other):
            await store.journal.open(job_id, Origin(), [StoredReference("image/png", 20, 20, b"png")])
        await store.tray.add(1, 5, [("a.png", "https://cdn/a.png")], channel_id=5, message_id=9, ttl=3600, limit=5)
        await store.usage.forget_user(5)
        await store.tray.forget_user(5)
        assert await store.journal.references(done) == []
        assert len(await store.journal.references(other)) == 1
    finally:
        await store.close()


async def test_jobs_outside_a_server_count_for_their_member_only(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        dm = await store.create_job(NewJob(guild_id=None, channel_id=5, user_id=7, prompt="p", images_requested=2))
        day = int(store.clock() // DAY)
        mine = await store.queue.standing(0, 7, day, day)
        assert mine.member_reserved == 2
        assert [job_id for _, job_id in await store.usage.jobs_since(0, 0)] == [dm]
        limits = effective_limits(settings(quota_guild_daily_images=1), GuildConfig(0))
        assert limits.server_daily_images == 0 and limits.member_daily_images == 3
        assert effective_limits(settings(quota_guild_daily_images=1), GuildConfig(1)).server_daily_images == 1
    finally:
        await store.close()


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, discord_token="t" * 8, image_api_key="k" * 8, quota_member_daily_images=3, **values)  # type: ignore[arg-type]


async def test_a_job_costs_what_was_billed_at_its_price_in_every_rollup(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        billed = await store.create_job(job(3, requested=3))
        await store.record_image(billed, 0, message_id=1, channel_id=5, url=None)
        await store.finish_job(billed, "partial", images_billed=3, price=0.04)  # 3 made and billed, 1 delivered
        unreported = await store.create_job(job(3))
        for index in range(2):
            await store.record_image(unreported, index, message_id=1, channel_id=5, url=None)
        await store.finish_job(unreported, "completed", price=0.035)  # no usage from the API: the delivered count
        first, second = await store.get_job(billed), await store.get_job(unreported)
        assert first is not None and (first.images_delivered, first.images_billed) == (1, 3)
        assert second is not None and (second.images_delivered, second.images_billed) == (2, 2)
        assert (first.cost, second.cost) == (pytest.approx(0.12), pytest.approx(0.07))
        day = int(store.clock() // DAY)
        for totals in (await store.usage.totals(1, 3, None, 0), await store.usage.totals(1, None, day, day + 1)):
            assert (totals.images, totals.requests, totals.cost) == (3, 2, pytest.approx(0.19))
        rows = [row async for row in store.usage.export(1, 0, store.clock() + 1)]
        assert [row[-3:] for row in rows] == [(None, 3, pytest.approx(0.12)), (None, 2, pytest.approx(0.07))]
        await store.usage.forget_user(3)
        assert (await store.usage.totals(1, 0, None, 0)).cost == pytest.approx(0.19), "kept, anonymised"
    finally:
        await store.close()
