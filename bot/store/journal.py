"""JobJournal: what restart recovery needs to give every job an outcome (tables `job_journal`, `job_references`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aiosqlite

UNFINISHED = ("queued", "running")


@dataclass(frozen=True, slots=True)
class Origin:
    """The interaction a job answers; `token` is a credential for 15 minutes and is never logged."""

    interaction_id: int | None = None
    token: str | None = None
    token_expires_at: float | None = None
    status_message_id: int | None = None
    upload_limit: int | None = None

    def __repr__(self) -> str:
        return f"Origin(interaction_id={self.interaction_id}, status_message_id={self.status_message_id})"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A row of `job_journal`."""

    job_id: int
    interaction_id: int | None
    interaction_token: str | None
    token_expires_at: float | None
    status_message_id: int | None
    upload_limit: int | None
    resumes_job_id: int | None
    recovered_at: float | None
    retried_by: int | None

    def __repr__(self) -> str:
        return f"JournalEntry(job_id={self.job_id}, has_token={self.interaction_token is not None})"

    def token_valid(self, now: float) -> bool:
        """Whether the interaction token may still be used at `now` (epoch seconds)."""
        return bool(self.interaction_token) and (self.token_expires_at or 0.0) > now


@dataclass(frozen=True, slots=True)
class StoredReference:
    """A reference image exactly as it was sent to the API."""

    mime: str
    width: int
    height: int
    data: bytes


class JobJournal:
    """SQL for the journal; shares the UsageStore connection."""

    def __init__(self, db: aiosqlite.Connection, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    async def open(
        self, job_id: int, origin: Origin, references: Sequence[StoredReference] = (), *, resumes: int | None = None
    ) -> None:
        """Journal a new job (before the API is called): its interaction token and its references."""
        await self._db.execute(
            "INSERT INTO job_journal (job_id, interaction_id, interaction_token, token_expires_at,"
            " status_message_id, upload_limit, resumes_job_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                job_id,
                origin.interaction_id,
                origin.token,
                origin.token_expires_at,
                origin.status_message_id,
                origin.upload_limit,
                resumes,
            ),
        )
        await self._db.executemany(
            "INSERT INTO job_references (job_id, idx, mime, width, height, data) VALUES (?, ?, ?, ?, ?, ?)",
            [(job_id, i, r.mime, r.width, r.height, r.data) for i, r in enumerate(references)],
        )
        await self._db.commit()

    async def get(self, job_id: int) -> JournalEntry | None:
        """The journal row of a job, or None."""
        async with self._db.execute("SELECT * FROM job_journal WHERE job_id = ?", (job_id,)) as cursor:
            row = await cursor.fetchone()
        return JournalEntry(**dict(row)) if row else None

    async def close(self, job_id: int) -> None:
        """The job is over: forget its token. Its references stay for Reroll/Retry until pruned."""
        await self._db.execute("UPDATE job_journal SET interaction_token = NULL WHERE job_id = ?", (job_id,))
        await self._db.commit()

    async def forget_tokens(self, now: float) -> None:
        """Clear every token that is expired or whose job is over (a crash may have left one behind)."""
        await self._db.execute(
            "UPDATE job_journal SET interaction_token = NULL WHERE interaction_token IS NOT NULL AND"
            " (token_expires_at IS NULL OR token_expires_at <= ? OR job_id IN"
            " (SELECT id FROM jobs WHERE finished_at IS NOT NULL))",
            (now,),
        )
        await self._db.commit()

    async def unfinished(self) -> list[int]:
        """Ids of jobs that were accepted but never finished (interrupted by a stop or a crash), oldest first."""
        async with self._db.execute(
            "SELECT id FROM jobs WHERE finished_at IS NULL AND status IN (?, ?) ORDER BY id", UNFINISHED
        ) as cursor:
            rows = await cursor.fetchall()
        return [int(row[0]) for row in rows]

    async def mark_recovered(self, job_id: int) -> None:
        """Recovery has told the member; the token is no longer needed."""
        await self._db.execute(
            "INSERT INTO job_journal (job_id, recovered_at) VALUES (?, ?) ON CONFLICT (job_id) DO UPDATE"
            " SET recovered_at = excluded.recovered_at, interaction_token = NULL",
            (job_id, self._clock()),
        )
        await self._db.commit()

    async def claim_retry(self, job_id: int, by_user: int) -> bool:
        """Reserve the one retry of an interrupted job for its own member; False if taken or not theirs."""
        cursor = await self._db.execute(
            "UPDATE job_journal SET retried_by = 0 WHERE job_id = ? AND retried_by IS NULL"
            " AND recovered_at IS NOT NULL AND EXISTS (SELECT 1 FROM jobs WHERE id = ? AND user_id = ?)",
            (job_id, job_id, by_user),
        )
        await self._db.commit()
        return cursor.rowcount == 1

    async def release_retry(self, job_id: int) -> None:
        """A claimed retry could not start (e.g. the queue was full): allow another click."""
        await self._db.execute(
            "UPDATE job_journal SET retried_by = NULL WHERE job_id = ? AND retried_by = 0", (job_id,)
        )
        await self._db.commit()

    async def link_retry(self, job_id: int, new_job_id: int) -> None:
        """Record which job carried out the retry."""
        await self._db.execute("UPDATE job_journal SET retried_by = ? WHERE job_id = ?", (new_job_id, job_id))
        await self._db.commit()

    async def references(self, job_id: int) -> list[StoredReference]:
        """The stored references of a job, in order."""
        async with self._db.execute(
            "SELECT mime, width, height, data FROM job_references WHERE job_id = ? ORDER BY idx", (job_id,)
        ) as cursor:
            rows = await cursor.fetchall()
        return [StoredReference(str(r[0]), int(r[1]), int(r[2]), bytes(r[3])) for r in rows]

    async def prune_references(self, older_than: float) -> int:
        """Delete references of jobs finished before `older_than` (epoch seconds); returns how many."""
        cursor = await self._db.execute(
            "DELETE FROM job_references WHERE job_id IN (SELECT id FROM jobs WHERE finished_at < ?)", (older_than,)
        )
        await self._db.commit()
        return cursor.rowcount
