"""UsageStore: the only place that speaks SQL."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from bot.store.guilds import GuildConfigStore
from bot.store.journal import JobJournal
from bot.store.references import JobReferences
from bot.store.usage import UsageQueries

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[\w-]+\.sql$")
FINAL_STATUSES = ("completed", "partial", "failed", "blocked")


@dataclass(frozen=True, slots=True)
class NewJob:
    """What is known about a job when it is accepted."""

    guild_id: int | None
    channel_id: int | None
    user_id: int
    prompt: str
    images_requested: int
    params: dict[str, Any] = field(default_factory=dict)
    kind: str = "imagine"


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A row of `jobs`."""

    id: int
    guild_id: int | None
    channel_id: int | None
    user_id: int
    kind: str
    prompt: str
    params: dict[str, Any]
    images_requested: int
    images_delivered: int
    images_failed: int
    output_tokens: int
    status: str
    error_code: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None


@dataclass(frozen=True, slots=True)
class DeliveredImage:
    """A row of `job_images`: one image that reached Discord."""

    job_id: int
    index: int
    message_id: int | None
    channel_id: int | None
    url: str | None
    width: int | None
    height: int | None
    bytes: int | None


def migrations() -> list[tuple[int, str]]:
    """The packaged migrations as (version, SQL), in order."""
    found = []
    for entry in resources.files("bot.store.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match[1]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class UsageStore:
    """Async access to the bot's SQLite database (WAL mode)."""

    def __init__(self, db: aiosqlite.Connection, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self.clock = clock
        self.references = JobReferences(db)  # reference images kept for Reroll (migration 0004)
        self.journal = JobJournal(db, lambda: self.clock())
        self.usage = UsageQueries(db, lambda: self.clock())  # usage, leaderboards (reads self.clock late)
        self.guilds = GuildConfigStore(db, lambda: self.clock())  # per-server settings and audit log

    @classmethod
    async def open(
        cls, path: Path | str, *, clock: Callable[[], float] = time.time, upto: int | None = None
    ) -> UsageStore:
        """Open (creating folders and the file if needed) and migrate to the newest schema or `upto`."""
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(str(path))
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA busy_timeout=5000")
        store = cls(db, clock)
        await store.migrate(upto)
        return store

    async def close(self) -> None:
        """Close the connection."""
        await self._db.close()

    async def schema_version(self) -> int:
        """The `PRAGMA user_version` of the database."""
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self, upto: int | None = None) -> None:
        """Apply every packaged migration newer than the database, each in its own transaction."""
        current = await self.schema_version()
        for version, sql in migrations():
            if version <= current or (upto is not None and version > upto):
                continue
            log.info("applying database migration %04d", version)
            await self._db.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;")

    async def create_job(self, job: NewJob) -> int:
        """Insert a job in state `queued` and return its id."""
        cursor = await self._db.execute(
            "INSERT INTO jobs (guild_id, channel_id, user_id, kind, prompt, params, images_requested,"
            " status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?)",
            (
                job.guild_id,
                job.channel_id,
                job.user_id,
                job.kind,
                job.prompt,
                json.dumps(job.params, sort_keys=True),
                job.images_requested,
                self.clock(),
            ),
        )
        await self._db.commit()
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def mark_running(self, job_id: int) -> None:
        """The job is about to call the API."""
        await self._db.execute(
            "UPDATE jobs SET status = 'running', started_at = ? WHERE id = ? AND status = 'queued'",
            (self.clock(), job_id),
        )
        await self._db.commit()

    async def record_image(
        self,
        job_id: int,
        index: int,
        *,
        message_id: int | None,
        channel_id: int | None,
        url: str | None,
        width: int | None = None,
        height: int | None = None,
        size: int | None = None,
    ) -> bool:
        """Count one delivered image, exactly once per (job, index). Returns False if already counted."""
        cursor = await self._db.execute(
            "INSERT INTO job_images (job_id, idx, message_id, channel_id, url, width, height, bytes,"
            " delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (job_id, index, message_id, channel_id, url, width, height, size, self.clock()),
        )
        inserted = cursor.rowcount == 1
        if inserted:
            await self._db.execute("UPDATE jobs SET images_delivered = images_delivered + 1 WHERE id = ?", (job_id,))
        await self._db.commit()
        return inserted

    async def finish_job(
        self,
        job_id: int,
        status: str,
        *,
        error_code: str | None = None,
        images_failed: int = 0,
        output_tokens: int = 0,
    ) -> None:
        """Record the outcome; a job is finished once only."""
        if status not in FINAL_STATUSES:
            raise ValueError(f"not a final status: {status}")
        await self._db.execute(
            "UPDATE jobs SET status = ?, error_code = ?, images_failed = ?, output_tokens = ?,"
            " finished_at = ? WHERE id = ? AND finished_at IS NULL",
            (status, error_code, images_failed, output_tokens, self.clock(), job_id),
        )
        await self._db.commit()

    async def get_job(self, job_id: int) -> JobRecord | None:
        """One job by id, or None."""
        async with self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)) as cursor:
            row = await cursor.fetchone()
        return _job(row) if row else None

    async def job_images(self, job_id: int) -> list[DeliveredImage]:
        """The delivered images of a job, by index."""
        async with self._db.execute(
            "SELECT job_id, idx, message_id, channel_id, url, width, height, bytes FROM job_images"
            " WHERE job_id = ? ORDER BY idx",
            (job_id,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [DeliveredImage(*row) for row in rows]

    async def recent_jobs(self, limit: int = 50) -> list[JobRecord]:
        """Newest jobs first."""
        async with self._db.execute("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", (limit,)) as cursor:
            rows = await cursor.fetchall()
        return [_job(row) for row in rows]

    async def get_meta(self, key: str) -> str | None:
        """A value from the `meta` table."""
        async with self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None

    async def set_meta(self, key: str, value: str) -> None:
        """Set a value in the `meta` table."""
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
        await self._db.commit()


def _job(row: aiosqlite.Row) -> JobRecord:
    values = dict(row)
    values["params"] = json.loads(values["params"] or "{}")
    return JobRecord(**values)
