"""Strict request validation for the fake image API, per shared/seedream-api.md.

Assumptions where the contract is open (documented here, relied on by tests):
- `prompt` longer than 4000 characters is rejected (the real hard limit is unknown).
- an explicit `max_images` with references + max_images > 15 is rejected, not clamped;
  without `max_images` the cap is 15 - references.
- `watermark`, `size` and `response_format` are required (the gotchas say always send them).
- JSON `null` counts as an absent field (Go-style decoding).
- the only accepted fields are the ones the contract lists; `seed`, `guidance_scale`, `n`,
  `user` and anything else are rejected, and `output_format` / `tools` by models without them.
- each model's own sizes, reference count, formats, tools and prompt modes: image_api_models.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import io
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from PIL import Image
from yarl import URL

from tests.fakes.image_api_faults import ApiError
from tests.fakes.image_api_models import KEYWORD_SIZES, RULES, ModelRules

MAX_PROMPT_CHARS = 4000
MAX_RATIO = 16.0
MAX_SET_TOTAL = 15
MAX_REFERENCE_BYTES = 10 * 1024 * 1024
MAX_REFERENCE_PIXELS = 36_000_000
MIN_REFERENCE_SIDE = 15

# Declared data-URL format -> the Pillow formats that count as that family.
FORMAT_FAMILIES: dict[str, frozenset[str]] = {
    "png": frozenset({"PNG"}),
    "jpeg": frozenset({"JPEG", "MPO"}),
    "webp": frozenset({"WEBP"}),
    "bmp": frozenset({"BMP", "DIB"}),
    "tiff": frozenset({"TIFF"}),
    "gif": frozenset({"GIF"}),
}

KNOWN_FIELDS = frozenset(
    {
        "model",
        "prompt",
        "image",
        "size",
        "sequential_image_generation",
        "sequential_image_generation_options",
        "stream",
        "response_format",
        "watermark",
        "optimize_prompt_options",
        "output_format",
        "tools",
    }
)
FORBIDDEN_FIELDS = ("seed", "guidance_scale", "n")
REQUIRED_FIELDS = ("prompt", "size", "response_format", "watermark")

_SIZE_RE = re.compile(r"([0-9]{1,6})x([0-9]{1,6})")
_RATIO_RE = re.compile(r"\b([0-9]{1,2})\s*:\s*([0-9]{1,2})\b")
_DATA_URL_RE = re.compile(r"data:image/([^;,]*);base64,(.*)", re.DOTALL)

Fetcher = Callable[[str], Awaitable[bytes]]


@dataclass(frozen=True)
class ReferenceImage:
    """A reference image the fake accepted."""

    format: str
    width: int
    height: int
    nbytes: int
    source: Literal["data", "url"]


@dataclass(frozen=True)
class GenerationParams:
    """A validated generation request."""

    model: str
    prompt: str
    width: int
    height: int
    response_format: str
    watermark: bool
    stream: bool
    sequential: bool
    max_images: int
    images: tuple[str, ...]
    optimize_mode: str
    output_format: str = "jpeg"
    web_search: bool = False


def parse_request(raw: dict[str, Any], models: tuple[str, ...], *, references_4_0: int = 10) -> GenerationParams:
    """Validate a request body against its model's rules; raise ApiError the way the real API would."""
    body = {key: value for key, value in raw.items() if value is not None}
    model = body.get("model")
    if model is None:
        raise ApiError(400, "MissingParameter", "The parameter `model` is required.", param="model")
    if not isinstance(model, str) or model not in models or model not in RULES:
        message = f"The model or endpoint {model} does not exist or you do not have access to it."
        raise ApiError(404, "InvalidEndpointOrModel.NotFound", message)
    rules = RULES[model]
    if rules.name == "4.0":
        rules = dataclasses.replace(rules, max_references=references_4_0)
    _reject_fields(body, model, rules)
    prompt = _prompt(body["prompt"])
    width, height = _size(body["size"], prompt, model, rules)
    images = _images(body.get("image"), model, rules)
    sequential = _choice(body, "sequential_image_generation", ("disabled", "auto"), "disabled")
    return GenerationParams(
        model=model,
        prompt=prompt,
        width=width,
        height=height,
        response_format=_choice(body, "response_format", ("url", "b64_json"), "url"),
        watermark=_bool(body, "watermark", default=True),
        stream=_bool(body, "stream", default=False),
        sequential=sequential == "auto",
        max_images=_max_images(body.get("sequential_image_generation_options"), len(images)),
        images=images,
        optimize_mode=_optimize_mode(body.get("optimize_prompt_options"), model, rules),
        output_format=_choice(body, "output_format", rules.output_formats, "jpeg") if rules.output_formats else "jpeg",
        web_search=_tools(body.get("tools"), rules),
    )


