"""A big job history: READY time, and interactive commands while admin stats, forget-me and the start-up clean-up run.

Generates `--rows` finished job rows (SQL in SQLite itself: a recursive CTE, indexes dropped and rebuilt) over
365 days, 90 % in the fake's server among 2,000 members (activity ~ 1/rank; the busiest member is the one who
runs forget-me), the rest in 50 other servers; their usage rollups; 2,000 old jobs with a kept 100 KB reference
and a stale interaction token (for the start-up clean-up to remove). Then starts the bot (`python -m bot`) and
measures READY, and the acknowledgement of probe `/imagine` commands sent every 100 ms while the start-up
clean-up, `/imagine-admin stats` and `/usage forget-me` run.

    python -m bench.big_history                    # 10 M rows
    python -m bench.big_history --rows 200000 --no-write   # smoke
    python -m bench.big_history --base /tmp/big.db # build the rows once into /tmp/big.db, copy it for each run

With `--base`, the fake Discord's server and the busiest member get the same ids in every run (their snowflakes
are made at a fixed time), so the generated history can be reused: each run works on a copy of it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from bench.common import api_process, bot_process, lag_samples, run_and_record, summary_ms
from bot.store import UsageStore
from tests.fakes import discord_models
from tests.fakes.discord import FakeDiscord

READY_BAR, ANSWER_BAR = 1.5, 3.0
DAY = 86_400


def generate(path: Path, rows: int, guild: int, busiest: int, now: float) -> float:
    """Fill the jobs table and the rollups with SQL; returns the seconds it took."""
    started = time.monotonic()
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='jobs' AND sql IS NOT NULL"
    )
    saved = list(indexes)
    for name, _ in saved:
        db.execute(f"DROP INDEX {name}")
    # u in [0,1); rank = 2000^u is ~1/rank distributed; rank 1 is the busiest member.
    db.execute(
        """
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows),
        r AS (SELECT i, (random() / 18446744073709551616.0 + 0.5) AS u, abs(random()) % 100 AS g,
                     abs(random()) % (365 * 86400) AS age FROM n)
        INSERT INTO jobs (guild_id, channel_id, user_id, kind, prompt, params, images_requested, images_delivered,
                          status, created_at, started_at, finished_at, attempts)
        SELECT CASE WHEN g < 90 THEN :guild ELSE 1000 + g END,
               100 + i % 20,
               CASE WHEN g < 90 AND CAST(exp(u * ln(2000)) AS INTEGER) <= 1 THEN :busiest
                    ELSE 5000 + CAST(exp(u * ln(2000)) AS INTEGER) END,
               'imagine', 'a lighthouse in four seasons', '{"size": "2K"}', 4,
               CASE WHEN i % 50 = 0 THEN 0 ELSE 4 END,
               CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'completed' END,
               :now - age, :now - age + 1, :now - age + 40, 1
        FROM r
        """,
        {"rows": rows, "guild": guild, "busiest": busiest, "now": now},
    )
    for _, sql in saved:
        db.execute(sql)
    db.execute(
        """
        INSERT INTO usage_daily (guild_id, day, user_id, images, requests, failed, blocked, tokens)
        SELECT guild_id, CAST(created_at / 86400 AS INTEGER), user_id, SUM(images_delivered), COUNT(*),
               SUM(status = 'failed'), 0, 0
        FROM jobs GROUP BY 1, 2, 3
        """
    )
    db.execute(
        """
        INSERT INTO usage_total (guild_id, user_id, images, requests, failed, blocked, tokens)
        SELECT guild_id, user_id, SUM(images), SUM(requests), SUM(failed), 0, 0 FROM usage_daily GROUP BY 1, 2
        """
    )
    old = "SELECT id FROM jobs WHERE created_at < :cut ORDER BY id LIMIT 2000"
    cut = {"cut": now - 60 * DAY}
    db.execute(
        f"INSERT INTO job_references (job_id, idx, mime, width, height, data)"
        f" SELECT id, 0, 'image/jpeg', 640, 480, randomblob(100000) FROM ({old})",
        cut,
    )
    db.execute(
        f"INSERT INTO job_journal (job_id, interaction_id, interaction_token, token_expires_at)"
        f" SELECT id, id, 'stale-token', :cut FROM ({old})",
        cut,
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return time.monotonic() - started


async def probing(fake: Any, users: list[Any], acks: list[float], stop: asyncio.Event) -> None:
    """A probe /imagine every 100 ms (members in turn) until `stop`; each one's ack time goes to `acks`."""
    sent = []
    while not stop.is_set():
        user = users[len(sent) % len(users)]
        sent.append(await fake.slash(user, "imagine", prompt=f"probe {len(sent)}: a red fox"))
        await asyncio.sleep(0.1)
    with contextlib.suppress(TimeoutError):
        await fake.wait_for(lambda: all(i.responded_at for i in sent), timeout=10)
    acks.extend((i.responded_at or time.monotonic()) - i.created for i in sent)


