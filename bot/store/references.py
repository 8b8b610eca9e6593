"""JobReferences: the reference images a job was run with, kept for Reroll."""

from __future__ import annotations

import aiosqlite

from bot.imaging import PreparedReference


class JobReferences:
    """SQL for the `job_references` table (migration 0003), shared with the journal."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def prune(self, older_than: float) -> int:
        """Forget the references of finished jobs created before `older_than` (epoch seconds); returns rows removed.

        Running jobs and interrupted jobs still waiting for Retry keep theirs (the journal prunes those).
        """
        # Driven by job_references (bounded by the retention) with key lookups, never a scan of the job history.
        cursor = await self._db.execute(
            "DELETE FROM job_references WHERE job_id IN (SELECT DISTINCT r.job_id FROM job_references r"
            " JOIN jobs j ON j.id = r.job_id WHERE j.created_at < ? AND j.finished_at IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM job_journal jj WHERE jj.job_id = r.job_id"
            " AND jj.recovered_at IS NOT NULL AND jj.retried_by IS NULL))",
            (older_than,),
        )
        await self._db.commit()
        return cursor.rowcount

    async def count(self, job_id: int) -> int:
        """How many references are kept for a job."""
        async with self._db.execute("SELECT COUNT(*) FROM job_references WHERE job_id = ?", (job_id,)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def load_one(self, job_id: int, index: int) -> PreparedReference | None:
        """One kept reference of a job (0-based), or None."""
        async with self._db.execute(
            "SELECT data, mime, width, height FROM job_references WHERE job_id = ? AND idx = ?", (job_id, index)
        ) as cursor:
            row = await cursor.fetchone()
        return PreparedReference(bytes(row[0]), str(row[1]), int(row[2]), int(row[3])) if row else None

    async def load(self, job_id: int) -> list[PreparedReference]:
        """A job's saved references, in their original order."""
        async with self._db.execute(
            "SELECT data, mime, width, height FROM job_references WHERE job_id = ? ORDER BY idx", (job_id,)
        ) as cursor:
            rows = await cursor.fetchall()
        return [PreparedReference(bytes(row[0]), str(row[1]), int(row[2]), int(row[3])) for row in rows]
