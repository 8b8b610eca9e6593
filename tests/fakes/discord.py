"""A loopback Discord for tests: REST at `/api/v10`, gateway at `/gw`, attachment CDN at `/cdn`.

The real bot (discord.py) talks to it over 127.0.0.1; tests act as users (`slash`, `click`,
`send_message`, ...) and inspect what the bot did (`messages`, `requests`, interaction records).

    fake = FakeDiscord()
    await fake.start()
    discord.http.Route.BASE = fake.base_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    ...
    user = fake.add_member("al")
    reply = await fake.slash(user, "imagine", prompt="a red fox")
    await reply.wait_response()

Conventions worth knowing:
- `slash`/`click`/`context_menu`/`submit_modal` return as soon as the bot got the interaction; use
  `interaction.wait_response()` or `wait_for(...)` for the answer. They raise AssertionError for
  anything a real client could not send (unknown command/option/custom_id, missing required option).
- The first followup after a type-5 defer fills the "thinking" @original (as Discord does): it is
  the same FakeMessage as `interaction.original` and `interaction.followups[0]`, and it keeps the
  defer's visibility.
- `commands` is keyed by "global" or the guild id; an empty message is 400 code 50006 (Discord's code).
- Users' messages are blanked for sessions without MESSAGE_CONTENT unless they mention the bot.
- Guilds: one default guild (`guild_id`, `channel_id`, `members`); `add_guild(name, shard=(i, n))` adds
  more, on a chosen shard. A member acts in its own guild's #general unless given a channel.
- Shards: sessions IDENTIFY with `shard: [id, count]` and get only their guilds; guild events go to
  the owning shard, DMs to shard 0. IDENTIFYs of one `shard_id % max_concurrency` bucket closer than
  `identify_interval` are answered with op 9 and recorded in `identify_violations`.

Helpers live in `discord_*.py` next to this module.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .discord_gateway import GatewayConnection, GatewayHub
from .discord_guilds import FakeGuild
from .discord_interactions import (
    command_data,
    component_data,
    context_menu_data,
    modal_submit_data,
    new_interaction,
)
from .discord_locales import LOCALES
from .discord_messages import Body, MessageWriter, read_body
from .discord_models import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    INTENT_GUILD_MEMBERS,
    INTENT_GUILDS,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    VIEW_CHANNEL,
    DiscordError,
    FailRule,
    FakeAttachment,
    FakeInteraction,
    FakeMessage,
    FakeUser,
    RecordedRequest,
    UploadedFile,
)
from .discord_permissions import MEMBER, ROLE, set_overwrite
from .discord_rest import BotRoutes, Call, Route, error_response, json_response
from .discord_shards import IdentifyViolation, Sharding, shard_of
from .discord_state import DiscordState
from .discord_webhooks import InteractionRoutes

__all__ = [
    "FakeAttachment",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeMessage",
    "FakeUser",
    "RecordedRequest",
    "UploadedFile",
]

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
CDN_FILE = re.compile(r"/cdn/attachments/(\d+)/([^/]+)")
STATUS_MESSAGES = {
    400: "400: Bad Request",
    401: "401: Unauthorized",
    403: "Missing Access",
    404: "404: Not Found",
    500: "500: Internal Server Error",
    502: "502: Bad Gateway",
    503: "503: Service Unavailable",
    504: "504: Gateway Timeout",
}

# GUILD_UPDATE carries the guild object without the fields only GUILD_CREATE has.
_GUILD_CREATE_ONLY = {"channels", "threads", "members", "presences", "joined_at", "large", "member_count", "lazy"}


class FakeDiscord:
    """Guilds, one bot application, any number of members and shards; records everything the bot does."""

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        token_ttl: float = 900.0,
        ack_deadline: float = 3.0,
        attachment_size_limit: int = 10 * 1024 * 1024,
        message_content_approved: bool = True,
        recommended_shards: int = 1,
        max_concurrency: int = 1,
        identify_interval: float = 5.0,
        max_guilds_per_shard: int = 2500,
        session_start_total: int = 1000,
    ) -> None:
        self.token = token
        self._state = state = DiscordState(
            token=token,
            token_ttl=token_ttl,
            ack_deadline=ack_deadline,
            attachment_size_limit=attachment_size_limit,
            message_content_approved=message_content_approved,
        )
        state.sharding = Sharding(
            recommended_shards=recommended_shards,
            max_concurrency=max_concurrency,
            identify_interval=identify_interval,
            max_guilds_per_shard=max_guilds_per_shard,
            session_total=session_start_total,
            session_remaining=session_start_total,
        )
        self.sharding = state.sharding  # settable: recommended_shards, max_concurrency, identify_interval, ...
        self._hub = state.hub = GatewayHub(state)
        writer = MessageWriter(state)
        self._routes: list[Route] = [
            *BotRoutes(state, writer).routes(),
            *InteractionRoutes(state, writer).routes(),
        ]
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.cdn_base = ""
        self.cdn_delay = 0.0  # seconds the CDN waits before answering a download
        self.application_id = state.application_id
        self.bot_user = state.bot_user
        self.guild_id = state.guild_id
        self.channel_id = state.channel_id
        self.requests: list[RecordedRequest] = state.requests
        self.messages: dict[str, FakeMessage] = state.messages
        self.commands: dict[str, list[dict[str, Any]]] = state.commands
        self.unhandled: list[str] = state.unhandled

    # ------------------------------------------------------------------ read-only views

    @property
    def gateway_url(self) -> str:
        """`ws://127.0.0.1:PORT/gw` (what `GET /gateway/bot` returns)."""
        return self._state.gateway_url

    @property
    def ack_deadline(self) -> float:
        """Seconds an interaction's first answer may take (Discord: 3); later, it is an Unknown interaction."""
        return self._state.ack_deadline

    @ack_deadline.setter
    def ack_deadline(self, seconds: float) -> None:
        self._state.ack_deadline = seconds

    @property
    def bot(self) -> FakeUser:
        """The bot as a guild member."""
        return self._state.bot

    @property
    def members(self) -> dict[str, FakeUser]:
        """Guild members by id (the bot included)."""
        return self._state.members

    @property
    def guilds(self) -> dict[str, FakeGuild]:
        """Every guild by id (the default one first)."""
        return self._state.guilds

    @property
    def identify_violations(self) -> list[IdentifyViolation]:
        """IDENTIFYs that came sooner than `identify_interval` after another of their bucket."""
        return self.sharding.violations

    @staticmethod
    def shard_of(guild_id: str | int | None, shard_count: int) -> int:
        """The shard that receives a guild's events (DMs, None, go to shard 0)."""
        return shard_of(guild_id, shard_count)

    @property
    def interactions(self) -> dict[str, FakeInteraction]:
        """Every interaction sent to the bot, by id."""
        return self._state.interactions

    @property
    def connections(self) -> list[GatewayConnection]:
        """Open gateway sessions (each has `.intents`, `.identify`, `.ready`)."""
        return list(self._hub.connections)

    @property
    def identifies(self) -> list[dict[str, Any]]:
        """Every accepted IDENTIFY payload, in order."""
        return self._hub.identifies

    @property
    def attachment_size_limit(self) -> int:
        """Upload limit per file, sent in interactions and enforced on uploads."""
        return self._state.attachment_size_limit

    @attachment_size_limit.setter
    def attachment_size_limit(self, value: int) -> None:
        self._state.attachment_size_limit = value

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port."""
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        root = f"http://127.0.0.1:{port}"
        self.base_url = self._state.base_url = root + API_PREFIX
        self.cdn_base = self._state.cdn_base = root + "/cdn"
        self._state.gateway_url = f"ws://127.0.0.1:{port}/gw"

    async def close(self) -> None:
        """Close gateway sessions and the server."""
        await self._hub.close()
        if self._runner is not None:
            await asyncio.wait_for(self._runner.cleanup(), 10)
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ guild setup

    def add_guild(self, name: str, *, shard: tuple[int, int] | None = None) -> str:
        """A new guild (the bot in it, a #general); with `shard=(i, n)` its id lands on shard i of n."""
        return self._state.add_guild(name, shard=shard).id

    def add_member(
        self,
        username: str | None = None,
        *,
        roles: list[str] | tuple[str, ...] = (),
        manage_messages: bool = False,
        manage_guild: bool = False,
        guild_id: str | None = None,
        locale: str = "en-US",
    ) -> FakeUser:
        """A new member of a guild (the default one unless given); `roles` are ids or names (new names become roles).

        `locale` is their Discord client's language, sent as every interaction's `locale`.
        """
        state = self._state
        guild = state.guild(guild_id)
        role_ids = [state.role_id(r, guild.id) for r in roles]
        # Moderators get their permission from a role, as on Discord, so channel permissions see it too.
        if manage_messages:
            role_ids.append(self._permission_role("moderators", MANAGE_MESSAGES, guild.id))
        if manage_guild:
            role_ids.append(self._permission_role("server managers", MANAGE_GUILD, guild.id))
        user = FakeUser(
            id=state.ids.next(),
            username=username or f"user{len(guild.members)}",
            roles=role_ids,
            manage_messages=manage_messages,
            manage_guild=manage_guild,
            guild_id=guild.id,
            locale=locale,
        )
        assert locale in LOCALES, f"{locale!r} is not a Discord locale"
        guild.members[user.id] = user
        state.changed()
        event = {**user.member_payload(), "guild_id": guild.id}
        self._hub.enqueue("GUILD_MEMBER_ADD", event, intent=INTENT_GUILD_MEMBERS, guild_id=guild.id)
        return user

    def set_guild_locale(self, locale: str, guild_id: str | None = None) -> None:
        """Change a guild's preferred locale (Server Settings → Community), as GUILD_UPDATE tells the bot."""
        assert locale in LOCALES, f"{locale!r} is not a Discord locale"
        guild = self._state.guild(guild_id)
        guild.locale = locale
        self._state.changed()
        payload = {k: v for k, v in self._state.guild_payload(guild.id).items() if k not in _GUILD_CREATE_ONLY}
        self._hub.enqueue("GUILD_UPDATE", payload, intent=INTENT_GUILDS, guild_id=guild.id)

    def add_channel(
        self, name: str, *, guild_id: str | None = None, private_to: tuple[FakeUser | str, ...] | None = None
    ) -> str:
        """A new text channel in a guild (the default one unless given); returns its id.

        With `private_to`, @everyone may not view it and only those members (or role ids) may.
        """
        channel_id = self._state.add_channel(name, guild_id=guild_id)
        if private_to is not None:
            guild = self._state.guild_of(channel_id)
            self.set_overwrite(channel_id, guild, deny=VIEW_CHANNEL)
            for target in private_to:
                self.set_overwrite(channel_id, target, allow=VIEW_CHANNEL)
        return channel_id

    def set_overwrite(self, channel_id: str, target: FakeUser | str, *, allow: int = 0, deny: int = 0) -> None:
        """Set a channel's permission overwrite for a member or a role id (sends CHANNEL_UPDATE)."""
        if isinstance(target, FakeUser):
            set_overwrite(self._state, channel_id, target.id, MEMBER, allow=allow, deny=deny)
        else:
            set_overwrite(self._state, channel_id, target, ROLE, allow=allow, deny=deny)

    def _permission_role(self, name: str, permissions: int, guild_id: str) -> str:
        roles = self._state.guild(guild_id).roles
        found = next((r["id"] for r in roles.values() if r["name"] == name), None)
        return str(found) if found else self._state.add_role(name, permissions=permissions, guild_id=guild_id)

    def add_role(self, name: str, *, guild_id: str | None = None) -> str:
        """A new role without permissions in a guild (the default one unless given); returns its id."""
        return self._state.add_role(name, guild_id=guild_id)

    def give_role(self, user: FakeUser, role: str) -> str:
        """Give a member a role (an id or a name; a new name becomes a role), as a moderator does in the client;
        the next interactions carry it, and bots with the GUILD_MEMBERS intent get GUILD_MEMBER_UPDATE."""
        role_id = self._state.role_id(role, user.guild_id)
        if role_id not in user.roles:
            user.roles.append(role_id)
            self._member_updated(user)
        return role_id

    def take_role(self, user: FakeUser, role: str) -> None:
        """Take a role (id or name) away from a member (GUILD_MEMBER_UPDATE, as `give_role`)."""
        role_id = self._state.role_id(role, user.guild_id)
        if role_id in user.roles:
            user.roles.remove(role_id)
            self._member_updated(user)

    def _member_updated(self, user: FakeUser) -> None:
        assert user.guild_id is not None, "roles belong to guild members"
        self._state.changed()
        event = {**user.member_payload(), "guild_id": user.guild_id}
        self._hub.enqueue("GUILD_MEMBER_UPDATE", event, intent=INTENT_GUILD_MEMBERS, guild_id=user.guild_id)

    def dm_channel(self, user: FakeUser) -> str:
        """The DM channel between `user` and the bot (for `send_message(channel_id=...)`)."""
        return self._state.dm_channel(user)

    def add_attachment(
        self,
        data: bytes,
        filename: str,
        content_type: str | None = "image/png",
        *,
        width: int | None = None,
        height: int | None = None,
    ) -> dict[str, Any]:
        """Put a file on the fake CDN; returns its Discord attachment payload."""
        assert self.cdn_base, "start() the fake before adding attachments (URLs need the port)"
        stored = self._state.store_file(data, filename, content_type, width=width, height=height)
        return stored.payload()

    # ------------------------------------------------------------------ acting as users

    async def wait_ready(self, timeout: float = 10) -> None:
        """Wait until a gateway session identified and got READY + GUILD_CREATE."""
        await self._state.wait_for(self._hub.ready_connections, timeout, "a gateway session to IDENTIFY and get READY")

    async def wait_shards_ready(self, shard_ids: list[int] | range, shard_count: int, timeout: float = 10) -> None:
        """Wait until each of `shard_ids` (of `shard_count`) has a ready session."""

        def all_ready() -> bool:
            ready = {c.shard for c in self._hub.ready_connections()}
            return all((shard_id, shard_count) in ready for shard_id in shard_ids)

        await self._state.wait_for(all_ready, timeout, f"shards {list(shard_ids)} of {shard_count} to get READY")

    async def slash(
        self, user: FakeUser, name: str, *, channel_id: str | None = None, **options: Any
    ) -> FakeInteraction:
        """Run `/name` (e.g. "imagine" or "admin stats") with options checked against the synced command."""
        channel_id = channel_id or self._state.default_channel(user)
        data = command_data(self._state, name, options, guild_id=self._state.guild_of(channel_id))
        return await self._interact(user, APPLICATION_COMMAND, data, channel_id)

    async def autocomplete(
        self, user: FakeUser, name: str, focused: str, *, channel_id: str | None = None, **options: Any
    ) -> FakeInteraction:
        """Ask for autocomplete choices of option `focused` (its partial value is in `options`)."""
        channel_id = channel_id or self._state.default_channel(user)
        data = command_data(self._state, name, options, guild_id=self._state.guild_of(channel_id), focused=focused)
        return await self._interact(user, AUTOCOMPLETE, data, channel_id)

    async def click(
        self, user: FakeUser, message: FakeMessage, custom_id: str, *, values: list[str] | None = None
    ) -> FakeInteraction:
        """Press a button (or choose select `values`) that exists on `message`."""
        data = component_data(self._state, message, custom_id, values, user)
        return await self._interact(user, MESSAGE_COMPONENT, data, message.channel_id, message=message)

    async def context_menu(self, user: FakeUser, name: str, target: FakeMessage | FakeUser) -> FakeInteraction:
        """Run a message (or user) context-menu command on `target`."""
        channel_id = target.channel_id if isinstance(target, FakeMessage) else self._state.default_channel(user)
        data = context_menu_data(self._state, name, target, self._state.guild_of(channel_id))
        return await self._interact(user, APPLICATION_COMMAND, data, channel_id)

    async def submit_modal(
        self, user: FakeUser, modal_from: FakeInteraction, values: dict[str, str]
    ) -> FakeInteraction:
        """Submit the modal that `modal_from` opened (callback 9), answering inputs by custom_id."""
        modal = modal_from.modal
        assert modal is not None, (
            f"interaction {modal_from.name!r} opened no modal (callback type {modal_from.response_type})"
        )
        data = modal_submit_data(modal, values)
        return await self._interact(user, MODAL_SUBMIT, data, modal_from.channel_id, message=modal_from.message)

    async def _interact(
        self,
        user: FakeUser,
        kind: int,
        data: dict[str, Any],
        channel_id: str | None,
        *,
        message: FakeMessage | None = None,
    ) -> FakeInteraction:
        channel_id = channel_id or self._state.default_channel(user)
        guild_id = self._state.guild_of(channel_id)
        await self._wait_owner(guild_id)
        interaction = new_interaction(self._state, user, kind, data, channel_id=channel_id, message=message)
        interaction.created = time.monotonic()
        interaction.shard = self._hub.owners(guild_id)[-1].shard
        delivered = await self._hub.dispatch(
            "INTERACTION_CREATE", lambda conn: interaction.payload, only_latest=True, guild_id=guild_id
        )
        assert delivered, f"no gateway session received interaction {interaction.name!r}"
        return interaction

    async def _wait_owner(self, guild_id: str | None, timeout: float = 10) -> None:
        shard = "shard 0" if guild_id is None else f"the shard of guild {guild_id}"
        await self._state.wait_for(lambda: self._hub.owners(guild_id), timeout, f"a ready session on {shard}")

    async def send_message(
        self,
        user: FakeUser,
        content: str,
        *,
        attachments: list[dict[str, Any]] | tuple[()] = (),
        embeds: list[dict[str, Any]] | tuple[()] = (),
        reply_to: FakeMessage | None = None,
        mention_bot: bool = False,
        channel_id: str | None = None,
        reply_ping: bool = True,
    ) -> FakeMessage:
        """`user` posts a message; stored and dispatched as MESSAGE_CREATE (blanked without the intent).

        Like Discord's client, a reply pings the replied-to author unless `reply_ping=False`: that author is
        then in `mentions` although the content does not name them.
        """
        state = self._state
        channel_id = channel_id or state.default_channel(user)
        assert channel_id in state.channels, f"unknown channel {channel_id}"
        guild_id = state.guild_of(channel_id)
        assert guild_id is None or user.id in state.guild(guild_id).members, f"{user.username} is not in that guild"
        if mention_bot and self.bot.mention not in content:
            content = f"{self.bot.mention} {content}"
        mentions, role_mentions = state.mentions_in(content, guild_id)
        if reply_to is not None and reply_ping and reply_to.author.get("id") != user.id:
            pinged_id = str(reply_to.author.get("id"))
            pinged = state.guild(guild_id).members.get(pinged_id) if guild_id else state.find_user(pinged_id)
            if pinged is not None and all(m.get("id") != pinged.id for m in mentions):
                member = {"member": pinged.member_payload(with_user=False)} if guild_id else {}
                mentions.append({**pinged.user_payload(), **member})
        message = FakeMessage(
            id=state.ids.next(),
            channel_id=channel_id,
            author=user.user_payload(),
            content=content,
            embeds=list(embeds),
            attachments=[state.attachment_from(a) for a in attachments],
            guild_id=guild_id,
            member=user.member_payload(with_user=False) if guild_id else None,
            mentions=mentions,
            mention_roles=role_mentions,
        )
        if reply_to is not None:
            message.type = 19
            message.referenced = reply_to
            message.message_reference = {k: v for k, v in _reference(reply_to).items() if v is not None}
        state.add_message(message)
        await state.dispatch_message("MESSAGE_CREATE", message)
        return message

    # ------------------------------------------------------------------ faults

    async def drop_connections(self) -> None:
        """Close every gateway session (code 4000); discord.py reconnects."""
        await self._hub.drop()

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        *,
        times: int = 1,
        code: int = 0,
        retry_after: float | None = None,
        uploads_only: bool = False,
    ) -> None:
        """Fail the next `times` requests whose method matches ("*" = any) and path matches (re.search).

        The path is the part after `/api/v10` (e.g. `/channels/1/messages`) or the full `/cdn/...` path.
        With `uploads_only`, only requests carrying files match (an image upload, not a text edit).
        """
        rule = FailRule(method.upper(), re.compile(path_regex), status, times, code, retry_after, uploads_only)
        self._state.fail_rules.append(rule)

    def drop_next(
        self, method: str, path_regex: str, *, times: int = 1, uploads_only: bool = False, hang: float = 0.0
    ) -> None:
        """Close the connection of the next `times` matching requests without answering (status recorded as 0).

        Models a network failure or a proxy dropping the request; discord.py does not retry these itself.
        With `hang`, the request first stalls that many seconds (nothing is created), like a stuck upload.
        """
        rule = FailRule(
            method.upper(), re.compile(path_regex), 0, times, uploads_only=uploads_only, disconnect=True, hang=hang
        )
        self._state.fail_rules.append(rule)

    def expire_token(self, token: str) -> None:
        """Make an interaction token invalid at once (webhooks then answer 401 / 50027)."""
        self._state.expired_tokens.add(token)
        self._state.changed()

    # ------------------------------------------------------------------ inspection

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10) -> Any:
        """Return the predicate's first truthy value; re-checked on every change of the fake."""
        return await self._state.wait_for(predicate, timeout)

    def channel_messages(self, channel_id: str | None = None) -> list[FakeMessage]:
        """Visible (non-ephemeral, not deleted) messages of a channel, oldest first."""
        channel_id = channel_id or self.channel_id
        return [m for m in self.messages.values() if m.channel_id == channel_id and not m.ephemeral and not m.deleted]

    # ------------------------------------------------------------------ HTTP plumbing

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path == "/gw":
            return await self._hub.handle(request)
        if path.startswith("/cdn/"):
            return await self._serve_cdn(request)
        if path.startswith(API_PREFIX + "/"):
            return await self._serve_api(request, path[len(API_PREFIX) :])
        return json_response({"message": "404: Not Found", "code": 0}, 404)

    async def _serve_api(self, request: web.Request, path: str) -> web.StreamResponse:
        body_error: DiscordError | None = None
        try:
            body = await read_body(request)
        except DiscordError as exc:
            body, body_error = Body(None, []), exc
        authorized = request.headers.get("Authorization") == f"Bot {self.token}"
        record = RecordedRequest(request.method, path, dict(request.query), body.json, body.files, authorized)
        self._state.requests.append(record)
        try:
            response = await self._route(request.method, path, Call({}, record.query, body, record), body_error)
        except _Dropped:
            self._state.changed()
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=204)
        except DiscordError as exc:
            response = error_response(exc)
        except Exception as exc:
            log.exception("fake Discord failed on %s %s", request.method, path)
            response = json_response({"message": f"fake Discord crashed: {exc!r}", "code": 0}, 400)
        record.status = response.status
        self._state.changed()
        return response

    async def _route(self, method: str, path: str, call: Call, body_error: DiscordError | None) -> web.StreamResponse:
        found = next(((r, m) for r in self._routes if r.method == method and (m := r.pattern.match(path))), None)
        if found is not None and found[0].bot_auth and not call.record.authorized:
            raise DiscordError(401, 0, "401: Unauthorized")
        if (rule := self._take_failure(method, path, uploads=bool(call.body.files))) is not None:
            if rule.disconnect:
                if rule.hang > 0:
                    await asyncio.sleep(min(rule.hang, 60.0))
                raise _Dropped()
            return _failure_response(rule)
        if body_error is not None:
            raise body_error
        if found is None:
            self._state.unhandled.append(f"{method} {path}")
            return json_response({"message": "404: Not Found", "code": 0}, 404)
        route, match = found
        call.params = match.groupdict()
        return await route.handler(call)

    async def _serve_cdn(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        record = RecordedRequest(request.method, path, dict(request.query), None, [], False)
        self._state.requests.append(record)
        if self.cdn_delay > 0:  # a slow CDN: lets a test act while the bot is still downloading references
            self._state.changed()
            await asyncio.sleep(min(self.cdn_delay, 30.0))
        response: web.StreamResponse
        match = CDN_FILE.fullmatch(path)
        stored = self._state.files.get(match.group(1)) if match else None
        if (rule := self._take_failure(request.method, path)) is not None:
            response = _failure_response(rule)
        elif stored is None or match is None or match.group(2) != stored.filename or request.method != "GET":
            response = web.Response(status=404, text="404: Not Found")
        else:
            content_type = stored.content_type or "application/octet-stream"
            response = web.Response(body=stored.data, headers={"Content-Type": content_type})
        record.status = response.status
        self._state.changed()
        return response

    def _take_failure(self, method: str, path: str, *, uploads: bool = False) -> FailRule | None:
        for rule in self._state.fail_rules:
            if rule.uploads_only and not uploads:
                continue
            if rule.times > 0 and rule.method in ("*", method) and rule.pattern.search(path):
                rule.times -= 1
                if rule.times == 0:
                    self._state.fail_rules.remove(rule)
                return rule
        return None


class _Dropped(Exception):
    """The connection is to be closed without an answer."""


def _reference(message: FakeMessage) -> dict[str, Any]:
    return {"type": 0, "message_id": message.id, "channel_id": message.channel_id, "guild_id": message.guild_id}


def _failure_response(rule: FailRule) -> web.Response:
    if rule.status == 429:
        retry_after = 0.05 if rule.retry_after is None else rule.retry_after
        body: dict[str, Any] = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
        if rule.code:
            body["code"] = rule.code
        headers = {"Via": "1.1 google", "Retry-After": str(math.ceil(retry_after)), "X-RateLimit-Scope": "user"}
        return json_response(body, 429, headers)
    headers = {} if rule.retry_after is None else {"Retry-After": str(math.ceil(rule.retry_after))}
    message = STATUS_MESSAGES.get(rule.status, f"{rule.status}: Error")
    return json_response({"message": message, "code": rule.code}, rule.status, headers)
