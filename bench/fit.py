"""Image fitting: a 4096x4096 output over the upload limit, made to fit (bot.imaging.fit_for_upload).

Runs in this process, one image at a time, the way the bot calls it from its CPU pool; the figure is the median
wall time of several runs.

    python -m bench.fit
"""

from __future__ import annotations

import argparse
import statistics
import time

from bot.imaging import fit_for_upload, image_size
from tests.fakes.image_api_render import render_jpeg

MIB = 1024 * 1024


def cases() -> list[tuple[str, bytes, int]]:
    """(description, JPEG bytes, upload limit)."""
    noise = render_jpeg("bench", 0, 1, (4096, 4096), noise=True)
    plain = render_jpeg("bench", 0, 1, (4096, 4096))
    return [
        ("4096x4096 noise JPEG, 10 MiB limit (Discord's default)", noise, 10 * MIB),
        ("4096x4096 noise JPEG, 8 MiB limit (needs downscaling)", noise, 8 * MIB),
        ("4096x4096 flat JPEG, limit a third of its size", plain, len(plain) // 3),
    ]


def measure(data: bytes, limit: int, runs: int) -> tuple[float, int, tuple[int, int]]:
    """Median seconds, output bytes, output size."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fitted = fit_for_upload(data, limit)
        times.append(time.perf_counter() - started)
    assert len(fitted.data) <= limit
    return statistics.median(times), len(fitted.data), image_size(fitted.data)


def main() -> None:
    """Run, print, and record in docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    rows = []
    worst = 0.0
    for label, data, limit in cases():
        seconds, size, (width, height) = measure(data, limit, args.runs)
        worst = max(worst, seconds)
        rows.append(
            f"| {label} | {len(data) / MIB:.1f} MiB | {limit / MIB:.1f} MiB | {seconds * 1000:.0f} ms |"
            f" {size / MIB:.1f} MiB, {width}x{height} |"
        )
    verdict = "met" if worst < 1.0 else "**missed**"
    body = "\n".join(
        [
            f"Target: a 4096x4096 output over the upload limit made to fit in under 1 s — {verdict}.",
            "",
            f"Median of {args.runs} runs of `fit_for_upload` (one thread; the bot runs it in its CPU pool).",
            "",
            "| case | input | limit | time | output |",
            "|---|---|---|---|---|",
            *rows,
        ]
    )
    print(body)
    if not args.no_write:
        from bench.common import write_section

        write_section("fit", "Fitting an image to the upload limit", body)


if __name__ == "__main__":
    main()
