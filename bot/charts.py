"""Bar charts drawn with Pillow (CPU work, and the first use reads the font: call through asyncio.to_thread, which
keeps the caller's language).

Member names and labels may be in any script: the charts use Noto Sans CJK (Debian's fonts-noto-cjk, installed
by the Dockerfile), which draws Latin, Cyrillic, Chinese, Japanese and Korean, in the face of the current
language's region (a Han character is drawn the Chinese, Japanese or Korean way). Without it, DejaVu Sans (Latin,
Cyrillic, Greek), then Pillow's own font.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bot.i18n import N_, _, current_language

BACKGROUND = (43, 45, 49)
BAR = (88, 101, 242)
BAR_ALT = (235, 69, 158)
TEXT = (242, 243, 245)
MUTED = (148, 155, 164)


Font = ImageFont.ImageFont | ImageFont.FreeTypeFont
# Where distributions put Noto Sans CJK (a collection: one face per region), and DejaVu Sans.
CJK_FONTS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),  # Debian, Ubuntu
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),  # Arch
    Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"),  # Fedora
)
FALLBACK_FONTS = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), Path("/usr/share/fonts/TTF/DejaVuSans.ttf"))
_FACES = {"ja": 0, "ko": 1, "zh-CN": 2, "zh-TW": 3}  # the collection's JP, KR, SC and TC faces; others: JP
NOTHING_YET = N_("Nothing yet.")
DAILY_LEGEND = N_("images per UTC day (pink mark: a day with failures)")


def _font(size: int) -> Font:
    return _load_font(size, _FACES.get(current_language(), 0))


@functools.lru_cache(maxsize=32)
def _load_font(size: int, face: int) -> Font:
    candidates = [(path, face) for path in CJK_FONTS] + [(path, 0) for path in FALLBACK_FONTS]
    for path, index in candidates:
        try:
            return ImageFont.truetype(str(path), size, index=index)
        except OSError:  # not installed here
            continue
    try:
        return ImageFont.load_default(size=size)
    except (OSError, TypeError):  # Pillow built without FreeType
        return ImageFont.load_default()


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _fit(draw: ImageDraw.ImageDraw, label: str, font: Font, width: int) -> str:
    if draw.textlength(label, font=font) <= width:
        return label
    while label and draw.textlength(label + "…", font=font) > width:
        label = label[:-1]
    return label + "…"


def top_chart(title: str, rows: Sequence[tuple[str, int]], unit: str) -> bytes:
    """Horizontal bars, one per (label, value), largest first as given; returns PNG bytes."""
    width, row_height, top, left = 900, 44, 70, 250
    height = top + row_height * max(1, len(rows)) + 30
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((24, 20), title, fill=TEXT, font=_font(26))
    font, small = _font(20), _font(18)
    peak = max((value for _, value in rows), default=0) or 1
    span = width - left - 110
    for i, (label, value) in enumerate(rows):
        y = top + i * row_height
        draw.text((24, y + 8), _fit(draw, f"{i + 1}. {label}", font, left - 40), fill=TEXT, font=font)
        bar = max(2, round(span * value / peak))
        draw.rounded_rectangle((left, y + 6, left + bar, y + row_height - 8), radius=6, fill=BAR)
        draw.text((left + bar + 10, y + 10), f"{value} {unit}", fill=MUTED, font=small)
    if not rows:
        draw.text((24, top + 8), _(NOTHING_YET), fill=MUTED, font=font)
    return _png(image)


def daily_chart(title: str, days: Sequence[tuple[str, int, int]]) -> bytes:
    """Vertical bars per day: (label, images, failed requests); returns PNG bytes."""
    width, height, left, bottom, top = 1000, 420, 60, 60, 70
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((24, 20), title, fill=TEXT, font=_font(24))
    small = _font(14)
    peak = max((images for _, images, _ in days), default=0) or 1
    plot_h = height - top - bottom
    step = (width - left - 20) / max(1, len(days))
    draw.text((10, top - 6), str(peak), fill=MUTED, font=small)
    draw.line((left - 4, top, left - 4, height - bottom), fill=MUTED)
    for i, (label, images, failed) in enumerate(days):
        x0 = left + i * step + 2
        x1 = x0 + max(2, step - 4)
        y0 = height - bottom - plot_h * images / peak
        draw.rectangle((x0, y0, x1, height - bottom), fill=BAR)
        if failed:
            draw.rectangle((x0, height - bottom - 4, x1, height - bottom), fill=BAR_ALT)
        if i % 5 == 0 or i == len(days) - 1:
            draw.text((x0, height - bottom + 8), label, fill=MUTED, font=small)
    draw.text((left, height - 26), _(DAILY_LEGEND), fill=MUTED, font=small)
    return _png(image)
