"""A small pool for CPU-heavy work (Pillow, base64, big JSON) whose threads yield the CPU to the event loop.

Threads in this pool run at a lower OS priority (Linux: per-thread nice), so on a busy machine the scheduler
prefers the event-loop thread and the bot keeps meeting Discord's 3-second deadline; and there are only as many
of them as CPU cores, so a burst of reference images cannot flood the machine with runnable threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

WORKER_NICE = 10
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):  # not Linux or not permitted: normal priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)


WORKER_PROCESS_NICE = 10  # how much lower a worker-only process runs than the gateways on its machine


def yield_to_gateways() -> None:
    """Run this process (a worker only) at a lower CPU priority: on a machine it shares with gateway processes,
    those answer Discord within its 3 seconds first; a worker's jobs wait on the image API, rarely on the CPU."""
    with contextlib.suppress(AttributeError, OSError):  # not permitted or not available: normal priority
        os.nice(WORKER_PROCESS_NICE)


def pool() -> ThreadPoolExecutor:
    """The shared CPU pool (created on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            workers = max(1, os.cpu_count() or 1)
            _pool = ThreadPoolExecutor(workers, thread_name_prefix="cpu", initializer=_lower_priority)
        return _pool


async def run_cpu(func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Like asyncio.to_thread (context and log tags included), on the low-priority CPU pool."""
    context = contextvars.copy_context()
    call = functools.partial(context.run, func, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(pool(), call)
