"""Peak memory of the bot with many concurrent jobs of large images.

The bot runs as `python -m bot`; its peak resident set size is read from VmHWM in /proc/<pid>/status just before
it is stopped. The fake image API (own process) renders noise JPEGs of about 3 MB each.

    python -m bench.memory                         # 100 concurrent jobs x 4 images of ~3 MB
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from bench.common import (
    api_process,
    bot_process,
    run_and_record,
    run_jobs,
    started_fake_discord,
    vm_hwm_mib,
)

TARGET_MIB = 350


async def drive(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Run the scenario; return peak RSS figures."""
    fake = await started_fake_discord()
    try:
        async with (
            api_process(delay=args.delay, size=(args.side, args.side), noise=True) as api,
            bot_process(fake, api.base_url, workdir, MAX_CONCURRENT_JOBS=str(args.concurrency), **args.env) as bot,
        ):
            idle = vm_hwm_mib(bot.pid)
            started = time.monotonic()
            sent = await run_jobs(fake, args.jobs, images=args.images, timeout=args.timeout)
            took = time.monotonic() - started
            peak = vm_hwm_mib(bot.pid)
            sizes = [len(a.data) for i in sent for a in i.original.attachments]
    finally:
        await fake.close()
    return {"idle": idle, "peak": peak, "took": took, "images": len(sizes), "mean_mb": sum(sizes) / len(sizes) / 1e6}


def report(args: argparse.Namespace, result: dict[str, Any]) -> str:
    """Markdown body of the section."""
    verdict = "met" if result["peak"] < TARGET_MIB else "**missed**"
    return "\n".join(
        [
            f"Target: peak RSS under {TARGET_MIB} MB — {verdict}.",
            "",
            f"{args.jobs} `/imagine` jobs of {args.images} images sent at once with",
            f"MAX_CONCURRENT_JOBS={args.concurrency}, so all of them stream at the same time; the fake API sends a",
            f"{args.side}x{args.side} noise JPEG every {args.delay} s.",
            "Peak RSS is the bot process's VmHWM (/proc/<pid>/status).",
            "",
            "| after start-up | peak | images posted | mean image size | took |",
            "|---|---|---|---|---|",
            f"| {result['idle']:.0f} MiB | {result['peak']:.0f} MiB | {result['images']} | {result['mean_mb']:.2f} MB |"
            f" {result['took']:.1f} s |",
        ]
    )


def parse() -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--side", type=int, default=2000, help="noise JPEG side; 2000 gives about 3 MB")
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--env", nargs="*", default=[], metavar="NAME=VALUE", help="extra settings for the bot")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    args.env = dict(item.split("=", 1) for item in args.env)
    return args


def main() -> None:
    """Run, print, and record in docs/benchmarks.md."""
    run_and_record(parse(), drive, report, "memory", "Peak memory")


if __name__ == "__main__":
    main()
