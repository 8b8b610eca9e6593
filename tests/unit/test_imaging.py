"""Reference preparation and output fitting."""

from __future__ import annotations

import base64
import io
import os

import pytest
from PIL import Image

from bot.errors import BadAttachment
from bot.imaging import fit_for_upload, prepare_reference
from tests.images import jpeg, noise_jpeg, png


def test_small_png_passes_through_unchanged() -> None:
    data = png(100, 80)
    ref = prepare_reference(data, "a.png")
    assert ref.data == data and ref.mime == "image/png" and (ref.width, ref.height) == (100, 80)
    assert ref.data_url().startswith("data:image/png;base64,")
    assert base64.b64decode(ref.data_url().split(",", 1)[1]) == data


def test_webp_is_re_encoded_to_an_api_format() -> None:
    out = io.BytesIO()
    Image.new("RGB", (50, 50), (1, 2, 3)).save(out, "WEBP")
    ref = prepare_reference(out.getvalue(), "a.webp")
    assert ref.mime == "image/jpeg"
    assert Image.open(io.BytesIO(ref.data)).format == "JPEG"


def test_transparent_png_keeps_alpha_when_re_encoded() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (3000, 1000), (1, 2, 3, 0)).save(out, "PNG")
    ref = prepare_reference(out.getvalue(), "wide.png", max_side=2048)
    assert ref.mime == "image/png" and ref.width == 2048


def test_large_image_is_downscaled_to_max_side() -> None:
    ref = prepare_reference(jpeg(4000, 3000), "big.jpg", max_side=2048)
    assert (ref.width, ref.height) == (2048, 1536)
    assert Image.open(io.BytesIO(ref.data)).size == (2048, 1536)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"hello, this is text", "not a readable image"),
        (png(64, 64)[:40], "not a readable image"),
        (png(10, 10), "too small"),
        (png(1, 1), "too small"),
        (png(1700, 100), "long and thin"),
    ],
)
def test_bad_references_are_refused_with_reasons(data: bytes, words: str) -> None:
    with pytest.raises(BadAttachment, match=words):
        prepare_reference(data, "x.png")


def test_decompression_bomb_is_refused() -> None:
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, "PNG")  # tiny file, 400 MP when decoded
    with pytest.raises(BadAttachment, match="too large"):
        prepare_reference(out.getvalue(), "bomb.png")


def test_output_within_limit_is_untouched() -> None:
    data = jpeg(300, 200)
    fitted = fit_for_upload(data, 10 * 1024 * 1024)
    assert fitted.data == data and not fitted.changed and (fitted.width, fitted.height) == (300, 200)


def test_oversized_output_is_made_to_fit() -> None:
    data = noise_jpeg(2048, 2048)
    limit = len(data) // 4
    fitted = fit_for_upload(data, limit)
    assert fitted.changed and len(fitted.data) <= limit
    assert Image.open(io.BytesIO(fitted.data)).size == (fitted.width, fitted.height)


def test_an_oversized_png_output_stays_png_with_its_transparency() -> None:
    image = Image.frombytes("RGBA", (1024, 1024), os.urandom(1024 * 1024 * 4))
    out = io.BytesIO()
    image.save(out, "PNG")
    data = out.getvalue()
    assert fit_for_upload(data, len(data)).format == "png"  # fits: unchanged, still known as PNG
    fitted = fit_for_upload(data, len(data) // 3)
    assert fitted.changed and fitted.format == "png" and len(fitted.data) <= len(data) // 3
    smaller = Image.open(io.BytesIO(fitted.data))
    assert smaller.format == "PNG" and smaller.mode == "RGBA" and smaller.size == (fitted.width, fitted.height)
    assert fit_for_upload(noise_jpeg(64, 64), 10**6).format == "jpeg"
