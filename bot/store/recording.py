"""ImageRecorder: delivered images counted exactly once per (job, index), many of them to a transaction.

With hundreds of jobs running, their images reach Discord a few milliseconds apart, and a transaction of its own
for each (the write gate, a connection, BEGIN, COMMIT) cost more than recording it. The images that arrive while
the gate is taken wait for it together and are recorded in the next transaction, in arrival order and in at most
three statements however many they are; each caller gets its own answer. If that transaction fails, each image of
it is tried again alone, so one bad row (a job forgotten meanwhile) fails only its own caller.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.db import Database, dialect_insert
from bot.store.schema import job_images, jobs
from bot.store.spend import add_spend
from bot.store.usage import add_to_rollups

MAX_BATCH = 256  # images recorded in one transaction at most


@dataclass(slots=True)
class _Waiting:
    row: dict[str, object]
    answer: asyncio.Future[bool]


class ImageRecorder:
    """Records delivered images for every job of this process."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, row: dict[str, object]) -> bool:
        """Count one delivered image (`job_images` values but `delivered_at`); False if it was already counted."""
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting({**row, "delivered_at": self._clock()}, answer))
        if self._writer is None or self._writer.done():
            # A context of its own: the writer serves every job's images, not the first caller's (logs, language).
            self._writer = asyncio.create_task(self._write_waiting(), context=contextvars.Context())
        return await answer

    async def _write_waiting(self) -> None:
        batch: list[_Waiting] = []
        try:
            while self._waiting:
                batch = []
                await self._write_batch(batch)
        except BaseException:  # stopped (the loop is closing): nobody waits for an answer that cannot come
            for waiting in [*batch, *self._waiting]:
                waiting.answer.cancel()
            self._waiting = []
            raise

    async def _write_batch(self, batch: list[_Waiting]) -> None:
        try:
            async with self._db.write() as conn:
                # Taken once the gate is ours: everything that arrived while it was busy goes in together.
                batch += self._waiting[:MAX_BATCH]
                del self._waiting[:MAX_BATCH]
                counted = await _record(self._db, conn, [waiting.row for waiting in batch])
        except Exception as error:
            if len(batch) <= 1:
                _answer(batch, error)
                return
            for waiting in batch:  # one at a time, so that only the failing row's caller hears of it
                try:
                    async with self._db.write() as conn:
                        (alone,) = await _record(self._db, conn, [waiting.row])
                except Exception as alone_error:
                    _answer([waiting], alone_error)
                else:
                    _answer([waiting], alone)
        else:
            for waiting, result in zip(batch, counted, strict=True):
                _answer([waiting], result)


def _answer(batch: list[_Waiting], result: bool | Exception) -> None:
    for waiting in batch:
        if waiting.answer.done():  # its caller was cancelled: the image is recorded all the same
            continue
        if isinstance(result, Exception):
            waiting.answer.set_exception(result)
        else:
            waiting.answer.set_result(result)


async def _record(db: Database, conn: AsyncConnection, rows: list[dict[str, object]]) -> list[bool]:
    """Images in the caller's transaction, in order, in at most three statements whatever their number. Each is
    counted on its job once (a repeat, even in the same batch, counts nothing); a late image of a finished job also
    goes to its rollups and its server's spending."""
    made = _statements(db.backend)
    inserted = {(row.job_id, row.idx) for row in await conn.execute(made.insert, rows)}
    counted, seen = [], set()
    for row in rows:
        key = (row["job_id"], row["idx"])
        counted.append(key in inserted and key not in seen)
        seen.add(key)
    added = collections.Counter(row["job_id"] for row, new in zip(rows, counted, strict=True) if new)
    if len(added) == 1:  # one job's images (a quiet moment): its count and whether it had finished, at once
        ((job_id, n),) = added.items()
        job = (await conn.execute(made.count_one, {"counted_job": job_id, "added": n})).one()
        late = [job] if job.finished_at is not None else []
    elif added:
        await conn.execute(made.count, [{"counted_job": job_id, "added": n} for job_id, n in added.items()])
        late = list(await conn.execute(made.finished, {"counted_jobs": list(added)}))
    else:
        late = []
    for job in late:
        for _ in range(added[job.id]):
            await add_to_rollups(db, conn, job.guild_id, job.user_id, job.created_at, images=1)
            await add_spend(db, conn, job.guild_id, job.created_at, job.price or 0.0)
    return counted


@dataclass(frozen=True, slots=True)
class _Statements:
    insert: Any  # the rows, unless already there, saying which were new
    count: Any  # a job's count of delivered images (executemany)
    count_one: Any  # the same, for one job, returning the job (finished or not)
    finished: Any  # which of the counted jobs had already finished


@functools.cache
def _statements(backend: str) -> _Statements:
    """The statements of recorded images, built once: SQLAlchemy builds and keys a new statement object each time
    otherwise."""
    j, i = jobs.c, job_images.c
    count = (
        jobs.update()
        .where(j.id == sa.bindparam("counted_job"))
        .values(images_delivered=j.images_delivered + sa.bindparam("added", type_=sa.Integer))
    )
    return _Statements(
        insert=dialect_insert(backend, job_images).on_conflict_do_nothing().returning(i.job_id, i.idx),
        count=count,
        count_one=count.returning(j.id, j.guild_id, j.user_id, j.created_at, j.finished_at, j.price),
        finished=sa.select(j.id, j.guild_id, j.user_id, j.created_at, j.price).where(
            j.id.in_(sa.bindparam("counted_jobs", expanding=True)), j.finished_at.is_not(None)
        ),
    )
