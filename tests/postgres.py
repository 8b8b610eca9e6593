"""A real PostgreSQL for the tests: TEST_DATABASE_URL, or a throwaway server started from the machine's binaries."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

PASSWORD = "pg-test-secret"  # trust authentication ignores it; tests check that it is never printed
_names = itertools.count(1)


class Unavailable(Exception):
    """PostgreSQL could not be started (binaries missing, or they failed)."""


class ThrowawayServer:
    """initdb + pg_ctl in a temporary folder, listening on 127.0.0.1 on a free port (as `postgres` when root)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="bot-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_root = os.geteuid() == 0

    def _run(self, program: str, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_root else []
        command = [binary(program) or program, *args]
        try:
            subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)
        except (OSError, subprocess.SubprocessError) as error:
            detail = getattr(error, "stderr", b"") or b""
            raise Unavailable(f"{command[0]} failed: {error} {detail.decode(errors='replace')[-500:]}") from None

    def start(self) -> str:
        """Create the cluster, start the server; returns the URL of its `postgres` database."""
        if binary("initdb") is None or binary("pg_ctl") is None:
            raise Unavailable("initdb/pg_ctl are not on PATH (install the postgresql package)")
        if self._as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"), "-w", "start")
        return f"postgresql://postgres:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        """Stop the server and delete its files."""
        with contextlib.suppress(Unavailable):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def binary(name: str) -> str | None:
    """A PostgreSQL server program: on PATH, else in Debian's /usr/lib/postgresql/<version>/bin (newest)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: [int(n) for n in p.parts[-3].split(".") if n.isdigit()],
    )
    return str(candidates[-1]) if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def fresh_database(admin_url: str) -> str:
    """CREATE a new empty database on the server of `admin_url`; returns its URL."""
    name = f"bot_test_{os.getpid()}_{next(_names)}"
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{name}"))
