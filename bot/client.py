"""ImageBot: the discord.py client, its extensions and command sync."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from typing import Any

import discord
import yarl
from discord.ext import commands

from bot.i18n import use_pseudo, warm
from bot.identify import IdentifyGate, LocalIdentifyGate, identify_bucket
from bot.jobs.worker import Worker
from bot.presentation.buttons import RESULT_ITEMS
from bot.presentation.deliveries import RestDeliveries
from bot.presentation.ready_tasks import stop_ready_tasks
from bot.presentation.recovery import RetryButton
from bot.presentation.speaking import CatalogTranslator, speak_members_language
from bot.services import Services
from bot.tree import BotTree

log = logging.getLogger(__name__)

EXTENSIONS = (
    "cogs.imagine",
    "cogs.blend",
    "cogs.tray",
    "cogs.results",
    "cogs.recovery",
    "cogs.usage",
    "cogs.admin",
    "cogs.member_settings",
    "cogs.help",
)
_SYNC_KEY = "commands_hash:{}"  # per application: another bot's token on the same database still syncs
COMMANDS_GRACE = 5.0  # seconds the commands still running get to finish when the bot closes (then cancelled)


def point_discord_at(base_url: str) -> None:
    """Send every REST call (webhooks included) to `base_url`, e.g. a REST proxy or a local fake."""
    discord.http.Route.BASE = base_url.rstrip("/")


def ignore_own_messages(state: Any) -> None:
    """Drop the gateway's MESSAGE_CREATE / MESSAGE_UPDATE events for the bot's own messages unparsed.

    Every image the bot posts and every status edit comes back over the gateway, and discord.py would build a
    full Message (author, attachments, components) for each one, only for nobody to listen: the bot ignores
    messages by bots and keeps no message cache. At hundreds of jobs in flight that parsing was the largest
    single cost on the event loop.
    """
    for event in ("MESSAGE_CREATE", "MESSAGE_UPDATE"):
        parse = state.parsers[event]

        def unless_own(data: dict[str, Any], parse: Any = parse) -> None:
            author = data.get("author")
            if author is not None and state.self_id is not None and author.get("id") == str(state.self_id):
                return
            parse(data)

        state.parsers[event] = unless_own


class ImageBot(commands.AutoShardedBot):
    """The bot: runs SHARD_IDS of SHARD_COUNT shards (unset: all of Discord's recommended count).

    Mentions are never pinged from anything it sends. IDENTIFYs wait for their turn at `identify_gate`
    (one per concurrency bucket per interval); pass a gate shared across processes when several run shards.
    """

    def __init__(self, services: Services, *, identify_gate: IdentifyGate | None = None, gateway: bool = True) -> None:
        settings = services.settings
        intents = discord.Intents.default()
        intents.message_content = settings.message_content_intent
        if settings.shard_ids is not None:  # discord.py wants the key absent, not None, when unset
            shards: dict[str, Any] = {"shard_count": settings.shard_count, "shard_ids": settings.shard_ids}
        else:
            shards = {"shard_count": settings.shard_count}
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            tree_cls=BotTree,
            allowed_mentions=discord.AllowedMentions.none(),
            max_messages=None,  # nothing reads the message cache; filling it costs a lookup per gateway edit
            **shards,
        )
        ignore_own_messages(self._connection)
        self.services = services
        self.identify_gate: IdentifyGate = identify_gate or LocalIdentifyGate()
        self.max_concurrency = 1  # identify buckets, from GET /gateway/bot at login
        self.closing = False  # set by shutdown(): new interactions are refused with a "restarting" note
        self.gateway = gateway  # False: `python -m bot worker` (REST only: runs jobs, serves no commands)
        self._closed = asyncio.Event()
        self._warming: asyncio.Task[None] | None = None
        deliveries = RestDeliveries(self, settings, services.store, services.quotas)
        self.worker = Worker(settings, services.store, services.jobs, services.quotas, deliveries, board=services.board)
        if settings.uses_custom_discord_api:
            point_discord_at(settings.discord_api_base_url)

    async def login(self, token: str) -> None:
        """Log in and read the identify concurrency, the recommended shard count (unless SHARD_COUNT is set) and the
        gateway URL: with them, discord.py connects without asking for them again (a round trip before READY)."""
        await super().login(token)
        shards, url, limits = await self.http.get_bot_gateway()
        self.max_concurrency = max(1, int(limits["max_concurrency"]))
        if self.shard_count is None:  # SHARD_COUNT unset: Discord's recommendation
            self.shard_count = shards
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)  # where discord.py connects, given a count
        if self.services.settings.uses_custom_discord_api:
            log.info("using the gateway announced by DISCORD_API_BASE_URL")

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Wait for this shard's identify bucket to have its turn (instead of discord.py's own 5 s sleep)."""
        bucket = identify_bucket(shard_id, self.max_concurrency)
        await self.identify_gate.wait_turn(bucket)
        log.debug("shard %s identifies (bucket %d of %d)", shard_id, bucket, self.max_concurrency)

    async def setup_hook(self) -> None:
        """Load the cogs and sync commands (gateway processes), then start this process's worker."""
        use_pseudo(self.services.settings.pseudo_locale)
        speak_members_language(self)
        await self.tree.set_translator(CatalogTranslator())
        if self.gateway:
            for name in EXTENSIONS:
                await self.load_extension(name)
            self.add_dynamic_items(*RESULT_ITEMS)  # result buttons survive restarts
            await self.sync_commands()
        else:
            self.add_dynamic_items(*RESULT_ITEMS, RetryButton)  # views a worker sends carry these buttons
            await self.services.recovery.tidy()
            self.warm_languages()
        self.worker.start()

    def warm_languages(self) -> None:
        """Read every language's CLDR data in a thread, once (at READY in a gateway process: reading it while
        starting would delay READY by as long)."""
        if self._warming is None:
            self._warming = asyncio.create_task(asyncio.to_thread(warm))

    async def sync_commands(self) -> None:
        """Sync the command tree; global sync only when the definitions changed since the last one."""
        dev_guild = self.services.settings.dev_guild_id
        if dev_guild is not None:
            guild = discord.Object(id=dev_guild)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d command(s) to the development guild", len(synced))
            return
        # Translations are part of the definitions: a catalog change syncs too.
        translator = self.tree.translator or CatalogTranslator()
        payload = [await c.get_translated_payload(self.tree, translator) for c in self.tree.get_commands()]
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        store, key = self.services.store, _SYNC_KEY.format(self.application_id)
        async with store.try_exclusive("command-sync") as mine:  # once per deployment, not once per process
            if not mine:
                log.info("another process is syncing the commands")
                return
            if await store.get_meta(key) == digest:
                log.info("command definitions unchanged; not syncing")
                return
            synced = await self.tree.sync()
            await store.set_meta(key, digest)
        log.info("synced %d global command(s)", len(synced))

    async def shutdown(self, grace: float | None = None) -> None:
        """Stop accepting, let running jobs finish for the grace period, leave the rest in the journal, close."""
        if self.closing:
            return
        self.closing = True
        self.services.admission.close()  # buttons and mentions, which the tree's check does not see, too
        grace = self.services.settings.shutdown_grace_seconds if grace is None else grace
        log.info("shutting down: running jobs get up to %.0fs", grace)
        await self.services.board.close()
        await self.services.forgetter.close()  # an unfinished forget-me is finished at the next start
        interrupted = await self.worker.drain(grace)
        if interrupted:
            log.warning("%d job(s) handed over for another worker to finish: %s", len(interrupted), interrupted)
        await self.close()

    async def close(self) -> None:
        """Stop the worker at once (its jobs stay in the queue for a takeover), then disconnect."""
        await self.worker.stop()
        await self.services.board.close()
        await self.services.forgetter.close()
        await super().close()
        await stop_ready_tasks(self)  # else a READY still awaited would dispatch on_ready into a closing loop
        tree = self.tree
        assert isinstance(tree, BotTree)  # tree_cls
        cancelled = await tree.finish_running(COMMANDS_GRACE)  # none of them uses the store once it closes
        if cancelled:
            log.warning("%d command(s) still running at close were cancelled", cancelled)
        self._closed.set()

    async def wait_until_closed(self) -> None:
        """Return once `close()` has run (a worker-only process has no gateway connection to wait on)."""
        await self._closed.wait()

    async def on_connect(self) -> None:
        """READY of a new gateway session (discord.py's `on_ready` comes once the guilds are in, 2 s later)."""
        self.warm_languages()

    async def on_ready(self) -> None:
        """Log who we are."""
        shards = self.shard_ids or list(range(self.shard_count or 1))
        log.info(
            "ready as %s in %d guild(s) on shard(s) %s of %s", self.user, len(self.guilds), shards, self.shard_count
        )

    async def on_shard_ready(self, shard_id: int) -> None:
        """Log each shard's readiness with the number of guilds it serves."""
        guilds = sum(1 for guild in self.guilds if guild.shard_id == shard_id)
        log.info("shard %d of %s ready with %d guild(s)", shard_id, self.shard_count, guilds)
