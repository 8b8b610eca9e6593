"""Async client for `POST {base}/images/generations`, streaming or not, with retries."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import random
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.cpu import run_cpu
from bot.errors import ApiTimeout, ImageApiError, ResultUnavailable, ServiceUnavailable
from bot.i18n import N_, _
from bot.imagegen.egress import Egress
from bot.imagegen.errors import map_error, parse_retry_after
from bot.imagegen.models import Completed, GenerationEvent, GenerationRequest, ImageFailed, ImageReady, Usage
from bot.imagegen.sse import iter_sse

log = logging.getLogger(__name__)

_STREAM_INTERRUPTED = N_("The connection to the image service broke before the set was finished.")
_INLINE_JSON = 64 * 1024  # bytes of JSON parsed on the loop; larger documents go to the CPU pool
_EMPTY_RESULT = N_("The image service finished without returning any image.")  # texts: translated when raised


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """Timeouts, limits and retry policy of the client."""

    connect_timeout: float = 15.0
    first_image_timeout: float = 180.0
    image_timeout: float = 120.0
    result_max_bytes: int = 50 * 1024 * 1024
    max_retries: int = 3
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    max_images_in_flight: int = 16


@dataclass(frozen=True, slots=True)
class ApiEndpoint:
    """Where a job's requests go and the key they carry (never shown in a repr).

    `own`: a server's own key (its refusals are the server's admins' to fix). `egress`: set for a base URL a
    server chose; its requests and result downloads then go through that fenced session (see `egress`).
    """

    base_url: str
    api_key: str = field(repr=False)
    own: bool = False
    egress: Egress | None = field(default=None, repr=False, compare=False)

    @property
    def url(self) -> str:
        """The generations URL."""
        return f"{self.base_url.rstrip('/')}/images/generations"

    def headers(self) -> dict[str, str]:
        """The request headers, with the key."""
        return {"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"}


class DownloadTooLarge(Exception):
    """A download went past its byte cap."""


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """Read a body, refusing anything larger than `limit` bytes."""
    if response.content_length is not None and response.content_length > limit:
        raise DownloadTooLarge(f"{response.content_length} bytes is over the {limit}-byte cap")
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.content.iter_chunked(256 * 1024):
        total += len(chunk)
        if total > limit:
            raise DownloadTooLarge(f"over the {limit}-byte cap")
        chunks.append(chunk)
    return b"".join(chunks)


class ImageApiClient:
    """Talks to the image API on the bot's shared aiohttp session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        api_key: str | None,
        options: ClientOptions | None = None,
    ) -> None:
        self._session = session
        # The operator's key (None with REQUIRE_SERVER_KEY and no IMAGE_API_KEY: every job brings its endpoint).
        self.endpoint = None if api_key is None else ApiEndpoint(base_url, api_key)
        self._url = f"{base_url.rstrip('/')}/images/generations"
        self.options = options or ClientOptions()
        # Generated images held in memory at once, across all jobs: from download until the job has posted it.
        self._image_slots = asyncio.Semaphore(self.options.max_images_in_flight)

    def __repr__(self) -> str:
        return f"ImageApiClient(url={self._url!r})"

    async def generate(
        self, request: GenerationRequest, endpoint: ApiEndpoint | None = None, *, again: Rebuild | None = None
    ) -> AsyncGenerator[GenerationEvent, None]:
        """Yield each image as soon as it exists, then `Completed`; retries transient failures.

        `endpoint`: a server's own key (and base URL); None: the operator's. With `again` (how to build the same
        request anew, e.g. from stored references), the body (megabytes of base64 references) is dropped as soon as
        it is sent, and a retry builds it again; without, it is kept until the first image, which ends any retry.
        """
        endpoint = endpoint or self.endpoint
        if endpoint is None:
            raise RuntimeError("no API key for this job: the operator has none and the job brought none")
        attempt = 0
        body = _Body(await encode_body(request), droppable=again is not None)
        if request.references:  # only the body carries them from here on
            request = request.model_copy(update={"references": ()})
        while True:
            produced = False
            if body.data is None and again is not None:
                body.data = await encode_body(await again())
            try:
                async for event in self._attempt(request, body, endpoint):
                    if not isinstance(event, Completed) and not produced:
                        produced = True
                        body.data = None  # never sent again (no retry after an image): its references go now
                    yield event
                    del event  # don't keep the last image alive while waiting for the next
                return
            except ImageApiError as error:
                if produced or not error.retryable or attempt >= self.options.max_retries:
                    raise
                delay = self._backoff(attempt, error.retry_after)
                attempt += 1
                log.warning(
                    "image API %s (status %s, request %s); retry %d in %.1fs",
                    error.code,
                    error.status,
                    error.request_id,
                    attempt,
                    delay,
                )
                await asyncio.sleep(delay)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, max(self.options.backoff_max, 1.0))
        ceiling = min(self.options.backoff_max, self.options.backoff_base * 2**attempt)
        return random.uniform(ceiling / 2, ceiling)

    async def _attempt(
        self, request: GenerationRequest, held: _Body, endpoint: ApiEndpoint
    ) -> AsyncIterator[GenerationEvent]:
        # A set may legitimately pause for a whole image's time between bytes when not streaming.
        read_timeout = self.options.first_image_timeout
        if not request.stream:
            read_timeout += self.options.image_timeout * (request.count - 1)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.options.connect_timeout, sock_read=read_timeout)
        egress = endpoint.egress
        session = self._session if egress is None else egress.session
        body = held.take()
        post = session.post(
            endpoint.url, data=body, headers=endpoint.headers(), timeout=timeout, allow_redirects=egress is None
        )
        try:
            async with post as resp:
                del body  # sent: kept only by `held`, and only while a retry may need it
                request_id = resp.headers.get("x-request-id")
                if resp.status >= 300:
                    raise await self._error_from(resp, request_id, own=endpoint.own)
                if resp.content_type == "text/event-stream":
                    async for event in self._read_stream(resp, request_id, egress):
                        yield event
                        del event
                else:
                    async for event in self._read_json(resp, request_id, egress):
                        yield event
                        del event
        except TimeoutError as exc:
            raise ApiTimeout(_("The image service did not answer in time. Please try again."), code="timeout") from exc
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            log.warning("image API connection error: %s", type(exc).__name__)
            raise ServiceUnavailable(
                _("Could not reach the image service. Please try again in a few minutes."), code="connection"
            ) from exc

    async def _error_from(self, resp: aiohttp.ClientResponse, request_id: str | None, *, own: bool) -> ImageApiError:
        try:
            payload: Any = json.loads(await read_capped(resp, 64 * 1024))
        except (ValueError, DownloadTooLarge, UnicodeDecodeError):
            payload = None
        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        error = map_error(resp.status, payload, request_id=request_id, retry_after=retry_after, own_key=own)
        log.info("image API answered %s %s (request %s)", resp.status, error.code, error.request_id)
        return error

    async def _read_json(
        self, resp: aiohttp.ClientResponse, request_id: str | None, egress: Egress | None
    ) -> AsyncIterator[GenerationEvent]:
        try:
            payload = await _parse_json(await read_capped(resp, self.options.result_max_bytes * 16))
        except (ValueError, UnicodeDecodeError, DownloadTooLarge) as exc:
            raise ServiceUnavailable(_(_EMPTY_RESULT), code="bad_response", request_id=request_id) from exc
        if not isinstance(payload, dict):
            raise ServiceUnavailable(_(_EMPTY_RESULT), code="bad_response", request_id=request_id)
        items = payload.get("data")
        if payload.get("error") and not items:
            raise map_error(200, payload, request_id=request_id)
        if not isinstance(items, list) or not items:
            raise ServiceUnavailable(_(_EMPTY_RESULT), code="empty_result", request_id=request_id)
        for index, item in enumerate(items):
            if isinstance(item, dict):
                async with self._image_slots:  # held until the consumer asks for the next event
                    yield await self._item_event(index, item, egress)
        yield Completed(_usage(payload.get("usage")))

    async def _read_stream(
        self, resp: aiohttp.ClientResponse, request_id: str | None, egress: Egress | None
    ) -> AsyncIterator[GenerationEvent]:
        produced = False
        async for sse in iter_sse(resp.content.iter_any()):
            if sse.data.strip() == "[DONE]":
                break
            try:
                frame = await _parse_json(sse.data)
            except ValueError:
                log.warning("ignoring a malformed SSE frame (event %s)", sse.event)
                continue
            if not isinstance(frame, dict):
                continue
            kind = str(frame.get("type") or sse.event)
            if frame.get("error") and not kind.endswith("partial_failed"):
                error = map_error(None, frame, request_id=request_id)
                if produced:
                    raise _interrupted(error, request_id)
                raise error
            if kind.endswith("partial_succeeded") or kind.endswith("partial_failed"):
                index = _int(frame.get("image_index"), 0)
                async with self._image_slots:  # held until the consumer asks for the next event
                    event = await self._item_event(index, frame, egress)
                    produced = True
                    final = isinstance(event, ImageFailed) and event.final
                    yield event
                    del event
                if final:
                    break
            elif kind.endswith("completed"):
                yield Completed(_usage(frame.get("usage")))
                return
            elif "data" in frame and isinstance(frame["data"], list):
                # A relay that wrapped a plain JSON response in one SSE frame.
                for index, item in enumerate(frame["data"]):
                    if isinstance(item, dict):
                        async with self._image_slots:
                            yield await self._item_event(index, item, egress)
                produced = True
        if not produced:
            raise ServiceUnavailable(_(_EMPTY_RESULT), code="empty_result", request_id=request_id)
        yield Completed(None)

    async def _item_event(self, index: int, item: dict[str, Any], egress: Egress | None) -> ImageReady | ImageFailed:
        if item.get("error"):
            error = map_error(None, item)
            return ImageFailed(index, error, final=error.code == "InternalServiceError")
        size = item.get("size") if isinstance(item.get("size"), str) else None
        try:
            if item.get("b64_json"):
                return ImageReady(index, await run_cpu(_decode_b64, item["b64_json"]), size)
            if item.get("url"):
                return ImageReady(index, await self.download(str(item["url"]), egress), size)
        except ResultUnavailable as error:
            return ImageFailed(index, error)
        return ImageFailed(index, ResultUnavailable(_(_EMPTY_RESULT), code="empty_item"))

    async def download(self, url: str, egress: Egress | None = None) -> bytes:
        """Fetch a result image at once (URLs expire), capped at `result_max_bytes`.

        With `egress` (a server's own base URL) only from places it allows, without following redirects.
        """
        if egress is not None and not egress.fetchable(url):
            raise ResultUnavailable(
                _("The image service answered with an address the bot may not fetch."), code="result_refused"
            )
        session = self._session if egress is None else egress.session
        timeout = aiohttp.ClientTimeout(total=self.options.image_timeout, sock_connect=self.options.connect_timeout)
        last: Exception | None = None
        for _attempt in range(2):
            try:
                async with session.get(url, timeout=timeout, allow_redirects=egress is None) as resp:
                    if resp.status != 200:
                        raise ResultUnavailable(
                            _("A generated image had already expired on the image service."),
                            code="result_expired",
                            status=resp.status,
                        )
                    return await read_capped(resp, self.options.result_max_bytes)
            except DownloadTooLarge as exc:
                raise ResultUnavailable(
                    _("A generated image was too large to download."), code="result_too_large"
                ) from exc
            except ResultUnavailable:
                raise
            except (aiohttp.ClientError, TimeoutError) as exc:
                last = exc
        raise ResultUnavailable(
            _("A generated image could not be downloaded from the image service."), code="result_download"
        ) from last


