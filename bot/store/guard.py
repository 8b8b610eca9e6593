"""One process per SQLite database: an exclusive lock on `<database>.lock` held while the store is open."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import ClassVar


class DatabaseInUse(Exception):
    """Another process has this SQLite database open (use PostgreSQL to run several processes)."""


class ProcessLock:
    """The process-wide lock of one SQLite file; stores of the same process share it (counted)."""

    _held: ClassVar[dict[Path, tuple[int, int]]] = {}  # lock file -> (descriptor, stores using it)

    def __init__(self, database: Path) -> None:
        self.path = database.resolve().with_name(database.name + ".lock")
        self._released = False

    def acquire(self) -> None:
        """Take the lock, or raise DatabaseInUse when another process holds it."""
        fd, users = self._held.get(self.path, (-1, 0))
        if users == 0:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise DatabaseInUse(
                    f"another process is using the database {self.path.with_suffix('')}; SQLite allows one bot "
                    "process (stop the other one, or use PostgreSQL to run several)"
                ) from None
        self._held[self.path] = (fd, users + 1)

    def release(self) -> None:
        """Give the lock back (closing the file once the last store of this process lets go)."""
        if self._released or self.path not in self._held:
            return
        self._released = True
        fd, users = self._held[self.path]
        if users > 1:
            self._held[self.path] = (fd, users - 1)
            return
        del self._held[self.path]
        os.close(fd)  # closing releases the flock
