"""Channel permissions as Discord computes them: base from roles, then the channel's overwrites.

https://discord.com/developers/docs/topics/permissions#permission-overwrites: @everyone's overwrite, then
the member's roles' overwrites (all denies, then all allows), then the member's own overwrite. Owners and
ADMINISTRATOR have every permission. Threads take their parent channel's overwrites.
"""

from __future__ import annotations

from typing import Any

from .discord_models import FakeUser

DiscordState = Any  # the fake's state (not imported: it imports this module)

ADMINISTRATOR = 1 << 3
ALL_PERMISSIONS = (1 << 53) - 1
THREAD_TYPES = (10, 11, 12)
ROLE, MEMBER = 0, 1  # overwrite types


def base_permissions(state: DiscordState, user: FakeUser, guild_id: str) -> int:
    """The member's guild-wide permissions: @everyone and every role they hold."""
    guild = state.guild(guild_id)
    if user.id == guild.owner_id:
        return ALL_PERMISSIONS
    value = user.permissions()
    for role_id in [guild_id, *user.roles]:
        role = guild.roles.get(role_id)
        if role is not None:
            value |= int(role["permissions"])
    value &= ~user.denied
    return ALL_PERMISSIONS if value & ADMINISTRATOR else value


def permissions_in(state: DiscordState, user: FakeUser, channel_id: str) -> int:
    """The member's permissions in one channel (DMs: their plain permissions)."""
    channel = state.channels.get(channel_id, {})
    if channel.get("type") in THREAD_TYPES:
        channel = state.channels.get(str(channel.get("parent_id")), channel)
    guild_id = channel.get("guild_id")
    if guild_id is None:
        return user.permissions()
    value = base_permissions(state, user, str(guild_id))
    if value & ADMINISTRATOR:
        return ALL_PERMISSIONS
    overwrites: dict[str, dict[str, Any]] = {str(o["id"]): o for o in channel.get("permission_overwrites", [])}

    def apply(value: int, allow: int, deny: int) -> int:
        return (value & ~deny) | allow

    everyone = overwrites.get(str(guild_id))
    if everyone is not None:
        value = apply(value, int(everyone["allow"]), int(everyone["deny"]))
    roles = [overwrites[r] for r in user.roles if r in overwrites and overwrites[r]["type"] == ROLE]
    allow = deny = 0
    for overwrite in roles:
        allow |= int(overwrite["allow"])
        deny |= int(overwrite["deny"])
    value = apply(value, allow, deny)
    own = overwrites.get(user.id)
    if own is not None and own["type"] == MEMBER:
        value = apply(value, int(own["allow"]), int(own["deny"]))
    return value


def set_overwrite(state: DiscordState, channel_id: str, target: str, kind: int, *, allow: int, deny: int) -> None:
    """Put (or replace) an overwrite on a channel and tell the gateway (CHANNEL_UPDATE)."""
    channel = state.channels[channel_id]
    kept = [o for o in channel.get("permission_overwrites", []) if str(o["id"]) != target]
    entry = {"id": target, "type": kind, "allow": str(allow), "deny": str(deny)}
    channel["permission_overwrites"] = [*kept, entry]
    state.changed()
    if state.hub is not None:
        event = state.channel_payload(channel_id)
        state.hub.enqueue("CHANNEL_UPDATE", event, intent=1, guild_id=event["guild_id"])