Rebuild = Callable[[], Awaitable[GenerationRequest]]


class _Body:
    """A request's encoded body while retries may still send it; a droppable one is let go once handed over."""

    def __init__(self, data: bytes, *, droppable: bool) -> None:
        self.data: bytes | None = data
        self.droppable = droppable

    def take(self) -> bytes:
        """The body to send now (a droppable one is no longer held here)."""
        data = self.data or b""
        if self.droppable:
            self.data = None
        return data


async def encode_body(request: GenerationRequest) -> bytes:
    """The JSON body; serialised in a thread when it carries inline reference images (megabytes of base64)."""
    if not request.references:
        return _json_bytes(request.payload())
    return await run_cpu(lambda: _json_bytes(request.payload()))


def _json_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _interrupted(error: ImageApiError, request_id: str | None) -> ImageApiError:
    return type(error)(_(_STREAM_INTERRUPTED), code=error.code, status=error.status, request_id=request_id)


async def _parse_json(data: str | bytes) -> Any:
    """JSON off the event loop when it is large (b64_json results run to megabytes), in place when small."""
    return json.loads(data) if len(data) < _INLINE_JSON else await run_cpu(json.loads, data)


def _decode_b64(value: Any) -> bytes:
    try:
        return base64.b64decode(str(value), validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ResultUnavailable(_("The image service returned an unreadable image."), code="bad_b64") from exc


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _usage(value: Any) -> Usage | None:
    if not isinstance(value, dict):
        return None
    tools = value.get("tool_usage")
    billed = value.get("generated_images")
    return Usage(
        generated_images=None if billed is None else max(_int(billed, 0), 0),
        output_tokens=_int(value.get("output_tokens") or value.get("total_tokens"), 0),
        web_searches=_int(tools.get("web_search"), 0) if isinstance(tools, dict) else 0,
    )
