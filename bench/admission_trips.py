"""What one admission costs the database: round trips, statements, pool checkouts and CPU, on SQLite and PostgreSQL.

Wall-clock latencies are noisy on a shared machine; these counts are not. The store runs in this process with the
bot's QuotaService. On PostgreSQL every byte goes through a counting proxy: a round trip is each time the client
speaks again after the server answered (pipelined messages count once). Measured:

- one admission at a time (an admission, then the `enqueue` the launcher does after the acknowledgement);
- a burst: `--burst` admissions from 40 members into one server, `--spacing` apart, each followed by its enqueue
  as the launcher does it, while `--claimers` workers claim and finish jobs the way `bot.jobs.worker` does.

    python -m bench.admission_trips                       # prints a table; --write records it in docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.common import GENEROUS_OWNER, percentile, write_section
from bot.errors import StoreFailed
from bot.quotas import AdmitRequest, QuotaService
from bot.settings import Settings
from bot.store import UsageStore
from bot.store.journal import Origin
from tests.postgres import RoundTrips, ThrowawayServer, counting_proxy, fresh_database

MEMBERS = 40
GUILD = 1234


@dataclass
class Trips:
    """Counts of the proxy (round trips, bytes) and of SQLAlchemy (statements, checkouts)."""

    round_trips: int = 0
    sent: int = 0
    statements: int = 0
    checkouts: int = 0
    connects: int = 0
    pool_waits: int = 0  # checkouts that waited more than 1 ms for a connection
    pool_wait: float = 0.0  # seconds, summed
    by_statement: dict[str, int] = field(default_factory=dict)

    def snapshot(self) -> Trips:
        """A copy to subtract from later."""
        return dataclasses.replace(self, by_statement=dict(self.by_statement))

    def since(self, before: Trips) -> Trips:
        """What happened after `before`."""
        names = {k: v - before.by_statement.get(k, 0) for k, v in self.by_statement.items()}
        return Trips(
            self.round_trips - before.round_trips,
            self.sent - before.sent,
            self.statements - before.statements,
            self.checkouts - before.checkouts,
            self.connects - before.connects,
            self.pool_waits - before.pool_waits,
            self.pool_wait - before.pool_wait,
            {k: v for k, v in names.items() if v},
        )


def count_statements(store: UsageStore, trips: Trips) -> None:
    """Count every statement and pool checkout of the store's engine."""
    engine = store.engine.sync_engine

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        trips.statements += 1
        head = " ".join(statement.split()[:3])[:40]
        trips.by_statement[head] = trips.by_statement.get(head, 0) + 1

    @event.listens_for(engine, "checkout")
    def _checkout(*_: Any) -> None:
        trips.checkouts += 1

    @event.listens_for(engine, "connect")
    def _connect(*_: Any) -> None:
        trips.connects += 1

    pool: Any = engine.pool
    get = pool._do_get

    def timed_get() -> Any:
        started = time.perf_counter()
        try:
            return get()
        finally:
            waited = time.perf_counter() - started
            trips.pool_wait += waited
            trips.pool_waits += waited > 0.001

    pool._do_get = timed_get


def settings_for(url: str) -> Settings:
    """The bot's settings for the store under test (quotas as the benchmarks use them)."""
    values: dict[str, Any] = {k.lower(): v for k, v in GENEROUS_OWNER.items()}
    values |= {"discord_token": "x" * 30, "image_api_key": "bench-api-key", "database_url": url}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def start_job(quotas: QuotaService, store: UsageStore, n: int) -> float:
    """One /imagine as the gateway makes it: the member's tier (the server's settings) and the admission before
    the acknowledgement, then the enqueue; returns the seconds until it could be acknowledged. (The /settings
    defaults read is not counted here.)"""
    started = time.perf_counter()
    await quotas.member_limits(GUILD)
    origin = Origin(interaction_id=n, token=f"token-{n}", token_expires_at=time.time() + 900)
    request = AdmitRequest(GUILD, 99, 1000 + n % MEMBERS, (), 1, None, f"job {n}: a lighthouse", origin=origin)
    try:
        grant = await quotas.admit(request)
    except StoreFailed:  # not reserved within ADMIT_TIMEOUT: the member would be told to try again
        return math.inf
    took = time.perf_counter() - started
    origin = Origin(interaction_id=n, token=f"token-{n}", token_expires_at=time.time() + 900, status_message_id=n)
    await store.queue.enqueue(grant.job_id, params="{}", origin=origin)
    return took


async def claimer(store: UsageStore, name: str, stop: asyncio.Event) -> None:
    """A worker's claim loop with jobs that end at once: claim, finish, notify; wait when nothing is there."""
    while not stop.is_set():
        claims = await store.queue.claim(name, limit=8, global_limit=64, lease=30)
        for claim in claims:
            await store.finish_job(claim.job_id, "completed")
        if not claims:
            await store.queue.wait(0.2)


async def burst(store: UsageStore, quotas: QuotaService, args: argparse.Namespace, first: int) -> list[float]:
    """`args.burst` starts, `args.spacing` apart, while `args.claimers` claim loops run."""
    stop = asyncio.Event()
    claimers = [asyncio.create_task(claimer(store, f"w{i}", stop)) for i in range(args.claimers)]
    tasks = []
    for n in range(args.burst):
        tasks.append(asyncio.create_task(start_job(quotas, store, first + n)))
        await asyncio.sleep(args.spacing)
    latencies = await asyncio.gather(*tasks)
    stop.set()
    await asyncio.gather(*claimers)
    return list(latencies)


