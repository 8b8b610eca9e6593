"""Structured logs: context tag on every line, JSON format, secrets masked."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging

from bot.logs import set_interaction, set_job
from tests.logcapture import capture_logs

log = logging.getLogger("bot.test")


async def test_job_id_is_on_every_line_of_the_job_and_its_tasks() -> None:
    async def job() -> None:
        set_job(42)
        log.info("calling the API")
        await asyncio.create_task(asyncio.to_thread(log.info, "in a thread"))
        await asyncio.create_task(_child())

    async def _child() -> None:
        log.info("in a child task")

    with capture_logs() as logs:
        await asyncio.create_task(job())
        log.info("outside")
    assert len(logs.lines("[job=42]")) == 3
    assert logs.lines("outside")[0].count("[-]") == 1


async def test_interaction_tag_is_per_task() -> None:
    async def handle(interaction_id: int) -> None:
        set_interaction(interaction_id)
        await asyncio.sleep(0)
        log.info("handled %s", interaction_id)

    with capture_logs() as logs:
        await asyncio.gather(handle(1), handle(2))
    assert logs.lines("[interaction=1]", "handled 1") and logs.lines("[interaction=2]", "handled 2")


def test_secrets_are_masked_in_messages_and_tracebacks() -> None:
    with capture_logs(["tok-abcdef", "key-123456"]) as logs:
        log.info("token %s", "tok-abcdef")
        try:
            raise RuntimeError("bad key key-123456")
        except RuntimeError:
            log.exception("failed")
    assert "tok-abcdef" not in logs.text and "key-123456" not in logs.text
    assert logs.lines("token [redacted]") and logs.lines("RuntimeError: bad key [redacted]")


def test_json_format_is_one_object_per_line_with_context() -> None:
    def job() -> None:
        set_job(7)
        log.warning("retry with key-123456")

    with capture_logs(["key-123456"], log_format="json") as logs:
        contextvars.copy_context().run(job)
    [line] = logs.text.splitlines()
    entry = json.loads(line)
    assert entry["context"] == "job=7" and entry["level"] == "WARNING" and entry["logger"] == "bot.test"
    assert entry["message"] == "retry with [redacted]"


def test_debug_level_is_for_the_bot_only_never_for_libraries(monkeypatch, capsys) -> None:
    from bot.cli import configure_logging
    from bot.settings import Settings

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    monkeypatch.setattr(logging.getLogger("bot"), "level", logging.NOTSET)
    monkeypatch.setattr(logging.getLogger("cogs"), "level", logging.NOTSET)
    settings = Settings(_env_file=None, discord_token="t" * 8, image_api_key="k" * 8, log_level="debug")  # type: ignore[call-arg]
    try:
        configure_logging(settings)
        logging.getLogger("bot.jobs.runner").debug("bot detail")
        logging.getLogger("cogs.imagine").debug("cog detail")
        for library in ("aiohttp.client", "discord.http", "discord.webhook.async_", "PIL.PngImagePlugin", "yarl"):
            logging.getLogger(library).debug("%s body with secret-token", library)
        logging.getLogger("discord.client").warning("PyNaCl is not installed, voice will NOT be supported")
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    err = capsys.readouterr().err
    assert "bot detail" in err and "cog detail" in err
    assert "secret-token" not in err and "PyNaCl" not in err
