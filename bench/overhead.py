"""Overhead of the bot over the image API itself.

100 concurrent 4-image jobs; the fake API takes `--delay` seconds per image (streamed one after another). With
MAX_CONCURRENT_JOBS=C the API alone needs ceil(jobs / C) * images * delay seconds; the bot should finish all jobs
(every image posted, summaries written) within 5 % of that.

    python -m bench.overhead                       # 100 jobs x 4 images, 2 s per image, C=20
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

from bench.common import (
    api_process,
    bot_process,
    cpu_seconds,
    run_and_record,
    run_jobs,
    started_fake_discord,
)


async def drive(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Run the scenario; return the measurements."""
    fake = await started_fake_discord()
    try:
        async with (
            api_process(delay=args.delay, size=(512, 512)) as api,
            bot_process(fake, api.base_url, workdir, MAX_CONCURRENT_JOBS=str(args.concurrency)) as bot,
        ):
            started = time.monotonic()
            sent = await run_jobs(fake, args.jobs, images=args.images, timeout=args.timeout)
            took = time.monotonic() - started
            cpu = cpu_seconds(bot.pid)
    finally:
        await fake.close()
    delivered = sum(len(i.original.attachments) for i in sent)
    return {"took": took, "cpu": cpu, "delivered": delivered}


def report(args: argparse.Namespace, result: dict[str, Any]) -> str:
    """Markdown body of the section."""
    ideal = math.ceil(args.jobs / args.concurrency) * args.images * args.delay
    overhead = result["took"] / ideal - 1
    verdict = "met" if overhead <= 0.05 else "**missed**"
    return "\n".join(
        [
            f"Target: within 5 % of the time the API alone needs — {verdict} ({overhead * 100:+.1f} %).",
            "",
            f"{args.jobs} `/imagine` jobs of {args.images} images sent at once; the fake API streams one image every",
            f"{args.delay} s; MAX_CONCURRENT_JOBS={args.concurrency}. The API alone needs",
            f"ceil({args.jobs}/{args.concurrency}) × {args.images} × {args.delay} s = {ideal:.1f} s.",
            "",
            "| API alone | bot, first command to last summary | overhead | images posted | bot CPU |",
            "|---|---|---|---|---|",
            f"| {ideal:.1f} s | {result['took']:.2f} s | {overhead * 100:+.1f} % | {result['delivered']} |"
            f" {result['cpu']:.1f} s |",
        ]
    )


def parse() -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--delay", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    return parser.parse_args()


def main() -> None:
    """Run, print, and record in docs/benchmarks.md."""
    run_and_record(parse(), drive, report, "overhead", "Overhead over the image API")


if __name__ == "__main__":
    main()
