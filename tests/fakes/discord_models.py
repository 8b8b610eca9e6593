"""Data objects of the fake Discord: users, messages, attachments, interactions, recorded requests."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000

# Gateway intents
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15

# Permissions
ADD_REACTIONS = 1 << 6
MANAGE_GUILD = 1 << 5
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_EXTERNAL_EMOJIS = 1 << 18
USE_APPLICATION_COMMANDS = 1 << 31
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
MEMBER_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_APPLICATION_COMMANDS
)
BOT_PERMISSIONS = (
    MEMBER_PERMISSIONS | MANAGE_MESSAGES | USE_EXTERNAL_EMOJIS | CREATE_PUBLIC_THREADS | SEND_MESSAGES_IN_THREADS
)

# Message flags
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15

# Interaction types (what Discord sends) and callback types (what the bot answers)
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, AUTOCOMPLETE_RESULT, MODAL = 4, 5, 6, 7, 8, 9


def now_iso() -> str:
    """Current UTC time in Discord's ISO 8601 form."""
    return datetime.now(UTC).isoformat()


class Snowflakes:
    """Hands out increasing, time-based snowflake ids as strings."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._last = 0

    def next(self) -> str:
        """A fresh snowflake, larger than every earlier one."""
        millis = int(time.time() * 1000) - DISCORD_EPOCH_MS
        value = max((millis << 22) | (next(self._counter) & 0xFFF), self._last + 1)
        self._last = value
        return str(value)

    def next_on_shard(self, shard_id: int, shard_count: int) -> str:
        """A fresh snowflake whose `(id >> 22) % shard_count` is `shard_id` (a guild on a chosen shard)."""
        value = int(self.next())
        millis = value >> 22
        millis += (shard_id - millis) % shard_count
        value = max(value, (millis << 22) | (value & 0x3FFFFF))
        self._last = value
        return str(value)


class DiscordError(Exception):
    """An error answer of the fake REST API: status, JSON code, message, optional form errors."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body Discord sends for this error."""
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def unknown_message() -> DiscordError:
    """404 Unknown Message (10008)."""
    return DiscordError(404, 10008, "Unknown Message")


def invalid_form(errors: dict[str, Any]) -> DiscordError:
    """400 Invalid Form Body (50035) with Discord's nested error tree."""
    return DiscordError(400, 50035, "Invalid Form Body", errors)


@dataclass(eq=False)
class FakeUser:
    """A guild member (or the bot) as the fake knows it."""

    id: str
    username: str
    roles: list[str] = field(default_factory=list)
    manage_messages: bool = False
    manage_guild: bool = False
    bot: bool = False
    joined_at: str = field(default_factory=now_iso)
    denied: int = 0  # permission bits taken away (e.g. a server that invited the bot without ATTACH_FILES)
    guild_id: str | None = None  # the guild this member belongs to
    locale: str = "en-US"  # the language of their Discord client (every interaction's `locale`)

    @property
    def mention(self) -> str:
        """The `<@id>` mention text."""
        return f"<@{self.id}>"

    def permissions(self) -> int:
        """The member's permission bitfield in every channel of the guild."""
        value = BOT_PERMISSIONS if self.bot else MEMBER_PERMISSIONS
        if self.manage_messages:
            value |= MANAGE_MESSAGES
        if self.manage_guild:
            value |= MANAGE_GUILD
        return value & ~self.denied

    def user_payload(self) -> dict[str, Any]:
        """Discord user object."""
        return {
            "id": self.id,
            "username": self.username,
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
        }

    def member_payload(self, *, with_user: bool = True, permissions: bool = False) -> dict[str, Any]:
        """Discord guild member object, optionally with `user` and resolved `permissions`."""
        payload: dict[str, Any] = {
            "roles": list(self.roles),
            "joined_at": self.joined_at,
            "nick": None,
            "avatar": None,
            "banner": None,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            payload["user"] = self.user_payload()
        if permissions:
            payload["permissions"] = str(self.permissions())
        return payload


@dataclass(eq=False)
class FakeAttachment:
    """A stored file: what users attach and what the bot uploads, served by the fake CDN."""

    id: str
    filename: str
    content_type: str | None
    data: bytes
    url: str
    proxy_url: str
    description: str | None = None
    width: int | None = None
    height: int | None = None
    ephemeral: bool = False

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)

    def payload(self) -> dict[str, Any]:
        """Discord attachment object."""
        payload: dict[str, Any] = {
            "id": self.id,
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.proxy_url,
            "content_type": self.content_type,
            "width": self.width,
            "height": self.height,
            "flags": 0,
        }
        if self.description is not None:
            payload["description"] = self.description
        if self.ephemeral:
            payload["ephemeral"] = True
        return payload


