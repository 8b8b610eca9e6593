"""Scale-out on PostgreSQL: jobs finished per minute with 1, 2 and 4 worker processes, ack latency, takeover time.

The fake Discord runs in this process, the fake image API (2 s per image) in its own, and the bot as real
processes: one gateway (`python -m bot`, which also runs a worker) plus worker-only processes
(`python -m bot worker`). WORKER_CONCURRENCY cannot be 0, so the gateway's worker counts as one of the N worker
processes. Each process runs at most WORKER_CONCURRENCY jobs and MAX_CONCURRENT_JOBS is above their sum, so the
queue's coordination, not the API limit, is measured. The same burst against one `python -m bot` on SQLite gives
the ack latency to compare with. Takeover: a worker holding jobs is SIGKILLed; the time from the kill to each of
its jobs' continuation (the "more…" message another worker posts) and next image.

    python -m bench.scale_out                                  # 400 jobs, 1/2/4 workers, ~6 minutes
    python -m bench.scale_out --jobs 8 --workers 1 2 --delay 0.1 --no-write      # smoke
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    GENEROUS_OWNER,
    api_process,
    cpu_seconds,
    finished,
    percentile,
    run_and_record,
    started_fake_discord,
    stop,
)
from bot.store import JobRecord, UsageStore
from tests.fakes.discord import FakeDiscord
from tests.postgres import ThrowawayServer, fresh_database

MEMBERS = 40


@dataclass
class Deployment:
    """The bot's processes: the gateway first, then worker-only ones."""

    processes: list[asyncio.subprocess.Process]
    database_url: str


@contextlib.asynccontextmanager
async def deployment(
    fake: FakeDiscord, api_base: str, workdir: Path, url: str, workers: int, **env: str
) -> AsyncIterator[Deployment]:
    """A gateway process and `workers - 1` worker-only processes on `url`; all stopped at the end."""
    settings = {
        "PATH": os.environ["PATH"],
        **{k: v for k, v in os.environ.items() if k.startswith("PYTHON")},
        "DISCORD_TOKEN": fake.token,
        "DISCORD_API_BASE_URL": fake.base_url,
        "IMAGE_API_BASE_URL": api_base,
        "IMAGE_API_KEY": "bench-api-key",
        "DATABASE_URL": url,
        "DEV_GUILD_ID": fake.guild_id,
        "PROGRESS_INTERVAL": "10",
        **GENEROUS_OWNER,
        "MAX_WAITING_PER_MEMBER": "100",
        **env,
    }
    processes: list[asyncio.subprocess.Process] = []
    logs: list[Path] = []
    try:
        for n in range(workers):  # all at once: each takes a few seconds to import, migrate and log in
            command = ["-m", "bot"] if n == 0 else ["-m", "bot", "worker"]
            logs.append(workdir / f"bot-{time.monotonic_ns()}-{n}.log")
            with logs[-1].open("wb") as log:
                processes.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable, *command, env=settings, cwd=workdir, stdout=log, stderr=log
                    )
                )
        await fake.wait_ready(timeout=60)
        await fake.wait_for(lambda: fake.commands.get(fake.guild_id), timeout=30)
        await _claiming(logs, timeout=60)  # every worker is up (else the burst measures Python's start-up)
        yield Deployment(processes, url)
    finally:
        for process in processes:
            await stop(process)


async def _claiming(logs: list[Path], timeout: float) -> None:
    """Wait until each process logged that its worker started ("worker …: up to N job(s) at once")."""
    deadline = time.monotonic() + timeout
    while not all("job(s) at once" in path.read_text(errors="replace") for path in logs):
        if time.monotonic() > deadline:
            raise TimeoutError("a worker process did not start")
        await asyncio.sleep(0.1)


async def read_jobs(url: str) -> list[JobRecord]:
    """Every job, through a short-lived store of the driver's own."""
    store = await UsageStore.open(url, single_process=False)
    try:
        return await store.recent_jobs(100_000)
    finally:
        await store.close()


async def burst(fake: FakeDiscord, jobs: int, timeout: float, spacing: float) -> dict[str, Any]:
    """Send `jobs` /imagine (one image each) from MEMBERS members; wait until all show their final state."""
    members = [fake.add_member() for _ in range(MEMBERS)]
    started = time.monotonic()
    sent = []
    for i in range(jobs):
        sent.append(await fake.slash(members[i % MEMBERS], "imagine", prompt=f"job {i}: a lighthouse"))
        await asyncio.sleep(spacing)
    with contextlib.suppress(TimeoutError):  # the unfinished ones are counted as failed
        await fake.wait_for(lambda: all(finished(i) for i in sent), timeout=timeout)
    took = time.monotonic() - started
    failed = sum(1 for i in sent if i.ephemeral or not finished(i) or "❌" in (i.original.text or ""))
    acks = [i.responded_at - i.created if i.responded_at is not None else timeout for i in sent]
    done = len(sent) - failed
    return {"acks": acks, "took": took, "per_minute": done / took * 60, "failed": failed}


