"""Self-tests for the loopback Seedream fake, over real HTTP."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from PIL import Image

from tests.fakes.image_api import FakeImageApi, Fault
from tests.fakes.image_api_render import stated_count

pytestmark = pytest.mark.asyncio

MODEL = "doubao-seedream-4-0-250828"
KEY = "fake-api-key"
RENDER = (64, 48)


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeImageApi]:
    fake = FakeImageApi(render_size=RENDER)
    await fake.start()
    yield fake
    await fake.close()


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


def body(**overrides: Any) -> dict[str, Any]:
    """A valid request body with the given fields replaced (None removes one)."""
    base: dict[str, Any] = {
        "model": MODEL,
        "prompt": "a red fox in the snow",
        "size": "2048x2048",
        "response_format": "url",
        "watermark": False,
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def data_url(size: tuple[int, int] = (32, 32), fmt: str = "PNG", declared: str = "png") -> str:
    """A small solid image as a data URL, declared as `declared`."""
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(out, fmt)
    return f"data:image/{declared};base64,{base64.b64encode(out.getvalue()).decode()}"


async def generate(
    http: aiohttp.ClientSession, api: FakeImageApi, payload: dict[str, Any], *, key: str = KEY
) -> tuple[int, dict[str, Any], aiohttp.ClientResponse]:
    """POST a generation request; return (status, JSON body, response)."""
    url = f"{api.base_url}/images/generations"
    headers = {"Authorization": f"Bearer {key}"}
    async with http.post(url, json=payload, headers=headers) as response:
        return response.status, await response.json(), response


async def stream_frames(
    http: aiohttp.ClientSession, api: FakeImageApi, payload: dict[str, Any]
) -> tuple[aiohttp.ClientResponse, list[tuple[str | None, str]], list[str]]:
    """POST a streaming request; return (response, [(event, data)], comment lines)."""
    url = f"{api.base_url}/images/generations"
    async with http.post(url, json=payload, headers={"Authorization": f"Bearer {KEY}"}) as response:
        text = (await response.read()).decode()
    frames: list[tuple[str | None, str]] = []
    comments: list[str] = []
    for block in text.split("\n\n"):
        event, data = None, []
        for line in block.splitlines():
            if line.startswith(":"):
                comments.append(line)
            elif line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data.append(line.removeprefix("data: "))
        if data:
            frames.append((event, "\n".join(data)))
    return response, frames, comments


async def test_missing_or_wrong_api_key_is_401(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    status, answer, response = await generate(http, api, body(), key="wrong")
    assert status == 401
    assert answer["error"]["code"] == "AuthenticationError"
    assert answer["error"]["type"] == "Unauthorized"
    assert answer["error"]["message"].endswith(f"Request id: {response.headers['x-request-id']}")
    assert api.requests[0].status == 401


async def test_each_accepted_key_authenticates_and_is_recorded(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    assert (await generate(http, api, body(), key="server-key-0123456789"))[0] == 401
    api.accept_key("server-key-0123456789")
    assert (await generate(http, api, body(), key="server-key-0123456789"))[0] == 200
    assert (await generate(http, api, body()))[0] == 200  # the first key still works
    api.revoke_key("server-key-0123456789")
    assert (await generate(http, api, body(), key="server-key-0123456789"))[0] == 401
    assert [(r.key, r.status) for r in api.requests] == [
        ("server-key-0123456789", 401),
        ("server-key-0123456789", 200),
        (KEY, 200),
        ("server-key-0123456789", 401),
    ]


async def test_a_request_without_a_bearer_token_is_401(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    url = f"{api.base_url}/images/generations"
    for headers in ({}, {"Authorization": KEY}, {"Authorization": "Bearer "}, {"Authorization": f"Basic {KEY}"}):
        async with http.post(url, json=body(), headers=headers) as response:
            assert response.status == 401 and (await response.json())["error"]["code"] == "AuthenticationError"
    assert [r.key for r in api.requests] == [None, None, None, None]


async def test_body_must_be_json(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    url = f"{api.base_url}/images/generations"
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "text/plain"}
    async with http.post(url, data=json.dumps(body()), headers=headers) as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "InvalidParameter"


async def test_unknown_model_is_404(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    status, answer, _ = await generate(http, api, body(model="seedream-4-0-250828"))
    assert (status, answer["error"]["code"]) == (404, "InvalidEndpointOrModel.NotFound")


@pytest.mark.parametrize(
    ("overrides", "code", "param"),
    [
        pytest.param({"size": "800x800"}, "InvalidParameter", "size", id="too-few-pixels"),
        pytest.param({"size": "4096x240"}, "InvalidParameter", "size", id="bad-ratio"),
        pytest.param({"size": "big"}, "InvalidParameter", "size", id="bad-size"),
        pytest.param({"size": "8192x8192"}, "InvalidParameter", "size", id="too-many-pixels"),
        pytest.param({"prompt": ""}, "InvalidParameter", "prompt", id="empty-prompt"),
        pytest.param({"prompt": "x" * 4001}, "InvalidParameter", "prompt", id="long-prompt"),
        pytest.param({"watermark": None}, "MissingParameter", "watermark", id="no-watermark"),
        pytest.param({"size": None}, "MissingParameter", "size", id="no-size"),
        pytest.param({"response_format": None}, "MissingParameter", "response_format", id="no-format"),
        pytest.param({"watermark": "false"}, "InvalidParameter", "watermark", id="string-watermark"),
        pytest.param({"response_format": "png"}, "InvalidParameter", "response_format", id="bad-format"),
        pytest.param({"seed": 42}, "InvalidParameter", "seed", id="seed"),
        pytest.param({"n": 2}, "InvalidParameter", "n", id="n"),
        pytest.param({"guidance_scale": 5.0}, "InvalidParameter", "guidance_scale", id="guidance"),
        pytest.param({"colour": "red"}, "InvalidParameter", "colour", id="unknown-field"),
        pytest.param(
            {"sequential_image_generation": "on"},
            "InvalidParameter",
            "sequential_image_generation",
            id="bad-sequential",
        ),
        pytest.param(
            {"sequential_image_generation_options": {"max_images": 16}},
            "InvalidParameter",
            "sequential_image_generation_options.max_images",
            id="max-images-16",
        ),
        pytest.param(
            {"optimize_prompt_options": {"mode": "slow"}},
            "InvalidParameter",
            "optimize_prompt_options.mode",
            id="bad-mode",
        ),
        pytest.param({"image": [data_url()] * 15}, "InvalidParameter", "image", id="15-refs"),
        pytest.param(
            {
                "image": [data_url(), data_url()],
                "sequential_image_generation": "auto",
                "sequential_image_generation_options": {"max_images": 14},
            },
            "InvalidParameter",
            "sequential_image_generation_options.max_images",
            id="refs-plus-max-images-over-15",
        ),
        pytest.param({"image": ""}, "InvalidImageURL.EmptyURL", "image", id="empty-ref"),
        pytest.param(
            {"image": "data:image/png;base64,AAAAAAAA"},
            "InvalidImageURL.InvalidFormat",
            "image",
            id="corrupt-data-url",
        ),
        pytest.param(
            {"image": "data:image/png;base64,@@not base64@@"},
            "InvalidImageURL.InvalidFormat",
            "image",
            id="not-base64",
        ),
        pytest.param({"image": data_url((10, 10))}, "InvalidImageURL.InvalidFormat", "image", id="tiny-10x10"),
        pytest.param({"image": data_url((400, 20))}, "InvalidImageURL.InvalidFormat", "image", id="ref-ratio-20"),
        pytest.param(
            {"image": data_url(fmt="JPEG", declared="png")},
            "InvalidImageURL.InvalidFormat",
            "image",
            id="declared-png-is-jpeg",
        ),
        pytest.param({"image": data_url(declared="PNG")}, "InvalidImageURL.InvalidFormat", "image", id="uppercase"),
        pytest.param({"image": "https://example.com/fox.png"}, "InvalidImageURL", "image", id="remote-url"),
    ],
)
async def test_invalid_request_is_400(
    http: aiohttp.ClientSession, api: FakeImageApi, overrides: dict[str, Any], code: str, param: str
) -> None:
    status, answer, _ = await generate(http, api, body(**overrides))
    assert status == 400, answer
    assert answer["error"]["code"] == code
    assert param in answer["error"]["param"]
    assert param.split(".")[-1] in answer["error"]["message"] or code.startswith("InvalidImageURL")
    assert api.requests[0].error_code == code


async def test_rejected_request_does_not_consume_a_fault(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    api.script(Fault.status(500))
    assert (await generate(http, api, body(seed=1)))[0] == 400
    assert (await generate(http, api, body()))[0] == 500
    assert (await generate(http, api, body()))[0] == 200


async def test_references_are_decoded_and_recorded(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    refs = [data_url((40, 30)), data_url((20, 20), fmt="WEBP", declared="webp")]
    status, _, _ = await generate(http, api, body(image=refs))
    assert status == 200
    found = [(r.format, r.width, r.height, r.source) for r in api.requests[0].references]
    assert found == [("png", 40, 30, "data"), ("webp", 20, 20, "data")]
    assert all(r.nbytes > 0 for r in api.requests[0].references)


async def test_loopback_url_reference_is_fetched(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    _, first, _ = await generate(http, api, body())
    status, _, _ = await generate(http, api, body(image=first["data"][0]["url"]))
    assert status == 200
    ref = api.requests[1].references[0]
    assert (ref.format, ref.width, ref.height, ref.source) == ("jpeg", *RENDER, "url")
    assert api.results_fetched == []  # the fake's own fetch is not the client's download


async def test_single_image_url_downloads_a_jpeg_of_the_reported_size(
    http: aiohttp.ClientSession, api: FakeImageApi
) -> None:
    api.render_size = None
    status, answer, response = await generate(http, api, body(size="1280x720"))
    assert status == 200 and response.headers["x-request-id"]
    assert answer["model"] == MODEL and isinstance(answer["created"], int)
    [item] = answer["data"]
    assert item["size"] == "1280x720"
    assert answer["usage"] == {"generated_images": 1, "output_tokens": 3600, "total_tokens": 3600}
    assert "X-Tos-Expires=86400" in item["url"]
    async with http.get(item["url"]) as download:
        assert download.status == 200
        image = Image.open(io.BytesIO(await download.read()))
    assert (image.format, image.size) == ("JPEG", (1280, 720))
    assert api.results_fetched == [item["url"]]


async def test_b64_json_is_inline_at_render_size(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    status, answer, _ = await generate(http, api, body(response_format="b64_json"))
    [item] = answer["data"]
    image = Image.open(io.BytesIO(base64.b64decode(item["b64_json"])))
    assert status == 200 and "url" not in item
    assert (image.format, image.size, item["size"]) == ("JPEG", RENDER, "64x48")
    assert answer["usage"]["output_tokens"] == round(64 * 48 / 256)


async def test_keyword_size_follows_prompt_ratio(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    api.render_size = None
    _, square, _ = await generate(http, api, body(size="1K"))
    _, wide, _ = await generate(http, api, body(size="1K", prompt="a wide 16:9 beach"))
    assert (square["data"][0]["size"], wide["data"][0]["size"]) == ("1024x1024", "1280x720")


async def test_auto_set_follows_number_in_prompt(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    auto = {"sequential_image_generation": "auto"}
    _, four, _ = await generate(http, api, body(prompt="4 images of a fox", **auto))
    _, one, _ = await generate(http, api, body(prompt="a fox in the snow", **auto))
    assert len(four["data"]) == 4 and four["usage"]["generated_images"] == 4
    assert len(one["data"]) == 1
    assert len({item["url"] for item in four["data"]}) == 4


async def test_set_is_capped_by_max_images_and_set_cap(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    options = {"sequential_image_generation_options": {"max_images": 3}}
    _, capped, _ = await generate(
        http, api, body(prompt="generate 6 foxes", sequential_image_generation="auto", **options)
    )
    api.set_cap = 2
    _, set_capped, _ = await generate(
        http, api, body(prompt="a set of six pictures", sequential_image_generation="auto")
    )
    _, disabled, _ = await generate(http, api, body(prompt="4 images of a fox"))
    assert (len(capped["data"]), len(set_capped["data"]), len(disabled["data"])) == (3, 2, 1)


@pytest.mark.parametrize(
    ("prompt", "count"),
    [
        ("4 images of a fox", 4),
        ("a set of six pictures of cats", 6),
        ("Generate 4 foxes", 4),
        ("three cute cat stickers", 3),
        ("one cat in 3 different images", 3),
        ("a cat with 4 legs", None),
        ("a 4K poster of a fox", None),
        ("a fox", None),
    ],
)
async def test_stated_count(prompt: str, count: int | None) -> None:
    assert stated_count(prompt) == count


async def test_images_are_distinct(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    payload = body(prompt="2 images of a fox", sequential_image_generation="auto", response_format="b64_json")
    _, first, _ = await generate(http, api, payload)
    _, second, _ = await generate(http, api, payload)
    blobs = [item["b64_json"] for answer in (first, second) for item in answer["data"]]
    assert len(set(blobs)) == 4


async def test_stream_events_in_order_with_gap_after_failed_item(
    http: aiohttp.ClientSession, api: FakeImageApi
) -> None:
    api.script(Fault.item_failed(1))
    payload = body(prompt="4 images of a fox", sequential_image_generation="auto", stream=True)
    response, frames, comments = await stream_frames(http, api, payload)
    assert response.status == 200 and response.content_type == "text/event-stream"
    assert comments  # keep-alive comment lines are interleaved
    events = [(name, json.loads(data)) for name, data in frames[:-1]]
    assert [name for name, _ in events] == [
        "image_generation.partial_succeeded",
        "image_generation.partial_failed",
        "image_generation.partial_succeeded",
        "image_generation.partial_succeeded",
        "image_generation.completed",
    ]
    assert [e.get("image_index") for _, e in events[:4]] == [0, 1, 2, 3]
    assert events[1][1]["error"]["code"] == "OutputImageSensitiveContentDetected"
    assert events[0][1]["size"] == "64x48" and events[0][1]["url"].startswith(api.origin)
    assert events[4][1]["usage"]["generated_images"] == 3
    assert frames[-1] == (None, "[DONE]")


async def test_stream_sends_each_image_when_ready(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    api.image_delay = 0.3
    payload = body(prompt="3 images of a fox", sequential_image_generation="auto", stream=True)
    url = f"{api.base_url}/images/generations"
    started = time.monotonic()
    async with http.post(url, json=payload, headers={"Authorization": f"Bearer {KEY}"}) as response:
        while not (await response.content.readline()).startswith(b"data: {"):
            pass
        assert time.monotonic() - started < 0.55
        assert api.requests[0].generated == 1


async def test_requests_in_flight_at_once_are_counted(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    api.image_delay = 0.2
    await asyncio.gather(*(generate(http, api, body()) for _ in range(3)))
    await generate(http, api, body())  # alone: the peak stays 3
    api.script(Fault.hang())
    hanging = asyncio.create_task(generate(http, api, body()))
    await api.wait_for(lambda: api.in_flight == 1)
    hanging.cancel()  # the client goes away: no longer in flight
    await api.wait_for(lambda: api.in_flight == 0, timeout=5)
    assert (api.max_in_flight, len(api.requests)) == (3, 5)


async def test_stream_error_before_stream_is_plain_json(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    api.script(Fault.content_blocked())
    status, answer, response = await generate(http, api, body(stream=True))
    assert (status, response.content_type) == (400, "application/json")
    assert answer["error"]["code"] == "InputTextSensitiveContentDetected"


async def test_stream_error_frame_after_n_images(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    api.script(Fault.stream_error_after(1))
    payload = body(prompt="3 images of a fox", sequential_image_generation="auto", stream=True)
    _, frames, _ = await stream_frames(http, api, payload)
    assert [name for name, _ in frames] == ["image_generation.partial_succeeded", "error"]
    assert json.loads(frames[1][1])["error"]["code"] == "InternalServiceError"


async def test_ignore_stream_answers_json(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    api.ignore_stream = True
    url = f"{api.relay_base_url}/images/generations"
    headers = {"Authorization": f"Bearer {KEY}"}
    async with http.post(url, json=body(stream=True), headers=headers) as response:
        assert (response.status, response.content_type) == (200, "application/json")
        assert len((await response.json())["data"]) == 1
    assert api.requests[0].stream and api.requests[0].path == "/v1/images/generations"


async def test_429_carries_retry_after(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    api.script(Fault.status(429, "ModelAccountRpmRateLimitExceeded", retry_after=2))
    status, answer, response = await generate(http, api, body())
    assert (status, response.headers["Retry-After"]) == (429, "2")
    assert answer["error"]["code"] == "ModelAccountRpmRateLimitExceeded"
    assert answer["error"]["type"] == "TooManyRequests"


async def test_new_api_style_error_body(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    api.script(Fault.status(503, new_api_style=True))
    status, answer, _ = await generate(http, api, body())
    assert status == 503
    assert answer["error"]["type"] == "new_api_error" and answer["error"]["code"] == ""


async def test_hang_is_cancelled_by_client_timeout(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    api.script(Fault.hang())
    url = f"{api.base_url}/images/generations"
    with pytest.raises(TimeoutError):
        async with http.post(
            url,
            json=body(),
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=aiohttp.ClientTimeout(total=0.3),
        ):
            pass
    await api.wait_for(lambda: api.requests[0].disconnected, timeout=5)
    assert api.requests[0].status is None


async def test_close_drops_hanging_request(http: aiohttp.ClientSession) -> None:
    fake = FakeImageApi(render_size=RENDER)
    await fake.start()
    fake.script(Fault.hang())
    pending = asyncio.create_task(generate(http, fake, body()))
    await fake.wait_for(lambda: fake.requests)
    started = time.monotonic()
    await fake.close()
    assert time.monotonic() - started < 3
    with pytest.raises(aiohttp.ClientError):
        await asyncio.wait_for(pending, 5)


async def test_expired_urls_fault_answers_403(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    api.script(Fault.expired_urls())
    _, answer, _ = await generate(http, api, body())
    async with http.get(answer["data"][0]["url"]) as download:
        assert download.status == 403
        assert (await download.json())["Code"] == "AccessDenied"
    assert api.results_fetched == []


async def test_url_expires_after_ttl(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    api.url_ttl = 0.0
    _, answer, _ = await generate(http, api, body())
    async with http.get(answer["data"][0]["url"]) as download:
        assert download.status == 403


async def test_internal_error_stops_the_set(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    api.script(Fault.internal_error_at(2))
    payload = body(prompt="5 images of a fox", sequential_image_generation="auto")
    status, answer, _ = await generate(http, api, payload)
    assert status == 200
    assert ["url" in item for item in answer["data"]] == [True, True, False]
    assert answer["data"][2]["error"]["code"] == "InternalServiceError"
    assert answer["usage"]["generated_images"] == 2
    assert answer["usage"]["output_tokens"] == round(2 * 64 * 48 / 256)


async def test_noise_makes_bigger_jpegs(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    api.render_size = (256, 256)
    payload = body(response_format="b64_json")
    _, plain, _ = await generate(http, api, payload)
    api.noise = True
    _, noisy, _ = await generate(http, api, payload)
    assert len(noisy["data"][0]["b64_json"]) > 5 * len(plain["data"][0]["b64_json"])


async def test_wait_for_times_out(api: FakeImageApi) -> None:
    with pytest.raises(TimeoutError):
        await api.wait_for(lambda: api.requests, timeout=0.05)


V45, V50 = "doubao-seedream-4-5-251128", "doubao-seedream-5-0-260128"


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        pytest.param({"model": V45, "size": "1K"}, "size", id="4.5-no-1K"),
        pytest.param({"model": V45, "size": "1920x1080"}, "size", id="4.5-under-3.7MP"),
        pytest.param({"model": V50, "size": "4K"}, "size", id="5.0-no-4K"),
        pytest.param({"model": V50, "size": "4096x4096"}, "size", id="5.0-over-10.4MP"),
        pytest.param({"size": "3K"}, "size", id="4.0-no-3K"),
        pytest.param({"output_format": "png"}, "output_format", id="4.0-no-output-format"),
        pytest.param({"model": V45, "output_format": "jpeg"}, "output_format", id="4.5-no-output-format"),
        pytest.param({"model": V50, "output_format": "webp"}, "output_format", id="5.0-png-or-jpeg"),
        pytest.param({"tools": [{"type": "web_search"}]}, "tools", id="4.0-no-tools"),
        pytest.param({"model": V45, "tools": [{"type": "web_search"}]}, "tools", id="4.5-no-tools"),
        pytest.param({"model": V50, "tools": [{"type": "code"}]}, "tools", id="5.0-unknown-tool"),
        pytest.param({"model": V50, "tools": "web_search"}, "tools", id="5.0-tools-not-a-list"),
        pytest.param(
            {"model": V45, "optimize_prompt_options": {"mode": "fast"}}, "optimize_prompt_options.mode", id="4.5-fast"
        ),
        pytest.param(
            {"model": V50, "optimize_prompt_options": {"mode": "fast"}}, "optimize_prompt_options.mode", id="5.0-fast"
        ),
        pytest.param({"image": [data_url()] * 11}, "image", id="4.0-11-refs"),
        pytest.param({"model": V45, "image": [data_url()] * 15}, "image", id="4.5-15-refs"),
    ],
)
async def test_each_model_refuses_what_it_cannot_do(
    http: aiohttp.ClientSession, api: FakeImageApi, overrides: dict[str, Any], param: str
) -> None:
    status, answer, _ = await generate(http, api, body(**overrides))
    assert (status, answer["error"]["code"], answer["error"]["param"]) == (400, "InvalidParameter", param), answer


async def test_each_model_takes_its_own_sizes_and_references(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    api.render_size = None
    _, three_k, _ = await generate(http, api, body(model=V50, size="3K", prompt="a 16:9 view"))
    assert three_k["data"][0]["size"] == "4096x2304" and three_k["model"] == V50
    assert (await generate(http, api, body(model=V45, size="4K", image=[data_url()] * 14)))[0] == 200
    assert (await generate(http, api, body(model=V45, size="2560x1440")))[0] == 200
    api.references_4_0 = 14  # an account where 4.0 takes the API page's 14
    assert (await generate(http, api, body(image=[data_url()] * 14)))[0] == 200
    assert (await generate(http, api, body(model="seedream-4-5-251128")))[0] == 404  # BytePlus id on Ark


async def test_5_0_lite_makes_png_and_reports_its_web_searches(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    payload = body(model=V50, output_format="png", tools=[{"type": "web_search"}])
    status, answer, _ = await generate(http, api, payload)
    assert status == 200 and api.requests[0].json["tools"] == [{"type": "web_search"}]
    assert answer["usage"]["generated_images"] == 1 and answer["usage"]["tool_usage"] == {"web_search": 1}
    url = answer["data"][0]["url"]
    async with http.get(url) as download:
        assert download.content_type == "image/png"
        image = Image.open(io.BytesIO(await download.read()))
    assert image.format == "PNG" and image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0
    _, plain, _ = await generate(http, api, body(model=V50, output_format="jpeg"))
    assert "tool_usage" not in plain["usage"]


async def test_streamed_usage_reports_web_searches(http: aiohttp.ClientSession, api: FakeImageApi) -> None:
    payload = body(model=V50, stream=True, tools=[{"type": "web_search"}])
    _, frames, _ = await stream_frames(http, api, payload)
    completed = json.loads(next(data for event, data in frames if event == "image_generation.completed"))
    assert completed["usage"]["tool_usage"] == {"web_search": 1} and completed["usage"]["generated_images"] == 1
