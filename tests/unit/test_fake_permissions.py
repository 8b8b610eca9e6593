"""The fake computes channel permissions as Discord does (the e2e access tests check discord.py agrees)."""

from __future__ import annotations

import aiohttp

from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_models import MANAGE_MESSAGES, READ_MESSAGE_HISTORY, VIEW_CHANNEL
from tests.fakes.discord_permissions import permissions_in


async def test_overwrites_apply_everyone_then_roles_then_the_member() -> None:
    fake = FakeDiscord()
    state = fake._state
    vip = fake.add_role("vip")
    alice, bob, carol = fake.add_member("alice", roles=[vip]), fake.add_member("bob"), fake.add_member("carol")
    room = fake.add_channel("vip-room", private_to=(vip,))
    fake.set_overwrite(room, carol, allow=VIEW_CHANNEL)
    fake.set_overwrite(room, alice, deny=VIEW_CHANNEL)
    assert [bool(permissions_in(state, u, room) & VIEW_CHANNEL) for u in (alice, bob, carol)] == [False, False, True]
    mod = fake.add_member("mod", manage_messages=True)
    assert permissions_in(state, mod, fake.channel_id) & MANAGE_MESSAGES
    assert not permissions_in(state, mod, room) & VIEW_CHANNEL


async def test_roles_given_and_taken_change_the_members_permissions() -> None:
    fake = FakeDiscord()
    state = fake._state
    vip = fake.add_role("vip")
    bob = fake.add_member("bob")
    room = fake.add_channel("vip-room", private_to=(vip,))
    assert not permissions_in(state, bob, room) & VIEW_CHANNEL
    assert fake.give_role(bob, "vip") == vip and bob.member_payload()["roles"] == [vip]
    assert permissions_in(state, bob, room) & VIEW_CHANNEL
    fake.take_role(bob, vip)
    assert not permissions_in(state, bob, room) & VIEW_CHANNEL and bob.roles == []


async def test_channel_history_needs_view_channel_and_shows_nothing_without_read_message_history() -> None:
    fake = FakeDiscord()
    await fake.start()
    try:
        plain = fake.channel_id
        hidden = fake.add_channel("hidden")
        fake.set_overwrite(hidden, fake.bot, deny=VIEW_CHANNEL)
        blind = fake.add_channel("blind")
        fake.set_overwrite(blind, fake.bot, deny=READ_MESSAGE_HISTORY)
        alice = fake.add_member("alice")
        for channel in (plain, blind):
            await fake.send_message(alice, "hello", channel_id=channel)
        headers = {"Authorization": f"Bot {fake.token}"}
        async with aiohttp.ClientSession(headers=headers) as session:

            async def history(channel: str) -> tuple[int, object]:
                async with session.get(f"{fake.base_url}/channels/{channel}/messages?limit=10") as response:
                    return response.status, await response.json()

            status, found = await history(plain)
            assert status == 200 and len(found) == 1  # type: ignore[arg-type]
            assert await history(blind) == (200, [])
            status, error = await history(hidden)
            assert status == 403 and error["code"] == 50001  # type: ignore[index]
    finally:
        await fake.close()
