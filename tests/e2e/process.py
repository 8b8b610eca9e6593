"""Run the real `python -m bot` as a child process against the in-test fakes (for kill and signal tests)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from tests.fakes.discord import FakeDiscord
from tests.fakes.image_api import FakeImageApi

REPO = Path(__file__).resolve().parents[2]


class BotProcess:
    """One `python -m bot` process (with `worker`: `python -m bot worker`); always `stop()` it in a finally block."""

    def __init__(
        self, workdir: Path, discord: FakeDiscord, image_api: FakeImageApi, *, worker: bool = False, **settings: Any
    ) -> None:
        self.workdir = workdir
        self.worker = worker
        self.discord = discord
        self.log_path = workdir / f"bot-{time.monotonic_ns()}.log"
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(REPO),
            "DISCORD_TOKEN": discord.token,
            "DISCORD_API_BASE_URL": discord.base_url,
            "IMAGE_API_BASE_URL": image_api.base_url,
            "IMAGE_API_KEY": "fake-api-key",
            "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
            "DEV_GUILD_ID": discord.guild_id,
            "API_BACKOFF_BASE": "0.01",
            "API_BACKOFF_MAX": "0.05",
            "API_FIRST_IMAGE_TIMEOUT": "10",
            "PROGRESS_INTERVAL": "0.5",
        }
        self.env.update({key.upper(): str(value) for key, value in settings.items()})
        self.process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        """The process id (part of its worker id in the jobs table)."""
        assert self.process is not None
        return self.process.pid

    async def start(self, timeout: float = 30) -> None:
        """Spawn the bot; wait until it has a fresh gateway session with READY (a worker: until it runs jobs)."""
        seen = len(self.discord.identifies)
        command = ["-m", "bot", *(["worker"] if self.worker else [])]
        with self.log_path.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, *command, cwd=self.workdir, env=self.env, stdout=log, stderr=log
            )
        if self.worker:
            await self.wait_for_log("worker only", timeout)
            return
        await self.discord.wait_for(
            lambda: len(self.discord.identifies) > seen and self.discord.connections and self._ready(), timeout
        )

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.returncode is not None:
            raise AssertionError(f"the bot exited with {self.process.returncode}:\n{self.log()}")
        return any(c.ready and not c.ws.closed for c in self.discord.connections)

    def log(self) -> str:
        """What the bot logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def wait_for_log(self, text: str, timeout: float = 10) -> None:
        """Wait until the bot logged `text`."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if self.process is not None and self.process.returncode is not None:
                raise AssertionError(f"the bot exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not logged in {timeout}s:\n{self.log()}")
            await asyncio.sleep(0.05)

    def send(self, signum: int) -> None:
        """Send a signal (SIGTERM, SIGINT, SIGKILL)."""
        assert self.process is not None
        self.process.send_signal(signum)

    async def wait(self, timeout: float = 30) -> int:
        """The exit code, waiting at most `timeout` seconds."""
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def stop(self) -> None:
        """Kill the process if it still runs (for finally blocks)."""
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGKILL)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.process.wait(), 10)
