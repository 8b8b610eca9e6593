"""ServerKeys: a server's own image API key (and base URL): probed before it is saved, sealed at rest, looked up
by the job's server when the job runs (in whichever process runs it), refused before any cost when unusable.

Keys are never copied into job rows or the journal; in memory they live in `OpenKey` / `ApiEndpoint`, whose
reprs leave them out, and each key the process sees is masked in its log output (`bot.logs.mask_also`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import aiohttp

from bot import server_key_texts as texts
from bot.errors import BadInput, StoreFailed, UserFacingError
from bot.imagegen.client import ApiEndpoint
from bot.imagegen.egress import Egress, NotAllowed
from bot.imagegen.probe import probe
from bot.keybox import KeyBox, OpenKey, Unreadable
from bot.logs import mask_also
from bot.settings import Settings, origin_of
from bot.store import UsageStore
from bot.store.keys import StoredKey

log = logging.getLogger(__name__)

KEY_FORM = re.compile(r"[\x21-\x7e]{16,256}")  # printable ASCII, no spaces: what API keys look like
# Admission reuses a server's key state this long (a burst of requests reads it once); the run-time lookup and this
# process's own changes are never stale, and a server's commands all arrive at the process holding its shard.
ADMISSION_REUSE_SECONDS = 15.0
Problem = Literal["unreadable", "no_secret", "url"]


class ServerKeyMissing(UserFacingError):
    """The server has no key of its own and the bot requires one (or a DM, and the bot has no key)."""

    code = "server_key_missing"


class ServerKeyUnusable(UserFacingError):
    """The server stored a key that cannot be used now (SECRET_KEY changed or unset, base URL not allowed)."""

    code = "server_key_unusable"


@dataclass(frozen=True, slots=True)
class Lookup:
    """A server's key as found: none, open, or stored but unusable (`problem`)."""

    stored: StoredKey | None = None
    key: OpenKey | None = None
    problem: Problem | None = None


def clean_key(raw: str) -> str:
    """The key as typed, trimmed; BadInput (never quoting it) unless it looks like an API key."""
    key = raw.strip()
    if not KEY_FORM.fullmatch(key):
        raise BadInput(texts.bad_key())
    return key


def host_of(url: str) -> str:
    """The host (and port, when not the default) of a base URL, for display."""
    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1] or "?"


