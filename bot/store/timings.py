"""JobTimings: how long recent jobs of one model and size took per image (the status line's time estimate)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from bot.store.db import Database
from bot.store.schema import jobs

SAMPLE = 20  # newest completed jobs an estimate averages
_j = jobs.c


def timing_query(model: str, size: str, since: float, limit: int = SAMPLE) -> sa.Select[Any]:
    """The newest completed jobs of `model` at `size` finished after `since`: served by the `jobs_timing` index
    (the literal status term matches the index's condition), newest first, so a huge history is never scanned."""
    return (
        sa.select(_j.started_at, _j.finished_at, _j.images_delivered, _j.attempts)
        .where(
            _j.model == model,
            _j.size == size,
            sa.text("status = 'completed'"),
            _j.finished_at > since,
        )
        .order_by(_j.finished_at.desc())
        .limit(limit)
    )


class JobTimings:
    """Read-only queries over finished jobs' durations."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def seconds_per_image(self, model: str, size: str, since: float) -> float | None:
        """Seconds per delivered image over the newest completed jobs of `model` at `size` since `since`, counting
        only jobs that ran in one go (a job taken over after a restart would count its pause); None without any."""
        async with self._db.read() as conn:
            rows = (await conn.execute(timing_query(model, size, since))).all()
        spent = images = 0.0
        for started, finished, delivered, attempts in rows:
            if started is None or finished is None or delivered <= 0 or attempts > 1 or finished < started:
                continue
            spent += finished - started
            images += delivered
        return spent / images if images else None
