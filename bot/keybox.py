"""KeyBox: seals servers' API keys for the database with Fernet (the `cryptography` package), under a key
derived from SECRET_KEY with Scrypt. Each sealed value names its server, so a row copied onto another server's
row does not open there; a SECRET_KEY that changed opens nothing (`Unreadable`), it never crashes."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported with the first key sealed or opened: most deployments never need it
    from cryptography.fernet import Fernet

_SALT = b"seedream-imagine-bot/server-api-keys/v1"  # SECRET_KEY is per deployment; this separates its uses
_SCRYPT_N = 2**14  # about 16 MiB and a few tens of milliseconds, once per process


class Unreadable(Exception):
    """A sealed key that this SECRET_KEY cannot open (it changed, or there is none)."""


@dataclass(frozen=True, slots=True)
class OpenKey:
    """A server's key in clear, as the jobs use it (never shown in a repr)."""

    api_key: str = field(repr=False)
    base_url: str | None


class KeyBox:
    """Seal and open servers' keys; `enabled` is False without SECRET_KEY (then nothing is stored)."""

    def __init__(self, secret: str | None) -> None:
        self._secret = secret
        self._fernet: Fernet | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"KeyBox(enabled={self.enabled})"

    @property
    def enabled(self) -> bool:
        """Whether SECRET_KEY is set."""
        return self._secret is not None

    async def seal(self, guild_id: int, key: OpenKey) -> str:
        """The server's key and base URL, encrypted and authenticated, as text for the database."""
        payload = json.dumps({"guild": guild_id, "key": key.api_key, "base_url": key.base_url}).encode()
        return (await self._box()).encrypt(payload).decode("ascii")

    async def open(self, guild_id: int, sealed: str) -> OpenKey:
        """The server's key in clear; Unreadable when this SECRET_KEY did not seal it for this server."""
        box = await self._box()
        from cryptography.fernet import InvalidToken  # imported by _box

        try:
            data = json.loads(box.decrypt(sealed.encode("ascii")))
        except (InvalidToken, UnicodeError, ValueError):
            raise Unreadable("the key was sealed with another SECRET_KEY") from None
        if not isinstance(data, dict) or data.get("guild") != guild_id or not isinstance(data.get("key"), str):
            raise Unreadable("the sealed key belongs to another server")
        base_url = data.get("base_url")
        return OpenKey(data["key"], base_url if isinstance(base_url, str) else None)

    async def _box(self) -> Fernet:
        if self._fernet is None:
            if self._secret is None:
                raise Unreadable("SECRET_KEY is not set")
            async with self._lock:
                if self._fernet is None:  # Scrypt is slow by design: derived once, off the event loop
                    self._fernet = await asyncio.to_thread(_fernet, self._secret)
        return self._fernet


def _fernet(secret: str) -> Fernet:
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    key = Scrypt(salt=_SALT, length=32, n=_SCRYPT_N, r=8, p=1).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))