async def while_probing(fake: Any, users: list[Any], work: Any) -> tuple[float, list[float]]:
    """Run `work()` (a coroutine function) while probing; its duration and the probes' acks."""
    acks: list[float] = []
    stop = asyncio.Event()
    probes = asyncio.create_task(probing(fake, users, acks, stop))
    started = time.monotonic()
    await work()
    took = time.monotonic() - started
    stop.set()
    await probes
    return took, acks


class _FrozenClock:
    """`time` as the fake's snowflakes see it while the reusable ids are made: a fixed moment (2024-01-01)."""

    @staticmethod
    def time() -> float:
        return 1_704_067_200.0


async def fake_with_fixed_ids() -> tuple[FakeDiscord, Any]:
    """A started fake Discord and its admin member, both with the same snowflakes in every run."""
    real = discord_models.time
    discord_models.time = _FrozenClock  # type: ignore[assignment]
    try:
        fake = FakeDiscord()
        admin = fake.add_member(manage_guild=True)
    finally:
        discord_models.time = real
    await fake.start()
    return fake, admin


async def prepared(args: argparse.Namespace, path: Path, guild: int, busiest: int) -> float:
    """A database of `args.rows` rows at `path`: generated there, or copied from `args.base` (built first if
    missing); migrated to the newest schema. Returns the seconds the generation took (0 for a copy)."""
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    took = 0.0
    base: Path | None = args.base
    source = base if base is not None else path
    ids = {"rows": args.rows, "guild": guild, "busiest": busiest}
    stamp = source.with_name(source.name + ".json")
    if base is None or not base.exists() or json.loads(stamp.read_text()) != ids:  # noqa: ASYNC240
        source.unlink(missing_ok=True)
        await (await UsageStore.open(source)).close()  # the schema
        took = generate(source, args.rows, guild, busiest, time.time())
        stamp.write_text(json.dumps(ids))
    if base is not None:
        shutil.copyfile(base, path)
    started = time.monotonic()
    await (await UsageStore.open(path)).close()  # migrations newer than the base
    args.migrated_in = time.monotonic() - started
    return took


