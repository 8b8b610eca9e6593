"""The free probe of an API key: a request with a deliberately invalid size, which the API refuses without making
(or billing) an image, after it has checked the key and the model. `check` and `/imagine-admin api-key` use it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp

from bot.imagegen.client import DownloadTooLarge, read_capped
from bot.imagegen.egress import BlockedAddress
from bot.imagegen.errors import map_error

PROBE_TIMEOUT = aiohttp.ClientTimeout(total=30)

Verdict = Literal["unreachable", "blocked", "key_rejected", "model_unavailable", "service_failed", "not_the_api", "ok"]


@dataclass(frozen=True, slots=True)
class Probe:
    """What the probe learned; `status` 0 when the service was not reached (`failure` names why)."""

    status: int
    code: str | None = None
    failure: str | None = None
    answered_like_the_api: bool = False  # a JSON error object (or a 2xx JSON answer), as the image API sends
    blocked: bool = False  # the address is not one a server's base URL may use

    @property
    def verdict(self) -> Verdict:
        """The one conclusion: what, if anything, is wrong."""
        code = self.code or ""
        if self.status == 0:
            return "blocked" if self.blocked else "unreachable"
        if self.status in (401, 403) or code.startswith(("Authentication", "AccessDenied", "AccountOverdue")):
            return "key_rejected"
        if self.status == 404 and not self.answered_like_the_api:
            return "not_the_api"
        if self.status == 404 or code.startswith(("InvalidEndpointOrModel", "ModelNotOpen")):
            return "model_unavailable"
        if self.status >= 500:
            return "service_failed"
        return "ok" if self.answered_like_the_api else "not_the_api"


async def probe(
    http: aiohttp.ClientSession, base_url: str, api_key: str, model: str, *, follow_redirects: bool = True
) -> Probe:
    """POST the invalid-size request to `{base_url}/images/generations` with `api_key`; never raises for the
    network or the answer."""
    url = f"{base_url.rstrip('/')}/images/generations"
    headers = {"Authorization": f"Bearer {api_key}"}
    body = {"model": model, "prompt": "configuration check", "size": "1x1", "watermark": False}
    body.update(response_format="url", stream=False, sequential_image_generation="disabled")
    try:
        post = http.post(url, json=body, headers=headers, timeout=PROBE_TIMEOUT, allow_redirects=follow_redirects)
        async with post as resp:
            status, payload = resp.status, await json_body(resp)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        blocked = isinstance(getattr(exc, "os_error", None), BlockedAddress)
        return Probe(0, failure=type(exc).__name__, blocked=blocked)
    error = map_error(status, payload) if status >= 300 else None
    api_like = isinstance(payload, dict) and (status < 300 or isinstance(payload.get("error"), dict | str))
    return Probe(status, error.code if error is not None else None, answered_like_the_api=api_like)


async def json_body(resp: aiohttp.ClientResponse) -> Any:
    """The answer as JSON (at most 1 MiB), None when it is not JSON."""
    try:
        return json.loads(await read_capped(resp, 1024 * 1024))
    except (ValueError, DownloadTooLarge):
        return None
