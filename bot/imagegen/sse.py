"""Incremental Server-Sent Events parser (the subset of the spec the image API uses)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched event: its type (default "message") and joined data lines."""

    event: str
    data: str


class SseParser:
    """Feed bytes in any chunking; get complete events out."""

    def __init__(self) -> None:
        self._buffer = b""
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """Consume a chunk and return the events it completed."""
        self._buffer += chunk
        events: list[SseEvent] = []
        while True:
            line, found = self._next_line()
            if not found:
                return events
            event = self._line(line)
            if event is not None:
                events.append(event)

    def close(self) -> list[SseEvent]:
        """End of stream: a final event without its blank line still counts."""
        events = self.feed(b"\n") if self._buffer else []
        if self._data:
            event = self._line("")
            if event is not None:
                events.append(event)
        return events

    def _next_line(self) -> tuple[str, bool]:
        buffer = self._buffer
        cr, lf = buffer.find(b"\r"), buffer.find(b"\n")
        ends = [i for i in (cr, lf) if i >= 0]
        if not ends:
            return "", False
        index = min(ends)
        if index == cr and index + 1 == len(buffer):
            return "", False  # a CR at the very end may be the first half of CRLF
        skip = 2 if buffer[index : index + 2] == b"\r\n" else 1
        self._buffer = buffer[index + skip :]
        return buffer[:index].decode("utf-8", errors="replace"), True

    def _line(self, line: str) -> SseEvent | None:
        if not line:
            if not self._data:
                self._event = ""
                return None
            event = SseEvent(self._event or "message", "\n".join(self._data))
            self._event, self._data = "", []
            return event
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        return None


async def iter_sse(chunks: AsyncIterable[bytes]) -> AsyncIterator[SseEvent]:
    """Parse an async byte stream into SSE events."""
    parser = SseParser()
    async for chunk in chunks:
        for event in parser.feed(chunk):
            yield event
    for event in parser.close():
        yield event
