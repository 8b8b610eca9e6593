"""Shared benchmark plumbing: fakes, the bot as a subprocess, percentiles, and docs/benchmarks.md sections."""

from __future__ import annotations

import asyncio
import compileall
import contextlib
import os
import platform
import re
import shlex
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the fake's imports (its web server among them) are the caller's business
    from tests.fakes.discord import FakeDiscord

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
API_KEY = "bench-api-key"


def machine() -> str:
    """`2 cores, 24 GiB, Python 3.11.7 (Linux x86_64)`."""
    mem_kib = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    gib = round(mem_kib / 1024 / 1024)
    system = f"{platform.system()} {platform.machine()}"
    return f"{os.cpu_count()} cores, {gib} GiB, Python {platform.python_version()} ({system})"


def command_line() -> str:
    """How this benchmark was started, for the docs."""
    module = Path(sys.argv[0]).stem
    return "python -m bench." + " ".join([module, *map(shlex.quote, sys.argv[1:])])


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100)."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(values: Sequence[float]) -> str:
    """`p50 12.3 ms · p99 45.6 ms · max 50.0 ms (n=200)` from seconds."""
    return (
        f"p50 {percentile(values, 50) * 1000:.1f} ms · p90 {percentile(values, 90) * 1000:.1f} ms · "
        f"p99 {percentile(values, 99) * 1000:.1f} ms · max {max(values) * 1000:.1f} ms · "
        f"mean {statistics.fmean(values) * 1000:.1f} ms (n={len(values)})"
    )