async def drive(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Generate, start, measure."""
    fake, admin = await fake_with_fixed_ids()
    try:
        probers = [fake.add_member() for _ in range(20)]
        path = workdir / "bench.db"
        took_gen = await prepared(args, path, int(fake.guild_id), int(admin.id))
        async with (
            api_process(delay=0.2, size=(64, 64)) as api,
            bot_process(
                fake,
                api.base_url,
                workdir,
                RETRY_WINDOW_SECONDS="60",
                KEEP_REFERENCES_DAYS="1",
                MAX_CONCURRENT_JOBS="200",
                SHUTDOWN_GRACE_SECONDS="1",
                lag_file=workdir / "lag.txt",
            ) as bot,
        ):
            ready = bot.ready_at - bot.started_at  # from the process's start
            tidy = await while_probing(fake, probers, lambda: asyncio.sleep(args.window))

            async def stats() -> None:
                asked = await fake.slash(admin, "imagine-admin stats")
                await fake.wait_for(lambda: asked.original and asked.original.attachments, timeout=120)

            async def forget() -> None:  # answered at once; done when its follow-up says so
                asked = await fake.slash(admin, "usage forget-me")
                await fake.wait_for(lambda: any("Done" in m.text for m in asked.followups), timeout=900)

            stat = await while_probing(fake, probers, stats)
            forgot = await while_probing(fake, probers, forget)
        left = sqlite3.connect(path)
        refs_left = left.execute("SELECT COUNT(*) FROM job_references").fetchone()[0]
        busiest_left = left.execute("SELECT COUNT(*) FROM jobs WHERE user_id = ?", (int(admin.id),)).fetchone()[0]
        left.close()
    finally:
        await fake.close()
    lag = lag_samples(workdir / "lag.txt")
    return {
        "lag": lag,
        "generate": took_gen,
        "ready": ready,
        "tidy": tidy,
        "stats": stat,
        "forget": forgot,
        "refs_left": refs_left,
        "busiest_left": busiest_left,
    }


def report(args: argparse.Namespace, r: dict[str, Any]) -> str:
    """Markdown body of the section."""
    worst = max(max(r[k][1]) for k in ("tidy", "stats", "forget"))
    met = r["ready"] < READY_BAR and worst < ANSWER_BAR
    return "\n".join(
        [
            f"Bars: READY under {READY_BAR} s; interactive commands answered under {ANSWER_BAR:.0f} s while the"
            f" start-up clean-up, admin stats and forget-me run — {'met' if met else '**missed**'}.",
            "",
            f"{args.rows:,} finished job rows over 365 days (90 % in one server of 2,000 members, activity ~ 1/rank),",
            f"generated with SQL in {r['generate']:.0f} s (0: a copy of `--base`); 2,000 old jobs with a kept 100 KB"
            " reference and a stale token. SQLite (WAL) on a local file. Migrations newer than the base took"
            f" {args.migrated_in:.1f} s before the start. Probe: an `/imagine` every 100 ms; its acknowledgement time.",
            "",
            "| step | took | probe acks meanwhile |",
            "|---|---|---|",
            f"| start-up to READY | {r['ready']:.2f} s (process start, migrations, cogs, gateway) | — |",
            f"| start-up clean-up (first {args.window:.0f} s after READY) | in the background |"
            f" {summary_ms(r['tidy'][1])} |",
            f"| `/imagine-admin stats` | {r['stats'][0]:.2f} s | {summary_ms(r['stats'][1])} |",
            f"| `/usage forget-me` of the busiest member | {r['forget'][0]:.2f} s | {summary_ms(r['forget'][1])} |",
            "",
            f"Bot event-loop lag over the whole run: {summary_ms(r['lag']) if r['lag'] else 'no samples'}.",
            "",
            f"Afterwards: {r['refs_left']} kept references older than the retention left (pruned: all but these),"
            f" {r['busiest_left']} job rows still naming the forgotten member.",
        ]
    )


def parse() -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--window", type=float, default=5.0, help="seconds of probing right after READY")
    parser.add_argument("--workdir", type=Path, help="keep the database and the bot's log here")
    parser.add_argument("--base", type=Path, help="generated history to copy (built there first if missing)")
    parser.add_argument("--build-only", action="store_true", help="with --base: build it and stop")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    return parser.parse_args()


async def build(args: argparse.Namespace) -> None:
    """Only the base history (`--build-only`)."""
    fake, admin = await fake_with_fixed_ids()
    try:
        target, args.base = args.base, None
        took = await prepared(args, target, int(fake.guild_id), int(admin.id))
        print(f"{args.rows:,} rows in {target} (generated in {took:.0f} s)")
    finally:
        await fake.close()


def main() -> None:
    """Run, print, and record in docs/benchmarks.md."""
    args = parse()
    if args.build_only:
        asyncio.run(build(args))
        return
    run_and_record(args, drive, report, "big_history", "A big job history")


if __name__ == "__main__":
    main()
