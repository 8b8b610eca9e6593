"""REST routes that need the bot token: startup, channels, messages, guild, users, command sync."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from .discord_guilds import FakeGuild
from .discord_messages import Body, MessageWriter
from .discord_models import (
    CREATE_PUBLIC_THREADS,
    FLAG_COMPONENTS_V2,
    FLAG_SUPPRESS_EMBEDS,
    FLAG_SUPPRESS_NOTIFICATIONS,
    READ_MESSAGE_HISTORY,
    VIEW_CHANNEL,
    DiscordError,
    FakeMessage,
    RecordedRequest,
    invalid_form,
    unknown_message,
)
from .discord_permissions import permissions_in
from .discord_state import DiscordState
from .discord_validation import error, validate_commands

CHANNEL_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2


@dataclass
class Call:
    """One routed REST request."""

    params: dict[str, str]
    query: dict[str, str]
    body: Body
    record: RecordedRequest

    def payload(self) -> dict[str, Any]:
        """The JSON body as a dict (empty when absent)."""
        value = self.body.json
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise invalid_form(error("DICT_TYPE_CONVERT", "Only dictionaries may be used."))
        return value


Handler = Callable[[Call], Awaitable[web.StreamResponse]]


@dataclass
class Route:
    """A method + path template (`{name}` segments) and its handler."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler
    bot_auth: bool = True


def route(method: str, template: str, handler: Handler, *, bot_auth: bool = True) -> Route:
    """Compile a path template like `/channels/{channel_id}/messages`."""
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return Route(method, re.compile(f"^{regex}$"), handler, bot_auth)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with exactly `Content-Type: application/json` (discord.py compares it verbatim)."""
    body = json.dumps(data, separators=(",", ":")).encode()
    return web.Response(body=body, status=status, headers={**(headers or {}), "Content-Type": "application/json"})


def no_content() -> web.Response:
    """204 No Content."""
    return web.Response(status=204)


def error_response(exc: DiscordError) -> web.Response:
    """A DiscordError as Discord's JSON error body."""
    return json_response(exc.body(), exc.status, exc.headers)


