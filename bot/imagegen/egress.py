"""Where a server's own base URL may send the bot: public https hosts, and the origins the operator allowed.

A server admin chooses the base URL of their own key (a relay), so the bot must not become their way into the
operator's network (SSRF). Three fences, each needed:

- the URL as entered: https, no `user:password@`, no query; an IP address must be a public one; the operator's
  IMAGE_API_BASE_URL origin and SERVER_API_ORIGINS are allowed as they are (plain http, private addresses);
- every connection: a resolver that drops private, loopback, link-local and other non-public addresses a host
  name resolves to (so DNS cannot point a public-looking name inside, at any time, not only when it was saved);
- no redirects: a 3xx answer is not followed (it could lead to an IP address the resolver never sees), and a
  result image's URL passes the same address check before it is downloaded.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.i18n import _, number

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_CHARS = 300
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet", ".corp")


class NotAllowed(ValueError):
    """A server's base URL (or a URL it answered with) that the bot will not use; the text says why."""


class BlockedAddress(OSError):
    """A host name that resolved only to addresses servers' base URLs may not reach."""


def is_public(address: str) -> bool:
    """Whether an IP address is on the public internet (not private, loopback, link-local, shared, reserved…)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class Egress:
    """The fences for servers' own base URLs, and the aiohttp session that enforces them per connection."""

    def __init__(self, allowed_origins: frozenset[str], *, limit: int = 64) -> None:
        self.allowed_origins = allowed_origins  # scheme://host:port, lower case
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The guarded session (created on first use, inside the running loop)."""
        if self._session is None or self._session.closed:
            hosts = frozenset(_host_port(origin) for origin in self.allowed_origins)
            connector = aiohttp.TCPConnector(limit=self._limit, resolver=PublicResolver(hosts))
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def close(self) -> None:
        """Close the guarded session, if it was opened."""
        if self._session is not None:
            await self._session.close()

    def check_base_url(self, url: str) -> str:
        """The base URL as it will be used (no trailing slash), or NotAllowed saying what to change."""
        url = url.strip()
        if len(url) > MAX_URL_CHARS:
            raise NotAllowed(_("The base URL is longer than {count} characters.").format(count=number(MAX_URL_CHARS)))
        parts = _parts(url)
        if parts.query or parts.fragment:
            raise NotAllowed(
                _("The base URL must not have a `?query` or `#fragment`; it usually ends in /api/v3 or /v1.")
            )
        if self._origin(parts) not in self.allowed_origins:
            if parts.scheme != "https":
                raise NotAllowed(_("The base URL must start with https://."))
            self._check_host(parts)
        return url.rstrip("/")

    def fetchable(self, url: str) -> bool:
        """Whether a URL a server's service answered with (a result image) may be downloaded."""
        try:
            parts = _parts(url)
            if self._origin(parts) not in self.allowed_origins:
                self._check_host(parts)
        except NotAllowed:
            return False
        return True

    def _origin(self, parts: _Parts) -> str:
        return f"{parts.scheme}://{parts.host}:{parts.port}"

    def _check_host(self, parts: _Parts) -> None:
        host = parts.host
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if "." not in host or host == "localhost" or host.endswith(_LOCAL_SUFFIXES):
                raise NotAllowed(_("The base URL must name a public host, not a local or internal one.")) from None
            return
        if not is_public(host):
            raise NotAllowed(_("The base URL must name a public host, not a private or local address."))


@dataclass(frozen=True, slots=True)
class _Parts:
    """What the fences look at in a URL."""

    scheme: str
    host: str
    port: int
    query: str
    fragment: str


def _parts(url: str) -> _Parts:
    try:
        split = urlsplit(url)
        port = split.port
    except ValueError:
        raise NotAllowed(_("That is not a valid URL.")) from None
    if split.scheme not in DEFAULT_PORTS or not split.hostname:
        raise NotAllowed(_("The base URL must look like https://relay.example/v1."))
    if split.username or split.password or "@" in split.netloc:
        raise NotAllowed(_("The base URL must not contain a `user:password@` part; the key goes in its own field."))
    return _Parts(
        split.scheme, split.hostname.lower(), port or DEFAULT_PORTS[split.scheme], split.query, split.fragment
    )


def _host_port(origin: str) -> tuple[str, int]:
    parts = urlsplit(origin)
    return (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(parts.scheme, 443)


class PublicResolver(AbstractResolver):
    """aiohttp's resolver, keeping only public addresses (all of them for the operator's allowed origins)."""

    def __init__(self, trusted: frozenset[tuple[str, int]]) -> None:
        self._inner = aiohttp.DefaultResolver()
        self._trusted = trusted

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The host's addresses that servers may reach; BlockedAddress when none is left."""
        found = await self._inner.resolve(host, port, family)
        if (host.lower(), port) in self._trusted:
            return found
        public = [entry for entry in found if is_public(entry["host"])]
        if not public:
            raise BlockedAddress(f"{host} resolves to no public address")
        return public

    async def close(self) -> None:
        """Close the wrapped resolver."""
        await self._inner.close()
