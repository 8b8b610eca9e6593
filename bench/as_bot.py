"""`python -m bench.as_bot [LAG_FILE]`: `python -m bot` with an event-loop lag sampler (and, when BENCH_CPU_PROFILE
names a file, bench.cpu_sampler on its main thread; when BENCH_GC_REPORT is set, the garbage collector's CPU per
generation, logged at exit), for the benchmarks that watch the bot's loop.

Kept apart from bench/common.py and light on imports: what this module imports before the bot starts is counted in
the bot's start-up (READY) by the benchmarks that time it.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path


def _dump_tasks() -> None:
    """Print every asyncio task's stack to stderr (the bot's log)."""
    for task in asyncio.all_tasks():
        print(f"--- {task.get_name()}: {task.get_coro()!r}", file=sys.stderr)
        task.print_stack(limit=12, file=sys.stderr)


def _count_garbage_collections() -> None:
    """Log, at exit, the CPU the main thread spent in the garbage collector per generation (bench.cpu_sampler charges
    it to whatever line allocated when a collection began)."""
    import atexit
    import gc
    import threading

    spent = [[0, 0.0] for _ in range(3)]  # per generation: collections, CPU seconds
    began = [0.0]

    def collecting(phase: str, info: dict[str, int]) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        if phase == "start":
            began[0] = time.thread_time()
        else:
            spent[info["generation"]][0] += 1
            spent[info["generation"]][1] += time.thread_time() - began[0]

    def report() -> None:
        each = ", ".join(f"gen{g}: {n} in {s:.2f} s" for g, (n, s) in enumerate(spent))
        print(f"bench: garbage collections on the main thread: {each}", file=sys.stderr)

    gc.callbacks.append(collecting)
    atexit.register(report)


def _run_bot_with_lag_sampler(path: Path | None) -> None:
    """`python -m bot`, with a task on its event loop that logs how late each 10 ms sleep wakes up (`path`); with
    bench.cpu_sampler watching the main thread's CPU when BENCH_CPU_PROFILE names a file."""
    import faulthandler
    import runpy
    import signal

    async def sample() -> None:
        assert path is not None
        with path.open("w", buffering=1) as out:
            while True:
                before = time.monotonic()
                await asyncio.sleep(0.01)
                now = time.monotonic()
                out.write(f"{now:.4f} {now - before - 0.01:.4f}\n")

    class Policy(asyncio.DefaultEventLoopPolicy):
        def new_event_loop(self) -> asyncio.AbstractEventLoop:
            loop = super().new_event_loop()
            loop.add_signal_handler(signal.SIGUSR2, _dump_tasks)  # `kill -USR2 PID`: every task's stack to the log
            if path is not None:
                loop.call_soon(lambda: setattr(loop, "_bench_lag", loop.create_task(sample())))
            return loop

    asyncio.set_event_loop_policy(Policy())
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 PID`: every thread's stack to the log
    if os.environ.get("BENCH_GC_REPORT"):  # a Python callback at every collection: 3-4 % of the bot's CPU
        _count_garbage_collections()
    sys.argv = ["bot"]
    target = os.environ.get("BENCH_CPU_PROFILE")
    if not target:
        runpy.run_module("bot", run_name="__main__", alter_sys=True)
        return
    from bench.cpu_sampler import CpuSampler

    sampler = CpuSampler()
    sampler.start()
    try:
        runpy.run_module("bot", run_name="__main__", alter_sys=True)
    finally:
        sampler.stop()
        sampler.dump(Path(target))


if __name__ == "__main__":
    _run_bot_with_lag_sampler(Path(sys.argv[1]) if sys.argv[1:2] not in ([], [""]) else None)
