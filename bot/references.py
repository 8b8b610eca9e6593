"""Download member-supplied reference images, only from allowed hosts and within a size cap."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import aiohttp

from bot.errors import BadAttachment
from bot.i18n import _, number
from bot.imagegen.client import DownloadTooLarge, read_capped
from bot.textclean import code_span

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}


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
        """True for http(s) URLs on an allowed host: the single gate for every image the bot downloads for members.

        An allow-list entry is a host (any http(s) URL on it) or an origin `scheme://host:port` (only that
        scheme and port: how the host of a custom DISCORD_API_BASE_URL is allowed).
        """
        try:
            parts = urlsplit(url)
            host = parts.hostname
            port = parts.port
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
            return False
        host = host.lower()
        origin = f"{parts.scheme}://{host}:{port or DEFAULT_PORTS[parts.scheme]}"
        return host in self.allowed_hosts or origin in self.allowed_hosts

    async def fetch(self, url: str, name: str) -> bytes:
        """The file's bytes, or BadAttachment with a reason a member understands."""
        if not self.allowed(url):
            log.warning("refused to fetch a reference from a host that is not allowed: %.80s", _host(url))
            raise BadAttachment(_("{file} is not hosted on Discord, so it can't be used.").format(file=code_span(name)))
        try:
            # No redirects: a redirect could lead off the allow-list.
            async with self._session.get(url, timeout=self._timeout, allow_redirects=False) as response:
                if response.status != 200:  # the status stays in the log: it tells members nothing useful
                    log.info("reference download answered HTTP %s from %s", response.status, _host(url))
                    raise BadAttachment(_not_downloaded(name))
                return await read_capped(response, self.max_bytes)
        except DownloadTooLarge as exc:
            raise BadAttachment(too_large(name, self.max_bytes)) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BadAttachment(_not_downloaded(name)) from exc


def too_large(name: str, max_bytes: int) -> str:
    """The refusal of a reference over the size limit (REFERENCE_MAX_BYTES)."""
    return _("{file} is larger than the {megabytes} MB limit for reference images.").format(
        file=code_span(name), megabytes=number(max_bytes // (1024 * 1024))
    )


def _not_downloaded(name: str) -> str:
    return _("{file} could not be downloaded from Discord. Please try again.").format(file=code_span(name))


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"
