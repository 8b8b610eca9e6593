"""Request model and result events for the Seedream `images/generations` call."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.errors import ImageApiError

MAX_PROMPT_CHARS = 4000
MAX_REFERENCES = 14
MAX_TOTAL_IMAGES = 15
MIN_PIXELS = 1280 * 720
MAX_PIXELS = 4096 * 4096
MAX_ASPECT = 16.0

RESOLUTIONS = ("1K", "2K", "4K")
# Pixel sizes for each aspect ratio and resolution keyword (contract §2.2).
ASPECT_SIZES: dict[str, dict[str, str]] = {
    "1:1": {"1K": "1024x1024", "2K": "2048x2048", "4K": "4096x4096"},
    "4:3": {"1K": "1152x864", "2K": "2304x1728", "4K": "4704x3520"},
    "3:4": {"1K": "864x1152", "2K": "1728x2304", "4K": "3520x4704"},
    "16:9": {"1K": "1280x720", "2K": "2848x1600", "4K": "5504x3040"},
    "9:16": {"1K": "720x1280", "2K": "1600x2848", "4K": "3040x5504"},
    "3:2": {"1K": "1248x832", "2K": "2496x1664", "4K": "4992x3328"},
    "2:3": {"1K": "832x1248", "2K": "1664x2496", "4K": "3328x4992"},
    "21:9": {"1K": "1512x648", "2K": "3136x1344", "4K": "6240x2656"},
}

_SIZE_RE = re.compile(r"^(\d{2,5})x(\d{2,5})$")
_NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen"
_COUNT_RE = re.compile(
    rf"\b(\d{{1,2}}|{_NUMBER_WORDS})\s+(?:\w+\s+){{0,3}}?"
    r"(images?|pictures?|pics?|photos?|illustrations?|variations?|versions?|panels?|frames?|shots?|renders?)\b",
    re.IGNORECASE,
)


def size_for(resolution: str, aspect: str | None) -> str:
    """The `size` value for a resolution keyword and an optional aspect ratio."""
    if resolution not in RESOLUTIONS:
        raise ValueError(f"unknown resolution {resolution!r}")
    if aspect is None:
        return resolution
    return ASPECT_SIZES[aspect][resolution]


def resolution_of(size: str) -> str | None:
    """The resolution keyword a `size` value stands for (None for a custom WxH)."""
    if size in RESOLUTIONS:
        return size
    for sizes in ASPECT_SIZES.values():
        for resolution, value in sizes.items():
            if value == size:
                return resolution
    return None


def check_size(size: str) -> str:
    """Validate a `size` value against the contract's keyword, pixel and ratio rules."""
    if size in RESOLUTIONS:
        return size
    match = _SIZE_RE.match(size)
    if not match:
        raise ValueError("size must be 1K, 2K, 4K or WIDTHxHEIGHT")
    width, height = int(match[1]), int(match[2])
    if not MIN_PIXELS <= width * height <= MAX_PIXELS:
        raise ValueError("size must have between 1280x720 and 4096x4096 pixels in total")
    if not 1 / MAX_ASPECT <= width / height <= MAX_ASPECT:
        raise ValueError("size aspect ratio must be between 1:16 and 16:1")
    return size


def states_count(prompt: str) -> bool:
    """True when the prompt already says how many images it wants."""
    return _COUNT_RE.search(prompt) is not None


def with_count(prompt: str, count: int) -> str:
    """State the wanted number of images, since `max_images` is only a cap."""
    if count <= 1 or states_count(prompt):
        return prompt
    return f"Generate a set of {count} images. {prompt}"


class GenerationRequest(BaseModel):
    """A validated generation request; `payload()` is what goes on the wire."""

    model_config = ConfigDict(frozen=True)

    model: str = Field(min_length=1)
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    references: tuple[str, ...] = Field(default=(), max_length=MAX_REFERENCES)
    size: str = "2K"
    count: int = Field(default=1, ge=1, le=MAX_TOTAL_IMAGES)
    watermark: bool = False
    stream: bool = True
    response_format: Literal["url", "b64_json"] = "url"
    optimize_prompt_mode: Literal["standard", "fast"] | None = None

    @field_validator("prompt")
    @classmethod
    def _prompt_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("prompt must not be blank")
        return value

    @field_validator("size")
    @classmethod
    def _valid_size(cls, value: str) -> str:
        return check_size(value)

    @model_validator(mode="after")
    def _total_images(self) -> GenerationRequest:
        if len(self.references) + self.count > MAX_TOTAL_IMAGES:
            raise ValueError(
                f"reference images plus requested images must be at most {MAX_TOTAL_IMAGES} "
                f"(got {len(self.references)} + {self.count})"
            )
        return self

    def payload(self) -> dict[str, Any]:
        """The JSON body for `POST /images/generations`."""
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": with_count(self.prompt, self.count),
            "size": self.size,
            "response_format": self.response_format,
            "watermark": self.watermark,
            "stream": self.stream,
        }
        if self.references:
            body["image"] = self.references[0] if len(self.references) == 1 else list(self.references)
        if self.count > 1:
            body["sequential_image_generation"] = "auto"
            body["sequential_image_generation_options"] = {"max_images": self.count}
        else:
            body["sequential_image_generation"] = "disabled"
        if self.optimize_prompt_mode:
            body["optimize_prompt_options"] = {"mode": self.optimize_prompt_mode}
        return body


@dataclass(frozen=True, slots=True)
class Usage:
    """Billing figures reported by the API."""

    generated_images: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class ImageReady:
    """One image of the set exists and has been downloaded."""

    index: int
    data: bytes
    size: str | None


@dataclass(frozen=True, slots=True)
class ImageFailed:
    """One image of the set failed; the others are unaffected unless `final`."""

    index: int
    error: ImageApiError
    final: bool = False


@dataclass(frozen=True, slots=True)
class Completed:
    """The request finished; usage is None when the server did not report it."""

    usage: Usage | None


GenerationEvent = ImageReady | ImageFailed | Completed
