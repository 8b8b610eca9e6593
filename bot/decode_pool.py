"""Untrusted reference images are decoded in a small process pool, a bounded number of pixels at a time.

A few kilobytes can declare tens of megapixels, and some decoders (WebP) hold the GIL while they work. So a
reference is first checked by its header alone (in a thread: cheap), then waits for room in a budget of pixels
being decoded at once across all jobs, and is decoded in a worker process: its memory and CPU never land in the
bot's interpreter, and a worker that crashes or hangs costs the member a clear message, not the bot.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import ctypes
import functools
import logging
import multiprocessing
import os
import resource
import sys
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from bot.cpu import run_cpu
from bot.errors import BadAttachment
from bot.imaging import PreparedReference, prepare_reference, read_reference_header
from bot.textclean import code_span

log = logging.getLogger(__name__)
R = TypeVar("R")

WORKERS = 2
# At most this many pixels decoded at once across all jobs (about 160 MB as RGBA); one image always fits.
BUDGET_PIXELS = 40_000_000
DECODE_TIMEOUT = 30.0
WORKER_NICE = 10
_M_MMAP_THRESHOLD = -3
WORKER_MEMORY = 2 * 1024**3  # address-space cap per worker: a runaway decoder fails instead of swapping


class WorkerLost(Exception):
    """A decoder process died (crashed, was killed, or was stopped for taking too long)."""

    def __init__(self, *, timed_out: bool = False) -> None:
        super().__init__("decoder timed out" if timed_out else "decoder process lost")
        self.timed_out = timed_out


class PixelBudget:
    """A first-come-first-served async semaphore weighted by pixels."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self._waiters: collections.deque[tuple[int, asyncio.Future[None]]] = collections.deque()

    @contextlib.asynccontextmanager
    async def take(self, pixels: int) -> AsyncIterator[None]:
        """Hold `pixels` (at most the whole budget) until the block ends; waits in line for room."""
        weight = max(1, min(pixels, self.capacity))
        if self._waiters or self.used + weight > self.capacity:
            await self._wait(weight)
        else:
            self.used += weight
        try:
            yield
        finally:
            self.used -= weight
            self._wake()

    async def _wait(self, weight: int) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (weight, waiter)
        self._waiters.append(entry)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.used -= weight  # granted just as we were cancelled: give it back
            else:
                self._waiters.remove(entry)
            self._wake()
            raise

    def _wake(self) -> None:
        while self._waiters and self.used + self._waiters[0][0] <= self.capacity:
            weight, waiter = self._waiters.popleft()
            if not waiter.done():
                self.used += weight
                waiter.set_result(None)


def _worker_init() -> None:
    """Runs in each worker: lower priority, capped address space."""
    with contextlib.suppress(AttributeError, OSError):
        os.nice(WORKER_NICE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    big_blocks_from_mmap()


def big_blocks_from_mmap() -> None:
    """glibc: blocks of 1 MiB and more come from mmap and go back to the system when freed (by default glibc raises
    that threshold as big blocks are freed, and megabyte images then stay in the heap, fragmenting it)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, 1024 * 1024)


class DecodePool:
    """A lazily started ProcessPoolExecutor that is replaced when a worker dies."""

    def __init__(self, workers: int = WORKERS) -> None:
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _get(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(self.workers, _context(), initializer=_worker_init)
            return self._executor

    def _discard(self, executor: ProcessPoolExecutor, *, kill: bool = False) -> None:
        with self._lock:
            if self._executor is executor:
                self._executor = None
        if kill:  # a hung decode cannot be cancelled; stop its processes (the pool is broken anyway)
            for process in list(executor._processes.values()):
                with contextlib.suppress(OSError):
                    process.kill()
        executor.shutdown(wait=False, cancel_futures=True)

    async def run(self, func: Callable[..., R], /, *args: object, timeout: float = DECODE_TIMEOUT) -> R:
        """`func(*args)` in a worker; raises WorkerLost if the worker dies or runs past `timeout` seconds."""
        executor = self._get()
        try:  # submit may start worker processes, which waits on the fork server: not on the event loop
            future = await asyncio.to_thread(executor.submit, func, *args)
        except BrokenProcessPool as exc:
            self._discard(executor)
            raise WorkerLost() from exc
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except BrokenProcessPool as exc:
            self._discard(executor)
            raise WorkerLost() from exc
        except TimeoutError as exc:
            log.warning("a decoder worker ran past %.0fs; restarting the pool", timeout)
            self._discard(executor, kill=True)
            raise WorkerLost(timed_out=True) from exc

    def shutdown(self) -> None:
        """Stop the workers (at exit)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


def _context() -> multiprocessing.context.BaseContext:
    """forkserver on Linux (workers fork from a small clean process, never from the bot), else spawn."""
    if sys.platform == "linux":
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["bot.imaging"])
        return context
    return multiprocessing.get_context("spawn")


_pool = DecodePool()
atexit.register(_pool.shutdown)
_budgets: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PixelBudget] = weakref.WeakKeyDictionary()


def budget() -> PixelBudget:
    """The pixel budget of the running event loop."""
    loop = asyncio.get_running_loop()
    if loop not in _budgets:
        _budgets[loop] = PixelBudget(BUDGET_PIXELS)
    return _budgets[loop]


async def prepare_untrusted(data: bytes, name: str, *, max_side: int = 2048) -> PreparedReference:
    """prepare_reference for a member's file: header check first, then decoded within the budget, in a worker."""
    header = await run_cpu(read_reference_header, data, name, max_side=max_side)
    prepare = functools.partial(prepare_reference, max_side=max_side)
    async with budget().take(header.decoded_pixels):
        for attempt in (1, 2):  # a worker killed by someone else's file: once more on a fresh pool
            try:
                return await _pool.run(prepare, data, name)
            except WorkerLost as exc:
                log.warning("decoder worker lost while preparing a reference (attempt %d): %s", attempt, exc)
                if exc.timed_out:
                    raise BadAttachment(f"{code_span(name)} took too long to process. Try another image.") from exc
    raise BadAttachment(f"{code_span(name)} could not be processed. Try another image or a smaller one.")
