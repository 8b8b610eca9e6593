"""The fake computes channel permissions as Discord does (the e2e access tests check discord.py agrees)."""

from __future__ import annotations

from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_models import MANAGE_MESSAGES, VIEW_CHANNEL
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
