"""JobReferences: the reference images a job was run with, kept for Reroll."""

from __future__ import annotations

import sqlalchemy as sa

from bot.imaging import PreparedReference
from bot.store.db import Database
from bot.store.schema import job_journal, job_references, jobs

_refs = job_references.c


class JobReferences:
    """SQL for the `job_references` table, shared with the journal."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def prune(self, older_than: float) -> int:
        """Forget the references of finished jobs created before `older_than` (epoch seconds); returns rows removed.

        Running jobs and interrupted jobs still waiting for Retry keep theirs (the journal prunes those).
        """
        # Driven by job_references (bounded by the retention) with key lookups, never a scan of the job history.
        waiting_for_retry = sa.exists().where(
            job_journal.c.job_id == _refs.job_id,
            job_journal.c.recovered_at.is_not(None),
            job_journal.c.retried_by.is_(None),
        )
        old = (
            sa.select(_refs.job_id)
            .distinct()
            .join(jobs, jobs.c.id == _refs.job_id)
            .where(jobs.c.created_at < older_than, jobs.c.finished_at.is_not(None), ~waiting_for_retry)
        )
        async with self._db.write() as conn:
            return (await conn.execute(job_references.delete().where(_refs.job_id.in_(old)))).rowcount

    async def count(self, job_id: int) -> int:
        """How many references are kept for a job."""
        query = sa.select(sa.func.count()).select_from(job_references).where(_refs.job_id == job_id)
        async with self._db.read() as conn:
            return int((await conn.execute(query)).scalar() or 0)

    async def load_one(self, job_id: int, index: int) -> PreparedReference | None:
        """One kept reference of a job (0-based), or None."""
        query = sa.select(_refs.data, _refs.mime, _refs.width, _refs.height).where(
            _refs.job_id == job_id, _refs.idx == index
        )
        async with self._db.read() as conn:
            row = (await conn.execute(query)).one_or_none()
        return PreparedReference(bytes(row[0]), str(row[1]), int(row[2]), int(row[3])) if row else None

    async def load(self, job_id: int) -> list[PreparedReference]:
        """A job's saved references, in their original order."""
        query = (
            sa.select(_refs.data, _refs.mime, _refs.width, _refs.height)
            .where(_refs.job_id == job_id)
            .order_by(_refs.idx)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [PreparedReference(bytes(row[0]), str(row[1]), int(row[2]), int(row[3])) for row in rows]
