"""Leaderboard latency over one million job rows.

    python bench/bench_leaderboard.py [--jobs 1000000] [--runs 50] [--keep FILE]

Builds a schema-1 database with N finished jobs spread over a year (one busy server with 2,000 members,
uneven activity, plus 50 small servers), upgrades it (migration 0002 backfills the rollups), then times
`UsageQueries.leaderboard` for every period and metric and the other usage reads, through the store as the
bot calls them. Results go to docs/benchmarks.md under `## Leaderboard`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

from bot.periods import DAY, PERIODS, month_start_day, period
from bot.store import UsageStore, schema

GUILD = 1
MEMBERS = 2000
NOW = 1_750_000_000.0  # a fixed "now" (2025-06-15 UTC) so runs are comparable
RESULTS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Machine: 2 cores, 24 GiB RAM, Linux, Python 3.11 (the project's reference machine).
Each section names the command that produced it; re-run the command to refresh its section.
"""


def rows(count: int, seed: int = 4) -> list[tuple[object, ...]]:
    """Finished job rows: 90% in the busy server, member activity ~ 1/rank (a few heavy users)."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(MEMBERS)]
    members = rng.choices(range(1, MEMBERS + 1), weights=weights, k=count)
    out = []
    for i, member in enumerate(members):
        guild = GUILD if rng.random() < 0.9 else rng.randint(2, 51)
        created = NOW - rng.random() * 365 * DAY
        status = rng.choices(("completed", "partial", "failed", "blocked"), weights=(90, 4, 4, 2))[0]
        asked = rng.choice((1, 1, 1, 2, 4))
        delivered = asked if status == "completed" else (asked - 1 if status == "partial" else 0)
        out.append((guild, 100 + i % 7, member, "p", "{}", asked, delivered, 4096 * delivered, status, created))
    return out


async def build(path: Path, count: int) -> dict[str, float]:
    """Create the schema-1 database with `count` jobs and upgrade it; returns timings."""
    store = await UsageStore.open(path, upto=1)
    started = time.perf_counter()
    data = rows(count)
    names = ("guild_id", "channel_id", "user_id", "prompt", "params", "images_requested", "images_delivered")
    names += ("output_tokens", "status", "created_at", "started_at", "finished_at")
    async with store.engine.begin() as conn:  # schema-1 rows, as an old bot wrote them (no rollups yet)
        await conn.execute(
            schema.jobs.insert(), [dict(zip(names, (*row, row[-1], row[-1] + 20), strict=True)) for row in data]
        )
    inserted = time.perf_counter() - started
    await store.close()
    started = time.perf_counter()
    store = await UsageStore.open(path)
    migrated = time.perf_counter() - started
    await store.close()
    return {"insert_s": inserted, "migrate_s": migrated}


async def timed(call, runs: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Median, p95 and max of `runs` awaited calls, in milliseconds (after one warm-up)."""
    await call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": statistics.median(samples),
        "p95_ms": samples[int(len(samples) * 0.95) - 1],
        "max_ms": samples[-1],
    }


async def measure(path: Path, runs: int) -> dict[str, dict[str, float]]:
    """Time every leaderboard variant and the per-request quota reads."""
    store = await UsageStore.open(path, clock=lambda: NOW)
    usage = store.usage
    results: dict[str, dict[str, float]] = {}
    caller = MEMBERS  # the least active member: ranked far outside the first page
    try:
        for name in PERIODS:
            span = period(name, NOW)
            start = None if name == "all" else span.start_day
            for metric in ("images", "requests"):

                async def board(start: int | None = start, end: int = span.end_day, metric: str = metric) -> None:
                    await usage.leaderboard(GUILD, start, end, metric, offset=0, limit=10, caller=caller)

                results[f"leaderboard {name} by {metric}, page 1 + caller rank"] = await timed(board, runs)

        async def last_page() -> None:
            await usage.leaderboard(GUILD, None, 0, "images", offset=1990, limit=10, caller=caller)

        results["leaderboard all by images, last page"] = await timed(last_page, runs)
        today = int(NOW // DAY)

        async def quota_reads() -> None:  # what QuotaService.admit reads: one statement
            await store.queue.standing(GUILD, caller, today, month_start_day(NOW))

        results["quota check reads (per /imagine)"] = await timed(quota_reads, runs)

        async def usage_report() -> None:
            for name in PERIODS:
                span = period(name, NOW)
                await usage.totals(GUILD, caller, None if name == "all" else span.start_day, span.end_day)

        results["/usage totals, 4 periods"] = await timed(usage_report, runs)
    finally:
        await store.close()
    return results


def write_section(command: str, count: int, build_times: dict[str, float], results: dict[str, dict[str, float]]) -> str:
    """Replace (or add) the `## Leaderboard` section of docs/benchmarks.md."""
    lines = [
        "## Leaderboard",
        "",
        f"Command: `{command}`  ",
        f"Data: {count:,} finished jobs over 365 days; 90% in one server with {MEMBERS:,} members "
        "(activity ~ 1/rank), the rest in 50 small servers. Python "
        f"{platform.python_version()}, SQLite via SQLAlchemy + aiosqlite, WAL, on a temporary file.",
        "",
        f"Insert {count:,} rows: {build_times['insert_s']:.1f} s; migration 0002 on them (indexes + rollup "
        f"backfill): {build_times['migrate_s']:.1f} s.",
        "",
        "| query | median ms | p95 ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    for name, values in results.items():
        lines.append(f"| {name} | {values['median_ms']:.2f} | {values['p95_ms']:.2f} | {values['max_ms']:.2f} |")
    lines += [
        "",
        "Leaderboards read the rollup tables `usage_daily` (server, UTC day, member) and `usage_total` (server, "
        "member), kept by triggers in the job's own transaction, so their cost depends on members × days in the "
        "period, not on the number of job rows.",
        "",
    ]
    section = "\n".join(lines)
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    pattern = re.compile(r"^## Leaderboard\n.*?(?=^## |^<!-- |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    return section


async def main() -> None:
    """Build, measure, write."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the database at this path")
    args = parser.parse_args()
    command = "python bench/bench_leaderboard.py" + ("" if args.jobs == 1_000_000 else f" --jobs {args.jobs}")
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "bench.db"
        build_times = {"insert_s": 0.0, "migrate_s": 0.0}
        if not path.exists():
            build_times = await build(path, args.jobs)
        results = await measure(path, args.runs)
    print(write_section(command, args.jobs, build_times, results))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
