"""Request model and result events for the Seedream `images/generations` call."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.errors import ImageApiError
from bot.imagegen.catalog import RESOLUTIONS

MAX_PROMPT_CHARS = 4000
MAX_REFERENCES = 14
MAX_TOTAL_IMAGES = 15
MIN_PIXELS = 1280 * 720  # the smallest any model makes (4.0)
MAX_PIXELS = 4096 * 4096  # the largest (4.0, 4.5)
MAX_ASPECT = 16.0

_SIZE_RE = re.compile(r"^(\d{2,5})x(\d{2,5})$")
_NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen"
_COUNT_RE = re.compile(
    rf"\b(\d{{1,2}}|{_NUMBER_WORDS})\s+(?:\w+\s+){{0,3}}?"
    r"(images?|pictures?|pics?|photos?|illustrations?|variations?|versions?|panels?|frames?|shots?|renders?)\b",
    re.IGNORECASE,
)


def check_size(size: str) -> str:
    """Validate a `size` value against the rules every model shares (each model's own: `Model.size_problem`)."""
    if size in RESOLUTIONS:
        return size
    match = _SIZE_RE.match(size)
    if not match:
        raise ValueError("size must be 1K, 2K, 3K, 4K or WIDTHxHEIGHT")
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
    output_format: Literal["jpeg", "png"] | None = None  # sent only when set: 4.x must not get it
    tools: tuple[Literal["web_search"], ...] = ()  # sent only when set: 5.0 Lite's web search

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
        if self.output_format:
            body["output_format"] = self.output_format
        if self.tools:
            body["tools"] = [{"type": tool} for tool in self.tools]
        return body


@dataclass(frozen=True, slots=True)
class Usage:
    """Billing figures reported by the API."""

    generated_images: int | None = None  # what the API bills (successful images); None: not reported
    output_tokens: int = 0
    web_searches: int = 0  # `tool_usage.web_search` (5.0 Lite)


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
