"""Shared fixtures: the two loopback fakes and the real bot running against them."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest

from bot.client import ImageBot
from bot.i18n import use_pseudo
from bot.identify import IdentifyGate, LocalIdentifyGate
from bot.presentation.ready_tasks import stop_ready_tasks
from bot.services import Services, build_services, http_session
from bot.settings import Settings
from bot.store import UsageStore
from tests.fakes.discord import FakeDiscord
from tests.fakes.image_api import FakeImageApi
from tests.postgres import ThrowawayServer, Unavailable, fresh_database

SettingsFactory = Callable[..., Settings]
IDENTIFY_INTERVAL = 0.5  # the fake's identify pacing in tests (Discord's is 5 s)
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(autouse=True)
def _pseudo_locale_off() -> Iterator[None]:
    """The pseudo-locale (PSEUDO_LOCALE) is process-wide: a test's bot must not leave it on for the next test."""
    yield
    use_pseudo(False)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str | Unavailable]:
    """The URL of a PostgreSQL server to create test databases on (TEST_DATABASE_URL or a throwaway one)."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield given
        return
    server = ThrowawayServer()
    try:
        url: str | Unavailable = server.start()
    except Unavailable as error:
        url = error
    try:
        yield url
    finally:
        server.stop()


async def _fresh_postgres(server: str | Unavailable) -> str:
    if isinstance(server, Unavailable):
        reason = f"PostgreSQL unavailable: {server}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return await fresh_database(server)


@pytest.fixture
async def postgres_url(postgres_server: str | Unavailable) -> str:
    """A fresh, empty PostgreSQL database; skipped when PostgreSQL is unavailable, but failed under CI=true."""
    return await _fresh_postgres(postgres_server)


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database on each backend: an SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    return await _fresh_postgres(request.getfixturevalue("postgres_server"))


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    """A loopback Discord (REST, gateway, CDN) with a short identify interval."""
    fake = FakeDiscord(identify_interval=IDENTIFY_INTERVAL)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
async def image_api() -> AsyncIterator[FakeImageApi]:
    """A loopback Seedream API producing small real JPEGs."""
    fake = FakeImageApi(render_size=(320, 240))
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
def make_settings(tmp_path: Path, discord_fake: FakeDiscord, image_api: FakeImageApi) -> SettingsFactory:
    """Settings pointing at the fakes; keyword arguments override any field."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "discord_token": discord_fake.token,
            "discord_api_base_url": discord_fake.base_url,
            "image_api_base_url": image_api.base_url,
            "image_api_key": "fake-api-key",
            "database_url": f"sqlite:///{tmp_path / 'bot.db'}",
            "dev_guild_id": int(discord_fake.guild_id),
            "api_backoff_base": 0.01,
            "api_backoff_max": 0.05,
            "api_first_image_timeout": 10.0,
            "progress_interval": 0.5,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


def paced_identify_gate() -> LocalIdentifyGate:
    """An identify gate a little slower than the test fake's interval (transport jitter must not break pacing)."""
    return LocalIdentifyGate(IDENTIFY_INTERVAL + 0.1)


class BotHarness:
    """Runs the real ImageBot in this event loop, the way `python -m bot` does."""

    def __init__(
        self, settings: Settings, discord_fake: FakeDiscord, identify_gate: IdentifyGate | None = None
    ) -> None:
        self.settings = settings
        self.discord = discord_fake
        self.identify_gate = identify_gate or paced_identify_gate()
        self.bot: ImageBot | None = None
        self.services: Services | None = None
        self._task: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None

    @property
    def store(self) -> UsageStore:
        """The running bot's store."""
        assert self.services is not None
        return self.services.store

    async def start(self) -> None:
        """Open resources, log in, connect, and wait until the fake saw READY on each of the bot's shards."""
        self._http = http_session(self.settings)
        store = await UsageStore.open(self.settings.database_url)
        self.services = build_services(self.settings, self._http, store)
        self.bot = ImageBot(self.services, identify_gate=self.identify_gate)
        await self.bot.login(self.settings.discord_token.get_secret_value())
        self._task = asyncio.create_task(self.bot.connect(reconnect=False))
        count = self.settings.shard_count or self.discord.sharding.recommended_shards
        await self.discord.wait_shards_ready(self.settings.shard_ids or range(count), count, timeout=15)

    async def stop(self) -> None:
        """Close the bot and its resources."""
        if self.bot is not None:
            await self.bot.close()
            await stop_ready_tasks(self.bot)  # else on_ready is dispatched into the closing loop
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._task, 10)
        if self.services is not None:
            await self.services.keys.close()
            await self.services.store.close()
        if self._http is not None:
            await self._http.close()


@pytest.fixture
async def start_bot(discord_fake: FakeDiscord, make_settings: SettingsFactory) -> AsyncIterator[Callable[..., Any]]:
    """Start the bot with settings overrides; every started bot is stopped at the end.

    All bots of a test share one identify gate, as the processes of a deployment would.
    """
    harnesses: list[BotHarness] = []
    gate = paced_identify_gate()
    original_base = discord.http.Route.BASE
    original_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY

    async def start(**overrides: Any) -> BotHarness:
        harness = BotHarness(make_settings(**overrides), discord_fake, gate)
        harnesses.append(harness)
        await harness.start()
        return harness

    try:
        yield start
    finally:
        for harness in reversed(harnesses):
            await harness.stop()
        discord.http.Route.BASE = original_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = original_gateway


@pytest.fixture
async def running_bot(start_bot: Callable[..., Any]) -> BotHarness:
    """The bot with default test settings."""
    harness: BotHarness = await start_bot()
    return harness
