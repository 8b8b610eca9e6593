"""Loopback fake of the Seedream image API (Ark `/api/v3` and relay `/v1`): 4.0, 4.5 and 5.0 Lite.

Strict like the real API (see image_api_validation and image_api_models for the rules and assumptions).
Scripted faults are consumed one per *accepted* request: a request that fails auth
or validation is answered with its error and leaves the script untouched.
Auth is per key, like an account's API keys: `api_keys` holds every key the fake accepts (`accept_key`,
`revoke_key`); each recorded request names the key it carried (`key`), so a test can tell whose key a job used.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from tests.fakes.image_api_faults import ApiError, Fault, FaultKind, item_error
from tests.fakes.image_api_models import ARK_MODELS
from tests.fakes.image_api_render import image_count, render_image
from tests.fakes.image_api_sse import SseWriter, completed_event, item_event, usage
from tests.fakes.image_api_validation import (
    MAX_REFERENCE_BYTES,
    GenerationParams,
    ReferenceImage,
    load_references,
    parse_request,
)

__all__ = ["FakeImageApi", "Fault", "ReceivedRequest", "ReferenceImage"]

T = TypeVar("T")

MAX_BODY_BYTES = 256 * 1024 * 1024
_INTERNAL_FETCH = "X-Fake-Internal-Fetch"


@dataclass
class ReceivedRequest:
    """One generation request as the fake saw it, and what it answered."""

    path: str
    headers: CIMultiDictProxy[str]
    body: bytes
    request_id: str
    json: dict[str, Any] = field(default_factory=dict)
    stream: bool = False
    references: list[ReferenceImage] = field(default_factory=list)
    status: int | None = None
    error_code: str | None = None
    fault: Fault | None = None
    key: str | None = None  # the bearer token it carried (None: no `Authorization: Bearer …` header)
    generated: int = 0
    disconnected: bool = False
    sent_at: list[float] = field(default_factory=list)  # time.monotonic() as each image event was written


@dataclass
class _Result:
    data: bytes
    url: str
    expires_at: float
    denied: bool
    content_type: str = "image/jpeg"


@dataclass(frozen=True)
class _Item:
    """The planned outcome of one index of a set: an image, or an error code."""

    index: int
    error: str | None = None


class FakeImageApi:
    """A real aiohttp server on 127.0.0.1 that answers like Volcengine Ark's Seedream models.

    `models` are the ids this account may use (default: the Ark ids of 4.0, 4.5 and 5.0 Lite).
    """

    def __init__(
        self,
        *,
        api_key: str = "fake-api-key",
        models: tuple[str, ...] = ARK_MODELS,
        image_delay: float = 0.0,
        render_size: tuple[int, int] | None = None,
        url_ttl: float = 86400.0,
    ) -> None:
        self.api_key = api_key
        self.api_keys: set[str] = {api_key}  # every key the fake accepts
        self.models = models
        self.image_delay = image_delay
        self.render_size = render_size
        self.url_ttl = url_ttl
        self.ignore_stream = False
        self.noise = False
        self.set_cap: int | None = None
        self.references_4_0 = 10  # 4.0's reference limit on this account (the contract is open: 10 or 14)
        self.requests: list[ReceivedRequest] = []
        self.in_flight = 0  # generation requests being answered right now (from arrival to the response's end)
        self.max_in_flight = 0  # the most that were ever in flight at once
        self.results_fetched: list[str] = []
        self._faults: deque[Fault] = deque()
        self._results: dict[str, _Result] = {}
        self._changed_event = asyncio.Event()
        self._serial = itertools.count(1)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._origin = ""
        self._closing = False

    @property
    def origin(self) -> str:
        """`http://127.0.0.1:PORT` once started."""
        if not self._origin:
            raise RuntimeError("FakeImageApi is not started")
        return self._origin

    @property
    def base_url(self) -> str:
        """Ark-style base URL; the client POSTs to `{base_url}/images/generations`."""
        return f"{self.origin}/api/v3"

    @property
    def relay_base_url(self) -> str:
        """Relay-style base URL (`/v1`), same behaviour."""
        return f"{self.origin}/v1"

    async def start(self) -> None:
        """Bind 127.0.0.1 on a free port and start serving."""
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post("/api/v3/images/generations", self._generate)
        app.router.add_post("/v1/images/generations", self._generate)
        app.router.add_get("/results/{name}", self._result)
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._origin = f"http://127.0.0.1:{runner.addresses[0][1]}"
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def close(self) -> None:
        """Drop hanging requests and stop the server."""
        self._closing = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2)
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeImageApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def accept_key(self, key: str) -> None:
        """Accept another API key (as if the account created it)."""
        self.api_keys.add(key)

    def revoke_key(self, key: str) -> None:
        """Stop accepting a key: requests carrying it are answered 401 like any unknown key."""
        self.api_keys.discard(key)

    def script(self, *faults: Fault) -> None:
        """Queue faults; each accepted generation request consumes the next one."""
        self._faults.extend(faults)

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 10) -> T:
        """Wait until `predicate()` is truthy, re-checking on every state change."""
        try:
            async with asyncio.timeout(timeout):
                while not (result := predicate()):
                    await self._changed_event.wait()
        except TimeoutError:
            raise TimeoutError(f"FakeImageApi.wait_for: not true within {timeout}s") from None
        return result

    def _changed(self) -> None:
        event, self._changed_event = self._changed_event, asyncio.Event()
        event.set()

    # -- generation ---------------------------------------------------------

    async def _generate(self, request: web.Request) -> web.StreamResponse:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            received = await self._receive(request)
            try:
                return await self._answer(request, received)
            except asyncio.CancelledError:
                received.disconnected = not self._closing
                raise
        finally:
            self.in_flight -= 1
            self._tasks.discard(task)
            self._changed()

    async def _receive(self, request: web.Request) -> ReceivedRequest:
        received = ReceivedRequest(
            path=request.path,
            headers=CIMultiDictProxy(CIMultiDict(request.headers)),
            body=await request.read(),
            request_id=f"0217{time.time_ns() // 1_000_000}{secrets.token_hex(10)}",
        )
        received.key = _bearer(request.headers.get("Authorization"))
        received.json = _lenient_json(received.body)
        received.stream = received.json.get("stream") is True
        self.requests.append(received)
        self._changed()
        return received

    async def _answer(self, request: web.Request, received: ReceivedRequest) -> web.StreamResponse:
        try:
            params = self._validate(request, received)
            received.references = await load_references(params.images, self._fetch)
            fault = self._faults.popleft() if self._faults else None
            received.fault = fault
            streaming = params.stream and not self.ignore_stream
            if fault is not None and fault.kind is FaultKind.STATUS:
                raise ApiError.from_fault(fault)
            if fault is not None and fault.kind is FaultKind.HANG:
                await asyncio.Event().wait()  # until the client disconnects or close()
            if fault is not None and fault.kind is FaultKind.STREAM_ERROR_AFTER and not streaming:
                raise ApiError(500, "InternalServiceError", item_error(fault.code)["message"])
        except ApiError as error:
            return self._error_response(received, error)
        items = self._plan(params, fault)
        if streaming:
            return await self._stream(request, received, params, items, fault)
        return await self._json(received, params, items, fault)

    def _validate(self, request: web.Request, received: ReceivedRequest) -> GenerationParams:
        if received.key is None or received.key not in self.api_keys:
            raise ApiError(401, "AuthenticationError", item_error("AuthenticationError")["message"])
        if request.content_type != "application/json":
            message = f"Content-Type must be application/json, got {request.content_type}."
            raise ApiError(400, "InvalidParameter", message)
        try:
            body = json.loads(received.body)
        except ValueError:
            raise ApiError(400, "InvalidParameter", "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise ApiError(400, "InvalidParameter", "The request body must be a JSON object.")
        return parse_request(body, self.models, references_4_0=self.references_4_0)

    def _plan(self, params: GenerationParams, fault: Fault | None) -> list[_Item]:
        count = image_count(
            params.prompt,
            sequential=params.sequential,
            max_images=params.max_images,
            set_cap=self.set_cap,
        )
        items: list[_Item] = []
        for index in range(count):
            if fault is not None and fault.index == index:
                if fault.kind is FaultKind.ITEM_FAILED:
                    items.append(_Item(index, fault.code))
                    continue
                if fault.kind is FaultKind.INTERNAL_ERROR_AT:
                    items.append(_Item(index, fault.code))
                    break
            items.append(_Item(index))
        return items

    async def _produce(
        self, received: ReceivedRequest, params: GenerationParams, item: _Item, expired: bool
    ) -> tuple[dict[str, Any], int]:
        """Wait `image_delay`, then make one item: (payload fields, pixels produced)."""
        await asyncio.sleep(self.image_delay)
        if item.error is not None:
            return {"error": item_error(item.error)}, 0
        width, height = self.render_size or (params.width, params.height)
        data = await asyncio.to_thread(
            render_image,
            params.prompt,
            item.index,
            next(self._serial),
            (width, height),
            noise=self.noise,
            watermark=params.watermark,
            fmt=params.output_format,
        )
        received.generated += 1
        self._changed()
        payload: dict[str, Any]
        if params.response_format == "b64_json":
            payload = {"b64_json": base64.b64encode(data).decode("ascii")}
        else:
            payload = {"url": self._store(data, expired, params.output_format)}
        payload["size"] = f"{width}x{height}"
        return payload, width * height

    async def _json(
        self,
        received: ReceivedRequest,
        params: GenerationParams,
        items: list[_Item],
        fault: Fault | None,
    ) -> web.Response:
        expired = fault is not None and fault.kind is FaultKind.EXPIRED_URLS
        data: list[dict[str, Any]] = []
        pixels = 0
        for item in items:
            payload, produced = await self._produce(received, params, item, expired)
            data.append(payload)
            pixels += produced
        body = {
            "model": params.model,
            "created": int(time.time()),
            "data": data,
            "usage": usage(received.generated, pixels, searches=int(params.web_search)),
        }
        received.status = 200
        return web.json_response(body, headers={"x-request-id": received.request_id})

    async def _stream(
        self,
        request: web.Request,
        received: ReceivedRequest,
        params: GenerationParams,
        items: list[_Item],
        fault: Fault | None,
    ) -> web.StreamResponse:
        expired = fault is not None and fault.kind is FaultKind.EXPIRED_URLS
        error_after = fault.index if fault and fault.kind is FaultKind.STREAM_ERROR_AFTER else None
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "x-request-id": received.request_id,
            }
        )
        await response.prepare(request)
        received.status = 200
        self._changed()
        writer = SseWriter(response)
        try:
            await writer.comment("keep-alive")
            pixels = 0
            for item in items:
                if error_after is not None and item.index >= error_after:
                    break
                payload, produced = await self._produce(received, params, item, expired)
                pixels += produced
                event = item_event(params.model, item.index, payload)
                await writer.event(event["type"], event)
                received.sent_at.append(time.monotonic())
            if error_after is not None:
                error = ApiError(500, "InternalServiceError", item_error("InternalServiceError")["message"])
                await writer.event("error", error.body(received.request_id))
                return response
            searches = int(params.web_search)
            completed = completed_event(params.model, received.generated, pixels, searches=searches)
            await writer.event(completed["type"], completed)
            await writer.done()
        except ConnectionError:
            received.disconnected = True
        return response

    def _error_response(self, received: ReceivedRequest, error: ApiError) -> web.Response:
        received.status = error.status
        received.error_code = error.code or None
        headers = {"x-request-id": received.request_id, **error.headers()}
        return web.json_response(error.body(received.request_id), status=error.status, headers=headers)

    # -- results and reference fetching ---------------------------------------

    def _store(self, data: bytes, expired: bool, fmt: str = "jpeg") -> str:
        key = secrets.token_hex(12)
        ttl = self.url_ttl
        url = (
            f"{self.origin}/results/{key}.{fmt}?X-Tos-Algorithm=TOS4-HMAC-SHA256"
            f"&X-Tos-Date={time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
            f"&X-Tos-Expires={max(int(ttl), 0)}&X-Tos-Signature={secrets.token_hex(32)}"
        )
        self._results[key] = _Result(data, url, time.monotonic() + ttl, expired, f"image/{fmt}")
        return url

    async def _result(self, request: web.Request) -> web.Response:
        key = request.match_info["name"].rsplit(".", 1)[0]
        result = self._results.get(key)
        if result is None:
            return _tos_error(404, "NoSuchKey", "The specified key does not exist.")
        if "X-Tos-Signature" not in request.query or "X-Tos-Expires" not in request.query:
            return _tos_error(403, "AccessDenied", "Request is missing its signature.")
        if result.denied or time.monotonic() >= result.expires_at:
            return _tos_error(403, "AccessDenied", "Request has expired.")
        if request.headers.get(_INTERNAL_FETCH) != "1":
            self.results_fetched.append(result.url)
            self._changed()
        return web.Response(body=result.data, content_type=result.content_type)

    async def _fetch(self, url: str) -> bytes:
        """Download a loopback reference image URL, as the real API would fetch it."""
        assert self._session is not None
        chunks: list[bytes] = []
        total = 0
        try:
            async with self._session.get(url, headers={_INTERNAL_FETCH: "1"}) as response:
                if response.status != 200:
                    message = f"The image URL {url} answered HTTP {response.status}."
                    raise ApiError(400, "InvalidImageURL", message, param="image")
                async for chunk in response.content.iter_chunked(65536):
                    chunks.append(chunk)
                    total += len(chunk)
                    if total > MAX_REFERENCE_BYTES:
                        break
        except (aiohttp.ClientError, TimeoutError) as exc:
            message = f"The image URL {url} could not be downloaded: {exc!r}."
            raise ApiError(400, "InvalidImageURL", message, param="image") from None
        return b"".join(chunks)


def _bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (the scheme is case-insensitive, as in HTTP)."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _lenient_json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _tos_error(status: int, code: str, message: str) -> web.Response:
    body = {"Code": code, "Message": message, "RequestId": secrets.token_hex(12), "HostId": ""}
    return web.json_response(body, status=status)
