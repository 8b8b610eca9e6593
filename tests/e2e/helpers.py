"""Small waiting and inspection helpers for end-to-end tests."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

from PIL import Image

from bot.store import JobRecord
from tests.conftest import BotHarness
from tests.fakes.discord import FakeDiscord

NO_PINGS = {"parse": []}


async def job_done(harness: BotHarness, count: int = 1, timeout: float = 30) -> list[JobRecord]:
    """Wait until `count` jobs exist and all are over: finished, and their runner let go of them; newest first.

    Reads do not queue behind the bot's writes, so a job's row can show finished_at while its runner still
    posts the final message, closes the journal and frees the slot.
    """
    deadline = time.monotonic() + timeout
    while True:
        jobs = await harness.store.recent_jobs(count)
        if len(jobs) >= count and all(job.finished_at is not None for job in jobs) and not running(harness, jobs):
            return jobs
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs not finished in {timeout}s: {jobs}")
        await asyncio.sleep(0.05)


def running(harness: BotHarness, jobs: list[JobRecord]) -> bool:
    """Whether the bot's runner still holds any of these jobs (running them, or retrying their final record
    after a store failure: the row is finished before the token is forgotten)."""
    runner = getattr(harness.services, "jobs", None)
    held = {*getattr(runner, "_active", {}), *(runner.bookkeeping.unsettled() if runner is not None else ())}
    return any(job.id in held for job in jobs)


async def final_original(fake: FakeDiscord, interaction: Any, timeout: float = 30) -> Any:
    """The @original message once its status line is gone (the job's final state); `.text` reads either layout."""

    def settled() -> Any:
        message = interaction.original
        if message is not None and message.text and "⏳" not in message.text:
            return message
        return None

    return await fake.wait_for(settled, timeout=timeout)


def gallery(message: Any, alt: str | None = None) -> list[Any]:
    """The files a set's message shows, in order, after checking its layout: the components-v2 flag, no content,
    the text first, then one media gallery whose every item names a file of this very message (by its id, and
    the prompt as alt text when `alt` is given), then only action rows."""
    assert message.v2 and message.content == "" and message.embeds == [], "a set's message is a v2 layout"
    kinds = [c["type"] for c in message.components]
    assert kinds[:2] == [10, 12] and set(kinds[2:]) <= {1}, f"text, gallery, then controls; got {kinds}"
    files = message.gallery_files()
    items = message.gallery_items()
    assert len(files) == len(items), "every gallery item is a file of the message"
    for item, file in zip(items, files, strict=True):
        assert item["media"]["url"] == file.url and item["media"]["attachment_id"] == file.id
        assert alt is None or item["description"] == alt == file.description
    assert {a.id for a in message.attachments} == {f.id for f in files}, "no file is left out of the gallery"
    return files


def decode(data: bytes) -> Image.Image:
    """Open uploaded bytes as an image (fails the test if they are not one)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def message_requests(fake: FakeDiscord) -> list[Any]:
    """Recorded REST calls that create or edit a message with content."""
    return [r for r in fake.requests if isinstance(r.json, dict) and "content" in r.json]


def bot_replies(fake: FakeDiscord, message: Any) -> list[Any]:
    """The bot's visible channel messages that reply to `message`, oldest first."""
    return [
        m
        for m in fake.channel_messages(message.channel_id)
        if m.author.get("id") == fake.bot.id and (m.message_reference or {}).get("message_id") == message.id
    ]


async def final_reply(fake: FakeDiscord, message: Any, timeout: float = 30) -> Any:
    """The bot's first reply to `message` once it shows no progress line (a job's final state, or an answer)."""

    def settled() -> Any:
        replies = bot_replies(fake, message)
        return replies[0] if replies and "⏳" not in replies[0].text else None

    return await fake.wait_for(settled, timeout=timeout)


async def queue_counts(harness: BotHarness) -> tuple[int, int]:
    """(running, waiting) jobs, as the durable queue holds them."""
    jobs = await harness.store.recent_jobs(1000)
    running = sum(1 for job in jobs if job.status == "running")
    return running, sum(1 for job in jobs if job.status in ("pending", "queued"))


async def until_queue(harness: BotHarness, running: int | None, waiting: int | None, timeout: float = 10) -> None:
    """Wait until the queue holds that many running and waiting jobs (None: any number)."""
    deadline = time.monotonic() + timeout
    while True:
        now = await queue_counts(harness)
        if (running is None or now[0] == running) and (waiting is None or now[1] == waiting):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"queue is {now} (running, waiting), not {(running, waiting)}")
        await asyncio.sleep(0.02)


async def statuses(harness: BotHarness, expected: list[str], timeout: float = 10) -> None:
    """Wait until the jobs' statuses, newest first, are `expected`."""
    deadline = time.monotonic() + timeout
    while True:
        now = [job.status for job in await harness.store.recent_jobs(100)]
        if now == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"job statuses are {now}, not {expected}")
        await asyncio.sleep(0.02)
