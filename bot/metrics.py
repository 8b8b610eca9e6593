"""Optional Prometheus metrics: jobs by outcome, queue length, API latency, images delivered.

Off by default. With METRICS_PORT set, `bot/cli.py` serves `/metrics` on METRICS_HOST:METRICS_PORT with the
`prometheus-client` library (`pip install '.[metrics]'` in the project folder).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from bot.imagegen.client import ApiEndpoint, ImageApiClient, Rebuild
from bot.imagegen.models import Completed, GenerationEvent, GenerationRequest

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)

_LATENCY_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 90, 120, 180, 300, 600)


class MetricsUnavailable(RuntimeError):
    """METRICS_PORT is set but prometheus-client is not installed."""


class Metrics:
    """The bot's counters; every method is a cheap no-op when metrics are off."""

    def __init__(self, *, enabled: bool = False) -> None:
        self.enabled = enabled
        self._queue_length = 0
        self.registry: Any = None
        if enabled:
            self._create()

    def _create(self) -> None:
        try:
            import prometheus_client as prom
        except ImportError as exc:
            raise MetricsUnavailable(
                "METRICS_PORT needs prometheus-client: run pip install '.[metrics]' in the bot's folder, "
                "or unset METRICS_PORT"
            ) from exc
        self.registry = prom.CollectorRegistry()
        self._jobs = prom.Counter("imagine_jobs", "Finished jobs by outcome", ["status"], registry=self.registry)
        self._images = prom.Counter("imagine_images_delivered", "Images posted to Discord", registry=self.registry)
        queue = prom.Gauge("imagine_queue_length", "Jobs waiting in the deployment's queue", registry=self.registry)
        queue.set_function(lambda: self._queue_length)
        self._latency = prom.Histogram(
            "imagine_api_seconds",
            "Image API latency: until the first image, and of the whole call by outcome",
            ["phase"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )

    def queue_length(self, waiting: int) -> None:
        """The jobs waiting in the whole deployment (read from the store by the worker's heartbeat)."""
        self._queue_length = waiting

    def job_finished(self, job_id: int, status: str) -> None:
        """A job ended with `status` (completed, partial, failed, blocked)."""
        if self.enabled:
            self._jobs.labels(status=status).inc()

    def image_delivered(self) -> None:
        """One image reached Discord."""
        if self.enabled:
            self._images.inc()

    def api_latency(self, phase: str, seconds: float) -> None:
        """Record an API duration: phase `first_image`, `ok` or `error`."""
        if self.enabled:
            self._latency.labels(phase=phase).observe(seconds)

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format."""
        if not self.enabled:
            return b""
        from prometheus_client import generate_latest

        return bytes(generate_latest(self.registry))


class MeteredImageApiClient(ImageApiClient):
    """ImageApiClient that records the API's latency into Metrics."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = metrics

    async def generate(
        self, request: GenerationRequest, endpoint: ApiEndpoint | None = None, *, again: Rebuild | None = None
    ) -> AsyncGenerator[GenerationEvent, None]:
        """Same events as ImageApiClient.generate; timings go to Metrics."""
        started = time.monotonic()
        first = True
        phase = "error"
        try:
            async for event in super().generate(request, endpoint, again=again):
                if first and not isinstance(event, Completed):
                    self.metrics.api_latency("first_image", time.monotonic() - started)
                    first = False
                if isinstance(event, Completed):
                    phase = "ok"
                yield event
                del event
        finally:
            self.metrics.api_latency(phase, time.monotonic() - started)


async def start_metrics_server(metrics: Metrics, host: str, port: int) -> web.AppRunner:
    """Serve GET /metrics; returns the runner (call `cleanup()` to stop). Port 0 picks a free port."""
    from aiohttp import web  # aiohttp's server side: imported only when metrics are on

    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=metrics.exposition(), headers={"Content-Type": "text/plain; version=0.0.4"})

    app = web.Application()
    app.router.add_get("/metrics", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("metrics on http://%s:%s/metrics", host, runner.addresses[0][1])
    return runner
