"""The durable queue in the store, on SQLite and PostgreSQL: admission, claims, leases, takeover, positions."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import asyncpg
import pytest

from bot.store import UsageStore
from bot.store.journal import Origin
from bot.store.queue import ADMIT_BATCH, Admit, Standing


class Clock:
    """A settable clock shared by several stores (the 'processes' of a test)."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def request(user_id: int = 7, *, images: int = 2, guild_id: int | None = 1, cap: int = 2) -> Admit:
    return Admit(guild_id, 5, user_id, "a fox", images, "imagine", day=11, hold=300.0, member_cap=cap)


def accept(_: Standing) -> None:
    """An admission check that lets everything through."""


async def queued(store: UsageStore, user_id: int = 7, *, cap: int = 2, images: int = 2) -> int:
    job_id = await store.queue.admit(request(user_id, cap=cap, images=images), accept)
    assert await store.queue.enqueue(job_id, params=json.dumps({"size": "2K"}), origin=Origin(token="t"))
    return job_id


@pytest.fixture
async def store(database_url: str) -> UsageStore:
    opened = await UsageStore.open(database_url, clock=Clock())
    yield opened  # type: ignore[misc]
    await opened.close()


async def test_admission_reserves_a_pending_row_that_counts_until_it_ends(store: UsageStore) -> None:
    seen: list[Standing] = []
    first = await store.queue.admit(request(images=3), seen.append)
    await store.queue.admit(request(images=4), seen.append)
    assert seen[0] == Standing()
    assert (seen[1].member_reserved, seen[1].server_reserved, seen[1].member_waiting, seen[1].waiting) == (3, 3, 1, 1)
    assert seen[1].last_request_at == store.clock()
    assert (await store.get_job(first)).status == "pending"  # type: ignore[union-attr]
    assert await store.queue.cancel(first)
    third: list[Standing] = []
    await store.queue.admit(request(images=1), third.append)
    assert (third[0].member_reserved, third[0].member_waiting) == (4, 1)  # the cancelled one no longer counts


async def test_the_admitted_parameters_show_until_the_job_is_queued_with_its_model_and_size(store: UsageStore) -> None:
    admitted = dataclasses.replace(request(), params=json.dumps({"references": 2, "size": "2K"}))
    job_id = await store.queue.admit(admitted, accept)
    record = await store.get_job(job_id)
    assert record is not None and record.params == {"references": 2, "size": "2K"} and record.model is None
    batch = [dataclasses.replace(request(user), params=json.dumps({"references": user})) for user in (8, 9)]
    together = await asyncio.gather(*(store.queue.admit(one, accept) for one in batch))  # one multi-row insert
    assert [(await store.get_job(i)).params for i in together] == [{"references": 8}, {"references": 9}]  # type: ignore[union-attr]

    full = json.dumps({"references": 2, "size": "2848x1600", "count": 2})
    assert await store.queue.enqueue(job_id, params=full, origin=Origin(), model="seedream", size="2848x1600")
    record = await store.get_job(job_id)
    assert record is not None and record.params["size"] == "2848x1600"
    assert (record.model, record.size) == ("seedream", "2848x1600")


async def test_a_burst_of_admissions_is_answered_a_batch_at_a_time_first_come_first_served(store: UsageStore) -> None:
    checked: list[int] = []  # members in the order their admissions were checked
    answered: list[tuple[int, int]] = []  # (member, admissions checked by then) in the order they were answered

    async def admit(user: int) -> int:
        job_id = await store.queue.admit(request(user, images=1), lambda _: checked.append(user))
        answered.append((user, len(checked)))
        return job_id

    burst = 2 * ADMIT_BATCH + 3
    job_ids = await asyncio.gather(*(admit(100 + i) for i in range(burst)))
    assert checked == [100 + i for i in range(burst)] and job_ids == sorted(job_ids)  # first come, first served
    # the first batch is answered before the next one is checked: a burst is not answered all at once at its end
    assert answered[:ADMIT_BATCH] == [(100 + i, ADMIT_BATCH) for i in range(ADMIT_BATCH)]
    assert [user for user, _ in answered] == [100 + i for i in range(burst)]
    assert len({job_id for job_id in job_ids}) == burst and await store.queue.waiting() == burst


async def test_a_refused_admission_writes_nothing(store: UsageStore) -> None:
    def refuse(_: Standing) -> None:
        raise ValueError("over the limit")

    with pytest.raises(ValueError):
        await store.queue.admit(request(), refuse)
    assert await store.recent_jobs() == []


async def test_a_cancelled_job_cannot_be_queued_and_is_not_counted_as_a_request(store: UsageStore) -> None:
    job_id = await store.queue.admit(request(), accept)
    assert await store.queue.cancel(job_id)
    assert not await store.queue.enqueue(job_id, params="{}", origin=Origin())
    record = await store.get_job(job_id)
    assert record is not None and record.status == "cancelled" and record.finished_at is not None
    assert (await store.usage.totals(1, 7, None, 0)).requests == 0


