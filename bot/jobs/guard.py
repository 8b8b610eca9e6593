"""Delivery that loses nothing silently: bounded retries of Discord's transient failures, then the image
is kept on disk for a bounded time and size, and the member is told."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import aiohttp

from bot.errors import ImageApiError
from bot.i18n import _, duration
from bot.imaging import PNG_SIGNATURE
from bot.jobs.model import Delivery, OutputImage, Posted, Progress
from bot.settings import Settings

log = logging.getLogger(__name__)


class DeliveryGuard:
    """Posts images through a Delivery with retries; keeps what could not be posted."""

    def __init__(self, settings: Settings) -> None:
        self.retries = settings.delivery_retries
        self.delay = settings.delivery_retry_delay
        self.timeout = settings.delivery_timeout
        self.ttl = settings.undelivered_ttl_seconds
        self.undelivered = UndeliveredImages(
            settings.undelivered_path, ttl=settings.undelivered_ttl_seconds, max_bytes=settings.undelivered_max_bytes
        )

    async def post(self, image: OutputImage, delivery: Delivery, progress: Progress) -> Posted | ImageApiError:
        """Where the image was posted, or the failure to report (the image then kept on disk if possible)."""
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                # A stuck upload counts as a failed try (discord.py sets no per-request timeout of its own).
                return await asyncio.wait_for(delivery.deliver(image, progress), self.timeout)
            except Exception as exc:
                if attempt == attempts or not transient(exc):
                    log.warning(
                        "job %s: image %d could not be posted (attempt %d of %d)",
                        progress.job_id,
                        image.api_index,
                        attempt,
                        attempts,
                        exc_info=True,
                    )
                    break
                log.info("job %s: posting image %d failed (%r); retrying", progress.job_id, image.api_index, exc)
                await asyncio.sleep(self.delay * attempt)
        return await self._keep(image, progress.job_id)

    async def _keep(self, image: OutputImage, job_id: int) -> ImageApiError:
        """The failure in the language of the job (its worker's task speaks it)."""
        kept = await self.undelivered.keep(job_id, image.api_index, image.data)
        if kept is None:
            return ImageApiError(_("An image could not be posted to Discord."), code="delivery_failed")
        hours = max(1, round(self.ttl / 3600))
        text = _("Discord did not accept an image; the bot's owner can recover it for {time} (job {job_id}).")
        return ImageApiError(text.format(time=duration(hours * 3600), job_id=job_id), code="delivery_failed")


def transient(exc: BaseException) -> bool:
    """Worth another try: Discord 5xx/429 that discord.py gave up on, timeouts, connection errors."""
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        return status >= 500 or status == 429
    return isinstance(exc, TimeoutError | OSError | aiohttp.ClientError)


class UndeliveredImages:
    """A folder of `job<id>_<index>.jpg` (or `.png`) files, pruned by age (TTL) and total size (oldest first)."""

    def __init__(self, folder: Path, *, ttl: float, max_bytes: int) -> None:
        self.folder = folder
        self.ttl = ttl
        self.max_bytes = max_bytes

    async def keep(self, job_id: int, index: int, data: bytes) -> Path | None:
        """Save one image; None when it cannot be kept (bigger than the whole budget, or the disk failed)."""
        if len(data) > self.max_bytes:
            return None
        try:
            return await asyncio.to_thread(self._keep, job_id, index, data)
        except OSError:
            log.exception("job %s: could not keep undelivered image %d on disk", job_id, index)
            return None

    async def prune(self) -> int:
        """Delete expired files and the oldest ones beyond the size budget; returns how many were deleted."""
        return await asyncio.to_thread(self._prune, 0)

    def _keep(self, job_id: int, index: int, data: bytes) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._prune(len(data))
        path = self.folder / f"job{job_id}_{index}.{'png' if data.startswith(PNG_SIGNATURE) else 'jpg'}"
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(path)
        log.warning("job %s: image %d could not be delivered; kept as %s", job_id, index, path.name)
        return path

    def _prune(self, room: int) -> int:
        if not self.folder.is_dir():
            return 0
        now = time.time()
        kept = [*self.folder.glob("job*.jpg"), *self.folder.glob("job*.png")]
        files = sorted((p.stat().st_mtime, p.stat().st_size, p) for p in kept)
        deleted = 0
        total = sum(size for _mtime, size, _path in files)
        for mtime, size, path in files:
            if now - mtime <= self.ttl and total + room <= self.max_bytes:
                continue
            path.unlink(missing_ok=True)
            total -= size
            deleted += 1
        return deleted