class BotRoutes:
    """Handlers for routes called with `Authorization: Bot <token>`."""

    def __init__(self, state: DiscordState, writer: MessageWriter) -> None:
        self.state = state
        self.writer = writer
        self._nonces: dict[str, FakeMessage] = {}

    def routes(self) -> list[Route]:
        """This group's routes."""
        channel = "/channels/{channel_id}"
        message = channel + "/messages/{message_id}"
        return [
            route("GET", "/users/@me", self.get_me),
            route("GET", "/oauth2/applications/@me", self.get_application),
            route("GET", "/applications/@me", self.get_application),
            route("GET", "/gateway", self.get_gateway, bot_auth=False),
            route("GET", "/gateway/bot", self.get_gateway_bot),
            route("GET", "/users/@me/guilds", self.get_my_guilds),
            route("GET", "/users/{user_id}", self.get_user),
            route("POST", "/users/@me/channels", self.create_dm),
            route("GET", "/guilds/{guild_id}", self.get_guild),
            route("GET", "/guilds/{guild_id}/channels", self.get_guild_channels),
            route("GET", "/guilds/{guild_id}/roles", self.get_roles),
            route("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member),
            route("GET", channel, self.get_channel),
            route("POST", channel + "/typing", self.typing),
            route("GET", channel + "/messages", self.history),
            route("POST", channel + "/messages", self.create_message),
            route("GET", message, self.get_message),
            route("PATCH", message, self.edit_message),
            route("DELETE", message, self.delete_message),
            route("POST", message + "/threads", self.start_thread),
            route("PUT", message + "/reactions/{emoji}/@me", self.add_reaction),
            route("DELETE", message + "/reactions/{emoji}/@me", self.remove_reaction),
            route("GET", "/applications/{app}/commands", self.get_commands),
            route("PUT", "/applications/{app}/commands", self.put_commands),
            route("GET", "/applications/{app}/guilds/{guild_id}/commands", self.get_commands),
            route("PUT", "/applications/{app}/guilds/{guild_id}/commands", self.put_commands),
        ]

    # ---------------------------------------------------------------- startup

    async def get_me(self, call: Call) -> web.Response:
        """The bot user."""
        return json_response(self.state.bot_user)

    async def get_application(self, call: Call) -> web.Response:
        """Application info as `Client.application_info()` reads it."""
        owner = {"id": self.state.owner_id, "username": "owner", "discriminator": "0", "avatar": None}
        return json_response(
            {
                "id": self.state.application_id,
                "name": "imagebot",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": owner,
                "team": None,
                "verify_key": "0" * 64,
                "flags": 1 << 19,
                "summary": "",
                "rpc_origins": [],
                "redirect_uris": [],
                "tags": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": len(self.state.guilds),
                "bot": self.state.bot_user,
            }
        )

    async def get_gateway(self, call: Call) -> web.Response:
        """The gateway URL."""
        return json_response({"url": self.state.gateway_url})

    async def get_gateway_bot(self, call: Call) -> web.Response:
        """Gateway URL, recommended shard count and session start limit."""
        return json_response(self.state.sharding.gateway_bot(self.state.gateway_url))

    # ---------------------------------------------------------------- users and guild

    async def get_my_guilds(self, call: Call) -> web.Response:
        """The bot's guilds as partial guild objects, with its permissions there."""
        return json_response([guild.partial() for guild in self.state.guilds.values()])

    async def get_user(self, call: Call) -> web.Response:
        """A user by id."""
        member = self.state.find_user(call.params["user_id"])
        if member is None:
            raise DiscordError(404, 10013, "Unknown User")
        return json_response(member.user_payload())

    async def create_dm(self, call: Call) -> web.Response:
        """Open (or reuse) a DM channel with a member."""
        member = self.state.find_user(str(call.payload().get("recipient_id")))
        if member is None:
            raise invalid_form({"recipient_id": error("USER_UNKNOWN", "Unknown user")})
        return json_response(self.state.channel_payload(self.state.dm_channel(member)))

    def _guild(self, call: Call) -> FakeGuild:
        guild = self.state.guilds.get(call.params["guild_id"])
        if guild is None:
            raise DiscordError(404, 10004, "Unknown Guild")
        return guild

    async def get_guild(self, call: Call) -> web.Response:
        """The guild object."""
        guild = self.state.guild_payload(self._guild(call).id)
        for key in ("members", "channels", "threads", "presences", "voice_states", "joined_at", "large"):
            guild.pop(key, None)
        return json_response(guild)

    async def get_guild_channels(self, call: Call) -> web.Response:
        """The guild's channels."""
        return json_response(self.state.guild_payload(self._guild(call).id)["channels"])

    async def get_roles(self, call: Call) -> web.Response:
        """The guild's roles."""
        return json_response(list(self._guild(call).roles.values()))

    async def get_member(self, call: Call) -> web.Response:
        """A guild member by user id."""
        member = self._guild(call).members.get(call.params["user_id"])
        if member is None:
            raise DiscordError(404, 10007, "Unknown Member")
        return json_response(member.member_payload())

    # ---------------------------------------------------------------- channels and messages

    def _channel(self, call: Call) -> str:
        channel_id = call.params["channel_id"]
        if channel_id not in self.state.channels:
            raise DiscordError(404, 10003, "Unknown Channel")
        return channel_id

    def _message(self, call: Call) -> FakeMessage:
        channel_id = self._channel(call)
        message = self.state.messages.get(call.params["message_id"])
        if message is None or message.deleted or message.ephemeral or message.channel_id != channel_id:
            raise unknown_message()
        return message

    async def get_channel(self, call: Call) -> web.Response:
        """A channel object."""
        return json_response(self.state.channel_payload(self._channel(call)))

    async def typing(self, call: Call) -> web.Response:
        """Typing indicator (accepted, no effect)."""
        self._channel(call)
        return no_content()

    async def history(self, call: Call) -> web.Response:
        """Channel history, newest first, with limit/before/after/around. In a server the bot needs VIEW_CHANNEL
        (else 403 Missing Access) and READ_MESSAGE_HISTORY (else Discord returns no messages)."""
        channel_id = self._channel(call)
        guild_id = self.state.guild_of(channel_id)
        if guild_id is not None:
            allowed = permissions_in(self.state, self.state.guild(guild_id).bot, channel_id)
            if not allowed & VIEW_CHANNEL:
                raise DiscordError(403, 50001, "Missing Access")
            if not allowed & READ_MESSAGE_HISTORY:
                return json_response([])
        try:
            limit = int(call.query.get("limit", "50"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            raise invalid_form({"limit": error("NUMBER_TYPE_MAX", "int value should be between 1 and 100.")})
        found = sorted(
            (m for m in self.state.messages.values() if m.channel_id == channel_id),
            key=lambda m: int(m.id),
        )
        found = [m for m in found if not m.deleted and not m.ephemeral]
        if "before" in call.query:
            found = [m for m in found if int(m.id) < int(call.query["before"])][-limit:]
        elif "after" in call.query:
            found = [m for m in found if int(m.id) > int(call.query["after"])][:limit]
        elif "around" in call.query:
            pivot = int(call.query["around"])
            older = [m for m in found if int(m.id) <= pivot][-((limit + 1) // 2) :]
            found = older + [m for m in found if int(m.id) > pivot][: limit - len(older)]
        else:
            found = found[-limit:]
        intents = self.state.last_intents()
        return json_response([self.state.visible_payload(m, intents) for m in reversed(found)])

    async def create_message(self, call: Call) -> web.Response:
        """Post a message as the bot; honours message_reference (reply, type 19) and nonces."""
        channel_id = self._channel(call)
        payload = call.payload()
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce") and str(nonce) in self._nonces:
            return json_response(self._nonces[str(nonce)].payload())
        fields: dict[str, Any] = {"type": 0, "nonce": None if nonce is None else str(nonce)}
        reference = payload.get("message_reference")
        if reference:
            replied = self.state.messages.get(str(reference.get("message_id")))
            if replied is None or replied.deleted or replied.ephemeral:
                if reference.get("fail_if_not_exists", True):
                    raise invalid_form({"message_reference": error("REPLIES_UNKNOWN_MESSAGE", "Unknown message")})
            else:
                ref = {"type": 0, "message_id": replied.id, "channel_id": replied.channel_id}
                if replied.guild_id:
                    ref["guild_id"] = replied.guild_id
                fields.update(type=19, referenced=replied, message_reference=ref)
        if (guild_id := self.state.guild_of(channel_id)) is not None:
            fields["member"] = self.state.guild(guild_id).bot.member_payload(with_user=False)
        message = self.writer.create(
            payload,
            call.body.files,
            channel_id=channel_id,
            author=self.state.bot_author(),
            allowed_flags=CHANNEL_FLAGS,
            **fields,
        )
        if fields["nonce"] is not None:
            self._nonces[fields["nonce"]] = message
        await self.state.dispatch_message("MESSAGE_CREATE", message)
        return json_response(message.payload())

    async def start_thread(self, call: Call) -> web.Response:
        """Start a public thread from a message (needs CREATE_PUBLIC_THREADS; one thread per message)."""
        message = self._message(call)
        guild_id = self.state.guild_of(message.channel_id)
        if guild_id is None or not self.state.guild(guild_id).bot.permissions() & CREATE_PUBLIC_THREADS:
            raise DiscordError(403, 50013, "Missing Permissions")
        if self.state.channels[message.channel_id]["type"] != 0:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        if message.id in self.state.channels:
            raise DiscordError(400, 160004, "A thread has already been created for this message")
        payload = call.payload()
        name = payload.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise invalid_form({"name": error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")})
        duration = payload.get("auto_archive_duration") or 4320
        if duration not in (60, 1440, 4320, 10080):
            raise invalid_form(
                {"auto_archive_duration": error("BASE_TYPE_CHOICES", "Value must be one of {60, 1440, 4320, 10080}.")}
            )
        return json_response(self.state.add_thread(message.channel_id, message.id, name, duration))

    async def get_message(self, call: Call) -> web.Response:
        """One message, content blanked per the latest session's intents."""
        message = self._message(call)
        return json_response(self.state.visible_payload(message, self.state.last_intents()))

    async def edit_message(self, call: Call) -> web.Response:
        """Edit one of the bot's own messages."""
        message = self._message(call)
        if message.author.get("id") != self.state.bot.id:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        self.writer.edit(message, call.payload(), call.body.files)
        await self.state.dispatch_message("MESSAGE_UPDATE", message)
        return json_response(message.payload())

    async def delete_message(self, call: Call) -> web.Response:
        """Delete a message (the bot has MANAGE_MESSAGES)."""
        message = self._message(call)
        message.deleted = True
        self.state.changed()
        await self.state.dispatch_message("MESSAGE_DELETE", message)
        return no_content()

    async def add_reaction(self, call: Call) -> web.Response:
        """The bot reacts to a message."""
        message = self._message(call)
        emoji = unquote(call.params["emoji"])
        if emoji not in message.reactions:
            message.reactions.append(emoji)
            self.state.changed()
        return no_content()

    async def remove_reaction(self, call: Call) -> web.Response:
        """The bot removes its reaction."""
        message = self._message(call)
        emoji = unquote(call.params["emoji"])
        if emoji in message.reactions:
            message.reactions.remove(emoji)
            self.state.changed()
        return no_content()

    # ---------------------------------------------------------------- application commands

    def _command_key(self, call: Call) -> str:
        if call.params["app"] != self.state.application_id:
            raise DiscordError(404, 10002, "Unknown Application")
        guild_id = call.params.get("guild_id")
        if guild_id is not None and guild_id not in self.state.guilds:
            raise DiscordError(403, 50001, "Missing Access")
        return guild_id or "global"

    async def get_commands(self, call: Call) -> web.Response:
        """The synced commands (global or guild)."""
        return json_response(self.state.commands.get(self._command_key(call), []))

    async def put_commands(self, call: Call) -> web.Response:
        """Bulk overwrite: validate, keep ids of same-named commands, return the stored list."""
        key = self._command_key(call)
        commands = call.body.json
        if errors := validate_commands(commands):
            raise invalid_form(errors)
        previous = {(c["type"], c["name"]): c for c in self.state.commands.get(key, [])}
        stored = []
        for command in commands:
            kind = command.get("type", 1)
            old = previous.get((kind, command["name"]))
            entry = {
                "description": "",
                "default_member_permissions": None,
                "dm_permission": True,
                "nsfw": False,
                **command,
                "type": kind,
                "id": old["id"] if old else self.state.ids.next(),
                "application_id": self.state.application_id,
                "version": self.state.ids.next(),
            }
            if key != "global":
                entry["guild_id"] = key
            stored.append(entry)
        self.state.commands[key] = stored
        self.state.changed()
        return json_response(stored)