class ServerKeys:
    """Servers' own keys: save (after a probe), status, removal, the admission check and the run-time endpoint."""

    def __init__(self, settings: Settings, store: UsageStore, http: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.store = store
        self.http = http
        self.box = KeyBox(None if settings.secret_key is None else settings.secret_key.get_secret_value())
        allowed = frozenset({origin_of(settings.image_api_base_url), *settings.server_api_origins})
        jobs = settings.worker_concurrency or settings.max_concurrent_jobs
        self.egress = Egress(allowed, limit=jobs + settings.max_images_in_flight + 4)
        self._warned: set[int] = set()  # servers whose unreadable key was logged (once per process)
        self._recent: dict[int, tuple[float, Lookup]] = {}  # admission's view: (until, state without the key)
        self._reading: dict[int, asyncio.Future[Lookup]] = {}  # one store read per server at a time

    async def close(self) -> None:
        """Close the fenced session of servers' base URLs."""
        await self.egress.close()

    async def lookup(self, guild_id: int | None) -> Lookup:
        """The server's key, opened when it can be (DMs: never a server key)."""
        if not guild_id:
            return Lookup()
        stored = await self.store.keys.get(guild_id)
        if stored is None:
            return Lookup()
        if not self.box.enabled:
            return Lookup(stored, problem="no_secret")
        try:
            key = await self.box.open(guild_id, stored.sealed)
        except Unreadable:
            if guild_id not in self._warned:
                self._warned.add(guild_id)
                log.warning("server %s: its API key cannot be opened with this SECRET_KEY", guild_id)
            return Lookup(stored, problem="unreadable")
        mask_also(key.api_key)
        if key.base_url is not None:
            try:
                self.egress.check_base_url(key.base_url)
            except NotAllowed:
                return Lookup(stored, problem="url")
        return Lookup(stored, key)

    async def admit(self, guild_id: int | None, *, manager: bool) -> None:
        """Admission: raise the refusal (how-to for admins) when jobs of this server cannot run."""
        try:
            found = await self._admission_view(guild_id or 0)
        except Exception as error:
            log.warning("could not read server %s's key: %s", guild_id, type(error).__name__, exc_info=True)
            raise StoreFailed() from error
        refusal = self._refusal(guild_id, found, manager=manager)
        if refusal is not None:
            raise refusal

    async def _admission_view(self, guild_id: int) -> Lookup:
        """The server's key state (never the key) as admission sees it: read once for a burst of requests."""
        if not guild_id:
            return Lookup()
        now = time.monotonic()
        recent = self._recent.get(guild_id)
        if recent is not None and recent[0] > now:
            return recent[1]
        reading = self._reading.get(guild_id)
        if reading is None:
            reading = asyncio.ensure_future(self.lookup(guild_id))
            self._reading[guild_id] = reading
            reading.add_done_callback(lambda _: self._reading.pop(guild_id, None))
        found = dataclasses.replace(await asyncio.shield(reading), key=None)
        if len(self._recent) > 10_000:
            self._recent = {g: entry for g, entry in self._recent.items() if entry[0] > now}
        self._recent[guild_id] = (now + ADMISSION_REUSE_SECONDS, found)
        return found

    async def endpoint_for(self, guild_id: int | None) -> ApiEndpoint | None:
        """Run time: the job's endpoint by its server (None: the operator's key); raises when it cannot run."""
        found = await self.lookup(guild_id)
        refusal = self._refusal(guild_id, found, manager=False)
        if refusal is not None:
            raise refusal
        if found.key is None:
            return None
        if found.key.base_url is None:
            return ApiEndpoint(self.settings.image_api_base_url, found.key.api_key, own=True)
        return ApiEndpoint(found.key.base_url, found.key.api_key, own=True, egress=self.egress)

    def _refusal(self, guild_id: int | None, found: Lookup, *, manager: bool) -> UserFacingError | None:
        if found.stored is not None and found.problem is not None:
            text = texts.unusable(found.stored.hint, found.problem) if manager else texts.unusable_member()
            return ServerKeyUnusable(text)
        if found.stored is not None:
            return None
        if not guild_id:
            return None if self.settings.operator_key is not None else ServerKeyMissing(texts.no_dms())
        if self.settings.require_server_key:
            return ServerKeyMissing(texts.not_set_up_admin() if manager else texts.not_set_up_member())
        return None

    def check_storing(self) -> None:
        """BadInput when this bot cannot store keys (no SECRET_KEY): said before the form opens."""
        if not self.box.enabled:
            raise BadInput(texts.storing_off())

    async def save(self, guild_id: int, by: int, raw_key: str, raw_base_url: str) -> str:
        """Check the key with the free probe, then seal and store it; the confirmation, or BadInput saying why not."""
        self.check_storing()
        key = clean_key(raw_key)
        mask_also(key)
        base_url = self._base_url(raw_base_url)
        target = base_url or self.settings.image_api_base_url
        session = self.http if base_url is None else self.egress.session
        found = await probe(session, target, key, self.settings.image_model, follow_redirects=base_url is None)
        log.info("server %s: probe of a new API key at %s: %s", guild_id, host_of(target), found.verdict)
        if found.verdict != "ok":
            raise BadInput(texts.probe_refusal(found, host_of(target), self.settings.image_model))
        sealed = await self.box.seal(guild_id, OpenKey(key, base_url))
        host = None if base_url is None else host_of(base_url)
        stored = await self.store.keys.put(guild_id, sealed, key[-4:], host, by=by)
        self._recent.pop(guild_id, None)  # seen by the next admission at once
        return texts.saved(stored.hint, host_of(target))

    def _base_url(self, raw: str) -> str | None:
        if not raw.strip():
            return None
        try:
            url = self.egress.check_base_url(raw)
        except NotAllowed as refusal:
            raise BadInput(texts.bad_base_url(str(refusal))) from None
        return None if url == self.settings.image_api_base_url else url

    async def status(self, guild_id: int) -> str:
        """What the server's admins may see of its key: its last four characters, the host, who set it, whether
        it works."""
        found = await self.lookup(guild_id)
        if found.stored is None:
            return texts.no_key(required=self.settings.require_server_key, storing=self.box.enabled)
        stored = found.stored
        host = stored.host or host_of(self.settings.image_api_base_url)
        return texts.status(stored, host, found.problem)

    async def remove(self, guild_id: int, by: int) -> str:
        """Forget the server's key; what its jobs use from now on."""
        removed = await self.store.keys.delete(guild_id, by=by)
        self._recent.pop(guild_id, None)
        if removed is None:
            return texts.nothing_to_remove()
        log.info("server %s: its API key was removed by %s", guild_id, by)
        return texts.removed(removed.hint, required=self.settings.require_server_key)
