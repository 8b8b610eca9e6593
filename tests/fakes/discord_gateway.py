"""The fake gateway at `/gw`: HELLO, heartbeats, IDENTIFY checks, READY + GUILD_CREATE, dispatches.

Frames are plain JSON text (never zlib), whatever `compress` the client asks for. Sessions are shards
(`shard: [id, count]` in IDENTIFY; none means [0, 1]): each gets only its guilds, and every guild-bound
event goes to the sessions of the guild's shard (DMs to shard 0). See `discord_shards.py` for the rules.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from .discord_models import INTENT_GUILD_MEMBERS, INTENT_MESSAGE_CONTENT
from .discord_shards import INVALID_SHARD, SHARDING_REQUIRED, parse_shard, shard_of
from .discord_state import DiscordState

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_MS = 41250
SEND_TIMEOUT = 5.0


class GatewayConnection:
    """One websocket session: its IDENTIFY, intents and sequence numbers."""

    def __init__(self, ws: web.WebSocketResponse, number: int) -> None:
        self.ws = ws
        self.number = number
        self.identify: dict[str, Any] | None = None
        self.intents = 0
        self.ready = False
        self.seq = 0
        self.session_id = secrets.token_hex(16)
        self.close_code: int | None = None
        self.shard = (0, 1)  # [shard_id, shard_count] from IDENTIFY
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        state = "ready" if self.ready else "closed" if self.ws.closed else "connecting"
        return f"<conn #{self.number} shard={list(self.shard)} {state} intents={self.intents} seq={self.seq}>"

    def owns(self, guild_id: str | None) -> bool:
        """Whether this session's shard receives the guild's events (DMs: shard 0)."""
        return shard_of(guild_id, self.shard[1]) == self.shard[0]

    async def send(self, op: int, data: Any, event: str | None = None) -> None:
        """Send one frame; dispatches (op 0) get the next sequence number."""
        async with self._lock:
            frame: dict[str, Any] = {"op": op, "d": data, "s": None, "t": event}
            if op == 0:
                self.seq += 1
                frame["s"] = self.seq
            if self.ws.closed:
                return
            await asyncio.wait_for(self.ws.send_str(json.dumps(frame, separators=(",", ":"))), SEND_TIMEOUT)

    async def close(self, code: int, reason: str) -> None:
        """Close the socket with a gateway close code."""
        self.close_code = code
        self.ready = False
        if not self.ws.closed:
            try:
                await asyncio.wait_for(self.ws.close(code=code, message=reason.encode()), SEND_TIMEOUT)
            except (ConnectionError, TimeoutError) as exc:
                log.debug("closing gateway connection #%s: %r", self.number, exc)


class GatewayHub:
    """All gateway sessions; dispatches events to the ones that identified."""

    def __init__(self, state: DiscordState) -> None:
        self.state = state
        self.connections: list[GatewayConnection] = []
        self.identifies: list[dict[str, Any]] = []
        self.last_intents: int | None = None
        self._count = 0
        self._pending: list[tuple[str, dict[str, Any], int | None, str | None]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def ready_connections(self) -> list[GatewayConnection]:
        """Open sessions that got READY and GUILD_CREATE."""
        return [c for c in self.connections if c.ready and not c.ws.closed]

    def owners(self, guild_id: str | None) -> list[GatewayConnection]:
        """Ready sessions of the shard that receives the guild's events (shard 0 for DMs), oldest first."""
        return [c for c in self.ready_connections() if c.owns(guild_id)]

    def describe(self) -> str:
        """Short state of every session, for timeout messages."""
        return ", ".join(repr(c) for c in self.connections) or "no connections"

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """Serve one websocket session until it closes."""
        ws = web.WebSocketResponse(compress=False, max_msg_size=0, autoping=True, timeout=2.0)
        await ws.prepare(request)
        self._count += 1
        conn = GatewayConnection(ws, self._count)
        self.connections.append(conn)
        self.state.changed()
        try:
            if request.query.get("encoding", "json") != "json":
                await conn.close(4002, "Error while decoding payload.")
                return ws
            await conn.send(10, {"heartbeat_interval": HEARTBEAT_INTERVAL_MS, "_trace": ["fake-gateway"]})
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    await conn.close(4002, "Error while decoding payload.")
                    break
                await self._on_frame(conn, msg.data)
        except (ConnectionError, TimeoutError) as exc:
            log.debug("gateway connection #%s ended: %r", conn.number, exc)
        finally:
            conn.ready = False
            self.connections.remove(conn)
            self.state.changed()
        return ws

    async def _on_frame(self, conn: GatewayConnection, text: str) -> None:
        try:
            frame = json.loads(text)
            op, data = frame["op"], frame.get("d")
        except (ValueError, KeyError, TypeError):
            await conn.close(4002, "Error while decoding payload.")
            return
        if op == 1:
            await conn.send(11, None)
        elif op == 2:
            await self._identify(conn, data or {})
        elif op == 6:
            await conn.send(9, False)
        elif conn.identify is None:
            await conn.close(4003, "Not authenticated.")
        elif op == 8:
            await self._request_members(conn, data or {})
        elif op not in (3, 4):
            await conn.close(4001, "Unknown opcode.")

    async def _identify(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        if conn.identify is not None:
            await conn.close(4005, "Already authenticated.")
            return
        if data.get("token") != self.state.token:
            await conn.close(4004, "Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0 or intents >= 1 << 26:
            await conn.close(4013, "Invalid intent(s).")
            return
        if intents & INTENT_MESSAGE_CONTENT and not self.state.message_content_approved:
            await conn.close(4014, "Disallowed intent(s).")
            return
        shard = parse_shard(data["shard"]) if "shard" in data else (0, 1)
        if shard is None:
            await conn.close(INVALID_SHARD, "Invalid shard.")
            return
        guild_ids = [g for g in self.state.guilds if shard_of(g, shard[1]) == shard[0]]
        if len(guild_ids) > self.state.sharding.max_guilds_per_shard:
            await conn.close(SHARDING_REQUIRED, "Sharding required.")
            return
        if self.state.sharding.admit(shard) is not None:
            await conn.send(9, False)  # Discord's answer to an IDENTIFY that broke the rate limit
            self.state.changed()
            return
        await self._start_session(conn, data, intents, shard, guild_ids)

    async def _start_session(
        self, conn: GatewayConnection, data: dict[str, Any], intents: int, shard: tuple[int, int], guild_ids: list[str]
    ) -> None:
        conn.identify, conn.intents, conn.shard = data, intents, shard
        self.identifies.append(data)
        self.last_intents = intents
        await conn.send(0, self._ready_payload(conn, data, guild_ids), "READY")
        for guild_id in guild_ids:
            await conn.send(0, self.state.guild_payload(guild_id), "GUILD_CREATE")
        conn.ready = True
        self.state.changed()

    def _ready_payload(self, conn: GatewayConnection, identify: dict[str, Any], guild_ids: list[str]) -> dict[str, Any]:
        state = self.state
        flags = (1 << 19) | (1 << 15) | (1 << 13) if state.message_content_approved else (1 << 15) | (1 << 13)
        payload: dict[str, Any] = {
            "v": 10,
            "user": state.bot_user,
            "guilds": [{"id": guild_id, "unavailable": True} for guild_id in guild_ids],
            "session_id": conn.session_id,
            "session_type": "normal",
            "resume_gateway_url": state.gateway_url,
            "application": {"id": state.application_id, "flags": flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "_trace": ["fake-gateway"],
        }
        if "shard" in identify:
            payload["shard"] = identify["shard"]
        return payload

    async def _request_members(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        if not conn.intents & INTENT_GUILD_MEMBERS:
            await conn.close(4013, "Invalid intent(s).")
            return
        guild = self.state.guilds.get(str(data.get("guild_id")))
        if guild is None or not conn.owns(guild.id):
            return  # Discord answers nothing for a guild this session does not hold
        wanted = {str(u) for u in data.get("user_ids") or []}
        query = (data.get("query") or "").lower()
        limit = data.get("limit") or len(guild.members)
        members = [
            m.member_payload()
            for m in guild.members.values()
            if (not wanted or m.id in wanted) and m.username.lower().startswith(query)
        ][:limit]
        chunk = {
            "guild_id": guild.id,
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": sorted(wanted - {m["user"]["id"] for m in members}),
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await conn.send(0, chunk, "GUILD_MEMBERS_CHUNK")

    def enqueue(self, event: str, data: dict[str, Any], *, intent: int | None = None, guild_id: str | None) -> None:
        """Queue a guild's event from synchronous code; sent before the next dispatch (or right away)."""
        if not self.ready_connections():
            return
        self._pending.append((event, data, intent, guild_id))
        task = asyncio.get_running_loop().create_task(self.flush())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        """Send queued events in order."""
        while self._pending:
            event, data, intent, guild_id = self._pending.pop(0)
            await self._send(event, _constant(data), intent=intent, only_latest=False, guild_id=guild_id)

    async def dispatch(
        self,
        event: str,
        build: Callable[[GatewayConnection], dict[str, Any]],
        *,
        guild_id: str | None,
        intent: int | None = None,
        only_latest: bool = False,
    ) -> int:
        """Send a guild's (None: a DM's) event, built per session, to its shard's ready sessions with `intent`.

        Returns how many sessions got it; `only_latest` picks the newest session of that shard.
        """
        await self.flush()
        return await self._send(event, build, intent=intent, only_latest=only_latest, guild_id=guild_id)

    async def _send(
        self,
        event: str,
        build: Callable[[GatewayConnection], dict[str, Any]],
        *,
        intent: int | None,
        only_latest: bool,
        guild_id: str | None,
    ) -> int:
        targets = [c for c in self.owners(guild_id) if intent is None or c.intents & intent]
        if only_latest:
            targets = targets[-1:]
        delivered = 0
        for conn in targets:
            try:
                await conn.send(0, build(conn), event)
                delivered += 1
            except (ConnectionError, TimeoutError) as exc:
                log.debug("could not dispatch %s to #%s: %r", event, conn.number, exc)
        return delivered

    async def drop(self, code: int = 4000) -> None:
        """Close every session (the client is expected to reconnect)."""
        for conn in list(self.connections):
            await conn.close(code, "Dropped by the fake.")
        self.state.changed()

    async def close(self) -> None:
        """Close every session for shutdown."""
        for task in list(self._tasks):
            task.cancel()
        await self.drop(1001)


def _constant(data: dict[str, Any]) -> Callable[[GatewayConnection], dict[str, Any]]:
    return lambda conn: data
