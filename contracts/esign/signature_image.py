"""The optional drawn signature, as the signing page's canvas posts it: a PNG data URL.

It is hostile input like any form field, and it ends up on the certificate page of the sealed
contract, so only a small, real PNG gets through, and it is redrawn into a fresh PNG: nothing
the sender put beside the pixels (text chunks, profiles, extra frames) is kept.
"""

import base64
import binascii
import io

from PIL import Image, UnidentifiedImageError

DATA_URL_PREFIX = "data:image/png;base64,"
MAX_BYTES = 200 * 1024
MAX_WIDTH_PX = 1200
MAX_HEIGHT_PX = 600
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Base64 needs 4 characters per 3 bytes: anything longer cannot decode to MAX_BYTES or less,
# so it is refused before decoding.
_MAX_ENCODED_CHARS = -(-MAX_BYTES // 3) * 4


def clean_drawn_signature(value: str) -> bytes | None:
    """A fresh PNG of the drawing, or None when nothing was drawn; ValueError, worded for the
    signer, for anything that is not a drawing we can keep."""
    value = (value or "").strip()
    if not value:
        return None
    if not value.startswith(DATA_URL_PREFIX):
        raise ValueError("The drawn signature must be a PNG image from the signature box.")
    encoded = value.removeprefix(DATA_URL_PREFIX)
    if len(encoded) > _MAX_ENCODED_CHARS:
        raise ValueError(_too_large())
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("The drawn signature could not be read (damaged image data).") from exc
    if len(data) > MAX_BYTES:
        raise ValueError(_too_large())
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("The drawn signature must be a PNG image from the signature box.")
    return _redrawn(data)


def _too_large() -> str:
    return f"The drawn signature is too large (at most {MAX_BYTES // 1024} KB)."


def _too_many_pixels() -> str:
    return f"The drawn signature is too large (at most {MAX_WIDTH_PX} x {MAX_HEIGHT_PX} pixels)."


def _redrawn(data: bytes) -> bytes | None:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            # The header's size, checked before any pixel is decompressed (a small file can
            # inflate to gigabytes).
            if probe.format != "PNG":
                raise ValueError("The drawn signature must be a PNG image from the signature box.")
            if probe.width > MAX_WIDTH_PX or probe.height > MAX_HEIGHT_PX:
                raise ValueError(_too_many_pixels())
            probe.verify()
        # verify() leaves the image unusable: open it again to read the pixels.
        with Image.open(io.BytesIO(data)) as image:
            pixels = image.convert("RGBA")
    except Image.DecompressionBombError as exc:  # Pillow's own limit, far above ours
        raise ValueError(_too_many_pixels()) from exc
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValueError("The drawn signature could not be read (damaged image).") from exc
    # An empty canvas is no signature (a tap on Clear then Sign), not a blank box on the
    # certificate page.
    if pixels.getchannel("A").getbbox() is None:
        return None
    # A new image holds only the pixels: no text chunks, ICC profile, EXIF or animation.
    fresh = Image.frombytes("RGBA", pixels.size, pixels.tobytes())
    buffer = io.BytesIO()
    fresh.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