def write_section(key: str, title: str, body: str, *, path: Path = DOCS) -> None:
    """Create or replace this benchmark's section (between its markers), leaving other sections alone."""
    header = (
        "# Benchmarks\n\nMeasured against the local fakes (`tests/fakes`). Each section is written by its own "
        "script under `bench/` and names the command and the machine.\n"
    )
    text = path.read_text() if path.exists() else header
    start, end = f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"
    block = f"{start}\n## {title}\n\n{body.strip()}\n\n_Command:_ `{command_line()}`  \n"
    block += f"_Machine:_ {machine()}; {time.strftime('%Y-%m-%d')}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def vm_hwm_mib(pid: int) -> float:
    """Peak resident set size (VmHWM) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def children_of(pid: int) -> list[int]:
    """Every process `pid` started, and theirs (the bot's decode pool: a forkserver and the workers it forks)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(child) for child in (task / "children").read_text().split()]
    return found + [grandchild for child in found for grandchild in children_of(child)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class ApiProcess:
    """The fake image API running in its own process."""

    process: asyncio.subprocess.Process
    base_url: str


@contextlib.asynccontextmanager
async def api_process(*, delay: float, size: tuple[int, int], noise: bool = False) -> AsyncIterator[ApiProcess]:
    """Start bench/fake_api_process.py; stop it at the end."""
    args = ["--delay", str(delay), "--width", str(size[0]), "--height", str(size[1])]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.fake_api_process",
        *args,
        *(["--noise"] if noise else []),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    try:
        yield ApiProcess(process, line.decode().strip())
    finally:
        await stop(process)


@dataclass
class BotProcess:
    """`python -m bot` as a subprocess talking to the fakes."""

    process: asyncio.subprocess.Process
    log_path: Path
    ready_at: float = 0.0  # monotonic time the fake Discord saw the bot's session get READY
    started_at: float = 0.0  # monotonic time its process was started (READY takes `ready_at - started_at`)

    @property
    def pid(self) -> int:
        """Process id."""
        return self.process.pid


# The benchmarks measure the bot's own cost, so no quota or queue policy may refuse their load: an owner who
# lets 10 members keep 20 jobs each in flight. (Defaults: 2 per member, 100 images a day, queue of 20.)
GENEROUS_OWNER = {
    "QUOTA_MEMBER_DAILY_IMAGES": "0",
    "QUOTA_GUILD_DAILY_IMAGES": "0",
    "QUOTA_MEMBER_CONCURRENT_JOBS": "0",
    "MAX_JOBS_PER_MEMBER": "100",
    "MAX_QUEUE_LENGTH": "10000",
    "MAX_WAITING_PER_MEMBER": "100",
}


@contextlib.asynccontextmanager
async def bot_process(
    fake: FakeDiscord,
    api_base: str,
    workdir: Path,
    *,
    profile: Path | None = None,
    cpu_profile: Path | None = None,
    lag_file: Path | None = None,
    **env: str,
) -> AsyncIterator[BotProcess]:
    """Run the real bot against the fakes until the block ends; with `profile`, under pyinstrument (wall clock);
    with `cpu_profile`, under bench.cpu_sampler (the event-loop thread's CPU by stack, JSON there); with
    `lag_file`, with a sampler of its event-loop lag writing `monotonic lag` lines there."""
    settings = {
        "DISCORD_TOKEN": fake.token,
        "DISCORD_API_BASE_URL": fake.base_url,
        "IMAGE_API_BASE_URL": api_base,
        "IMAGE_API_KEY": API_KEY,
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "DEV_GUILD_ID": fake.guild_id,
        "PROGRESS_INTERVAL": "10",
        **GENEROUS_OWNER,
        **env,
    }
    compiled()
    command = [sys.executable, "-m", "bot"]
    if profile is not None:
        command = [sys.executable, "-m", "pyinstrument", "-r", "text", "--show-all", "-o", str(profile), "-m", "bot"]
    if (lag_file is not None or cpu_profile is not None) and profile is None:
        command = [sys.executable, "-m", "bench.as_bot", str(lag_file or "")]
        settings["PYTHONPATH"] = str(ROOT)
        if cpu_profile is not None:
            settings["BENCH_CPU_PROFILE"] = str(cpu_profile)
    log_path = workdir / "bot.log"
    with log_path.open("wb") as log_file:
        started_at = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=workdir,
            env={"PATH": os.environ["PATH"], **_passthrough(), **settings},
            stdout=log_file,
            stderr=log_file,
        )
        try:
            await fake.wait_ready(timeout=60)
            ready_at = time.monotonic()
            await fake.wait_for(lambda: fake.commands.get(fake.guild_id), timeout=30)
            await _logged(log_path, "ready as ", timeout=60)  # discord.py's on_ready (2 s after the last guild)
            yield BotProcess(process, log_path, ready_at, started_at)
        finally:
            await stop(process)


def compiled() -> None:
    """Compile bot/ and cogs/ as an installed bot has them (pip and the Docker image do): with
    PYTHONDONTWRITEBYTECODE set, the bot would compile every module it imports at each start (a third of a second
    before READY)."""
    for package in ("bot", "cogs"):
        compileall.compile_dir(ROOT / package, quiet=1)


async def _logged(path: Path, text: str, *, timeout: float) -> None:
    """Wait until the bot's log has a line containing `text`."""
    deadline = time.monotonic() + timeout
    while text not in path.read_text(errors="replace"):  # noqa: ASYNC240 (a small log, read while waiting)
        if time.monotonic() > deadline:
            raise TimeoutError(f"the bot did not log {text!r} within {timeout:.0f}s")
        await asyncio.sleep(0.1)


def _passthrough() -> dict[str, str]:
    """Python knobs worth passing to the bot (e.g. PYTHONASYNCIODEBUG for slow-callback reports), and
    BENCH_GC_REPORT (bench/as_bot.py)."""
    return {k: v for k, v in os.environ.items() if k.startswith("PYTHON") or k == "BENCH_GC_REPORT"}


async def stop(process: asyncio.subprocess.Process) -> None:
    """SIGINT (the bot and pyinstrument finish cleanly), then kill if it lingers."""
    if process.returncode is not None:
        return
    if process.stdin is not None:
        process.stdin.close()  # the fake API process stops when its stdin closes
    else:
        process.send_signal(signal.SIGINT)
    try:
        await asyncio.wait_for(process.wait(), 30)
    except TimeoutError:
        process.kill()
        await process.wait()


async def started_fake_discord() -> FakeDiscord:
    """A started fake Discord with a generous ack deadline check left as Discord's 3 s."""
    from tests.fakes.discord import FakeDiscord

    fake = FakeDiscord()
    await fake.start()
    return fake


class LoopLag:
    """Samples this process's event-loop lag (how late a 10 ms sleep wakes up), to show the driver kept up."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.interval)
            self.samples.append(time.monotonic() - before - self.interval)

    def __enter__(self) -> LoopLag:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()

    def describe(self) -> str:
        """`p99 3.1 ms, max 12.0 ms`."""
        if not self.samples:
            return "no samples"
        return f"p99 {percentile(self.samples, 99) * 1000:.1f} ms, max {max(self.samples) * 1000:.1f} ms"


def finished(interaction: object) -> bool:
    """The job's final state is showing (summary or error) in its @original message."""
    message = getattr(interaction, "original", None)
    return message is not None and bool(message.text) and "⏳" not in message.text


async def run_jobs(fake: FakeDiscord, count: int, *, images: int, timeout: float, spacing: float = 0.0) -> list:
    """Send `count` /imagine commands (from 10 members) and wait until every one shows its final state."""
    users = [fake.add_member() for _ in range(10)]
    sent = []
    for i in range(count):
        prompt = f"job {i}: a lighthouse in four seasons"
        sent.append(await fake.slash(users[i % 10], "imagine", prompt=prompt, count=images))
        if spacing:
            await asyncio.sleep(spacing)
    await fake.wait_for(lambda: all(finished(i) for i in sent), timeout=timeout)
    return sent


def run_and_record(
    args: Any,
    drive: Callable[[Any, Path], Awaitable[dict[str, Any]]],
    report: Callable[[Any, dict[str, Any]], str],
    key: str,
    title: str,
) -> None:
    """Run a benchmark in a scratch folder (or `args.workdir`), print its section and record it in the docs."""
    with tempfile.TemporaryDirectory() as scratch:
        workdir = getattr(args, "workdir", None) or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        result = asyncio.run(drive(args, workdir))
    body = report(args, result)
    print(body)
    if not args.no_write:
        write_section(key, title, body)


def lag_samples(path: Path, since: float = 0.0, until: float = float("inf")) -> list[float]:
    """Loop-lag samples (seconds) a bot started with `lag_file` wrote, taken between `since` and `until`."""
    samples = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError):
            at, lag = map(float, line.split())
            if since <= at <= until:
                samples.append(lag)
    return samples
