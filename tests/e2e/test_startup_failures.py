"""Every failure at start prints one line naming the cause and the fix, and the process ends by itself."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.process import REPO

DEADLINE = 10.0


def base_env(discord_fake, image_api, tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "DISCORD_TOKEN": discord_fake.token,
        "DISCORD_API_BASE_URL": discord_fake.base_url,
        "IMAGE_API_BASE_URL": image_api.base_url,
        "IMAGE_API_KEY": "fake-api-key",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "DEV_GUILD_ID": discord_fake.guild_id,
    }
    env.update(overrides)
    return env


async def start(env: dict[str, str], cwd: Path) -> tuple[int, str, float]:
    """Run `python -m bot` until it exits by itself; (exit code, stderr + stdout, seconds)."""
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), DEADLINE + 5)
    finally:
        if process.returncode is None:
            process.kill()
    return process.returncode or 0, output.decode(errors="replace"), time.monotonic() - began


def one_line(output: str) -> str:
    """The only line that is not an ordinary log line; fails on tracebacks."""
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.startswith(("Not started:", "Configuration error:"))]
    assert len(lines) == 1, output
    return lines[0]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_no_network(discord_fake, image_api, tmp_path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/v10"
    code, output, took = await start(base_env(discord_fake, image_api, tmp_path, DISCORD_API_BASE_URL=url), tmp_path)
    line = one_line(output)
    assert code == 1 and took < DEADLINE and "Cannot reach Discord" in line and "network" in line


async def test_wrong_token(discord_fake, image_api, tmp_path) -> None:
    env = base_env(discord_fake, image_api, tmp_path, DISCORD_TOKEN="MTIz.wrong.token-value")
    code, output, took = await start(env, tmp_path)
    line = one_line(output)
    assert code == 2 and took < DEADLINE and "rejected DISCORD_TOKEN" in line and "wrong.token" not in output


async def test_corrupted_database(discord_fake, image_api, tmp_path) -> None:
    (tmp_path / "bot.db").write_bytes(os.urandom(200_000))
    code, output, took = await start(base_env(discord_fake, image_api, tmp_path), tmp_path)
    line = one_line(output)
    assert code == 1 and took < DEADLINE and "damaged" in line and "backup" in line


async def test_unwritable_database(discord_fake, image_api, tmp_path) -> None:
    (tmp_path / "blocker").write_text("a file where the database folder should be")
    env = base_env(discord_fake, image_api, tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'blocker' / 'bot.db'}")
    code, output, took = await start(env, tmp_path)
    line = one_line(output)
    assert code == 1 and took < DEADLINE and "Cannot create or write the database" in line and "DATABASE_URL" in line


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mounting a tiny tmpfs needs root")
async def test_full_disk(discord_fake, image_api, tmp_path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)]
    if (await asyncio.to_thread(subprocess.run, mount, check=False)).returncode:
        pytest.skip("tmpfs cannot be mounted here")
    try:
        (disk / "filler").write_bytes(b"\0" * 60_000)
        env = base_env(discord_fake, image_api, tmp_path, DATABASE_URL=f"sqlite:///{disk / 'bot.db'}")
        code, output, took = await start(env, tmp_path)
    finally:
        await asyncio.to_thread(subprocess.run, ["umount", "-l", str(disk)], check=False)
    line = one_line(output)
    assert code == 1 and took < DEADLINE and "full" in line and "free some space" in line


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [("LOG_LEVEL", "LOUD", "LOG_LEVEL"), ("REFERENCE_HOSTS", '["cdn.example.com"', "REFERENCE_HOSTS")],
)
async def test_bad_setting_is_configuration(discord_fake, image_api, tmp_path, setting, value, named) -> None:
    code, output, took = await start(base_env(discord_fake, image_api, tmp_path, **{setting: value}), tmp_path)
    line = one_line(output)
    assert code == 2 and took < DEADLINE and line.startswith("Configuration error:") and named in line
    assert not (tmp_path / "bot.db").exists(), "no database before the configuration is valid"
