"""A real PostgreSQL for the tests: TEST_DATABASE_URL, or a throwaway server started from the machine's binaries."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
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


async def connections_to(url: str) -> int:
    """How many sessions other than this one are connected to the database of `url`."""
    admin = await asyncpg.connect(url)
    try:
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        return int(await admin.fetchval(query))
    finally:
        await admin.close()


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


@dataclass
class RoundTrips:
    """What a `counting_proxy` saw: round trips (the client speaking again after the server answered; pipelined
    messages count once) and bytes the client sent."""

    count: int = 0
    sent: int = 0


@contextlib.asynccontextmanager
async def counting_proxy(target_url: str, trips: RoundTrips) -> AsyncIterator[str]:
    """A TCP proxy in front of the PostgreSQL server of `target_url` that counts round trips; yields the URL to
    use instead (same database and credentials, the proxy's port)."""
    parts = urlsplit(target_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432

    async def serve(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(host, port)
        client_spoke_last = [False]

        async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, from_client: bool) -> None:
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                while chunk := await reader.read(65536):
                    if from_client:
                        trips.count += not client_spoke_last[0]
                        trips.sent += len(chunk)
                    client_spoke_last[0] = from_client
                    writer.write(chunk)
                    await writer.drain()
            writer.close()

        await asyncio.gather(pump(client_r, server_w, True), pump(server_r, client_w, False))

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    proxy_port = server.sockets[0].getsockname()[1]
    credentials = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    try:
        yield urlunsplit(parts._replace(netloc=f"{credentials}127.0.0.1:{proxy_port}"))
    finally:
        server.close()