def postgres_cpu(server: ThrowawayServer | None) -> float:
    """CPU seconds the PostgreSQL server has used so far: the postmaster, its live backends and the ones that ended."""
    if server is None:
        return 0.0
    with contextlib.suppress(OSError, ValueError):
        postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
        total = 0.0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                pid = int(stat.parent.name)
                if pid == postmaster:  # its own time and that of every backend that ended (waited for)
                    total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
                elif int(fields[1]) == postmaster:
                    total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total
    return 0.0


async def scenario(
    args: argparse.Namespace, workdir: Path, api_base: str, url: str, workers: int, server: ThrowawayServer | None
) -> dict[str, Any]:
    """One burst against a fresh deployment of `workers` processes; with the CPU time the bot processes and the
    database server used for it (a number that other work on the machine disturbs far less than times)."""
    fake = await started_fake_discord()
    try:
        env = {
            "MAX_CONCURRENT_JOBS": str(args.max_concurrent),
            "WORKER_CONCURRENCY": str(args.per_process),
            "LEASE_SECONDS": str(args.lease),
        }
        async with deployment(fake, api_base, workdir, url, workers, **env) as running:
            pids = [p.pid for p in running.processes]
            bot, database = sum(cpu_seconds(pid) for pid in pids), postgres_cpu(server)
            result = await burst(fake, args.jobs, args.timeout, args.spacing)
            result["bot_cpu"] = sum(cpu_seconds(pid) for pid in pids) - bot
            result["db_cpu"] = postgres_cpu(server) - database if server is not None and "postgresql" in url else 0.0
            return result
    finally:
        await fake.close()


async def takeover(args: argparse.Namespace, workdir: Path, api_base: str, url: str) -> dict[str, Any]:
    """Gateway + one worker; SIGKILL the worker while it holds jobs; time to each job's continuation and image."""
    fake = await started_fake_discord()
    env = {"WORKER_CONCURRENCY": str(args.per_process), "LEASE_SECONDS": str(args.lease)}
    try:
        async with deployment(fake, api_base, workdir, url, 2, **env) as running:
            worker = running.processes[1]
            user = [fake.add_member() for _ in range(args.per_process)]
            sent = [
                await fake.slash(user[i], "imagine", prompt=f"job {i}: a kite", count=4)
                for i in range(args.per_process)
            ]
            held = await _held_mid_job(url, worker.pid, timeout=args.timeout)
            worker.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            watched = {int(j.prompt.split(":")[0].split()[1]): j for j in held}
            seen = {n: len(_images(sent[n])) for n in watched}
            continued = await _times(fake, lambda n: len(sent[n].followups) > 0, watched, killed, args.timeout)
            imaged = await _times(fake, lambda n: len(_images(sent[n])) > seen[n], watched, killed, args.timeout)
            await fake.wait_for(lambda: all(finished(i) for i in sent), timeout=args.timeout)
    finally:
        await fake.close()
    return {"held": len(held), "continued": continued, "imaged": imaged}


async def _held_mid_job(url: str, pid: int, timeout: float) -> list[JobRecord]:
    """Wait until the process `pid` holds a job that posted some of its images; its running jobs then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mine = [j for j in await read_jobs(url) if j.status == "running" and f":{pid}:" in (j.worker_id or "")]
        if any(0 < j.images_delivered < j.images_requested for j in mine):
            return mine
        await asyncio.sleep(0.1)
    raise TimeoutError("the worker never held a job mid-way")


def _images(interaction: Any) -> list[Any]:
    messages = [m for m in (interaction.original, *interaction.followups) if m is not None]
    return [a for m in messages for a in m.attachments]


async def _times(fake: FakeDiscord, happened: Any, jobs: dict[int, Any], since: float, timeout: float) -> list[float]:
    """Seconds from `since` until `happened(n)` for each watched job (measured as each one happens)."""
    times: dict[int, float] = {}

    def all_seen() -> bool:
        for n in jobs:
            if n not in times and happened(n):
                times[n] = time.monotonic() - since
        return len(times) == len(jobs)

    await fake.wait_for(all_seen, timeout=timeout)
    return sorted(times.values())


async def drive(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Start PostgreSQL (or use --database-url), the fake API; run every scenario."""
    server = None
    admin = args.database_url
    if admin is None:
        server = ThrowawayServer()
        admin = await asyncio.to_thread(server.start)
    results: dict[str, Any] = {"workers": {}, "load": os.getloadavg()[0]}
    try:
        async with api_process(delay=args.delay, size=(64, 64)) as api:
            for workers in args.workers:
                url = await fresh_database(admin)
                results["workers"][workers] = await scenario(args, workdir, api.base_url, url, workers, server)
                print(f"{workers} worker process(es): {results['workers'][workers]['per_minute']:.0f} jobs/min")
            sqlite = f"sqlite:///{workdir / 'bench.db'}"
            results["sqlite"] = await scenario(args, workdir, api.base_url, sqlite, 1, None)
            if not args.skip_takeover:
                results["takeover"] = await takeover(args, workdir, api.base_url, await fresh_database(admin))
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)
    return results


