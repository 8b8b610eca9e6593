"""Structured logging: the job (or interaction) id on every line, secrets masked, text or JSON."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import threading
import time
from collections.abc import Sequence

# What the current task is working on, e.g. "job=42" or "interaction=1234"; copied into tasks it creates.
_context: contextvars.ContextVar[str] = contextvars.ContextVar("log_context", default="-")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(context)s]: %(message)s"
_MIN_SECRET = 4


def set_job(job_id: int) -> None:
    """Tag every later log line of this task (and tasks it starts) with the job id."""
    _context.set(f"job={job_id}")


def set_interaction(interaction_id: int) -> None:
    """Tag every later log line of this task with the interaction id, until a job id replaces it."""
    _context.set(f"interaction={interaction_id}")


def current() -> str:
    """The context tag of the running task, "-" outside a job or interaction."""
    return _context.get()


class ContextFilter(logging.Filter):
    """Adds `record.context` (job or interaction id) to every record passing the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Attach the context; never drops a record."""
        record.context = _context.get()
        return True


class _LearnedSecrets:
    """Secrets that become known while the bot runs (servers' own API keys): masked in every handler's output."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        with self._lock:
            if len(secret) < _MIN_SECRET or secret in self._values:
                return
            self._values.add(secret)
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(value) for value in ordered))

    def mask(self, text: str) -> str:
        pattern = self._pattern
        return text if pattern is None else pattern.sub("[redacted]", text)


_learned = _LearnedSecrets()


def mask_also(secret: str) -> None:
    """Mask `secret` in every log line from now on, whichever handler formats it (e.g. a server's API key)."""
    _learned.add(secret)


def _mask(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return _learned.mask(text)


class RedactingFormatter(logging.Formatter):
    """A formatter that masks secret values wherever they appear, tracebacks included."""

    def __init__(self, fmt: str, secrets: Sequence[str]) -> None:
        super().__init__(fmt)
        self._secrets = [s for s in secrets if len(s) >= _MIN_SECRET]

    def format(self, record: logging.LogRecord) -> str:
        """Format, then mask."""
        if not hasattr(record, "context"):
            record.context = _context.get()
        return _mask(super().format(record), self._secrets)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, context, message (and exception), secrets masked."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= _MIN_SECRET]

    def format(self, record: logging.LogRecord) -> str:
        """Serialise the record as JSON."""
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "context": getattr(record, "context", None) or _context.get(),
            "message": _mask(record.getMessage(), self._secrets),
        }
        if record.exc_info:
            entry["exception"] = _mask(self.formatException(record.exc_info), self._secrets)
        return json.dumps(entry, ensure_ascii=False)


def make_handler(log_format: str, secrets: Sequence[str]) -> logging.Handler:
    """A stderr handler in `text` or `json` format that tags and masks every record."""
    handler = logging.StreamHandler()
    formatter: logging.Formatter
    formatter = JsonFormatter(secrets) if log_format == "json" else RedactingFormatter(TEXT_FORMAT, secrets)
    handler.setFormatter(formatter)
    handler.addFilter(ContextFilter())
    return handler
