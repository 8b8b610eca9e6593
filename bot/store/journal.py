"""JobJournal: what restart recovery needs to give every job an outcome (tables `job_journal`, `job_references`)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.db import Database, dialect_insert
from bot.store.schema import job_journal, job_references, jobs

UNFINISHED = ("pending", "queued", "running")
PRUNE_BATCH = 100  # jobs whose references one pruning transaction deletes
_j = job_journal.c


@dataclass(frozen=True, slots=True)
class Origin:
    """The interaction a job answers; `token` is a credential for 15 minutes and is never logged."""

    interaction_id: int | None = None
    token: str | None = None
    token_expires_at: float | None = None
    status_message_id: int | None = None
    upload_limit: int | None = None
    kind: str = "interaction"  # or "message": the status message is a reply to the member's message
    reply_to_id: int | None = None  # that message, for "message" jobs

    def __repr__(self) -> str:
        return f"Origin(kind={self.kind}, interaction_id={self.interaction_id}, status={self.status_message_id})"


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
    origin_kind: str | None = None
    reply_to_id: int | None = None

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
    """SQL for the journal, over the store's engine."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    async def open(
        self, job_id: int, origin: Origin, references: Sequence[StoredReference] = (), *, resumes: int | None = None
    ) -> None:
        """Journal a new job (before the API is called): its interaction token and its references."""
        async with self._db.write() as conn:
            await write_entry(conn, job_id, origin, references, resumes)

    async def get(self, job_id: int) -> JournalEntry | None:
        """The journal row of a job, or None."""
        async with self._db.read() as conn:
            return await read_entry(conn, job_id)

    async def close(self, job_id: int) -> None:
        """The job is over: forget its token. Its references stay for Reroll/Retry until pruned."""
        async with self._db.write() as conn:
            await close_entry(conn, job_id)

    async def forget_tokens(self, now: float) -> None:
        """Clear every token that is expired or whose job is over (a crash may have left one behind)."""
        job_over = sa.exists().where(jobs.c.id == _j.job_id, jobs.c.finished_at.is_not(None))
        stale = sa.or_(_j.token_expires_at.is_(None), _j.token_expires_at <= now, job_over)
        async with self._db.write() as conn:
            await conn.execute(
                job_journal.update().where(_j.interaction_token.is_not(None), stale).values(interaction_token=None)
            )

    async def unfinished(self) -> list[int]:
        """Ids of jobs that were accepted but never finished (interrupted by a stop or a crash), oldest first."""
        query = (
            sa.select(jobs.c.id).where(jobs.c.finished_at.is_(None), jobs.c.status.in_(UNFINISHED)).order_by(jobs.c.id)
        )
        async with self._db.read() as conn:
            return [int(row[0]) for row in await conn.execute(query)]

    async def mark_recovered(self, job_id: int) -> None:
        """Recovery has told the member; the token is no longer needed."""
        insert = self._db.insert(job_journal).values(job_id=job_id, recovered_at=self._clock())
        upsert = insert.on_conflict_do_update(
            index_elements=[_j.job_id], set_={"recovered_at": insert.excluded.recovered_at, "interaction_token": None}
        )
        async with self._db.write() as conn:
            await conn.execute(upsert)

    async def claim_retry(self, job_id: int, by_user: int) -> bool:
        """Reserve the one retry of an interrupted job for its own member; False if taken or not theirs."""
        theirs = sa.exists().where(jobs.c.id == job_id, jobs.c.user_id == by_user)
        claim = (
            job_journal.update()
            .where(_j.job_id == job_id, _j.retried_by.is_(None), _j.recovered_at.is_not(None), theirs)
            .values(retried_by=0)
        )
        async with self._db.write() as conn:
            return (await conn.execute(claim)).rowcount == 1

    async def release_retry(self, job_id: int) -> None:
        """A claimed retry could not start (e.g. the queue was full): allow another click."""
        release = job_journal.update().where(_j.job_id == job_id, _j.retried_by == 0).values(retried_by=None)
        async with self._db.write() as conn:
            await conn.execute(release)

    async def link_retry(self, job_id: int, new_job_id: int) -> None:
        """Record which job carried out the retry."""
        async with self._db.write() as conn:
            await conn.execute(job_journal.update().where(_j.job_id == job_id).values(retried_by=new_job_id))

    async def references(self, job_id: int) -> list[StoredReference]:
        """The stored references of a job, in order."""
        async with self._db.read() as conn:
            rows = (await conn.execute(_statements().references, {"job": job_id})).all()
        return [StoredReference(str(row[0]), int(row[1]), int(row[2]), bytes(row[3])) for row in rows]

    async def prune_references(self, older_than: float) -> int:
        """Delete references of jobs finished before `older_than` (epoch seconds); returns how many.

        Driven by `job_references` (bounded by the retention, never a scan of the job history), in small
        transactions with a pause between them for other writers.
        """
        r = job_references.c
        old = (
            sa.select(r.job_id)
            .distinct()
            .join(jobs, jobs.c.id == r.job_id)
            .where(jobs.c.finished_at < older_than)
            .limit(PRUNE_BATCH)
        )
        removed = 0
        while True:
            async with self._db.write() as conn:
                done = (await conn.execute(job_references.delete().where(r.job_id.in_(old)))).rowcount
            removed += done
            if not done:
                return removed
            await asyncio.sleep(0)


