"""Hundreds of jobs in flight: wall time against the API's own, the bot's loop lag, probe acks, status edits.

Part 1 (in flight): `--jobs` /imagine jobs of 4 images sent at once, no concurrency cap (MAX_CONCURRENT_JOBS
1000), the fake API streaming one image every `--delay` s; the API alone needs 4 x delay. A probe /imagine from
another member every 250 ms meanwhile. The bot runs with a sampler of its own event-loop lag.

Part 2 (burst): `--burst` jobs of 4 images with MAX_CONCURRENT_JOBS=10; every PATCH of a message counted against
a minimal bot that edits once per image (attaching it) and once at the end of each job; the longest gap
between two visible changes of a running job.

    python -m bench.in_flight                     # 800 jobs in flight, then a 100-job burst
    python -m bench.in_flight --jobs 50 --burst 10 --no-write   # smoke
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import time
from pathlib import Path
from typing import Any

from bench.common import (
    LoopLag,
    api_process,
    bot_process,
    cpu_seconds,
    finished,
    lag_samples,
    percentile,
    run_and_record,
    started_fake_discord,
    summary_ms,
)
from tests.fakes.discord import FakeDiscord

WALL_BAR, LAG_BAR, PROBE_BAR, EDIT_BAR, GAP_BAR = 1.15, 0.030, 0.250, 2.0, 10.0
DEADLINE = 3.0


def late(interaction: Any) -> bool:
    """Acknowledged past Discord's 3 s deadline, or (after 3 s) not at all."""
    answered = interaction.responded_at
    return (answered or time.monotonic()) - interaction.created >= DEADLINE


async def send_jobs(fake: FakeDiscord, count: int, images: int, tag: str, spacing: float = 0.0) -> list[Any]:
    """`count` /imagine commands from 10 members, as fast as the fake sends them (or `spacing` s apart)."""
    users = [fake.add_member() for _ in range(10)]
    sent = []
    for i in range(count):
        sent.append(await fake.slash(users[i % 10], "imagine", prompt=f"{tag} {i}: a lighthouse", count=images))
        if spacing:
            await asyncio.sleep(spacing)
    return sent


async def in_flight(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Part 1."""
    fake = await started_fake_discord()
    lag_file = workdir / "lag.txt"
    try:
        async with (
            api_process(delay=args.delay, size=(512, 512)) as api,
            bot_process(
                fake,
                api.base_url,
                workdir / "1",
                lag_file=lag_file,
                profile=args.profile,
                cpu_profile=args.cpu_profile,
                MAX_CONCURRENT_JOBS="1000",
                SHUTDOWN_GRACE_SECONDS="1",
            ) as bot,
        ):
            prober = fake.add_member()
            probes: list[Any] = []
            cpu_before = cpu_seconds(bot.pid), cpu_seconds(api.process.pid), time.process_time()
            started = time.monotonic()
            driver_lag = LoopLag().__enter__()  # the fake stamps every ack: its own lateness is in them
            sent = await send_jobs(fake, args.jobs, 4, "job", args.spacing)
            sent_in = time.monotonic() - started

            async def probing() -> None:
                while args.probe_gap > 0:
                    probes.append(await fake.slash(prober, "imagine", prompt=f"probe {len(probes)}: a red fox"))
                    await asyncio.sleep(args.probe_gap)

            probe_task = asyncio.create_task(probing())
            with contextlib.suppress(TimeoutError):  # the unfinished are counted below
                await fake.wait_for(lambda: all(finished(i) or late(i) for i in sent), timeout=args.timeout)
            took = time.monotonic() - started
            probe_task.cancel()
            driver_lag.__exit__()
            with contextlib.suppress(asyncio.CancelledError):
                await probe_task
            ended = time.monotonic()
            cpu = cpu_seconds(bot.pid) - cpu_before[0]
            cpu_api = cpu_seconds(api.process.pid) - cpu_before[1]
            cpu_driver = time.process_time() - cpu_before[2]
            await asyncio.sleep(0.5)
    finally:
        await fake.close()
    last = last_change(fake.requests)
    answered = burst_answered(sent)
    per_job = [last[i.token] - i.created for i in sent if i.token in last]
    return {
        "took": took,
        "sent_in": sent_in,
        "per_job": per_job,
        "lag": lag_samples(lag_file, started, ended),
        "probes": [p.responded_at - p.created for p in probes if p.responded_at] or [0.0],
        "probes_in_burst": probe_acks(probes, until=answered),
        "probes_after": probe_acks(probes, after=answered),
        "unanswered": sum(1 for p in probes if p.responded_at is None),
        "images_in_flight": sum(len(r.files) for r in fake.requests),
        "late": sum(1 for i in sent if late(i)),
        "failed": sum(1 for i in sent if not late(i) and "❌" in (i.original.text if i.original else "❌")),
        "job_acks": [i.responded_at - i.created for i in sent if i.responded_at],
        "driver_lag": driver_lag.samples,
        "cpu": cpu,
        "cpu_api": cpu_api,
        "cpu_driver": cpu_driver,
        "jobs_run": len(sent) + len(probes),
    }


def burst_answered(sent: list[Any]) -> float:
    """When the last of the burst's commands had its first answer (one never answered: at Discord's deadline)."""
    return max((i.responded_at or i.created + DEADLINE for i in sent), default=time.monotonic())


def probe_acks(probes: list[Any], *, until: float | None = None, after: float | None = None) -> list[float]:
    """Ack times of the probes sent before `until` (while the burst was still being answered), or from `after` on."""
    return [
        p.responded_at - p.created
        for p in probes
        if p.responded_at and (until is None or p.created < until) and (after is None or p.created >= after)
    ]


def last_change(requests: list[Any]) -> dict[str, float]:
    """When each interaction's messages last changed (by token)."""
    last: dict[str, float] = {}
    for request in requests:
        parts = request.path.split("/")
        if "webhooks" in parts and len(parts) > parts.index("webhooks") + 2:
            last[parts[parts.index("webhooks") + 2]] = request.received_at
    return last


