"""Hostile reference images: tiny files that declare tens of megapixels, six of them in one `/imagine`.

The bot runs as `python -m bot` (through `bench.as_bot`, which adds an event-loop lag sampler to the
bot's own loop and nothing else). One member sends `/imagine` with six lossless WebPs of a few KB each that
declare 7000x5000 (35 MP, just under the API's 36 MP); meanwhile other members send plain `/imagine`s.
Peak RSS is sampled from /proc for the bot and every process it started (decoder workers included).

    python -m bench.hostile_refs                       # six 7000x5000 WebPs
    python -m bench.hostile_refs --kind png --no-write # PNGs instead, print only
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from PIL import Image

from bench.common import GENEROUS_OWNER as OWNER
from bench.common import (
    ROOT,
    _passthrough,
    api_process,
    run_and_record,
    started_fake_discord,
    stop,
    summary_ms,
)
from tests.fakes.discord import FakeDiscord

RSS_TARGET_MIB = 400
LAG_TARGET = 0.100
ACK_TARGET = 1.0
IMAGE_TARGET = 5.0


def hostile(kind: str, width: int, height: int) -> bytes:
    """A few KB that decode to width x height pixels."""
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), (40, 90, 160))
    if kind == "webp":
        image.save(out, "WEBP", lossless=True)
    else:
        image.save(out, "PNG", optimize=True)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------- the driver


def _tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _rss_mib(pid: int, field: str = "VmRSS:") -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return 0.0


class RssSampler:
    """Samples the RSS of the bot alone and of the bot with all its child processes, every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.bot: list[float] = []
        self.tree: list[float] = []

    async def run(self) -> None:
        """Sample until cancelled."""
        while True:
            self.bot.append(_rss_mib(self.pid))
            self.tree.append(sum(_rss_mib(p) for p in _tree(self.pid)))
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def bot_with_lag(fake: FakeDiscord, api_base: str, workdir: Path, lag_file: Path) -> AsyncIterator[int]:
    """Run the real bot (with the lag sampler) against the fakes; yields its pid."""
    settings = {
        "DISCORD_TOKEN": fake.token,
        "DISCORD_API_BASE_URL": fake.base_url,
        "IMAGE_API_BASE_URL": api_base,
        "IMAGE_API_KEY": "bench-api-key",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "DEV_GUILD_ID": fake.guild_id,
        "PROGRESS_INTERVAL": "10",
        "PYTHONPATH": str(ROOT),
        **OWNER,
    }
    command = [sys.executable, "-m", "bench.as_bot", str(lag_file)]  # the lag sampler
    with (workdir / "bot.log").open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=workdir,
            env={"PATH": os.environ["PATH"], **_passthrough(), **settings},
            stdout=log_file,
            stderr=log_file,
        )
        try:
            await fake.wait_ready(timeout=60)
            await fake.wait_for(lambda: fake.commands.get(fake.guild_id), timeout=30)
            yield process.pid
        finally:
            await stop(process)


def _has_image(interaction: Any) -> bool:
    messages = [interaction.original, *interaction.followups]
    return any(m is not None and m.attachments for m in messages)


def _done(interaction: Any) -> bool:
    message = interaction.original
    return message is not None and bool(message.text) and "⏳" not in message.text


async def _served(interaction: Any, timeout: float) -> float | None:
    """Seconds from the interaction until its first image showed up (None if it never did)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _has_image(interaction):
            return time.monotonic() - interaction.created
        if _done(interaction):
            return None
        await asyncio.sleep(0.01)
    return None


async def drive(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Run the scenario; return the measurements."""
    fake = await started_fake_discord()
    lag_file = workdir / "lag.txt"
    try:
        refs = [
            fake.add_attachment(hostile(args.kind, *args.declared), f"h{i}.{args.kind}", f"image/{args.kind}")
            for i in range(6)
        ]
        async with (
            api_process(delay=args.delay, size=(512, 512)) as api,
            bot_with_lag(fake, api.base_url, workdir, lag_file) as pid,
        ):
            attacker, *others = [fake.add_member() for _ in range(1 + args.probes)]
            await asyncio.sleep(1.0)  # let start-up settle
            rss = RssSampler(pid)
            sampler = asyncio.create_task(rss.run())
            await asyncio.sleep(0.2)
            base_bot, base_tree = min(rss.bot), min(rss.tree)
            started = time.monotonic()
            options = {f"image{i + 1}": ref for i, ref in enumerate(refs)}
            attack = await fake.slash(attacker, "imagine", prompt="six huge nothings", **options)
            probes, served = [], []
            for i, member in enumerate(others):
                await asyncio.sleep(args.probe_gap)
                probe = await fake.slash(member, "imagine", prompt=f"probe {i}: a red fox")
                probes.append(probe)
                served.append(asyncio.create_task(_served(probe, args.timeout)))
            to_image = await asyncio.gather(*served)
            with contextlib.suppress(TimeoutError):
                await fake.wait_for(lambda: _done(attack), args.timeout)
            took = time.monotonic() - started
            await asyncio.sleep(0.2)
            sampler.cancel()
            workers = [p for p in _tree(pid) if p != pid]
            worker_hwm = {p: _rss_mib(p, "VmHWM:") for p in workers}
            window = (started, time.monotonic())
    finally:
        await fake.close()
    lags = [float(lag) for t, lag in _lag_samples(lag_file) if window[0] <= t <= window[1]]
    return {
        "rss_bot": max(rss.bot) - base_bot,
        "rss_tree": max(rss.tree) - base_tree,
        "base_bot": base_bot,
        "worker_hwm": sorted(worker_hwm.values()),
        "lags": lags,
        "acks": [p.responded_at - p.created for p in probes if p.responded_at],
        "unacked": sum(1 for p in probes if p.responded_at is None),
        "to_image": [t for t in to_image if t is not None],
        "unserved": sum(1 for t in to_image if t is None),
        "attack": (attack.original.text if attack.original else "(no answer)").splitlines()[0][:160],
        "attack_images": _has_image(attack),
        "took": took,
    }


