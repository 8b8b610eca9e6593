"""Image count from the prompt and distinct JPEG rendering for the fake image API."""

from __future__ import annotations

import hashlib
import io
import os
import re

from PIL import Image, ImageDraw, ImageFont, features

_NUMBER_WORDS = (
    *("one", "two", "three", "four", "five", "six", "seven", "eight"),
    *("nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen"),
)
_NUMBER = r"(?P<n>[0-9]{1,3}|" + "|".join(_NUMBER_WORDS) + r")"
_NOT_NUMBER = r"(?![0-9]|(?:" + "|".join(_NUMBER_WORDS) + r")\b)"
_NOUNS = (
    r"(?:images?|pictures?|pics?|photos?|photographs?|illustrations?|drawings?|paintings?"
    r"|variations?|versions?|panels?|frames?|shots?|renders?|artworks?|stickers?|icons?"
    r"|posters?|wallpapers?|scenes?|sketch(?:es)?|designs?|portraits?|views?|options?)"
)
_COUNT_PATTERNS = (
    # "4 images", "six cute cat pictures", "3 different versions"
    re.compile(rf"\b{_NUMBER}\s+(?:{_NOT_NUMBER}[\w'-]+\s+){{0,3}}?{_NOUNS}\b", re.IGNORECASE),
    # "generate 4 ...", "give me five ..."
    re.compile(
        rf"\b(?:generate|create|make|draw|produce|render|paint|design|give me|show me)"
        rf"\s+(?:me\s+)?{_NUMBER}\b",
        re.IGNORECASE,
    ),
    # "a set of six", "a series of 3"
    re.compile(
        rf"\b(?:set|series|sequence|collection|batch|group|grid|storyboard)\s+of\s+{_NUMBER}\b",
        re.IGNORECASE,
    ),
)


def stated_count(prompt: str) -> int | None:
    """The number of images the prompt asks for, if it states one (earliest mention)."""
    found: list[tuple[int, int]] = []
    for pattern in _COUNT_PATTERNS:
        for match in pattern.finditer(prompt):
            value = _number(match["n"])
            if value >= 1:
                found.append((match.start(), value))
                break
    return min(found)[1] if found else None


def _number(text: str) -> int:
    lowered = text.lower()
    if lowered in _NUMBER_WORDS:
        return _NUMBER_WORDS.index(lowered) + 1
    return int(lowered)


def image_count(prompt: str, *, sequential: bool, max_images: int, set_cap: int | None) -> int:
    """How many images the fake model produces for a request."""
    count = 1
    if sequential:
        count = min(stated_count(prompt) or 1, max_images)
    if set_cap is not None:
        count = min(count, max(set_cap, 0))
    return count


def render_jpeg(
    prompt: str,
    index: int,
    serial: int,
    size: tuple[int, int],
    *,
    noise: bool = False,
    watermark: bool = False,
) -> bytes:
    """A distinct JPEG: colour from (prompt, index), index and serial drawn on it."""
    return render_image(prompt, index, serial, size, noise=noise, watermark=watermark)


def render_image(
    prompt: str,
    index: int,
    serial: int,
    size: tuple[int, int],
    *,
    noise: bool = False,
    watermark: bool = False,
    fmt: str = "jpeg",
) -> bytes:
    """A distinct JPEG (or PNG with a transparent corner): colour from (prompt, index), index and serial on it."""
    width, height = size
    digest = hashlib.sha256(f"{prompt}\0{index}".encode()).digest()
    background = (digest[0], digest[1], digest[2])
    accent = (255 - digest[0], 255 - digest[1], 255 - digest[2])
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(width * height * 3))
    else:
        image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    box_w, box_h = max(width // 3, 1), max(height // 3, 1)
    left = digest[3] * (width - box_w) // 255
    top = digest[4] * (height - box_h) // 255
    draw.ellipse((left, top, left + box_w, top + box_h), fill=accent)
    draw.rectangle((0, 0, width - 1, height - 1), outline=accent, width=max(width // 100, 1))
    side = min(width, height)
    draw.text((side // 20, side // 20), f"#{index} ({serial})", fill=accent, font=_font(side // 8))
    if watermark:
        font = _font(max(side // 30, 10))
        mark = "AI generated"
        right, bottom = draw.textbbox((0, 0), mark, font=font)[2:]
        position = (width - right - side // 50, height - bottom - side // 50)
        draw.text(position, mark, fill=(255, 255, 255), font=font)
    out = io.BytesIO()
    if fmt == "png":
        image = image.convert("RGBA")
        image.paste((0, 0, 0, 0), (0, 0, max(width // 8, 1), max(height // 8, 1)))
        image.save(out, "PNG")
    else:
        image.save(out, "JPEG", quality=90)
    return out.getvalue()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if features.check("freetype2"):
        return ImageFont.load_default(max(size, 8))
    return ImageFont.load_default()
