"""Time to first image: from the fake API writing an image's stream event to the fake Discord receiving its upload.

Both fakes run in this process (their clocks are the same `time.monotonic()`), the bot as `python -m bot`. The
interval covers reading the event, downloading the image from its URL, checking it against the upload limit and
uploading it to Discord. Jobs run one after another so the figure is the bot's own latency, not queueing.

    python -m bench.first_image                    # 20 jobs x 4 images of ~1.5 MB
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.common import (
    API_KEY,
    bot_process,
    finished,
    percentile,
    run_and_record,
    started_fake_discord,
    summary_ms,
)
from tests.fakes.image_api import FakeImageApi


async def drive(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Run the jobs one by one; return the per-image latencies."""
    fake = await started_fake_discord()
    api = FakeImageApi(api_key=API_KEY, image_delay=args.delay, render_size=(args.side, args.side))
    api.noise = True
    await api.start()
    first: list[float] = []
    every: list[float] = []
    try:
        async with bot_process(fake, api.base_url, workdir):
            user = fake.add_member()
            for i in range(args.jobs):
                interaction = await fake.slash(user, "imagine", prompt=f"job {i}: a harbour", count=args.images)
                await fake.wait_for(lambda: finished(interaction), timeout=120)  # noqa: B023
                sent = api.requests[-1].sent_at
                uploads = [r.received_at for r in fake.requests if r.files and interaction.token in r.path]
                latencies = [upload - event for event, upload in zip(sent, uploads, strict=True)]
                first.append(latencies[0])
                every.extend(latencies)
    finally:
        await api.close()
        await fake.close()
    size = len(api.requests[0].body) if api.requests else 0
    return {"first": first, "every": every, "request_bytes": size}


def report(args: argparse.Namespace, result: dict[str, Any]) -> str:
    """Markdown body of the section."""
    worst = max(result["first"])
    verdict = "met" if worst < 0.300 else "**missed**"
    return "\n".join(
        [
            f"Target: the first image is posted within 300 ms of the API streaming it — {verdict}"
            f" (worst {worst * 1000:.0f} ms, p99 {percentile(result['first'], 99) * 1000:.0f} ms).",
            "",
            f"{args.jobs} jobs of {args.images} images, one after another; the fake API streams a",
            f"{args.side}x{args.side} noise JPEG (about {args.side**2 * 0.8 / 1e6:.1f} MB) every {args.delay} s",
            "as a URL the bot downloads, then uploads to the fake Discord (default 10 MiB limit, so no re-encoding).",
            "",
            "| images | event written → upload received |",
            "|---|---|",
            f"| first of each job | {summary_ms(result['first'])} |",
            f"| every image | {summary_ms(result['every'])} |",
        ]
    )


def parse() -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--side", type=int, default=1400)
    parser.add_argument("--delay", type=float, default=0.5)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    return parser.parse_args()


def main() -> None:
    """Run, print, and record in docs/benchmarks.md."""
    run_and_record(parse(), drive, report, "first_image", "Time to first image")


if __name__ == "__main__":
    main()