def _ms(values: list[float], pct: float) -> str:
    return f"{percentile(values, pct) * 1000:.0f} ms"


def report(args: argparse.Namespace, result: dict[str, Any]) -> str:
    """Markdown body of the section."""
    sqlite, runs = result["sqlite"], result["workers"]
    base = runs[min(runs)]["per_minute"]
    lines = [
        f"Scenario: {args.jobs} `/imagine` (one image each), {args.spacing * 1000:.0f} ms apart, from {MEMBERS}",
        f"members; the fake API takes {args.delay} s per image; MAX_CONCURRENT_JOBS={args.max_concurrent},",
        f"WORKER_CONCURRENCY={args.per_process}",
        f"per process, LEASE_SECONDS={args.lease}. N worker processes = one gateway (`python -m bot`, whose worker",
        "counts: WORKER_CONCURRENCY=0 is not supported) + N−1 `python -m bot worker`, on a throwaway PostgreSQL",
        "15 on the same machine (fsync off). Quotas off (`GENEROUS_OWNER`). Ack = from the fake Discord sending",
        "INTERACTION_CREATE to receiving the defer callback. Jobs/min = jobs ÷ (first interaction → last final",
        "message), counting only jobs that got their image; an unanswered interaction counts as an ack of",
        f"{args.timeout:.0f} s. CPU per job: user + system time of the bot processes (all of them together) and of",
        "the PostgreSQL server during the burst, divided by the jobs sent; it varies far less with other work on the",
        f"machine than the times do. Load average when the run started: {result['load']:.1f} (other work included).",
        "",
        "| database | worker processes | jobs/min | × one | ack p50 | ack p99 | p99 ÷ SQLite p99 | failed "
        "| bot CPU per job | database CPU per job |",
        "|---|---|---|---|---|---|---|---|---|---|",
        _row("SQLite", 1, sqlite, sqlite, base),
    ]
    lines += [_row("PostgreSQL", n, run, sqlite, base) for n, run in sorted(runs.items())]
    lines += ["", *_verdicts(args, result)]
    return "\n".join(lines)


def _row(database: str, workers: int, run: dict[str, Any], sqlite: dict[str, Any], base: float) -> str:
    ratio = percentile(run["acks"], 99) / percentile(sqlite["acks"], 99)
    return (
        f"| {database} | {workers} | {run['per_minute']:.0f} | {run['per_minute'] / base:.2f}× | "
        f"{_ms(run['acks'], 50)} | {_ms(run['acks'], 99)} | {ratio:.2f} | {run['failed']} | "
        f"{run.get('bot_cpu', 0) / len(run['acks']) * 1000:.1f} ms | "
        f"{run.get('db_cpu', 0) / len(run['acks']) * 1000:.1f} ms |"
    )


def _verdicts(args: argparse.Namespace, result: dict[str, Any]) -> list[str]:
    runs, sqlite = result["workers"], result["sqlite"]
    base = runs[min(runs)]["per_minute"]
    worst = max(percentile(run["acks"], 99) for run in runs.values()) / percentile(sqlite["acks"], 99)
    lines = [f"- PostgreSQL ack p99 within 1.5× of SQLite: worst {worst:.2f}× — {_met(worst <= 1.5)}."]
    for workers, bar in ((2, 1.9), (4, 3.6)):
        if workers in runs:
            ratio = runs[workers]["per_minute"] / base
            lines.append(f"- {workers} workers ≥ {bar}× the jobs of one: {ratio:.2f}× — {_met(ratio >= bar)}.")
    taken = result.get("takeover")
    if taken:
        worst_next = max(taken["imaged"])
        lines.append(
            f"- Takeover after SIGKILL of a worker holding {taken['held']} job(s): continuation posted after "
            f"{min(taken['continued']):.1f}–{max(taken['continued']):.1f} s, next image after "
            f"{min(taken['imaged']):.1f}–{worst_next:.1f} s (includes {args.delay} s of API time); bar lease + 5 s = "
            f"{args.lease + 5:.0f} s — {_met(worst_next <= args.lease + 5)}."
        )
    return lines


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def parse() -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--spacing", type=float, default=0.01, help="seconds between the burst's interactions")
    parser.add_argument("--delay", type=float, default=2.0, help="fake API seconds per image")
    parser.add_argument("--max-concurrent", type=int, default=64)
    parser.add_argument("--per-process", type=int, default=8, help="WORKER_CONCURRENCY")
    parser.add_argument("--lease", type=float, default=10.0, help="LEASE_SECONDS")
    parser.add_argument("--timeout", type=float, default=300, help="seconds a burst may take")
    parser.add_argument("--database-url", help="a PostgreSQL server URL to create databases on (default: throwaway)")
    parser.add_argument("--skip-takeover", action="store_true")
    parser.add_argument("--workdir", type=Path, help="keep the databases and logs here")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    return parser.parse_args()


def main() -> None:
    """Run, print, and record in docs/benchmarks.md."""
    run_and_record(parse(), drive, report, "scale_out", "Scale-out: worker processes on PostgreSQL")


if __name__ == "__main__":
    main()
