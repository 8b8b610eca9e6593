"""Capture log output the way `python -m bot` formats it (context tag, secrets masked)."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator, Sequence

from bot.logs import make_handler


class CapturedLogs:
    """Formatted log lines written while the capture was active."""

    def __init__(self, stream: io.StringIO) -> None:
        self._stream = stream

    @property
    def text(self) -> str:
        """Everything logged so far."""
        return self._stream.getvalue()

    def lines(self, *needles: str) -> list[str]:
        """Lines containing every needle."""
        return [line for line in self.text.splitlines() if all(n in line for n in needles)]


@contextlib.contextmanager
def capture_logs(
    secrets: Sequence[str] = (), *, level: int = logging.INFO, log_format: str = "text"
) -> Iterator[CapturedLogs]:
    """Route every logger through the production handler into memory for the duration."""
    stream = io.StringIO()
    handler = make_handler(log_format, list(secrets))
    handler.setStream(stream)  # type: ignore[attr-defined]
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield CapturedLogs(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
