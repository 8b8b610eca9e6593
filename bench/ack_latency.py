"""Acknowledgement latency while many jobs are in flight.

Starts the fake Discord (this process), the fake image API (own process) and the real bot (`python -m bot`, own
process). Sends a burst of /imagine jobs, each with a reference image the bot must download and downscale and
each streaming several images, then sends probe /imagine commands while the burst is running. Ack latency is the
time from the fake sending INTERACTION_CREATE to it receiving the interaction callback POST.

    python -m bench.ack_latency                    # 200 jobs x 4 images, 50 probes
    python -m bench.ack_latency --jobs 4 --probes 2 --no-write   # smoke
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

from bench.common import (
    LoopLag,
    api_process,
    bot_process,
    children_of,
    cpu_seconds,
    percentile,
    run_and_record,
    started_fake_discord,
    summary_ms,
    vm_hwm_mib,
)
from tests.images import noise_jpeg

DEADLINE = 3.0
RSS_BAR_MIB = 600


def finished(interaction: Any) -> bool:
    """The job's final state is showing (summary or error)."""
    message = interaction.original
    return message is not None and bool(message.text) and "⏳" not in message.text


async def drive(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Run the scenario; return the measurements."""
    fake = await started_fake_discord()
    try:
        width, height = args.ref_size
        reference = None
        if width and height:
            reference = fake.add_attachment(noise_jpeg(width, height, quality=85), "photo.jpg", "image/jpeg")
        lag = LoopLag()
        async with (
            api_process(delay=args.delay, size=tuple(args.render)) as api,
            bot_process(
                fake, api.base_url, workdir, profile=args.profile, MAX_CONCURRENT_JOBS=str(args.concurrency)
            ) as bot,
        ):
            lag.__enter__()
            users = [fake.add_member() for _ in range(10)]
            started = time.monotonic()
            burst = []
            for i in range(args.jobs):
                prompt = f"job {i}: a lighthouse in four seasons"
                options = {"prompt": prompt, "count": args.images, "image1": reference}
                burst.append(await fake.slash(users[i % 10], "imagine", **options))
                await asyncio.sleep(args.spacing)
            probes = []
            for i in range(args.probes):
                await asyncio.sleep(args.probe_gap)
                probes.append(await fake.slash(users[i % 10], "imagine", prompt=f"probe {i}: a red fox"))
            everything = burst + probes
            in_flight_at_end_of_probes = sum(1 for i in burst if not finished(i))

            def settled(i: Any) -> bool:  # finished, or never acknowledged within Discord's deadline
                return finished(i) or (not i.responded_at and time.monotonic() - i.created > DEADLINE)

            with contextlib.suppress(TimeoutError):  # unanswered ones are counted below
                await fake.wait_for(lambda: all(settled(i) for i in everything), args.timeout)
            took = time.monotonic() - started
            lag.__exit__()
            cpu = {"bot": cpu_seconds(bot.pid), "api": cpu_seconds(api.process.pid)}
            peak = vm_hwm_mib(bot.pid)
            children = [vm_hwm_mib(child) for child in children_of(bot.pid)]
    finally:
        await fake.close()
    return {
        "burst": [i.responded_at - i.created for i in burst if i.responded_at],
        "probes": [i.responded_at - i.created for i in probes if i.responded_at],
        "unanswered": sum(1 for i in everything if i.responded_at is None),
        "in_flight": in_flight_at_end_of_probes,
        "took": took,
        "failed": sum(1 for i in everything if i.original is None or i.ephemeral or "❌" in (i.original.text or "")),
        "driver_lag": lag.describe(),
        "cpu": cpu,
        "peak": peak,
        "children": children,
    }


def report(args: argparse.Namespace, result: dict[str, Any]) -> str:
    """Markdown body of the section."""
    everything = result["burst"] + result["probes"]
    p50, p99 = percentile(everything, 50), percentile(everything, 99)
    verdict = "met" if p50 < 0.020 and p99 < 0.100 else "**missed**"
    late = sum(1 for v in everything if v >= DEADLINE) + result["unanswered"]
    reference = "no reference" if not all(args.ref_size) else "a {}x{} noise JPEG reference".format(*args.ref_size)
    lines = [
        f"Target: p99 under 100 ms and p50 under 20 ms with 200 jobs in flight — {verdict}.",
        "",
        f"Scenario: {args.jobs} `/imagine` jobs sent {args.spacing * 1000:.0f} ms apart, each with {reference}",
        "(downloaded from the fake CDN, downscaled to 2048 px and base64-encoded by the bot) and",
        f"`count={args.images}`; the fake API streams each image {args.delay} s after the previous one",
        f"({args.render[0]}x{args.render[1]} JPEGs); MAX_CONCURRENT_JOBS={args.concurrency}. Then {args.probes} probe",
        f"`/imagine` commands, {args.probe_gap * 1000:.0f} ms apart, while {result['in_flight']} burst jobs were",
        "still unfinished. Fake Discord in the driver process; the fake image API and the bot (`python -m bot`)",
        "in their own processes, all on the same machine. Quotas off and the queue unbounded",
        "(`GENEROUS_OWNER` in bench/common.py), so every job is accepted and runs.",
        "",
        "| interactions | ack latency |",
        "|---|---|",
        f"| all | {summary_ms(everything)} |",
        f"| burst | {summary_ms(result['burst'])} |",
        f"| probes during the load | {summary_ms(result['probes'])} |",
        "",
        f"Missed Discord's 3 s deadline (late or never answered): {late}. Jobs refused or ended in an error:",
        f"{result['failed']}. Everything finished in {result['took']:.1f} s. CPU used: bot",
        f"{result['cpu']['bot']:.1f} s, fake API {result['cpu']['api']:.1f} s. Loop lag of the driver meanwhile:",
        f"{result['driver_lag']}. Peak RSS of the bot (VmHWM): {result['peak']:.0f} MiB; of its"
        f" {len(result['children'])} child processes (decode pool):"
        f" {', '.join(f'{c:.0f}' for c in result['children'])} MiB"
        f" (together at most {result['peak'] + sum(result['children']):.0f} MiB)"
        f" (bar for issue 9: under {RSS_BAR_MIB} MiB, 0 acknowledgements past 3 s —"
        f" {'met' if result['peak'] + sum(result['children']) < RSS_BAR_MIB and not late else '**missed**'}).",
    ]
    return "\n".join(lines)


def parse() -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--probes", type=int, default=50)
    parser.add_argument("--spacing", type=float, default=0.01, help="seconds between burst interactions")
    parser.add_argument("--probe-gap", type=float, default=0.1)
    parser.add_argument("--delay", type=float, default=1.0, help="fake API seconds per image")
    parser.add_argument("--render", type=int, nargs=2, default=[512, 512])
    parser.add_argument("--ref-size", type=int, nargs=2, default=[2400, 1600])
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--key", default="ack_latency", help="docs section to write")
    parser.add_argument("--title", default="Acknowledgement latency under load")
    parser.add_argument("--profile", type=Path, help="run the bot under pyinstrument, text report to this file")
    parser.add_argument("--workdir", type=Path, help="keep the bot's database and log here")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    return parser.parse_args()


def main() -> None:
    """Run, print, and record in docs/benchmarks.md."""
    args = parse()
    run_and_record(args, drive, report, args.key, args.title)


if __name__ == "__main__":
    main()
