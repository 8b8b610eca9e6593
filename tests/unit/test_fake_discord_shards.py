"""Self-tests of the fake Discord's guilds and shards, over raw websockets (the protocol as Discord states it)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.discord import FakeDiscord

pytestmark = pytest.mark.asyncio

GUILDS_AND_MESSAGES = (1 << 0) | (1 << 1) | (1 << 9) | (1 << 12)


class Session:
    """A raw gateway session: HELLO read, IDENTIFY sent, frames collected."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []

    async def next(self, timeout: float = 5) -> dict[str, Any]:
        """The next frame (raises on close)."""
        message = await self.ws.receive(timeout=timeout)
        if message.type is not aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"closed with {self.ws.close_code}")
        frame: dict[str, Any] = message.json()
        self.frames.append(frame)
        return frame

    async def until(self, event: str, timeout: float = 5) -> dict[str, Any]:
        """Read frames until a dispatch of `event`; return its `d`."""
        while True:
            frame = await self.next(timeout)
            if frame["t"] == event:
                return dict(frame["d"])

    async def quiet(self, seconds: float = 0.3) -> list[str]:
        """Event names received within `seconds` (expects no close)."""
        events = []
        with contextlib.suppress(TimeoutError):
            while True:
                events.append((await self.next(seconds))["t"])
        return events

    async def close_code(self, timeout: float = 5) -> int | None:
        """Wait for the server to close; its close code."""
        with contextlib.suppress(ConnectionError):
            while True:
                await self.next(timeout)
        return self.ws.close_code


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


@pytest.fixture
async def connect(http: aiohttp.ClientSession) -> AsyncIterator[Any]:
    sockets: list[aiohttp.ClientWebSocketResponse] = []

    async def open_session(fake: FakeDiscord, shard: Any = None, *, intents: int = GUILDS_AND_MESSAGES) -> Session:
        ws = await http.ws_connect(fake.gateway_url + "?v=10&encoding=json")
        sockets.append(ws)
        session = Session(ws)
        assert (await session.next())["op"] == 10
        identify: dict[str, Any] = {"token": fake.token, "intents": intents, "properties": {}}
        if shard is not None:
            identify["shard"] = shard
        await ws.send_json({"op": 2, "d": identify})
        return session

    try:
        yield open_session
    finally:
        for ws in sockets:
            await ws.close()


async def started(**options: Any) -> FakeDiscord:
    fake = FakeDiscord(**options)
    await fake.start()
    return fake


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    fake = await started(identify_interval=0.2)
    try:
        yield fake
    finally:
        await fake.close()


async def test_add_guild_places_each_guild_on_the_chosen_shard(fake: FakeDiscord) -> None:
    placed = {
        (shard, count): fake.add_guild(f"g{shard}-{count}", shard=(shard, count))
        for count in (2, 3, 7)
        for shard in range(count)
    }

    assert all(FakeDiscord.shard_of(guild_id, count) == shard for (shard, count), guild_id in placed.items())
    assert next(iter(fake.guilds)) == fake.guild_id and len(fake.guilds) == 1 + len(placed)
    other = fake.guilds[placed[1, 2]]
    assert other.system_channel_id != fake.channel_id and other.bot.id == fake.bot.id
    assert other.roles[other.id]["name"] == "@everyone" and not set(other.roles) & set(fake.guilds[fake.guild_id].roles)
    member = fake.add_member("bea", guild_id=other.id, roles=["artists"])
    assert member.id in other.members and member.id not in fake.members
    assert member.roles[0] in other.roles


async def test_unsharded_identify_is_shard_0_of_1_with_every_guild(fake: FakeDiscord, connect: Any) -> None:
    second = fake.add_guild("second")
    session = await connect(fake)
    ready = await session.until("READY")
    created = [(await session.until("GUILD_CREATE"))["id"] for _ in range(2)]

    assert [g["id"] for g in ready["guilds"]] == [fake.guild_id, second] == created
    assert "shard" not in ready
    assert fake.connections[0].shard == (0, 1)


