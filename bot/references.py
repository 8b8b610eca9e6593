"""Download member-supplied reference images, only from allowed hosts and within a size cap."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import aiohttp

from bot.errors import BadAttachment
from bot.imagegen.client import DownloadTooLarge, read_capped

log = logging.getLogger(__name__)


class ReferenceFetcher:
    """Fetches attachment bytes from Discord's CDN (or the configured test CDN)."""

    def __init__(
        self, session: aiohttp.ClientSession, allowed_hosts: frozenset[str], max_bytes: int, timeout: float = 30.0
    ) -> None:
        self._session = session
        self.allowed_hosts = allowed_hosts
        self.max_bytes = max_bytes
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def allowed(self, url: str) -> bool:
        """True for http(s) URLs on an allowed host: the single gate for every image the bot downloads for members."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
            return False
        return host.lower() in self.allowed_hosts

    async def fetch(self, url: str, name: str) -> bytes:
        """The file's bytes, or BadAttachment with a reason a member understands."""
        if not self.allowed(url):
            log.warning("refused to fetch a reference from a host that is not allowed: %.80s", _host(url))
            raise BadAttachment(f"`{name}` is not hosted on Discord, so it can't be used.")
        try:
            # No redirects: a redirect could lead off the allow-list.
            async with self._session.get(url, timeout=self._timeout, allow_redirects=False) as response:
                if response.status != 200:
                    raise BadAttachment(f"`{name}` could not be downloaded from Discord (HTTP {response.status}).")
                return await read_capped(response, self.max_bytes)
        except DownloadTooLarge as exc:
            limit = self.max_bytes // (1024 * 1024)
            raise BadAttachment(f"`{name}` is larger than the {limit} MB limit for reference images.") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BadAttachment(f"`{name}` could not be downloaded from Discord. Please try again.") from exc


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"
