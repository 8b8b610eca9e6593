"""At LOG_LEVEL=DEBUG the database drivers and SQLAlchemy log no statements and no parameters."""

from __future__ import annotations

import logging

import pytest

from bot.cli import configure_logging
from bot.settings import Settings
from bot.store import NewJob, UsageStore
from bot.store.journal import Origin

TOKEN = "interaction-token-that-must-not-leak"


async def test_debug_logging_shows_no_sql_parameters(
    database_url: str, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, discord_token="d" * 20, image_api_key="k" * 10, database_url=database_url, log_level="DEBUG"
    )
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    configure_logging(settings)
    store = await UsageStore.open(database_url)
    try:
        job = await store.create_job(NewJob(1, 2, 3, "a secret prompt", 1))
        await store.journal.open(job, Origin(interaction_id=1, token=TOKEN, token_expires_at=9e9))
        assert (await store.journal.get(job)) is not None
    finally:
        await store.close()
    logging.getLogger("bot.test").debug("debug lines do get through")
    out, err = capfd.readouterr()
    assert "debug lines do get through" in err
    assert TOKEN not in out + err and "INSERT INTO" not in err and "a secret prompt" not in err
