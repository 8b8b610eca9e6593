"""Server-sent-event framing for the fake image API's streaming answers."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web


class SseWriter:
    """Writes SSE frames in several chunks, with comment lines, to exercise parsers."""

    def __init__(self, response: web.StreamResponse) -> None:
        self._response = response
        self._frames = 0

    async def comment(self, text: str) -> None:
        """Write an SSE comment line."""
        await self._response.write(f": {text}\n\n".encode())

    async def event(self, name: str, payload: dict[str, Any]) -> None:
        """Write one `event:`/`data:` frame in two chunks."""
        data = json.dumps(payload, separators=(",", ":"))
        await self._split_write(f"event: {name}\ndata: {data}\n\n".encode())
        self._frames += 1
        if self._frames % 2 == 0:
            await self.comment("keep-alive")

    async def done(self) -> None:
        """Write the `[DONE]` sentinel and end the body."""
        await self._split_write(b"data: [DONE]\n\n")
        await self._response.write_eof()

    async def _split_write(self, frame: bytes) -> None:
        cut = len(frame) // 2
        await self._response.write(frame[:cut])
        await asyncio.sleep(0.001)
        await self._response.write(frame[cut:])


def item_event(model: str, index: int, payload: dict[str, Any]) -> dict[str, Any]:
    """A partial_succeeded event, or partial_failed when the payload carries an error."""
    kind = "partial_failed" if "error" in payload else "partial_succeeded"
    return {
        "type": f"image_generation.{kind}",
        "model": model,
        "created": int(time.time()),
        "image_index": index,
        **payload,
    }


def completed_event(model: str, generated: int, pixels: int, *, searches: int = 0) -> dict[str, Any]:
    """The final image_generation.completed event."""
    return {
        "type": "image_generation.completed",
        "model": model,
        "created": int(time.time()),
        "usage": usage(generated, pixels, searches=searches),
    }


def usage(generated: int, pixels: int, *, searches: int = 0) -> dict[str, Any]:
    """Usage as Ark reports it: tokens = round(sum(W*H) / 256); `tool_usage` when web search was on (5.0 Lite)."""
    tokens = round(pixels / 256)
    found: dict[str, Any] = {"generated_images": generated, "output_tokens": tokens, "total_tokens": tokens}
    if searches:
        found["tool_usage"] = {"web_search": searches}
    return found
