"""ImageApiClient against the local fake image API over real HTTP."""

from __future__ import annotations

import io
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from PIL import Image

from bot.errors import ApiTimeout, ContentBlocked, OwnerSetupError, RateLimited, ServiceUnavailable
from bot.imagegen.client import ClientOptions, ImageApiClient
from bot.imagegen.models import Completed, GenerationEvent, GenerationRequest, ImageFailed, ImageReady
from tests.fakes.image_api import FakeImageApi, Fault

MODEL = "doubao-seedream-4-0-250828"


@pytest.fixture
async def api() -> AsyncIterator[FakeImageApi]:
    fake = FakeImageApi(render_size=(96, 64))
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def client(
    http: aiohttp.ClientSession, api: FakeImageApi, key: str = "fake-api-key", **options: object
) -> ImageApiClient:
    defaults: dict[str, object] = {"backoff_base": 0.01, "backoff_max": 0.05, "first_image_timeout": 5.0}
    defaults.update(options)
    return ImageApiClient(http, api.base_url, key, ClientOptions(**defaults))  # type: ignore[arg-type]


def req(**values: object) -> GenerationRequest:
    fields: dict[str, object] = {"model": MODEL, "prompt": "a lighthouse at dusk", "size": "2K"}
    fields.update(values)
    return GenerationRequest(**fields)  # type: ignore[arg-type]


async def collect(c: ImageApiClient, request: GenerationRequest) -> list[GenerationEvent]:
    return [event async for event in c.generate(request)]


def jpeg_size(data: bytes) -> tuple[int, int]:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return image.size


@pytest.mark.parametrize("stream", [True, False])
async def test_single_image_url_is_downloaded(http, api, stream: bool) -> None:
    events = await collect(client(http, api), req(stream=stream))
    assert [type(e) for e in events] == [ImageReady, Completed]
    ready = events[0]
    assert isinstance(ready, ImageReady) and jpeg_size(ready.data) == (96, 64) and ready.size == "96x64"
    assert len(api.results_fetched) == 1
    assert api.requests[0].stream is stream


async def test_b64_json_results_are_decoded(http, api) -> None:
    events = await collect(client(http, api), req(response_format="b64_json", count=2))
    images = [e for e in events if isinstance(e, ImageReady)]
    assert len(images) == 2 and images[0].data != images[1].data
    assert api.results_fetched == []


async def test_set_streams_each_image_as_it_arrives(http, api) -> None:
    api.image_delay = 0.15
    c = client(http, api)
    seen: list[tuple[int, float]] = []
    started = time.monotonic()
    async for event in c.generate(req(count=4)):
        if isinstance(event, ImageReady):
            seen.append((event.index, time.monotonic() - started))
        elif isinstance(event, Completed):
            assert event.usage is not None and event.usage.generated_images == 4
    assert [index for index, _ in seen] == [0, 1, 2, 3]
    # The first image is handed over long before the last one exists.
    assert seen[0][1] < seen[-1][1] - 0.3


async def test_relay_answering_json_to_a_stream_request(http, api) -> None:
    api.ignore_stream = True
    events = await collect(client(http, api), req(count=3))
    assert sum(isinstance(e, ImageReady) for e in events) == 3
    assert isinstance(events[-1], Completed)


@pytest.mark.parametrize("stream", [True, False])
async def test_failed_item_is_reported_and_others_arrive(http, api, stream: bool) -> None:
    api.script(Fault.item_failed(1))
    events = await collect(client(http, api), req(count=3, stream=stream))
    failed = [e for e in events if isinstance(e, ImageFailed)]
    assert [e.index for e in events if isinstance(e, ImageReady)] == [0, 2]
    assert len(failed) == 1 and failed[0].index == 1 and isinstance(failed[0].error, ContentBlocked)


async def test_internal_error_ends_the_set(http, api) -> None:
    api.script(Fault.internal_error_at(2))
    events = await collect(client(http, api), req(count=4))
    assert [e.index for e in events if isinstance(e, ImageReady)] == [0, 1]
    failed = [e for e in events if isinstance(e, ImageFailed)]
    assert len(failed) == 1 and failed[0].final


async def test_transient_errors_are_retried(http, api) -> None:
    api.script(
        Fault.status(503, "ServiceUnavailable"),
        Fault.status(429, "ServerOverloaded", retry_after=0.05),
        Fault.status(500),
    )
    events = await collect(client(http, api), req())
    assert isinstance(events[0], ImageReady)
    assert [r.status for r in api.requests] == [503, 429, 500, 200]


async def test_retry_after_is_honoured(http, api) -> None:
    api.script(Fault.status(429, "RateLimitExceeded.EndpointRPMExceeded", retry_after=0.4))
    started = time.monotonic()
    await collect(client(http, api), req())
    assert time.monotonic() - started >= 0.4


async def test_retries_are_bounded(http, api) -> None:
    api.script(*[Fault.status(503, "ServiceUnavailable")] * 5)
    with pytest.raises(ServiceUnavailable):
        await collect(client(http, api, max_retries=2), req())
    assert len(api.requests) == 3


async def test_rate_limit_surfaces_after_retries(http, api) -> None:
    api.script(*[Fault.status(429, "ServerOverloaded")] * 3)
    with pytest.raises(RateLimited):
        await collect(client(http, api, max_retries=2), req())


async def test_content_blocked_is_not_retried(http, api) -> None:
    api.script(Fault.content_blocked())
    with pytest.raises(ContentBlocked, match="prompt"):
        await collect(client(http, api), req())
    assert len(api.requests) == 1


async def test_bad_key_is_an_owner_problem_and_the_key_is_not_leaked(http, api) -> None:
    with pytest.raises(OwnerSetupError) as info:
        await collect(client(http, api, key="wrong-secret-key"), req())
    assert "IMAGE_API_KEY" in info.value.message
    assert "wrong-secret-key" not in str(info.value) and "wrong-secret-key" not in repr(client(http, api))
    assert len(api.requests) == 1


async def test_hung_request_times_out_and_is_retried_then_fails(http, api) -> None:
    api.script(Fault.hang(), Fault.hang())
    with pytest.raises(ApiTimeout):
        await collect(client(http, api, first_image_timeout=0.3, max_retries=1), req())
    assert len(api.requests) == 2


async def test_expired_result_url_becomes_a_failed_item(http, api) -> None:
    api.script(Fault.expired_urls())
    events = await collect(client(http, api), req(count=2))
    failed = [e for e in events if isinstance(e, ImageFailed)]
    assert len(failed) == 2 and failed[0].error.code == "result_expired"


async def test_oversized_result_is_refused(http, api) -> None:
    events = await collect(client(http, api, result_max_bytes=200), req())
    assert isinstance(events[0], ImageFailed) and events[0].error.code == "result_too_large"


async def test_stream_error_after_images_keeps_the_images(http, api) -> None:
    api.script(Fault.stream_error_after(2))
    events: list[GenerationEvent] = []
    with pytest.raises(ServiceUnavailable, match="broke"):
        async for event in client(http, api).generate(req(count=4)):
            events.append(event)
    assert [e.index for e in events if isinstance(e, ImageReady)] == [0, 1]
    assert len(api.requests) == 1  # never retried once images were delivered


async def test_the_fake_gives_fewer_images_when_the_count_is_not_stated(http, api) -> None:
    """Guards with_count(): without it the model (and the fake) returns a single image."""
    events = await collect(client(http, api), req(count=3, prompt="a castle"))
    assert sum(isinstance(e, ImageReady) for e in events) == 3
    assert "3 images" in api.requests[0].json["prompt"]
