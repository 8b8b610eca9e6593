"""Indexes for the queries that run on a big job history (EXPLAIN QUERY PLAN on SQLite, with skewed statistics)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.dialects import sqlite

from bot.store import UsageStore
from bot.store.standing import standings_parameters, standings_query


def plan(path: Path, statement: object) -> str:
    sql = str(statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]
    with sqlite3.connect(path) as db:
        return "\n".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}"))


async def test_the_admission_statement_never_scans_the_job_history(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    await (await UsageStore.open(path)).close()
    with sqlite3.connect(path) as db:  # many finished jobs in one server, a few running: the statistics say so
        db.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)"
            " INSERT INTO jobs (guild_id, user_id, prompt, images_requested, status, created_at)"
            " SELECT 1, i % 50, 'p', 1, CASE WHEN i % 1000 = 0 THEN 'running' WHEN i % 3 = 0 THEN 'queued'"
            " ELSE 'completed' END, i FROM n"
        )
        db.execute("ANALYZE")
    found = plan(path, standings_query(sqlite=True, server=True).params(standings_parameters(1, [7, 8], 11, 1, 100.0)))
    assert "SCAN jobs" not in found, found