async def test_sharded_identify_gets_only_its_guilds_and_the_shard_echoed(fake: FakeDiscord, connect: Any) -> None:
    on_1 = [fake.add_guild("a", shard=(1, 2)), fake.add_guild("b", shard=(1, 2))]
    fake.add_guild("c", shard=(0, 2))
    session = await connect(fake, [1, 2])
    ready = await session.until("READY")
    events = await session.quiet()

    expected = sorted(g for g in fake.guilds if FakeDiscord.shard_of(g, 2) == 1)
    assert set(on_1) <= set(expected)
    assert ready["shard"] == [1, 2] and sorted(g["id"] for g in ready["guilds"]) == expected
    assert events == ["GUILD_CREATE"] * len(expected)


@pytest.mark.parametrize("shard", [[2, 2], [-1, 2], [0, 0], [0], [0, 1, 2], "0,1", [True, 2], [0, 2.0]])
async def test_malformed_or_out_of_range_shard_is_closed_4010(fake: FakeDiscord, connect: Any, shard: Any) -> None:
    session = await connect(fake, shard)

    assert await session.close_code() == 4010
    assert fake.identifies == [] and fake.identify_violations == []


async def test_null_shard_is_closed_4010(fake: FakeDiscord, http: aiohttp.ClientSession) -> None:
    async with http.ws_connect(fake.gateway_url + "?v=10&encoding=json") as ws:
        await ws.receive_json(timeout=5)
        await ws.send_json({"op": 2, "d": {"token": fake.token, "intents": 1, "properties": {}, "shard": None}})
        await ws.receive(timeout=5)

    assert ws.close_code == 4010 and fake.identifies == []


async def test_more_guilds_than_a_shard_may_hold_is_closed_4011(connect: Any) -> None:
    fake = await started(identify_interval=0.0, max_guilds_per_shard=2)
    try:
        for shard in (0, 1):
            fake.add_guild(f"g{shard}", shard=(shard, 2))
        unsharded = await connect(fake)
        assert await unsharded.close_code() == 4011
        halves = [await connect(fake, [shard, 2]) for shard in (0, 1)]
        readies = [await s.until("READY") for s in halves]
    finally:
        await fake.close()

    assert sorted(len(r["guilds"]) for r in readies) == [1, 2]  # 3 guilds: the default one joins one half


async def test_gateway_bot_announces_shards_and_counts_session_starts(
    connect: Any, http: aiohttp.ClientSession
) -> None:
    fake = await started(recommended_shards=3, max_concurrency=2, session_start_total=10, identify_interval=0.0)
    headers = {"Authorization": f"Bot {fake.token}"}
    try:
        async with http.get(fake.base_url + "/gateway/bot", headers=headers) as response:
            before = await response.json()
        session = await connect(fake, [2, 3])
        await session.until("READY")
        async with http.get(fake.base_url + "/gateway/bot", headers=headers) as response:
            after = await response.json()
        async with http.get(fake.base_url + "/gateway/bot") as response:
            unauthorized = response.status
    finally:
        await fake.close()

    assert before["url"] == fake.gateway_url and before["shards"] == 3
    limit = before["session_start_limit"]
    assert (limit["total"], limit["remaining"], limit["max_concurrency"]) == (10, 10, 2) and limit["reset_after"] > 0
    assert after["session_start_limit"]["remaining"] == 9
    assert unauthorized == 401


async def test_identify_too_soon_in_the_same_bucket_is_invalid_session_and_recorded(
    fake: FakeDiscord, connect: Any
) -> None:
    first = await connect(fake, [0, 2])
    await first.until("READY")
    too_soon = await connect(fake, [1, 2])  # bucket 1 % 1 == 0 % 1: same bucket, same interval
    answer = await too_soon.next()
    await asyncio.sleep(0.25)
    later = await connect(fake, [1, 2])
    ready = await later.until("READY")

    assert (answer["op"], answer["d"]) == (9, False)
    [violation] = fake.identify_violations
    assert (violation.shard, violation.bucket, violation.interval) == ((1, 2), 0, 0.2) and violation.gap < 0.2
    assert ready["shard"] == [1, 2] and len(fake.identifies) == 2


