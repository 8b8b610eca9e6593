"""Entering, showing and removing a server's own API key the way an admin does: the command and its form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.fakes.discord import FakeDiscord, FakeUser

SECRET = "test-secret-key-0123456789-abcdefghijklmnop"  # SECRET_KEY of the tests (at least 32 characters)
SERVER_KEY = "sk-server-own-key-7f3a9c2e5b1d4680aa"  # ends in "80aa"
OTHER_KEY = "sk-another-server-key-19d8e7f6c5b4a3"
OPERATOR_KEY = "fake-api-key"  # IMAGE_API_KEY of the test settings


async def answer(fake: FakeDiscord, interaction: Any, timeout: float = 15) -> str:
    """The interaction's private answer once it has text (after a 'thinking' defer: once it was edited)."""

    def settled() -> Any:
        message = interaction.original
        return message if message is not None and message.content and not message.loading else None

    message = await fake.wait_for(settled, timeout=timeout)
    assert message.ephemeral, f"not private: {message.content!r}"
    return str(message.content)


async def enter_key(
    fake: FakeDiscord, admin: FakeUser, key: str, base_url: str | None = None, *, channel_id: str | None = None
) -> str:
    """Run `/imagine-admin api-key`, fill in its form and submit it; the bot's private answer."""
    opened = await fake.slash(admin, "imagine-admin api-key", channel_id=channel_id)
    await opened.wait_response()
    assert opened.response_type == 9 and opened.modal is not None, f"no form opened: {opened.content!r}"
    values = {"apikey:key": key} if base_url is None else {"apikey:key": key, "apikey:base_url": base_url}
    submitted = await fake.submit_modal(admin, opened, values)
    return await answer(fake, submitted)


async def key_action(fake: FakeDiscord, admin: FakeUser, action: str, *, channel_id: str | None = None) -> str:
    """`/imagine-admin api-key action:<status|remove>`; the private answer."""
    interaction = await fake.slash(admin, "imagine-admin api-key", action=action, channel_id=channel_id)
    return await answer(fake, interaction)


def raw_database_bytes(database: Path) -> bytes:
    """The SQLite file and its WAL (and shared-memory index) as they are on disk."""
    parts = [database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")]
    return b"".join(part.read_bytes() for part in parts if part.exists())
