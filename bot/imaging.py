"""Pillow helpers. Every function here is CPU-bound: references go through bot.decode_pool, the rest through bot.cpu."""

from __future__ import annotations

import base64
import io
import math
import struct
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from bot import webp_scaled
from bot.errors import BadAttachment
from bot.i18n import N_, _
from bot.textclean import code_span

# Formats the API accepts as references; anything else is re-encoded.
API_FORMATS = {"JPEG": "jpeg", "PNG": "png"}
OPENABLE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
API_MAX_BYTES = 10 * 1024 * 1024
API_MAX_PIXELS = 36_000_000
API_MIN_SIDE = 15
API_MAX_ASPECT = 16.0
# Refuse to decode anything bigger than this; Pillow raises DecompressionBombError past 2x.
DECODE_MAX_PIXELS = 100_000_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# EXIF orientation -> the transpose that shows the image upright (as ImageOps.exif_transpose does).
_EXIF_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


EMPTY = N_("{file} is an empty file.")
FAR_TOO_LARGE = N_("{file} is far too large ({width}x{height} pixels).")
UNPROCESSABLE = N_("{file} is far too large to process.")
UNREADABLE = N_("{file} is not a readable image (PNG, JPEG, WebP, GIF, BMP or TIFF).")
TOO_SMALL = N_("{file} is too small ({width}x{height}); images need at least 15 pixels a side.")
TOO_THIN = N_("{file} is too long and thin ({width}x{height}); the ratio can be at most 16:1.")
TOO_LARGE = N_(
    "{file} is too large ({width}x{height}, {megapixels} megapixels); "
    "reference images can be at most {most} megapixels."
)


class ImageRefused(BadAttachment):
    """A member's image the bot cannot use. Decoding happens in worker processes, which do not know the member's
    language: the text is kept with its values and written again, in the language of the moment, by `again()`
    (bot/jobs/prepare.py does so once the worker's answer is back)."""

    def __init__(self, template: str, name: str, **values: object) -> None:
        super().__init__(_(template).format(file=code_span(name), **values))
        self.template, self.name, self.values = template, name, values

    def __reduce__(self) -> tuple[object, ...]:
        return _refused, (self.template, self.name, self.values)

    def again(self) -> ImageRefused:
        """The same refusal in the current language."""
        return ImageRefused(self.template, self.name, **self.values)


def _refused(template: str, name: str, values: dict[str, object]) -> ImageRefused:
    return ImageRefused(template, name, **values)


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
class ReferenceHeader:
    """What a reference declares, read without decoding its pixels."""

    format: str
    width: int
    height: int
    decoded_pixels: int  # pixels the decoder holds at once (less than width x height with reduced decoding)


@dataclass(frozen=True, slots=True)
class FittedImage:
    """An output image that fits the upload limit."""

    data: bytes
    width: int
    height: int
    changed: bool
    format: str = "jpeg"  # "png" for a PNG the model made (5.0 Lite's output_format), kept PNG when fitted


def _open(data: bytes, name: str, *, target: tuple[int, int] | None = None) -> Image.Image:
    """Decode `data`; with `target`, a JPEG is decoded at the smallest scale (1/2, 1/4, 1/8) still >= target."""
    if not data:
        raise ImageRefused(EMPTY, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=OPENABLE_FORMATS)
            if image.width * image.height > DECODE_MAX_PIXELS:
                raise ImageRefused(FAR_TOO_LARGE, name, width=image.width, height=image.height)
            if target is not None and image.format == "JPEG" and target != image.size:
                image.draft(None, target)
            if target is not None and image.format == "WEBP" and target != image.size:
                scaled = webp_scaled.decode_scaled(data, target)
                if scaled is not None:
                    scaled.format, scaled.info = image.format, image.info
                    image.close()
                    return scaled
            image.load()
        except BadAttachment:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError) as exc:
            raise ImageRefused(UNPROCESSABLE, name) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise ImageRefused(UNREADABLE, name) from exc
    return image