async def test_claims_respect_the_global_limit_and_each_members_cap_in_fifo_order(store: UsageStore) -> None:
    a1, a2, a3 = [await queued(store, 1, cap=2) for _ in range(3)]
    b1 = await queued(store, 2, cap=1)
    b2 = await queued(store, 2, cap=1)
    claims = await store.queue.claim("w1", limit=10, global_limit=4, lease=30)
    assert [c.job_id for c in claims] == [a1, a2, b1]  # a3 waits for member 1's cap, b2 for member 2's
    assert await store.queue.claim("w2", limit=10, global_limit=4, lease=30) == []
    await store.finish_job(a1, "completed")
    assert [c.job_id for c in await store.queue.claim("w2", limit=10, global_limit=4, lease=30)] == [a3]
    assert await store.queue.positions([b2, a1]) == {b2: 1}
    assert (await store.get_job(a3)).worker_id == "w2"  # type: ignore[union-attr]


async def test_a_claim_never_waits_for_a_row_another_transaction_holds_nor_locks_those_it_leaves(
    postgres_url: str,
) -> None:
    store = await UsageStore.open(postgres_url, clock=Clock())
    other = await asyncpg.connect(postgres_url)
    try:
        held, free, left = [await queued(store, user) for user in (1, 2, 3)]
        async with other.transaction():  # e.g. a cancel of `held` under way
            await other.execute("SELECT id FROM jobs WHERE id = $1 FOR UPDATE", held)
            claims = await asyncio.wait_for(store.queue.claim("w", limit=2, global_limit=9, lease=30), 10)
            assert held not in [c.job_id for c in claims] and free in [c.job_id for c in claims]
            # the claim committed: the queued job it left behind is not locked by it
            assert await other.fetchval("SELECT id FROM jobs WHERE id = $1 FOR UPDATE NOWAIT", left) == left
    finally:
        await other.close()
        await store.close()


async def test_an_expired_lease_is_taken_over_first_and_the_old_worker_loses_it(store: UsageStore) -> None:
    clock: Clock = store.clock  # type: ignore[assignment]
    first = await queued(store)
    second = await queued(store, 8)
    assert [c.job_id for c in await store.queue.claim("w1", limit=1, global_limit=9, lease=30)] == [first]
    clock.now += 20
    assert await store.queue.heartbeat("w1", [first], 30) == {first}
    clock.now += 31  # w1 died: its lease runs out
    claims = await store.queue.claim("w2", limit=5, global_limit=9, lease=30)
    assert [(c.job_id, c.taken_over) for c in claims] == [(first, True), (second, False)]
    assert await store.queue.heartbeat("w1", [first], 30) == set()
    record = await store.get_job(first)
    assert record is not None and record.worker_id == "w2" and record.attempts == 2


async def test_released_jobs_are_taken_over_at_once(store: UsageStore) -> None:
    job_id = await queued(store)
    await store.queue.claim("w1", limit=1, global_limit=9, lease=30)
    await store.queue.release("w1", [job_id])
    assert [(c.job_id, c.taken_over) for c in await store.queue.claim("w2", limit=1, global_limit=9, lease=30)] == [
        (job_id, True)
    ]


async def test_pending_reservations_expire_when_never_queued(store: UsageStore) -> None:
    clock: Clock = store.clock  # type: ignore[assignment]
    stale = await store.queue.admit(request(), accept)
    clock.now += 301
    fresh = await store.queue.admit(request(), accept)
    assert await store.queue.expire_pending() == [stale]
    assert (await store.get_job(fresh)).status == "pending"  # type: ignore[union-attr]
    assert await store.queue.waiting() == 1


async def test_many_workers_claiming_at_once_never_exceed_the_global_limit(database_url: str) -> None:
    clock = Clock()
    stores = [await UsageStore.open(database_url, clock=clock, single_process=False) for _ in range(3)]
    try:
        for n in range(40):
            await queued(stores[0], n, cap=1)

        async def worker(index: int) -> int:
            got = 0
            for _ in range(10):
                got += len(await stores[index % 3].queue.claim(f"w{index}", limit=3, global_limit=8, lease=30))
            return got

        claimed = await asyncio.gather(*(worker(i) for i in range(6)))
        assert sum(claimed) == 8
    finally:
        for opened in stores:
            await opened.close()


async def test_a_worker_is_woken_when_another_process_queues_a_job(database_url: str) -> None:
    stores = [await UsageStore.open(database_url, single_process=False) for _ in range(2)]
    try:
        assert not await stores[1].queue.wait(0.2)  # nothing moved: the wait times out
        waiter = asyncio.create_task(stores[1].queue.wait(10))
        await asyncio.sleep(0.2)
        await queued(stores[0])
        if stores[0].backend == "sqlite":  # one process only: the event is in-process
            stores[1].queue.moved()
        assert await asyncio.wait_for(waiter, 5)
    finally:
        for opened in stores:
            await opened.close()


async def test_the_reference_tray_keeps_order_limit_and_expiry(store: UsageStore) -> None:
    clock: Clock = store.clock  # type: ignore[assignment]
    tray = store.tray
    added = await tray.add(1, 7, [("a.png", "u1"), ("b.png", "u2")], channel_id=5, message_id=9, ttl=60, limit=3)
    assert added == (2, 0)
    assert await tray.add(
        1, 7, [("a.png", "u1"), ("c.png", "u3"), ("d.png", "u4")], channel_id=5, message_id=9, ttl=60, limit=3
    ) == (1, 1)
    assert [i.name for i in await tray.items(1, 7, 60)] == ["a.png", "b.png", "c.png"]
    removed = await tray.remove(1, 7, 1, 60)
    assert removed is not None and removed.name == "b.png"
    assert await tray.items(2, 7, 60) == []  # another server's tray is separate
    clock.now += 61
    assert await tray.items(1, 7, 60) == []
