"""Small image factories for tests."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A PNG of one colour."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def jpeg(width: int = 64, height: int = 48, color: tuple[int, int, int] = (30, 30, 200), quality: int = 90) -> bytes:
    """A JPEG of one colour."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG", quality=quality)
    return out.getvalue()


def noise_jpeg(width: int, height: int, quality: int = 95) -> bytes:
    """A JPEG of random noise: large on purpose."""
    import os

    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def tiny(fmt: str, width: int, height: int) -> bytes:
    """A file of a few KB that decodes to width x height pixels."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 160)).save(out, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    return out.getvalue()


def declared_png(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares width x height and whose pixel data is a few bytes (never decodable in full)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
