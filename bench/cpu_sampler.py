"""A sampling profiler weighted by CPU time: where the event-loop thread spends its CPU, not its wall time.

SIGPROF fires every `interval` seconds of the process's CPU time (`setitimer(ITIMER_PROF)`); its handler runs
in the main thread (the event loop's) at the next bytecode and charges the CPU that thread used since the
previous sample (`time.thread_time`) to the stack it interrupted. Time the loop spends waiting (in select, or
for a busy machine's CPU) is charged to nothing, so the profile shows what the bot costs even on a machine shared
with other work. cProfile's per-call overhead would triple the bot's CPU; this costs one stack walk per sample.

    python -m bench.cpu_sampler report FILE [--top 40] [--focus NAME]   # a profile bench.common wrote
"""

from __future__ import annotations

import argparse
import collections
import json
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = str(Path(__file__).resolve().parent.parent) + "/"


def _where(frame: FrameType) -> str:
    code = frame.f_code
    path = code.co_filename.removeprefix(ROOT)
    for marker in ("site-packages/", f"python{sys.version_info[0]}.{sys.version_info[1]}/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{code.co_firstlineno}({code.co_name})"


def _callers_outside_greenlet() -> list[str]:
    """The stack that waits on the current greenlet (SQLAlchemy's async engine runs each statement in one): its
    frames end at the greenlet's start, so without these the statement's CPU would be charged to no caller."""
    current = getattr(sys.modules.get("greenlet"), "getcurrent", None)  # None while greenlet is being imported
    if current is None:
        return []
    stack = []
    parent = current().parent
    while parent is not None:
        frame = parent.gr_frame
        while frame is not None:
            stack.append(_where(frame))
            frame = frame.f_back
        parent = parent.parent
    return stack


class CpuSampler:
    """Samples the main thread's stack, each sample weighted by the CPU it used since the last one."""

    def __init__(self, interval: float = 0.003) -> None:
        self.interval = interval
        self.stacks: collections.Counter[tuple[str, ...]] = collections.Counter()
        self._last = 0.0

    def start(self) -> None:
        """Start sampling (call from the main thread)."""
        self._last = time.thread_time()
        signal.signal(signal.SIGPROF, self._sample)
        signal.siginterrupt(signal.SIGPROF, False)  # other threads' system calls restart instead of failing
        signal.setitimer(signal.ITIMER_PROF, self.interval, self.interval)

    def stop(self) -> None:
        """Stop sampling."""
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, signal.SIG_IGN)

    def _sample(self, _signum: int, frame: FrameType | None) -> None:
        now = time.thread_time()
        used, self._last = now - self._last, now
        stack = []
        while frame is not None:
            stack.append(_where(frame))
            frame = frame.f_back
        stack += _callers_outside_greenlet()
        if used > 0:
            self.stacks[tuple(reversed(stack))] += used

    def dump(self, path: Path) -> None:
        """Write the samples as JSON (`[[stack…], cpu_seconds]`)."""
        rows: list[Any] = [[list(stack), cpu] for stack, cpu in self.stacks.items()]
        path.write_text(json.dumps(rows))


def report(path: Path, top: int = 40, focus: str | None = None) -> str:
    """Self and inclusive CPU per function, biggest first."""
    samples = [(tuple(stack), cpu) for stack, cpu in json.loads(path.read_text())]
    if focus:
        samples = [(s, c) for s, c in samples if any(focus in f for f in s)]
    total = sum(cpu for _, cpu in samples) or 1e-9
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    for stack, cpu in samples:
        own[stack[-1]] += cpu
        for name in set(stack):
            inclusive[name] += cpu
    lines = [f"CPU sampled on the loop thread: {total:.2f} s" + (f" (stacks through {focus!r})" if focus else "")]
    lines.append("\nself (CPU spent in the function itself):")
    lines += [f"{cpu:8.2f} s {cpu / total:6.1%}  {name}" for name, cpu in own.most_common(top)]
    lines.append("\ninclusive (the function and what it calls):")
    lines += [f"{cpu:8.2f} s {cpu / total:6.1%}  {name}" for name, cpu in inclusive.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    """`report FILE`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("report")
    show.add_argument("file", type=Path)
    show.add_argument("--top", type=int, default=40)
    show.add_argument("--focus", help="only stacks through a function whose name contains this")
    args = parser.parse_args()
    print(report(args.file, args.top, args.focus))


if __name__ == "__main__":
    main()
