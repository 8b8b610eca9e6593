"""How role tiers combine (the most generous value of each limit), and a taken-over job rechecked against the
tier of the roles its member had (stored with the job), on both backends."""

from __future__ import annotations

from bot.quotas import QuotaService
from bot.settings import Settings
from bot.store import UsageStore
from bot.store.guilds import RoleTier
from bot.store.queue import Admit, Standing
from bot.tiers import SERVER_DEFAULT, MemberLimits, capped_resolution, member_limits, model_allowed

DEFAULT = MemberLimits(SERVER_DEFAULT, (), 10, 0, (), "2K", 6)


def test_a_member_without_a_tiered_role_has_the_server_default() -> None:
    assert member_limits(DEFAULT, {1: RoleTier("Free", daily_images=5)}, [2, 3]) is DEFAULT


def test_each_limit_takes_the_most_generous_tier_and_unset_limits_the_default() -> None:
    tiers = {
        1: RoleTier("A", daily_images=0, monthly_images=100, models=("m1",), max_resolution="1K", max_set_size=2),
        2: RoleTier("B", daily_images=3, monthly_images=50, models=("m2",), max_resolution="4K"),
        3: RoleTier("C", monthly_images=0, models=()),
    }
    both = member_limits(DEFAULT, tiers, [2, 1, 99])
    assert (both.daily_images, both.monthly_images, both.models) == (0, 100, ("m1", "m2"))  # 0 = no limit wins
    assert (both.max_resolution, both.max_set_size) == ("4K", 6)  # B's set size is unset: the default's 6
    assert (both.tier, both.roles, both.tiered) == ("A + B", (1, 2), True)
    every = member_limits(DEFAULT, tiers, [3])
    assert (every.daily_images, every.monthly_images, every.models) == (10, 0, ())
    assert model_allowed(every, "anything") and not model_allowed(both, "m3") and model_allowed(both, "m2")
    assert capped_resolution(member_limits(DEFAULT, tiers, [1]), "2K") == "1K"


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, discord_token="t" * 8, image_api_key="k" * 8, **values)  # type: ignore[arg-type]


def accept(_: Standing) -> None:
    """An admission check that lets everything through."""


async def test_a_taken_over_job_is_rechecked_against_its_members_tier(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        quotas = QuotaService(settings(quota_member_daily_images=1), store)
        await store.guilds.set_tier(1, 10, RoleTier("Standard", daily_images=30), by=99)
        await store.guilds.set_member("guild_exempt_roles", 1, 11, True, by=99)
        day = int(store.clock() // 86400)
        jobs = {}
        for roles in ((10,), (11,), ()):
            admit = Admit(1, 5, 7, "p", 3, "imagine", day, 300.0, 2, 0.03, roles, day)
            jobs[roles] = await store.queue.admit(admit, accept)
        for roles, refused in (((10,), False), ((11,), False), ((), True)):
            record = await store.get_job(jobs[roles])
            assert record is not None and record.role_ids == roles
            refusal = await quotas.recheck(record, record.images_requested)
            assert (refusal is not None) == refused, roles
            if refusal is not None:
                assert refusal.code == "quota_member_daily"
    finally:
        await store.close()