def visible_gap(fake: FakeDiscord, interaction: Any) -> float:
    """Longest time between two requests changing a job's message once it runs (not while it waits in line)."""
    times = []
    for request in fake.requests:
        if interaction.token not in request.path or request.method not in ("PATCH", "POST"):
            continue
        content = str((request.json or {}).get("content") or "") if isinstance(request.json, dict) else ""
        if "in queue" in content:
            times.clear()  # still waiting: progress is measured from the job's start
            continue
        times.append(request.received_at)
    return max((b - a for a, b in itertools.pairwise(times)), default=0.0)


async def burst(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Part 2."""
    fake = await started_fake_discord()
    try:
        async with (
            api_process(delay=args.delay, size=(512, 512)) as api,
            bot_process(fake, api.base_url, workdir / "2", MAX_CONCURRENT_JOBS="10"),
        ):
            before = len(fake.requests)
            sent = await send_jobs(fake, args.burst, 4, "burst")
            await fake.wait_for(lambda: all(finished(i) for i in sent), timeout=args.timeout)
            await asyncio.sleep(1.0)  # a late edit would still count
            requests = fake.requests[before:]
            gaps = [visible_gap(fake, i) for i in sent]
    finally:
        await fake.close()
    edits = sum(1 for r in requests if r.method == "PATCH" and "/messages/" in r.path)
    images = sum(len(r.files) for r in requests)
    return {"edits": edits, "minimal": images + len(sent), "images": images, "gaps": gaps}


async def drive(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Both parts, one after the other, each with its own bot and database."""
    for sub in ("1", "2"):
        (workdir / sub).mkdir(exist_ok=True)
    first = await in_flight(args, workdir) if args.jobs else {}
    second = await burst(args, workdir) if args.burst else {}
    return {**first, **second}


def maybe_ms(values: list[float]) -> str:
    """`summary_ms`, or "none"."""
    return summary_ms(values) if values else "none"


def report(args: argparse.Namespace, r: dict[str, Any]) -> str:
    """Markdown body of the section."""
    ideal = 4 * args.delay
    lines = []
    if args.jobs:
        ratio, lag99, probe99 = r["took"] / ideal, percentile(r["lag"], 99), percentile(r["probes"], 99)
        met = ratio <= WALL_BAR and lag99 < LAG_BAR and probe99 < PROBE_BAR
        met = met and not (r["unanswered"] or r["late"] or r["failed"])
        lines += [
            f"**In flight.** Bars: wall ≤ {WALL_BAR}× the API's own time, loop lag p99 < {LAG_BAR * 1000:.0f} ms,"
            f" probe acks p99 < {PROBE_BAR * 1000:.0f} ms — {'met' if met else '**missed**'}.",
            "",
            f"{args.jobs} `/imagine` jobs of 4 images sent at once (the fake took {r['sent_in']:.1f} s to send them),",
            f"MAX_CONCURRENT_JOBS=1000; the fake API streams one 512x512 image every {args.delay} s, so the API alone",
            f"needs {ideal:.1f} s. A probe `/imagine` every {args.probe_gap * 1000:.0f} ms until the last job ended.",
            "",
            "| measure | result |",
            "|---|---|",
            f"| wall, first command to last summary | {r['took']:.2f} s = **{ratio:.2f}×** the API's {ideal:.1f} s |",
            f"| per job, command to summary | {summary_ms(r['per_job']) if r['per_job'] else 'n/a'} |",
            f"| bot event-loop lag | {summary_ms(r['lag']) if r['lag'] else 'no samples'} |",
            f"| the fake Discord's event-loop lag (it stamps the acks) | {summary_ms(r['driver_lag'] or [0.0])} |",
            f"| probe acks | {summary_ms(r['probes'])}; unanswered {r['unanswered']} |",
            f"| … sent while the burst was still being answered | {maybe_ms(r['probes_in_burst'])} |",
            f"| … sent after the burst's last answer | {maybe_ms(r['probes_after'])} |",
            f"| acks of the {args.jobs} jobs | {summary_ms(r['job_acks'] or [0.0])}; past 3 s or never: {r['late']} |",
            f"| jobs ended in an error | {r['failed']} |",
            f"| images posted | {r['images_in_flight']} |",
            f"| bot CPU, from the first command to the last summary | {r['cpu']:.1f} s"
            f" ({r['cpu'] / r['jobs_run'] * 1000:.0f} ms per job; {r['jobs_run']} jobs with the probes) |",
            f"| CPU of the fake Discord (this process) / the fake API | {r['cpu_driver']:.1f} s"
            f" / {r['cpu_api']:.1f} s |",
            "",
        ]
    if args.burst:
        ratio, gap = r["edits"] / r["minimal"], max(r["gaps"])
        met = ratio <= EDIT_BAR and gap <= GAP_BAR
        lines += [
            f"**Burst.** Bars: message edits ≤ {EDIT_BAR}× a minimal bot's, a running job's message changes at"
            f" least every {GAP_BAR:.0f} s — {'met' if met else '**missed**'}.",
            "",
            f"{args.burst} jobs of 4 images sent at once, MAX_CONCURRENT_JOBS=10, {args.delay} s per image",
            "(PROGRESS_INTERVAL=10). Minimal bot: one edit per image (attaching it) and one final edit per job.",
            "",
            "| message edits (PATCH) | minimal bot | ratio | images | longest gap while running |",
            "|---|---|---|---|---|",
            f"| {r['edits']} | {r['minimal']} | {ratio:.2f}× | {r['images']} | {gap:.1f} s |",
        ]
    return "\n".join(lines)


def parse() -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=800)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--delay", type=float, default=3.0, help="fake API seconds per image")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--spacing", type=float, default=0.0, help="seconds between part 1's commands (profiling)")
    parser.add_argument("--probe-gap", type=float, default=0.25, help="seconds between probes; 0: none (profiling)")
    parser.add_argument("--profile", type=Path, help="part 1's bot under pyinstrument, text report to this file")
    parser.add_argument("--cpu-profile", type=Path, help="part 1's loop-thread CPU by stack (bench.cpu_sampler)")
    parser.add_argument("--workdir", type=Path, help="keep the bots' databases, logs and lag samples here")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    return parser.parse_args()


def main() -> None:
    """Run, print, and record in docs/benchmarks.md."""
    run_and_record(parse(), drive, report, "in_flight", "Hundreds of jobs in flight")


if __name__ == "__main__":
    main()
