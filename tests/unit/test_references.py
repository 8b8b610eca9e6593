"""ReferenceFetcher: the one gate for images downloaded on a member's behalf."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.errors import BadAttachment
from bot.references import ReferenceFetcher
from bot.settings import Settings
from tests.images import png

CDN = frozenset(
    {"cdn.discordapp.com", "media.discordapp.net", "images-ext-1.discordapp.net", "images-ext-2.discordapp.net"}
)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
async def origin() -> AsyncIterator[str]:
    """A loopback server: /image.png, /redirect (to localhost), /big (3 MB)."""

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=png(), content_type="image/png")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://localhost:{request.url.port}/image.png")

    async def big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()  # chunked: no Content-Length to trust
        await response.prepare(request)
        for _ in range(30):
            await response.write(b"\0" * 100_000)
        return response

    app = web.Application()
    app.router.add_get("/image.png", image)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/big", big)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.discordapp.com/attachments/1/2/a.png?ex=1",
        "https://MEDIA.discordapp.net/attachments/1/2/a.png",
    ],
)
async def test_discord_cdn_urls_are_allowed(session, url) -> None:
    assert ReferenceFetcher(session, CDN, 1000).allowed(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/a.png",
        "https://cdn.discordapp.com.evil.example/a.png",
        "https://cdn.discordapp.com@evil.example/a.png",
        "https://user:pw@cdn.discordapp.com/a.png",
        "ftp://cdn.discordapp.com/a.png",
        "file:///etc/passwd",
        "data:image/png;base64,AAAA",
        "http://[::1/a.png",
        "//cdn.discordapp.com/a.png",
        "",
    ],
)
async def test_urls_off_the_allow_list_are_refused(session, url) -> None:
    assert not ReferenceFetcher(session, CDN, 1000).allowed(url)


async def test_fetch_from_a_host_off_the_list_makes_no_request(session) -> None:
    fetcher = ReferenceFetcher(session, CDN, 1000)
    with pytest.raises(BadAttachment, match="not hosted on Discord"):
        await fetcher.fetch("http://127.0.0.1:9/x.png", "x.png")  # port 9 would refuse; no connection is tried


async def test_a_redirect_is_not_followed(session, origin) -> None:
    fetcher = ReferenceFetcher(session, frozenset({"127.0.0.1"}), 1_000_000)
    with pytest.raises(BadAttachment, match="could not be downloaded"):
        await fetcher.fetch(f"{origin}/redirect", "r.png")


async def test_allowed_host_is_downloaded(session, origin) -> None:
    fetcher = ReferenceFetcher(session, frozenset({"127.0.0.1"}), 1_000_000)
    assert await fetcher.fetch(f"{origin}/image.png", "a.png") == png()


async def test_body_over_the_cap_is_refused_while_streaming(session, origin) -> None:
    fetcher = ReferenceFetcher(session, frozenset({"127.0.0.1"}), 2 * 1024 * 1024)
    with pytest.raises(BadAttachment, match="larger than the 2 MB limit"):
        await fetcher.fetch(f"{origin}/big", "big.png")


def test_default_allow_list_is_discord_cdn_plus_a_custom_api_host() -> None:
    default = Settings(_env_file=None, discord_token="t" * 8, image_api_key="k" * 8)  # type: ignore[call-arg]
    assert default.allowed_reference_hosts == CDN
    local = Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token="t" * 8,
        image_api_key="k" * 8,
        discord_api_base_url="http://127.0.0.1:5000/api/v10",
    )
    assert local.allowed_reference_hosts == CDN | {"http://127.0.0.1:5000"}


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:5000/attachments/a.png", True),
        ("http://127.0.0.1:5001/attachments/a.png", False),  # another port of the same host
        ("https://127.0.0.1:5000/attachments/a.png", False),  # another scheme
        ("http://127.0.0.1/attachments/a.png", False),
        ("https://images-ext-1.discordapp.net/external/abc/https/example.com/cat.png", True),
        ("https://images-ext-2.discordapp.net/external/abc/https/example.com/cat.png", True),
    ],
)
async def test_custom_discord_host_is_allowed_only_on_its_own_scheme_and_port(session, url, allowed) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token="t" * 8,
        image_api_key="k" * 8,
        discord_api_base_url="http://127.0.0.1:5000/api/v10",
    )
    assert ReferenceFetcher(session, settings.allowed_reference_hosts, 1000).allowed(url) is allowed


async def test_failed_download_does_not_echo_the_http_status(session, origin) -> None:
    fetcher = ReferenceFetcher(session, frozenset({"127.0.0.1"}), 1_000_000)
    with pytest.raises(BadAttachment) as refused:
        await fetcher.fetch(f"{origin}/missing.png", "m.png")
    assert "404" not in refused.value.message and "HTTP" not in refused.value.message