async def measure(
    url: str, args: argparse.Namespace, trips: Trips, profile: Path | None, turns: RoundTrips | None = None
) -> dict[str, Any]:
    """A burst on a store just opened (as after a start), then admissions one at a time, then a warm burst."""
    store = await UsageStore.open(url, single_process=False)
    count_statements(store, trips)
    quotas = QuotaService(settings_for(url), store)
    result: dict[str, Any] = {}

    def counted() -> Trips:
        trips.round_trips = turns.count if turns else 0
        return trips

    try:
        for phase, first in (("cold", 0), ("warm", 100_000)):
            before, cpu = counted().snapshot(), time.process_time()
            profiler = cProfile.Profile(time.process_time) if profile and phase == "warm" else None
            if profiler:
                profiler.enable()
            latencies = await burst(store, quotas, args, first)
            if profiler and profile:
                profiler.disable()
                profiler.dump_stats(profile)
            result[phase] = (counted().since(before), time.process_time() - cpu, latencies)
            if phase == "cold":
                before, cpu = counted().snapshot(), time.process_time()
                for n in range(args.sequential):
                    origin = Origin(interaction_id=n, token=f"token-{n}", token_expires_at=time.time() + 900)
                    await quotas.admit(AdmitRequest(GUILD, 99, 1000 + n % MEMBERS, (), 1, None, f"s{n}", origin=origin))
                result["one"] = (counted().since(before), (time.process_time() - cpu) / args.sequential)
    finally:
        await store.close()
    return result


async def drive(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """PostgreSQL (direct; then again through the counting proxy, for the round trips), then SQLite."""
    results: dict[str, dict[str, Any]] = {}
    server = None if args.database_url else ThrowawayServer()
    admin = args.database_url or await asyncio.to_thread(server.start)  # type: ignore[union-attr]
    try:
        results["PostgreSQL"] = await measure(await fresh_database(admin), args, Trips(), args.profile)
        trips, turns = Trips(), RoundTrips()
        async with counting_proxy(await fresh_database(admin), turns) as proxied:
            counted = await measure(proxied, args, trips, None, turns)
        for phase in ("cold", "warm", "one"):
            results["PostgreSQL"][phase][0].round_trips = counted[phase][0].round_trips
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)
    with tempfile.TemporaryDirectory() as folder:
        trips = Trips()
        results["SQLite"] = await measure(f"sqlite:///{Path(folder) / 'bench.db'}", args, trips, None)
    return results


def report(args: argparse.Namespace, results: dict[str, dict[str, Any]]) -> str:
    """A markdown table."""
    lines = [
        f"A burst of {args.burst} starts from {MEMBERS} members into one server, {args.spacing * 1000:.0f} ms apart, "
        "on a store just opened (cold: as when a bot starts), then the same burst again (warm); each start as the "
        f"gateway makes it (default resolution, admission; then the enqueue) while {args.claimers} claim loops take "
        f"and finish jobs. Then {args.sequential} admissions one at a time. Round trips counted by a proxy "
        "(PostgreSQL only, in a second run: the proxy's own work would weigh on the first); statements, pool "
        "checkouts and new connections by SQLAlchemy events; wait = time to get a pooled connection; CPU = this "
        "process's (store and driver).",
        "",
        "| database | phase | round trips per start | statements per start | new connections | waits for a "
        "connection (total) | CPU per start | admission p50 | p99 | refused (store too slow) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        pg = name == "PostgreSQL"
        for phase in ("cold", "warm"):
            trips, cpu, latencies = r[phase]
            n = len(latencies)
            ok = [t for t in latencies if t != math.inf] or [math.inf]
            rt = f"{trips.round_trips / n:.1f}" if pg else "—"
            lines.append(
                f"| {name} | {phase} burst | {rt} | {trips.statements / n:.1f} | {trips.connects} | "
                f"{trips.pool_waits} ({trips.pool_wait * 1000:.0f} ms) | {cpu / n * 1000:.2f} ms | "
                f"{percentile(ok, 50) * 1000:.1f} ms | {percentile(ok, 99) * 1000:.1f} ms | {n - len(ok)} |"
            )
        one, cpu = r["one"]
        k = args.sequential
        rt = f"{one.round_trips / k:.1f}" if pg else "—"
        lines.append(
            f"| {name} | one admission | {rt} | {one.statements / k:.1f} | {one.connects} | "
            f"{one.pool_waits} ({one.pool_wait * 1000:.0f} ms) | {cpu * 1000:.2f} ms | | | |"
        )
    return "\n".join(lines)


def parse() -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sequential", type=int, default=50)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--spacing", type=float, default=0.01)
    parser.add_argument("--claimers", type=int, default=2)
    parser.add_argument("--database-url", help="a PostgreSQL server URL to create databases on (default: throwaway)")
    parser.add_argument("--profile", type=Path, help="write the burst's cProfile stats here")
    parser.add_argument("--write", action="store_true", help="record the table in docs/benchmarks.md")
    parser.add_argument("--verbose", action="store_true", help="statements by kind")
    return parser.parse_args()


def main() -> None:
    """Run, print, optionally record."""
    args = parse()
    results = asyncio.run(drive(args))
    body = report(args, results)
    print(body)
    if args.verbose:
        for name, r in results.items():
            for phase in ("cold", "warm"):
                print(name, phase, r[phase][0].by_statement)
            print(name, "one", r["one"][0].by_statement)
    if args.write:
        write_section("admission_trips", "What an admission costs the database", body)


if __name__ == "__main__":
    main()