@dataclass(eq=False)
class FakeMessage:
    """A message in a channel (or an ephemeral one), with everything the bot or a user set on it."""

    id: str
    channel_id: str
    author: dict[str, Any]
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[FakeAttachment] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: dict[str, Any] | None = None
    message_reference: dict[str, Any] | None = None
    interaction_token: str | None = None
    deleted: bool = False
    edits: int = 0
    type: int = 0
    guild_id: str | None = None
    member: dict[str, Any] | None = None
    mentions: list[dict[str, Any]] = field(default_factory=list)
    mention_roles: list[str] = field(default_factory=list)
    referenced: FakeMessage | None = None
    webhook_id: str | None = None
    application_id: str | None = None
    interaction_metadata: dict[str, Any] | None = None
    tts: bool = False
    nonce: str | None = None
    reactions: list[str] = field(default_factory=list)
    timestamp: str = field(default_factory=now_iso)
    edited_timestamp: str | None = None

    @property
    def ephemeral(self) -> bool:
        """Whether the EPHEMERAL flag (64) is set."""
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        """Whether this is a deferred "thinking" message not yet filled in (flag 128)."""
        return bool(self.flags & FLAG_LOADING)

    @property
    def v2(self) -> bool:
        """Whether the IS_COMPONENTS_V2 flag (1 << 15) is set: text and images are in components."""
        return bool(self.flags & FLAG_COMPONENTS_V2)

    @property
    def text(self) -> str:
        """What the message reads: its content, or (components v2) its text displays joined by newlines."""
        if not self.v2:
            return self.content
        return "\n".join(c.get("content") or "" for c in walk_components(self.components) if c.get("type") == 10)

    def custom_ids(self) -> list[str]:
        """Every component custom_id on the message, depth first."""
        return [c["custom_id"] for c in walk_components(self.components) if "custom_id" in c]

    def component_types(self) -> list[int]:
        """The type of every component, depth first (1 row, 2 button, 3 select, 10 text, 12 gallery…)."""
        return [c.get("type", 0) for c in walk_components(self.components)]

    def gallery_items(self) -> list[dict[str, Any]]:
        """The items of the message's media galleries, in order (each `{"media": {...}, "description": ...}`)."""
        return [item for c in walk_components(self.components) if c.get("type") == 12 for item in c.get("items") or []]

    def gallery_files(self) -> list[FakeAttachment]:
        """The attachments the galleries show, in gallery order (an item that is no attachment is skipped)."""
        by_id = {a.id: a for a in self.attachments}
        ids = [str((item.get("media") or {}).get("attachment_id")) for item in self.gallery_items()]
        return [by_id[i] for i in ids if i in by_id]

    def images(self) -> list[FakeAttachment]:
        """The images members see: a v2 message's gallery files, else its attachments."""
        return self.gallery_files() if self.v2 else list(self.attachments)

    def payload(self, *, with_reference: bool = True) -> dict[str, Any]:
        """Discord message JSON (attachments that components show are only in the components, as on Discord)."""
        shown = referenced_ids(self.components)
        payload: dict[str, Any] = {
            "id": self.id,
            "channel_id": self.channel_id,
            "type": self.type,
            "content": self.content,
            "author": dict(self.author),
            "attachments": [a.payload() for a in self.attachments if a.id not in shown],
            "embeds": [dict(e) for e in self.embeds],
            "components": list(self.components),
            "mentions": list(self.mentions),
            "mention_roles": list(self.mention_roles),
            "mention_everyone": False,
            "pinned": False,
            "tts": self.tts,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "flags": self.flags,
        }
        if self.reactions:
            payload["reactions"] = [
                {"count": 1, "me": True, "emoji": {"id": None, "name": name}} for name in self.reactions
            ]
        optional = {
            "guild_id": self.guild_id,
            "member": self.member,
            "nonce": self.nonce,
            "webhook_id": self.webhook_id,
            "application_id": self.application_id,
            "interaction_metadata": self.interaction_metadata,
            "message_reference": self.message_reference,
        }
        payload.update({k: v for k, v in optional.items() if v is not None})
        if self.message_reference is not None and with_reference:
            ref = self.referenced
            payload["referenced_message"] = None if ref is None or ref.deleted else ref.payload(with_reference=False)
        return payload


