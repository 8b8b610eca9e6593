"""Scaled WebP decoding through libwebp's advanced API (ctypes): a 35 MP WebP is decoded straight to 2048 px.

Pillow decodes a WebP at full size into two full-size canvases plus the image (about 12 bytes a pixel), and holds
the GIL while it does. libwebp can rescale while it decodes, row by row, so only the output is ever held. We use
the libwebp Pillow ships with (or the system's); without one, callers fall back to Pillow.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import glob
import os

import PIL
from PIL import Image

_ABI = 0x0209  # WEBP_DECODER_ABI_VERSION: the structs below; libwebp refuses an incompatible major version
_MODE_RGB, _MODE_RGBA = 0, 1


class _Features(ctypes.Structure):
    _fields_ = [
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("has_alpha", ctypes.c_int),
        ("has_animation", ctypes.c_int),
        ("format", ctypes.c_int),
        ("pad", ctypes.c_uint32 * 5),
    ]


class _RGBA(ctypes.Structure):
    _fields_ = [("rgba", ctypes.c_void_p), ("stride", ctypes.c_int), ("size", ctypes.c_size_t)]


class _YUVA(ctypes.Structure):
    _fields_ = [(n, ctypes.c_void_p) for n in ("y", "u", "v", "a")]
    _fields_ += [(n, ctypes.c_int) for n in ("y_stride", "u_stride", "v_stride", "a_stride")]
    _fields_ += [(n, ctypes.c_size_t) for n in ("y_size", "u_size", "v_size", "a_size")]


class _Planes(ctypes.Union):
    _fields_ = [("RGBA", _RGBA), ("YUVA", _YUVA)]


class _Buffer(ctypes.Structure):
    _fields_ = [
        ("colorspace", ctypes.c_int),
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("is_external_memory", ctypes.c_int),
        ("u", _Planes),
        ("pad", ctypes.c_uint32 * 4),
        ("private_memory", ctypes.c_void_p),
    ]


_OPTIONS: tuple[str, ...] = (
    "bypass_filtering",
    "no_fancy_upsampling",
    "use_cropping",
    "crop_left",
    "crop_top",
    "crop_width",
)
_OPTIONS += ("crop_height", "use_scaling", "scaled_width", "scaled_height", "use_threads", "dithering_strength")
_OPTIONS += ("flip", "alpha_dithering_strength")


class _Options(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int) for n in _OPTIONS] + [("pad", ctypes.c_uint32 * 5)]


class _Config(ctypes.Structure):
    _fields_ = [("input", _Features), ("output", _Buffer), ("options", _Options)]


@functools.cache
def _library() -> ctypes.CDLL | None:
    bundled = os.path.join(os.path.dirname(os.path.dirname(PIL.__file__)), "pillow.libs", "libwebp-*.so*")
    for path in [*sorted(glob.glob(bundled)), ctypes.util.find_library("webp")]:
        if path:
            try:
                library = ctypes.CDLL(path)
                if library.WebPInitDecoderConfigInternal(ctypes.byref(_Config()), _ABI):
                    return library
            except (OSError, AttributeError):
                continue
    return None


def available() -> bool:
    """Whether a usable libwebp was found."""
    return _library() is not None


def decode_scaled(data: bytes, size: tuple[int, int]) -> Image.Image | None:
    """A still WebP decoded straight to `size`; None when this path cannot be used (no libwebp, animation)."""
    library = _library()
    if library is None:
        return None
    config = _Config()
    if not library.WebPInitDecoderConfigInternal(ctypes.byref(config), _ABI):
        return None
    if library.WebPGetFeaturesInternal(data, ctypes.c_size_t(len(data)), ctypes.byref(config.input), _ABI) != 0:
        raise ValueError("not a WebP file")
    if config.input.has_animation:
        return None
    mode = "RGBA" if config.input.has_alpha else "RGB"
    width, height = size
    pixels = bytearray(width * height * len(mode))
    config.options.use_scaling, config.options.scaled_width, config.options.scaled_height = 1, width, height
    config.output.colorspace = _MODE_RGBA if mode == "RGBA" else _MODE_RGB
    config.output.is_external_memory = 1
    config.output.u.RGBA.rgba = ctypes.addressof((ctypes.c_char * len(pixels)).from_buffer(pixels))
    config.output.u.RGBA.stride = width * len(mode)
    config.output.u.RGBA.size = len(pixels)
    if library.WebPDecode(data, ctypes.c_size_t(len(data)), ctypes.byref(config)) != 0:
        raise ValueError("broken WebP data")
    return Image.frombuffer(mode, size, pixels, "raw", mode, 0, 1).copy()
