"""Everything the fake Discord knows: guild, members, channels, messages, files, interactions.

Shared by the REST routes, the gateway and the test-facing `FakeDiscord`. Every mutation calls
`changed()`, which wakes `wait_for`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import io
import mimetypes
import re
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .discord_guilds import FakeGuild
from .discord_models import (
    BOT_PERMISSIONS,
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MESSAGES,
    INTENT_GUILDS,
    INTENT_MESSAGE_CONTENT,
    MEMBER_PERMISSIONS,
    FailRule,
    FakeAttachment,
    FakeInteraction,
    FakeMessage,
    FakeUser,
    RecordedRequest,
    Snowflakes,
    now_iso,
)
from .discord_permissions import permissions_in
from .discord_shards import Sharding

if TYPE_CHECKING:
    from .discord_gateway import GatewayHub

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
CDN_TTL_SECONDS = 24 * 3600


class DiscordState:
    """The fake's data and the operations that change it."""

    def __init__(
        self,
        *,
        token: str,
        token_ttl: float,
        ack_deadline: float,
        attachment_size_limit: int,
        message_content_approved: bool,
    ) -> None:
        self.token = token
        self.token_ttl = token_ttl
        self.ack_deadline = ack_deadline
        self.attachment_size_limit = attachment_size_limit
        self.message_content_approved = message_content_approved
        self.ids = Snowflakes()
        self.base_url = self.cdn_base = self.gateway_url = ""
        self.hub: GatewayHub | None = None
        self.sharding = Sharding()
        self._change = asyncio.Event()

        self.application_id = self.ids.next()
        self.guild_id = self.ids.next()
        self.owner_id = self.ids.next()
        self.guilds: dict[str, FakeGuild] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        default = self.add_guild("Fake Guild", guild_id=self.guild_id)
        self.roles: dict[str, dict[str, Any]] = default.roles  # the default guild's, like `members`
        self.members: dict[str, FakeUser] = default.members
        self.bot = default.bot
        self.bot_user: dict[str, Any] = {
            **self.bot.user_payload(),
            "verified": True,
            "mfa_enabled": False,
            "email": None,
        }
        self.channel_id = str(default.system_channel_id)

        self.messages: dict[str, FakeMessage] = {}
        self.files: dict[str, FakeAttachment] = {}
        self.interactions: dict[str, FakeInteraction] = {}
        self.tokens: dict[str, FakeInteraction] = {}
        self.expired_tokens: set[str] = set()
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[RecordedRequest] = []
        self.unhandled: list[str] = []
        self.fail_rules: list[FailRule] = []

    # ----------------------------------------------------------------- change notification

    def changed(self) -> None:
        """Wake every `wait_for` so it re-checks its predicate."""
        self._change.set()
        self._change = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float, what: str | None = None) -> Any:
        """Re-check `predicate` on each change (and every 50 ms) until truthy; return its value."""
        deadline = time.monotonic() + timeout
        value: Any = None
        while True:
            event = self._change
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(self._timeout_message(predicate, timeout, value, what))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.05))

    def _timeout_message(self, predicate: Callable[[], Any], timeout: float, value: Any, what: str | None) -> str:
        name = what or _describe(predicate)
        recent = "; ".join(str(r) for r in self.requests[-8:]) or "none"
        messages = "; ".join(
            f"{m.id} {'(ephemeral) ' if m.ephemeral else ''}{m.content[:40]!r}"
            for m in list(self.messages.values())[-4:]
        )
        lines = [
            f"{name} still false after {timeout}s (last value {value!r})",
            f"  last requests: {recent}",
            f"  last messages: {messages or 'none'}",
            f"  gateway: {self.hub.describe() if self.hub else 'not started'}",
        ]
        if self.unhandled:
            lines.append(f"  unhandled routes: {self.unhandled}")
        return "\n".join(lines)

    # ----------------------------------------------------------------- guild setup

    def add_guild(self, name: str, *, guild_id: str | None = None, shard: tuple[int, int] | None = None) -> FakeGuild:
        """A new guild with @everyone, the bot (and its managed role) and a #general channel."""
        if guild_id is None:
            guild_id = self.ids.next_on_shard(*shard) if shard else self.ids.next()
        hub, self.hub = self.hub, None  # its roles and channel arrive inside GUILD_CREATE, not one by one
        guild = self.guilds[guild_id] = FakeGuild(id=guild_id, name=name, owner_id=self.owner_id)
        self.add_role("@everyone", permissions=MEMBER_PERMISSIONS, role_id=guild_id, guild_id=guild_id)
        bot_role = self.add_role("imagebot", permissions=BOT_PERMISSIONS, managed=True, guild_id=guild_id)
        bot_id = self.bot.id if len(self.guilds) > 1 else self.ids.next()
        guild.members[bot_id] = FakeUser(id=bot_id, username="imagebot", roles=[bot_role], bot=True, guild_id=guild_id)
        guild.system_channel_id = self.add_channel("general", guild_id=guild_id)
        self.hub = hub
        if self.hub is not None:
            self.hub.enqueue("GUILD_CREATE", self.guild_payload(guild_id), intent=INTENT_GUILDS, guild_id=guild_id)
        return guild

    def guild(self, guild_id: str | None = None) -> FakeGuild:
        """A guild by id (the default guild for None)."""
        found = self.guilds.get(guild_id or self.guild_id)
        if found is None:
            raise AssertionError(f"unknown guild {guild_id}; guilds are {sorted(self.guilds)}")
        return found

    def find_user(self, user_id: str) -> FakeUser | None:
        """A user by id, from whichever guild knows them."""
        return next((g.members[user_id] for g in self.guilds.values() if user_id in g.members), None)

    def default_channel(self, user: FakeUser) -> str:
        """Where a user acts unless told otherwise: their guild's #general."""
        return str(self.guild(user.guild_id).system_channel_id)

    def add_role(
        self,
        name: str,
        *,
        permissions: int = 0,
        managed: bool = False,
        role_id: str | None = None,
        guild_id: str | None = None,
    ) -> str:
        """Create a role in a guild (the default one unless given); return its id."""
        guild = self.guild(guild_id)
        role_id = role_id or self.ids.next()
        roles = guild.roles
        roles[role_id] = {
            "id": role_id,
            "name": name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": len(roles),
            "permissions": str(permissions),
            "managed": managed,
            "mentionable": False,
            "flags": 0,
        }
        self.changed()
        if self.hub is not None:
            event = {"guild_id": guild.id, "role": roles[role_id]}
            self.hub.enqueue("GUILD_ROLE_CREATE", event, intent=INTENT_GUILDS, guild_id=guild.id)
        return role_id

    def role_id(self, name_or_id: str, guild_id: str | None = None) -> str:
        """A role id of a guild from an id or a name; unknown names become new roles."""
        roles = self.guild(guild_id).roles
        if name_or_id in roles:
            return name_or_id
        for role in roles.values():
            if role["name"] == name_or_id:
                return str(role["id"])
        return self.add_role(name_or_id, guild_id=guild_id)

    def add_channel(
        self, name: str, *, kind: int = 0, recipient: FakeUser | None = None, guild_id: str | None = None
    ) -> str:
        """Create a guild text channel (or a DM channel with `recipient`); return its id."""
        channel_id = self.ids.next()
        if recipient is not None:
            channel = {"id": channel_id, "type": 1, "recipients": [recipient.user_payload()]}
        else:
            channel = {
                "id": channel_id,
                "type": kind,
                "name": name,
                "guild_id": guild_id or self.guild_id,
                "position": sum(1 for c in self.channels.values() if c.get("guild_id") == (guild_id or self.guild_id)),
                "permission_overwrites": [],
                "nsfw": False,
                "topic": None,
                "parent_id": None,
                "rate_limit_per_user": 0,
                "flags": 0,
            }
        self.channels[channel_id] = {**channel, "last_message_id": None}
        self.changed()
        if self.hub is not None and recipient is None:
            event = self.channel_payload(channel_id)
            self.hub.enqueue("CHANNEL_CREATE", event, intent=INTENT_GUILDS, guild_id=event["guild_id"])
        return channel_id

    def add_thread(self, parent_id: str, message_id: str, name: str, auto_archive_duration: int) -> dict[str, Any]:
        """A public thread started from a message (Discord gives it the message's id); returns its payload."""
        guild_id = self.channels[parent_id]["guild_id"]
        thread = {
            "id": message_id,
            "type": 11,
            "guild_id": guild_id,
            "parent_id": parent_id,
            "owner_id": self.bot.id,
            "name": name,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": 1,
            "total_message_sent": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": auto_archive_duration,
                "archive_timestamp": now_iso(),
                "locked": False,
                "create_timestamp": now_iso(),
            },
        }
        self.channels[message_id] = thread
        self.changed()
        if self.hub is not None:
            event = {**thread, "newly_created": True}
            self.hub.enqueue("THREAD_CREATE", event, intent=INTENT_GUILDS, guild_id=guild_id)
        return thread

    def dm_channel(self, user: FakeUser) -> str:
        """The DM channel between the bot and `user`, created on first use."""
        for channel_id, channel in self.channels.items():
            if channel["type"] == 1 and channel["recipients"][0]["id"] == user.id:
                return channel_id
        return self.add_channel(user.username, recipient=user)

    def is_dm(self, channel_id: str) -> bool:
        """Whether the channel is a DM."""
        return self.channels.get(channel_id, {}).get("type") == 1

    def channel_payload(self, channel_id: str, *, for_user: FakeUser | None = None) -> dict[str, Any]:
        """Discord channel object, with `permissions` when for an interaction."""
        payload = dict(self.channels[channel_id])
        if for_user is not None:
            payload["permissions"] = str(permissions_in(self, for_user, channel_id))
        return payload

    def guild_payload(self, guild_id: str | None = None) -> dict[str, Any]:
        """Full GUILD_CREATE object of a guild (the default one unless given)."""
        guild = self.guild(guild_id)
        return guild.payload([c for c in self.channels.values() if c.get("guild_id") == guild.id])

    # ----------------------------------------------------------------- files

    def store_file(
        self,
        data: bytes,
        filename: str,
        content_type: str | None,
        *,
        description: str | None = None,
        width: int | None = None,
        height: int | None = None,
        ephemeral: bool = False,
    ) -> FakeAttachment:
        """Keep bytes on the fake CDN and describe them as an attachment."""
        file_id = self.ids.next()
        if content_type is None or content_type == "application/octet-stream":
            content_type = mimetypes.guess_type(filename)[0] or content_type
        if width is None and height is None and (content_type or "").startswith("image/"):
            width, height = _image_size(data)
        issued = int(time.time())
        signature = secrets.token_hex(32)
        query = f"ex={issued + CDN_TTL_SECONDS:x}&is={issued:x}&hm={signature}&"
        url = f"{self.cdn_base}/attachments/{file_id}/{quote(filename)}?{query}"
        attachment = FakeAttachment(
            id=file_id,
            filename=filename,
            content_type=content_type,
            data=data,
            url=url,
            proxy_url=url,
            description=description,
            width=width,
            height=height,
            ephemeral=ephemeral,
        )
        self.files[file_id] = attachment
        return attachment

    def attachment_from(self, value: Any) -> FakeAttachment:
        """A stored attachment from an `add_attachment()` dict or a FakeAttachment."""
        if isinstance(value, FakeAttachment):
            return value
        stored = self.files.get(str(value.get("id")))
        if stored is None:
            raise AssertionError(f"attachment {value!r} was not made by add_attachment()")
        return stored

    # ----------------------------------------------------------------- messages

    def bot_author(self) -> dict[str, Any]:
        """The bot's user object as a message author."""
        return self.bot.user_payload()

    def add_message(self, message: FakeMessage) -> FakeMessage:
        """Store a new message and bump the channel's last_message_id."""
        self.messages[message.id] = message
        channel = self.channels.get(message.channel_id)
        if channel is not None and not message.ephemeral:
            channel["last_message_id"] = message.id
        self.changed()
        return message

    def guild_of(self, channel_id: str) -> str | None:
        """The guild id of a channel (None for DMs)."""
        guild_id = self.channels.get(channel_id, {}).get("guild_id")
        return None if guild_id is None else str(guild_id)

    def mentions_in(self, content: str, guild_id: str | None) -> tuple[list[dict[str, Any]], list[str]]:
        """Users (with member in a guild) and role ids mentioned in `content` posted in `guild_id`."""
        guild = self.guilds.get(guild_id or "")
        users = []
        for user_id in dict.fromkeys(USER_MENTION.findall(content)):
            member = guild.members.get(user_id) if guild else self.find_user(user_id)
            if member is None:
                continue
            if guild is None:
                users.append(member.user_payload())
            else:
                users.append({**member.user_payload(), "member": member.member_payload(with_user=False)})
        roles = [r for r in dict.fromkeys(ROLE_MENTION.findall(content)) if guild and r in guild.roles]
        return users, roles

    def content_visible(self, message: FakeMessage, intents: int | None) -> bool:
        """Whether a session with `intents` may see the message's content (MESSAGE_CONTENT rules)."""
        if intents is not None and intents & INTENT_MESSAGE_CONTENT:
            return True
        if message.author.get("id") == self.bot.id or message.guild_id is None:
            return True
        return any(user.get("id") == self.bot.id for user in message.mentions)

    def visible_payload(self, message: FakeMessage, intents: int | None) -> dict[str, Any]:
        """Message JSON as a session with `intents` receives it (content blanked when privileged)."""
        payload = message.payload()
        if not self.content_visible(message, intents):
            _blank(payload)
        referenced = payload.get("referenced_message")
        if referenced and message.referenced and not self.content_visible(message.referenced, intents):
            _blank(referenced)
        return payload

    async def dispatch_message(self, event: str, message: FakeMessage) -> None:
        """Send MESSAGE_CREATE/UPDATE/DELETE to sessions subscribed to the channel's messages."""
        if message.ephemeral or self.hub is None:
            return
        intent = INTENT_DIRECT_MESSAGES if message.guild_id is None else INTENT_GUILD_MESSAGES
        if event == "MESSAGE_DELETE":
            data = {"id": message.id, "channel_id": message.channel_id}
            if message.guild_id:
                data["guild_id"] = message.guild_id
            await self.hub.dispatch(event, lambda conn: data, intent=intent, guild_id=message.guild_id)
            return
        await self.hub.dispatch(
            event, lambda conn: self.visible_payload(message, conn.intents), intent=intent, guild_id=message.guild_id
        )

    def last_intents(self) -> int | None:
        """IDENTIFY intents of the most recent gateway session."""
        return None if self.hub is None else self.hub.last_intents


def _describe(predicate: Callable[[], Any]) -> str:
    try:
        return inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return getattr(predicate, "__qualname__", repr(predicate))


def _blank(payload: dict[str, Any]) -> None:
    payload["content"] = ""
    payload["embeds"] = []
    payload["attachments"] = []
    payload["components"] = []
    payload.pop("poll", None)


def _image_size(data: bytes) -> tuple[int | None, int | None]:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:
        return None, None