def walk_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every component in a (legacy or v2) component tree, depth first."""
    found: list[dict[str, Any]] = []
    for component in components:
        if not isinstance(component, dict):
            continue
        found.append(component)
        children = list(component.get("components") or [])
        for key in ("accessory", "component"):
            if isinstance(component.get(key), dict):
                children.append(component[key])
        found.extend(walk_components(children))
    return found


@dataclass(eq=False)
class FakeInteraction:
    """An interaction the fake sent to the bot, and everything the bot answered."""

    id: str
    token: str
    user: FakeUser
    type: int
    data: dict[str, Any]
    channel_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    message: FakeMessage | None = None
    created: float = field(default_factory=time.monotonic)
    responded_at: float | None = None  # time.monotonic() when the callback arrived (ack latency = minus created)
    response_type: int | None = None
    ephemeral: bool = False
    original: FakeMessage | None = None
    followups: list[FakeMessage] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    choices: list[dict[str, Any]] | None = None
    shard: tuple[int, int] | None = None  # [shard_id, shard_count] of the session it was dispatched to
    _responded: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def name(self) -> str:
        """Command name, or the custom_id for components and modals."""
        return str(self.data.get("name") or self.data.get("custom_id") or "")

    @property
    def content(self) -> str | None:
        """What the @original message reads (content or v2 text displays), else the first followup, else None."""
        message = self.original or (self.followups[0] if self.followups else None)
        return None if message is None else message.text

    def mark_responded(self, response_type: int) -> None:
        """Record the callback type and wake `wait_response`."""
        self.responded_at = time.monotonic()
        self.response_type = response_type
        self._responded.set()

    async def wait_response(self, timeout: float = 5) -> None:
        """Wait until the bot sent the interaction callback."""
        try:
            await asyncio.wait_for(self._responded.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"interaction {self.name!r} (type {self.type}) got no callback within {timeout}s"
            ) from None


@dataclass
class UploadedFile:
    """One `files[n]` part of a multipart request."""

    filename: str
    content_type: str | None
    data: bytes
    name: str = ""

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)


@dataclass
class RecordedRequest:
    """One HTTP request the fake received (REST or CDN)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[UploadedFile]
    authorized: bool
    status: int = 0
    received_at: float = field(default_factory=time.monotonic)  # once the body was read

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


@dataclass
class FailRule:
    """A scripted failure for the next `times` requests matching method and path regex."""

    method: str
    pattern: Any
    status: int
    times: int
    code: int = 0
    retry_after: float | None = None
    uploads_only: bool = False  # match only requests that carry files (multipart uploads)
    disconnect: bool = False  # close the connection instead of answering
    hang: float = 0.0  # with disconnect: first stall this many seconds (a stuck upload), then drop


def media_holders(components: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    """Every (holder, key) whose holder[key] is an unfurled media item: gallery items, thumbnails, files."""
    found: list[tuple[dict[str, Any], str]] = []
    for component in walk_components(components):
        kind = component.get("type")
        if kind == 12:
            found.extend((item, "media") for item in component.get("items") or [] if isinstance(item, dict))
        elif kind == 11:
            found.append((component, "media"))
        elif kind == 13:
            found.append((component, "file"))
    return found


def referenced_ids(components: list[dict[str, Any]]) -> set[str]:
    """Ids of the attachments the components show (Discord leaves them out of `attachments`)."""
    return {
        str(holder[key]["attachment_id"])
        for holder, key in media_holders(components)
        if isinstance(holder.get(key), dict) and holder[key].get("attachment_id")
    }