async def test_identifies_in_different_buckets_may_come_together(connect: Any) -> None:
    fake = await started(max_concurrency=2, identify_interval=5.0)
    try:
        sessions = [await connect(fake, [shard, 4]) for shard in range(4)]
        results = [await s.next() for s in sessions]
    finally:
        await fake.close()

    assert [f["t"] or f["op"] for f in results] == ["READY", "READY", 9, 9]  # shards 2, 3 share buckets 0, 1
    assert [(v.shard, v.bucket) for v in fake.identify_violations] == [((2, 4), 0), ((3, 4), 1)]


async def test_guild_events_go_to_the_owning_shard_and_dms_to_shard_0(
    fake: FakeDiscord, connect: Any, http: aiohttp.ClientSession
) -> None:
    guilds = [fake.add_guild("zero", shard=(0, 2)), fake.add_guild("one", shard=(1, 2))]
    headers = {"Authorization": f"Bot {fake.token}"}
    command = [{"name": "ping", "description": "Ping", "type": 1}]
    url = f"{fake.base_url}/applications/{fake.application_id}/commands"
    async with http.put(url, json=command, headers=headers) as response:
        assert response.status == 200
    sessions = []
    for shard in (0, 1):
        sessions.append(session := await connect(fake, [shard, 2]))
        await session.until("READY")
        await session.quiet(0.25)  # the GUILD_CREATEs; also lets the identify interval pass

    late = fake.add_guild("late", shard=(1, 2))  # the bot joins a guild: GUILD_CREATE on its shard only
    members = [fake.add_member(f"m{shard}", guild_id=guild_id) for shard, guild_id in enumerate(guilds)]
    for member in members:
        await fake.send_message(member, "hello")
        await fake.slash(member, "ping")
    await fake.send_message(members[1], "psst", channel_id=fake.dm_channel(members[1]))
    received = [await s.quiet() for s in sessions]

    assert received[0] == ["GUILD_MEMBER_ADD", "MESSAGE_CREATE", "INTERACTION_CREATE", "MESSAGE_CREATE"]
    assert received[1] == ["GUILD_CREATE", "GUILD_MEMBER_ADD", "MESSAGE_CREATE", "INTERACTION_CREATE"]
    assert next(f["d"]["id"] for f in sessions[1].frames[::-1] if f["t"] == "GUILD_CREATE") == late
    by_guild = [
        {f["d"].get("guild_id") for f in s.frames if f["t"] in ("MESSAGE_CREATE", "INTERACTION_CREATE")}
        for s in sessions
    ]
    assert by_guild == [{guilds[0], None}, {guilds[1]}]


async def test_guild_commands_and_members_belong_to_their_guild(fake: FakeDiscord, http: aiohttp.ClientSession) -> None:
    other = fake.add_guild("other")
    stranger = fake.add_member("stranger")
    headers = {"Authorization": f"Bot {fake.token}"}
    base = f"{fake.base_url}/applications/{fake.application_id}/guilds"
    async with http.put(
        f"{base}/{other}/commands", json=[{"name": "ping", "description": "Ping"}], headers=headers
    ) as r:
        assert r.status == 200
    async with http.put(f"{base}/12345/commands", json=[], headers=headers) as r:
        unknown_guild = r.status
    async with http.get(f"{fake.base_url}/guilds/{other}/members/{stranger.id}", headers=headers) as r:
        not_a_member = (r.status, (await r.json())["code"])
    async with http.get(f"{fake.base_url}/users/@me/guilds", headers=headers) as r:
        mine = [g["id"] for g in await r.json()]

    assert unknown_guild == 403 and not_a_member == (404, 10007) and mine == [fake.guild_id, other]
    with pytest.raises(AssertionError, match="no synced command"):
        await fake.slash(stranger, "ping")  # registered in the other guild only
    with pytest.raises(AssertionError, match="not in that guild"):
        await fake.send_message(stranger, "hi", channel_id=fake.guilds[other].system_channel_id)