def _reject_fields(body: dict[str, Any], model: str, rules: ModelRules) -> None:
    forbidden = (
        FORBIDDEN_FIELDS + (() if rules.output_formats else ("output_format",)) + (() if rules.tools else ("tools",))
    )
    for name in forbidden:
        if name in body:
            raise ApiError.invalid(name, f"The parameter `{name}` is not supported by {model}.")
    unknown = sorted(set(body) - KNOWN_FIELDS - {"model"})
    if unknown:
        raise ApiError.invalid(unknown[0], f"The parameter `{unknown[0]}` is not recognized.")
    for name in REQUIRED_FIELDS:
        if name not in body:
            message = f"The parameter `{name}` is required."
            raise ApiError(400, "MissingParameter", message, param=name)


def _prompt(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApiError.invalid("prompt", "The parameter `prompt` must be a non-empty string.")
    if len(value) > MAX_PROMPT_CHARS:
        message = f"The parameter `prompt` exceeds {MAX_PROMPT_CHARS} characters."
        raise ApiError.invalid("prompt", message)
    return value


def _size(value: Any, prompt: str, model: str, rules: ModelRules) -> tuple[int, int]:
    if isinstance(value, str) and value in rules.keywords:
        return keyword_size(value, prompt)
    match = _SIZE_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        keywords = ", ".join(rules.keywords)
        message = f"The parameter `size` must be {keywords} or <width>x<height> for {model}, got {value!r}."
        raise ApiError.invalid("size", message)
    width, height = int(match[1]), int(match[2])
    low, high = rules.min_pixels, rules.max_pixels
    if not low <= width * height <= high:
        message = f"The parameter `size` {value} has {width * height} pixels; {model} needs [{low}, {high}]."
        raise ApiError.invalid("size", message)
    if not 1 / MAX_RATIO <= width / height <= MAX_RATIO:
        message = f"The parameter `size` {value} has an aspect ratio outside [1/16, 16]."
        raise ApiError.invalid("size", message)
    return width, height


def keyword_size(keyword: str, prompt: str) -> tuple[int, int]:
    """The W x H a 1K/2K/3K/4K keyword maps to, using a ratio like 16:9 found in the prompt."""
    ratio = "1:1"
    for match in _RATIO_RE.finditer(prompt):
        candidate = f"{int(match[1])}:{int(match[2])}"
        if candidate in KEYWORD_SIZES:
            ratio = candidate
            break
    return KEYWORD_SIZES[ratio][keyword]


def _images(value: Any, model: str, rules: ModelRules) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        message = "The parameter `image` must be a string or a non-empty list of strings."
        raise ApiError.invalid("image", message)
    if len(items) > rules.max_references:
        message = f"The parameter `image` has {len(items)} images; {model} takes at most {rules.max_references}."
        raise ApiError.invalid("image", message)
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise ApiError.invalid("image", f"The parameter `image[{index}]` must be a string.")
        if not item.strip():
            message = f"The parameter `image[{index}]` is empty."
            raise ApiError(400, "InvalidImageURL.EmptyURL", message, param="image")
    return tuple(items)


def _choice(body: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(name, default)
    if value not in allowed:
        message = f"The parameter `{name}` must be one of {', '.join(allowed)}, got {value!r}."
        raise ApiError.invalid(name, message)
    return str(value)


def _bool(body: dict[str, Any], name: str, *, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise ApiError.invalid(name, f"The parameter `{name}` must be a boolean.")
    return value


def _max_images(options: Any, references: int) -> int:
    name = "sequential_image_generation_options"
    if options is None:
        return MAX_SET_TOTAL - references
    if not isinstance(options, dict):
        raise ApiError.invalid(name, f"The parameter `{name}` must be an object.")
    unknown = sorted(set(options) - {"max_images"})
    if unknown:
        raise ApiError.invalid(f"{name}.{unknown[0]}", f"Unknown field `{name}.{unknown[0]}`.")
    value = options.get("max_images")
    if value is None:
        return MAX_SET_TOTAL - references
    param = f"{name}.max_images"
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SET_TOTAL:
        raise ApiError.invalid(param, f"The parameter `{param}` must be an integer in [1, 15].")
    if references + value > MAX_SET_TOTAL:
        message = (
            f"The number of reference images ({references}) plus `{param}` ({value}) must not exceed {MAX_SET_TOTAL}."
        )
        raise ApiError.invalid(param, message)
    return value


def _optimize_mode(options: Any, model: str, rules: ModelRules) -> str:
    name = "optimize_prompt_options"
    if options is None:
        return "standard"
    if not isinstance(options, dict):
        raise ApiError.invalid(name, f"The parameter `{name}` must be an object.")
    unknown = sorted(set(options) - {"mode"})
    if unknown:
        raise ApiError.invalid(f"{name}.{unknown[0]}", f"Unknown field `{name}.{unknown[0]}`.")
    mode = options.get("mode", "standard")
    if mode not in rules.prompt_modes:
        message = (
            f"The parameter `{name}.mode` must be one of {', '.join(rules.prompt_modes)} for {model}, got {mode!r}."
        )
        raise ApiError.invalid(f"{name}.mode", message)
    return str(mode)


def _tools(value: Any, rules: ModelRules) -> bool:
    """Whether the request turns on web search: `tools` must be a list of `{"type": <a tool the model has>}`."""
    if value is None:
        return False
    if not isinstance(value, list) or not all(isinstance(tool, dict) and set(tool) == {"type"} for tool in value):
        raise ApiError.invalid("tools", 'The parameter `tools` must be a list of {"type": ...} objects.')
    unknown = [tool["type"] for tool in value if tool["type"] not in rules.tools]
    if unknown:
        raise ApiError.invalid("tools", f"The parameter `tools` names an unsupported tool {unknown[0]!r}.")
    return "web_search" in {tool["type"] for tool in value}


async def load_references(values: tuple[str, ...], fetch: Fetcher) -> list[ReferenceImage]:
    """Decode and check every reference image; raise ApiError on the first bad one."""
    return [await _load_reference(index, value, fetch) for index, value in enumerate(values)]


async def _load_reference(index: int, value: str, fetch: Fetcher) -> ReferenceImage:
    if value.startswith("data:"):
        declared, data = _decode_data_url(index, value)
        found, width, height = await asyncio.to_thread(_inspect, index, data)
        if found not in FORMAT_FAMILIES[declared]:
            message = f"image[{index}] is declared as {declared} but its bytes are {found}."
            raise _bad_image(message)
        return ReferenceImage(declared, width, height, len(data), "data")
    url = URL(value) if value.startswith(("http://", "https://")) else None
    if url is None:
        raise _bad_image(f"image[{index}] is neither a URL nor a data:image/<format>;base64 URL.")
    if url.scheme != "http" or url.host != "127.0.0.1":
        message = f"image[{index}] could not be downloaded from {url.host}."
        raise ApiError(400, "InvalidImageURL", message, param="image")
    data = await fetch(value)
    found, width, height = await asyncio.to_thread(_inspect, index, data)
    family = next((name for name, kinds in FORMAT_FAMILIES.items() if found in kinds), None)
    if family is None:
        raise _bad_image(f"image[{index}] has unsupported format {found}.")
    return ReferenceImage(family, width, height, len(data), "url")


def _decode_data_url(index: int, value: str) -> tuple[str, bytes]:
    match = _DATA_URL_RE.fullmatch(value)
    if match is None:
        raise _bad_image(f"image[{index}] must look like data:image/<format>;base64,<data>.")
    declared = match[1]
    if declared not in FORMAT_FAMILIES:
        allowed = ", ".join(FORMAT_FAMILIES)
        message = f"image[{index}] format {declared!r} is not one of (lowercase) {allowed}."
        raise _bad_image(message)
    try:
        data = base64.b64decode(match[2], validate=True)
    except (binascii.Error, ValueError):
        raise _bad_image(f"image[{index}] is not valid base64.") from None
    if not data:
        raise ApiError(400, "InvalidImageURL.EmptyURL", f"image[{index}] is empty.", param="image")
    if len(data) > MAX_REFERENCE_BYTES:
        raise _bad_image(f"image[{index}] is {len(data)} bytes; at most {MAX_REFERENCE_BYTES}.")
    return declared, data


def _inspect(index: int, data: bytes) -> tuple[str, int, int]:
    """Open the image with Pillow and check its dimensions (runs in a thread)."""
    if len(data) > MAX_REFERENCE_BYTES:
        raise _bad_image(f"image[{index}] is {len(data)} bytes; at most {MAX_REFERENCE_BYTES}.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            found = image.format or "unknown"
            width, height = image.size
            _check_dimensions(index, width, height)
            image.load()
    except ApiError:
        raise
    except Exception as exc:  # Pillow raises many types for corrupt input
        raise _bad_image(f"image[{index}] could not be decoded: {exc}") from None
    return found, width, height


def _check_dimensions(index: int, width: int, height: int) -> None:
    if width < MIN_REFERENCE_SIDE or height < MIN_REFERENCE_SIDE:
        raise _bad_image(f"image[{index}] is {width}x{height}; each side must exceed 14 px.")
    if width * height > MAX_REFERENCE_PIXELS:
        raise _bad_image(f"image[{index}] has {width * height} pixels; at most 36000000.")
    if not 1 / MAX_RATIO <= width / height <= MAX_RATIO:
        raise _bad_image(f"image[{index}] aspect ratio {width}x{height} is outside [1/16, 16].")


def _bad_image(message: str) -> ApiError:
    return ApiError(400, "InvalidImageURL.InvalidFormat", message, param="image")
