"""Indexes for the queries that run on a big job history (EXPLAIN QUERY PLAN on SQLite, with skewed statistics)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from sqlalchemy.dialects import sqlite

from bot.store import UsageStore
from bot.store.queue import _candidates
from bot.store.standing import standings_parameters, standings_query
from bot.store.usage import outcomes_query, top_channels_query


def plan(path: Path, statement: object) -> str:
    sql = str(statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]
    with sqlite3.connect(path) as db:
        return "\n".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}"))


async def history(tmp_path: Path) -> Path:
    """A database whose statistics say: many finished jobs over 30 servers, a few unfinished."""
    path = tmp_path / "big.db"
    await (await UsageStore.open(path)).close()
    with sqlite3.connect(path) as db:
        db.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)"
            " INSERT INTO jobs (guild_id, user_id, prompt, images_requested, status, created_at)"
            " SELECT i % 30, i % 50, 'p', 1, CASE WHEN i % 1000 = 0 THEN 'running' WHEN i % 999 = 0 THEN 'queued'"
            " WHEN i % 7 = 0 THEN 'failed' ELSE 'completed' END, i FROM n"
        )
        db.execute("ANALYZE")
        # What ANALYZE says of 10 M rows (bench.big_history): 5 000 jobs per member, 5 M per status.
        for index, stat in [
            ("jobs_user", "10000000 5000"),
            ("jobs_status", "10000000 5000000"),
            ("jobs_queue", "10000000 5000000 1"),
            ("jobs_finished", "10000000 2"),
            ("jobs_user_created", "10000000 99010 69 1"),
        ]:
            db.execute("UPDATE sqlite_stat1 SET stat = ? WHERE idx = ?", (stat, index))
    return path


async def test_the_admission_statement_never_scans_the_job_history(tmp_path: Path) -> None:
    query = standings_query(sqlite=True, server=True).params(standings_parameters(1, [7, 8], 11, 1, 100.0))
    found = plan(await history(tmp_path), query)
    assert "SCAN jobs" not in found, found
    # A server's (or a busy member's) whole history is not read to find its few unfinished jobs: every count of
    # unfinished jobs (six terms) goes through a status index; only the member's newest request uses their own index.
    jobs_reads = [line.strip() for line in found.splitlines() if line.strip().startswith("SEARCH jobs")]
    by_status = [line for line in jobs_reads if re.search(r"USING INDEX jobs_(status|queue) \(status=\?\)$", line)]
    assert len(by_status) == 6, found
    assert jobs_reads.count("SEARCH jobs USING INDEX jobs_user_created (guild_id=? AND user_id=?)") == 1, found
    assert len(jobs_reads) == 7, found


async def test_a_claim_reads_only_unfinished_jobs(tmp_path: Path) -> None:
    """A claim runs every few seconds in the write lock: at 10 M rows a scan of the history stalled every admission."""
    path = await history(tmp_path)
    found = plan(path, _candidates(sqlite=True).params(now=100.0))
    searches = [line for line in found.splitlines() if "jobs" in line and ("SEARCH" in line or "SCAN" in line)]
    assert searches and all("USING INDEX jobs_queue (status=?)" in line for line in searches), found


async def test_admin_statistics_read_only_the_stats_index(tmp_path: Path) -> None:
    """A server's last 30 days at 10 M rows are 740 000 jobs: a table lookup for each took 18 s."""
    path = await history(tmp_path)
    for statement in (top_channels_query(1, 50.0, 5), outcomes_query(1, 50.0)):
        found = plan(path, statement)
        assert "USING COVERING INDEX jobs_guild_stats (guild_id=? AND created_at>?)" in found, found