def read_reference_header(data: bytes, name: str, *, max_side: int = 2048) -> ReferenceHeader:
    """Read only the header; refuse what the API would refuse (over 36 MP, over 16:1, under 15 px a side)."""
    if not data:
        raise ImageRefused(EMPTY, name)
    fmt, (width, height), animated = _declared(data, name)
    if min(width, height) < API_MIN_SIDE:
        raise ImageRefused(TOO_SMALL, name, width=width, height=height)
    if max(width / height, height / width) > API_MAX_ASPECT:
        raise ImageRefused(TOO_THIN, name, width=width, height=height)
    if width * height > DECODE_MAX_PIXELS:
        raise ImageRefused(FAR_TOO_LARGE, name, width=width, height=height)
    if width * height > API_MAX_PIXELS:
        megapixels = f"{width * height / 1e6:.0f}"
        raise ImageRefused(
            TOO_LARGE, name, width=width, height=height, megapixels=megapixels, most=API_MAX_PIXELS // 10**6
        )
    target = target_size(width, height, max_side)
    decoded = width * height
    if fmt == "JPEG" and target != (width, height):
        scale = next(s for s in (8, 4, 2, 1) if min(width // target[0], height // target[1]) >= s)
        decoded = -(-width // scale) * -(-height // scale)
    elif fmt == "WEBP" and target != (width, height) and not animated and webp_scaled.available():
        decoded = target[0] * target[1]
    elif fmt == "WEBP":
        decoded = 3 * width * height  # Pillow's decoder holds two full-size canvases besides the image
    return ReferenceHeader(fmt, width, height, decoded)


def _declared(data: bytes, name: str) -> tuple[str, tuple[int, int], bool]:
    """Format, declared size and animation, without decoding (PNG: from IHDR, so no text chunk is inflated)."""
    if data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "PNG", (width, height), False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=OPENABLE_FORMATS) as image:
                return image.format or "", image.size, bool(getattr(image, "is_animated", False))
        except Image.DecompressionBombError as exc:
            raise ImageRefused(UNPROCESSABLE, name) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise ImageRefused(UNREADABLE, name) from exc


def target_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size a reference is sent at: at most `max_side` a side and 36 MP, never under 15 px a side."""
    scale = min(1.0, max_side / max(width, height), math.sqrt(API_MAX_PIXELS / (width * height)))
    if scale >= 1.0:
        return width, height
    return max(API_MIN_SIDE, round(width * scale)), max(API_MIN_SIDE, round(height * scale))


def prepare_reference(data: bytes, name: str, *, max_side: int = 2048) -> PreparedReference:
    """Check that `data` is a real image within the API's limits; decode only what is needed, downscale, re-encode."""
    header = read_reference_header(data, name, max_side=max_side)
    target = target_size(header.width, header.height, max_side)
    image = _open(data, name, target=target)
    fmt = API_FORMATS.get(image.format or "")
    orientation = image.getexif().get(0x0112, 1)
    if fmt and len(data) <= API_MAX_BYTES and target == image.size and orientation in (0, 1):
        return PreparedReference(data, f"image/{fmt}", *image.size)
    if image.size != target:  # reducing_gap: a box reduction first only when over 3x the target (faster)
        image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if (method := _EXIF_TRANSPOSE.get(orientation)) is not None:
        image = image.transpose(method)
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
    """Make an output image fit `limit` bytes: re-encode first, then downscale; never drop it. A PNG stays PNG
    (it was asked for, perhaps for its transparency): it is only downscaled."""
    fmt = "png" if data.startswith(PNG_SIGNATURE) else "jpeg"
    if len(data) <= limit:
        width, height = image_size(data)
        return FittedImage(data, width, height, changed=False, format=fmt)
    image = _open(data, "output")
    if fmt == "png":
        return _fit_png(image, limit, len(data))
    rgb = image.convert("RGB")
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


def _fit_png(image: Image.Image, limit: int, length: int) -> FittedImage:
    scale = math.sqrt(limit / length) * 0.9
    while True:
        size = (max(16, int(image.width * scale)), max(16, int(image.height * scale)))
        out = io.BytesIO()
        image.resize(size, Image.Resampling.LANCZOS).save(out, "PNG", optimize=False)
        encoded = out.getvalue()
        if len(encoded) <= limit or size == (16, 16):
            return FittedImage(encoded, size[0], size[1], changed=True, format="png")
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
        raise BadAttachment(_("The image service returned a file that is not an image.")) from exc
