"""Pillow helpers. Every function here is CPU-bound: call them through `asyncio.to_thread`."""

from __future__ import annotations

import base64
import io
import math
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from bot.errors import BadAttachment

# Formats the API accepts as references; anything else is re-encoded.
API_FORMATS = {"JPEG": "jpeg", "PNG": "png"}
OPENABLE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
API_MAX_BYTES = 10 * 1024 * 1024
API_MAX_PIXELS = 36_000_000
API_MIN_SIDE = 15
API_MAX_ASPECT = 16.0
# Refuse to decode anything bigger than this; Pillow raises DecompressionBombError past 2x.
DECODE_MAX_PIXELS = 100_000_000


@dataclass(frozen=True, slots=True)
class PreparedReference:
    """A reference image ready for the API."""

    data: bytes
    mime: str
    width: int
    height: int

    def data_url(self) -> str:
        """The `data:image/<fmt>;base64,…` form the API takes."""
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(frozen=True, slots=True)
class FittedImage:
    """An output image that fits the upload limit."""

    data: bytes
    width: int
    height: int
    changed: bool


def _open(data: bytes, name: str) -> Image.Image:
    if not data:
        raise BadAttachment(f"`{name}` is an empty file.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=OPENABLE_FORMATS)
            if image.width * image.height > DECODE_MAX_PIXELS:
                raise BadAttachment(f"`{name}` is far too large ({image.width}x{image.height} pixels).")
            image.load()
        except BadAttachment:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise BadAttachment(f"`{name}` is far too large to process.") from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise BadAttachment(f"`{name}` is not a readable image (PNG, JPEG, WebP, GIF, BMP or TIFF).") from exc
    return image


def prepare_reference(data: bytes, name: str, *, max_side: int = 2048) -> PreparedReference:
    """Check that `data` is a real image within the API's limits; downscale or re-encode as needed."""
    image = _open(data, name)
    width, height = image.size
    if min(width, height) < API_MIN_SIDE:
        raise BadAttachment(f"`{name}` is too small ({width}x{height}); images need at least 15 pixels a side.")
    if max(width / height, height / width) > API_MAX_ASPECT:
        raise BadAttachment(f"`{name}` is too long and thin ({width}x{height}); the ratio can be at most 16:1.")
    fmt = API_FORMATS.get(image.format or "")
    exif_rotated = image.getexif().get(0x0112, 1) not in (0, 1)
    fits = len(data) <= API_MAX_BYTES and width * height <= API_MAX_PIXELS and max(width, height) <= max_side
    if fmt and fits and not exif_rotated:
        return PreparedReference(data, f"image/{fmt}", width, height)
    image = ImageOps.exif_transpose(image)
    scale = min(1.0, max_side / max(image.size), math.sqrt(API_MAX_PIXELS / (image.width * image.height)))
    if scale < 1.0:
        size = (max(API_MIN_SIDE, round(image.width * scale)), max(API_MIN_SIDE, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    encoded = _encode_reference(image)
    return PreparedReference(encoded, "image/jpeg" if encoded[:2] == b"\xff\xd8" else "image/png", *image.size)


def _encode_reference(image: Image.Image) -> bytes:
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    out = io.BytesIO()
    if has_alpha:
        image.convert("RGBA").save(out, "PNG", optimize=False)
        if out.tell() <= API_MAX_BYTES:
            return out.getvalue()
        out = io.BytesIO()
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        image = background
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def fit_for_upload(data: bytes, limit: int) -> FittedImage:
    """Make an output image fit `limit` bytes: re-encode first, then downscale; never drop it."""
    if len(data) <= limit:
        width, height = image_size(data)
        return FittedImage(data, width, height, changed=False)
    rgb = _open(data, "output").convert("RGB")
    for quality in (90, 80):
        encoded = _jpeg(rgb, quality)
        if len(encoded) <= limit:
            return FittedImage(encoded, rgb.width, rgb.height, changed=True)
    scale = math.sqrt(limit / len(encoded)) * 0.9
    while True:
        size = (max(16, int(rgb.width * scale)), max(16, int(rgb.height * scale)))
        smaller = rgb.resize(size, Image.Resampling.LANCZOS)
        encoded = _jpeg(smaller, 80)
        if len(encoded) <= limit or size == (16, 16):
            return FittedImage(encoded, size[0], size[1], changed=True)
        scale *= 0.75


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=False)
    return out.getvalue()


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of an encoded image, reading only its header."""
    try:
        with Image.open(io.BytesIO(data), formats=OPENABLE_FORMATS) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise BadAttachment("The image service returned a file that is not an image.") from exc