@dataclass(frozen=True, slots=True)
class _Statements:
    """The journal statements every job runs, built once (building and keying a statement costs more than
    running it on SQLite)."""

    entry: sa.Select[Any]
    close: sa.Update
    references: sa.Select[Any]


@functools.cache
def _statements() -> _Statements:
    r = job_references.c
    return _Statements(
        entry=job_journal.select().where(_j.job_id == sa.bindparam("job")),
        close=job_journal.update().where(_j.job_id == sa.bindparam("job")).values(interaction_token=None),
        references=sa.select(r.mime, r.width, r.height, r.data).where(r.job_id == sa.bindparam("job")).order_by(r.idx),
    )


async def read_entry(conn: AsyncConnection, job_id: int) -> JournalEntry | None:
    """The journal row of a job (or None), on the caller's connection."""
    row = (await conn.execute(_statements().entry, {"job": job_id})).one_or_none()
    return JournalEntry(**row._mapping) if row else None


async def close_entry(conn: AsyncConnection, job_id: int) -> None:
    """Forget a job's interaction token, in the caller's transaction."""
    await conn.execute(_statements().close, {"job": job_id})


def entry_row(job_id: int, origin: Origin, resumes: int | None = None) -> dict[str, object]:
    """A job's journal row: where to answer it (interaction token, status message) and what it resumes."""
    return {
        "job_id": job_id,
        "interaction_id": origin.interaction_id,
        "interaction_token": origin.token,
        "token_expires_at": origin.token_expires_at,
        "status_message_id": origin.status_message_id,
        "upload_limit": origin.upload_limit,
        "resumes_job_id": resumes,
        "origin_kind": origin.kind,
        "reply_to_id": origin.reply_to_id,
    }


async def write_entry(
    conn: AsyncConnection, job_id: int, origin: Origin, references: Sequence[StoredReference], resumes: int | None
) -> None:
    """Write a job's journal row (replacing the one admission wrote) and its references in the caller's
    transaction."""
    await conn.execute(_entry_upsert(conn.dialect.name), entry_row(job_id, origin, resumes))
    await write_references(conn, job_id, references)


@functools.cache
def _entry_upsert(dialect: str) -> sa.Executable:
    """write_entry's statement, built once (every job runs it; building an upsert costs more than running it)."""
    insert = dialect_insert(dialect, job_journal)
    changed = {key: insert.excluded[key] for key in entry_row(0, Origin(), None) if key != "job_id"}
    return insert.on_conflict_do_update(index_elements=[_j.job_id], set_=changed)


async def write_references(conn: AsyncConnection, job_id: int, references: Sequence[StoredReference]) -> None:
    """Insert a job's references inside the caller's transaction."""
    rows = [
        {"job_id": job_id, "idx": i, "mime": r.mime, "width": r.width, "height": r.height, "data": r.data}
        for i, r in enumerate(references)
    ]
    if rows:
        await conn.execute(job_references.insert(), rows)
