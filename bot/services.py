"""Services: everything a cog may use, built once at start-up."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import aiohttp

from bot.first_answers import FirstAnswers
from bot.forgetting import Forgetter
from bot.guild_admin import GuildAdmin
from bot.imagegen.client import ClientOptions, ImageApiClient
from bot.jobs.admission import Admission
from bot.jobs.queue import WaitingBoard
from bot.jobs.recovery import Recovery
from bot.jobs.runner import JobRunner
from bot.member_settings import MemberSettings
from bot.metrics import MeteredImageApiClient, Metrics
from bot.quotas import QuotaService
from bot.references import ReferenceFetcher
from bot.server_keys import ServerKeys
from bot.settings import Settings
from bot.store import UsageStore
from bot.tray import ReferenceTray
from bot.usage import UsageService

log = logging.getLogger(__name__)

PREPARING_AT_ONCE = 8  # jobs whose references are being downloaded and decoded at once (per process)
REFERENCE_FETCHES = 32  # connections kept for downloading members' reference images


@dataclass(frozen=True, slots=True)
class Services:
    """The bot's shared resources; ImageBot neither creates nor closes them."""

    settings: Settings
    http: aiohttp.ClientSession
    store: UsageStore
    images: ImageApiClient
    jobs: JobRunner
    admission: Admission  # the one gate every job start goes through
    board: WaitingBoard  # queued jobs' places in line, as their status lines show them
    recovery: Recovery  # start-up tidying; the rest of an interrupted job as a new job (Retry)
    references: ReferenceFetcher
    tray: ReferenceTray  # images members collected with "Add to references"
    quotas: QuotaService
    usage: UsageService
    forgetter: Forgetter  # forget-me requests, in the background
    admin: GuildAdmin
    member_settings: MemberSettings  # members' defaults (/settings) and the options of their new jobs
    keys: ServerKeys  # servers' own API keys; `close()` it with the http session
    metrics: Metrics = field(default_factory=Metrics)
    # Jobs downloading and decoding their references at once (every Launcher of the process shares it).
    preparing: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(PREPARING_AT_ONCE))
    # Interactions still waiting for their first answer: a job already acknowledged is prepared after them.
    first_answers: FirstAnswers = field(default_factory=FirstAnswers)


def http_session(settings: Settings) -> aiohttp.ClientSession:
    """The one aiohttp session (Discord has discord.py's own), sized so that API streams and image downloads never
    wait for each other: a connection for every job this process runs, every image it holds, and reference fetches."""
    jobs = settings.worker_concurrency or settings.max_concurrent_jobs
    limit = jobs + settings.max_images_in_flight + REFERENCE_FETCHES
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit, limit_per_host=0))


def image_client(settings: Settings, http: aiohttp.ClientSession, metrics: Metrics | None = None) -> ImageApiClient:
    """An ImageApiClient configured from settings (timed into `metrics` when they are on)."""
    options = ClientOptions(
        connect_timeout=settings.api_connect_timeout,
        first_image_timeout=settings.api_first_image_timeout,
        image_timeout=settings.api_image_timeout,
        result_max_bytes=settings.result_max_bytes,
        max_retries=settings.api_max_retries,
        backoff_base=settings.api_backoff_base,
        backoff_max=settings.api_backoff_max,
        max_images_in_flight=settings.max_images_in_flight,
    )
    key = settings.operator_key
    if metrics is not None and metrics.enabled:
        return MeteredImageApiClient(http, settings.image_api_base_url, key, options, metrics=metrics)
    return ImageApiClient(http, settings.image_api_base_url, key, options)


def warn_about_models(settings: Settings) -> None:
    """One warning at start-up when IMAGE_MODELS holds ids the bot does not know, or a model lacks the `fast`
    OPTIMIZE_PROMPT_MODE (its requests then use the standard mode)."""
    catalog = settings.catalog
    if catalog.unknown:
        rules = catalog.get(catalog.unknown[0])
        log.warning(
            "IMAGE_MODELS: %s: not a model this bot knows, so it gets Seedream 4.0's rules (%s, at most %d "
            "references, %g per image); the API refuses what that model cannot do",
            ", ".join(catalog.unknown),
            " / ".join(rules.resolutions),
            rules.max_references,
            rules.price,
        )
    if settings.optimize_prompt_mode == "fast":
        lacking = [model.name for model in catalog.offered if "fast" not in model.prompt_modes]
        if lacking:
            log.warning("OPTIMIZE_PROMPT_MODE=fast: %s has no fast mode; its requests use standard", ", ".join(lacking))


def build_services(settings: Settings, http: aiohttp.ClientSession, store: UsageStore) -> Services:
    """Wire the services together."""
    warn_about_models(settings)
    metrics = Metrics(enabled=settings.metrics_port is not None)
    images = image_client(settings, http, metrics)
    quotas = QuotaService(settings, store)
    keys = ServerKeys(settings, store, http)
    jobs = JobRunner(settings, images, store, metrics=metrics, keys=keys)
    return Services(
        settings=settings,
        http=http,
        store=store,
        images=images,
        jobs=jobs,
        admission=Admission(quotas, keys),
        board=WaitingBoard(store, interval=settings.progress_interval),
        recovery=Recovery(settings, store, jobs),
        references=ReferenceFetcher(http, settings.allowed_reference_hosts, settings.reference_max_bytes),
        tray=ReferenceTray(store, settings.reference_tray_ttl),
        quotas=quotas,
        usage=UsageService(settings, store, quotas),
        forgetter=Forgetter(store),
        admin=GuildAdmin(settings, store),
        member_settings=MemberSettings(store, quotas),
        keys=keys,
        metrics=metrics,
    )