def _lag_samples(path: Path) -> list[tuple[float, float]]:
    with contextlib.suppress(OSError):
        return [(float(a), float(b)) for a, b in (line.split() for line in path.read_text().splitlines() if line)]
    return []


def report(args: argparse.Namespace, result: dict[str, Any]) -> str:
    """Markdown body of the section."""
    lags, acks, images = result["lags"], result["acks"], result["to_image"]
    checks = [
        ("peak RSS rise of the bot", result["rss_bot"] < RSS_TARGET_MIB),
        ("bot + decoder processes", result["rss_tree"] < RSS_TARGET_MIB),
        ("loop lag", bool(lags) and max(lags) < LAG_TARGET),
        ("ack", not result["unacked"] and bool(acks) and max(acks) < ACK_TARGET),
        ("image", not result["unserved"] and bool(images) and max(images) < IMAGE_TARGET),
    ]
    verdict = (
        "met" if all(ok for _, ok in checks) else "**missed** (" + ", ".join(n for n, ok in checks if not ok) + ")"
    )
    width, height = args.declared
    size_kb = len(hostile(args.kind, width, height)) / 1024
    lines = [
        f"Target: peak RSS rises by under {RSS_TARGET_MIB} MiB, event-loop lag under {LAG_TARGET * 1000:.0f} ms,",
        f"other members acknowledged under {ACK_TARGET:.0f} s and served under {IMAGE_TARGET:.0f} s — {verdict}.",
        "",
        f"Scenario: one `/imagine` with six {args.kind.upper()} references of {size_kb:.1f} KB that each declare",
        f"{width}x{height} ({width * height / 1e6:.0f} MP); then {args.probes} other members send a plain `/imagine`,",
        f"{args.probe_gap * 1000:.0f} ms apart. Fake API: a 512x512 image after {args.delay} s. RSS sampled every",
        '20 ms from /proc; "with children" adds every process the bot started (decoder workers). Loop lag: how',
        "late a 10 ms sleep on the bot's own event loop wakes up, during the scenario.",
        "",
        "| measure | result |",
        "|---|---|",
        f"| peak RSS rise, bot process | {result['rss_bot']:.0f} MiB (from {result['base_bot']:.0f} MiB) |",
        f"| peak RSS rise, bot with children | {result['rss_tree']:.0f} MiB |",
        f"| child processes' peak RSS | {', '.join(f'{v:.0f}' for v in result['worker_hwm']) or '—'} MiB |",
        f"| bot event-loop lag | {summary_ms(lags) if lags else 'no samples'} |",
        f"| other members' ack | {summary_ms(acks) if acks else '—'}; unanswered {result['unacked']} |",
        f"| other members' first image | {summary_ms(images) if images else '—'}; never {result['unserved']} |",
        f"| the hostile job | {result['attack']!r}, images: {result['attack_images']}, {result['took']:.1f} s |",
    ]
    return "\n".join(lines)


def parse() -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--kind", choices=["webp", "png"], default="webp")
    parser.add_argument("--declared", type=int, nargs=2, default=[7000, 5000], metavar=("WIDTH", "HEIGHT"))
    parser.add_argument("--probes", type=int, default=5)
    parser.add_argument("--probe-gap", type=float, default=0.3)
    parser.add_argument("--delay", type=float, default=0.5, help="fake API seconds per image")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--title", default="Hostile reference images")
    parser.add_argument("--key", default="hostile_refs", help="section marker in docs/benchmarks.md")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    return parser.parse_args()


def main() -> None:
    """Run, print, and record in docs/benchmarks.md."""
    args = parse()
    run_and_record(args, drive, report, args.key, args.title)


if __name__ == "__main__":
    main()
