"""The drawn signature: a small real PNG gets through redrawn; anything else is refused in words."""

import base64
import io
import random
import zlib

import pytest
from PIL import Image, PngImagePlugin

from contracts.esign.signature_image import (
    MAX_BYTES,
    MAX_HEIGHT_PX,
    MAX_WIDTH_PX,
    clean_drawn_signature,
)


def _png(size=(600, 200), *, stroke=True, pnginfo=None, mode="RGBA") -> bytes:
    image = Image.new(mode, size, (0, 0, 0, 0) if mode == "RGBA" else 255)
    if stroke:
        for x in range(50, 300):
            image.putpixel((x, 100 + x % 20), (20, 20, 60, 255) if mode == "RGBA" else 0)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=pnginfo)
    return buffer.getvalue()


def _data_url(data: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def _chunk(kind: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")


def test_a_drawing_comes_back_as_a_fresh_png_with_the_same_pixels():
    drawn = _png()
    cleaned = clean_drawn_signature(_data_url(drawn))
    assert cleaned.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(cleaned)) as image, Image.open(io.BytesIO(drawn)) as original:
        assert image.format == "PNG"
        assert image.size == (600, 200)
        assert image.convert("RGBA").tobytes() == original.convert("RGBA").tobytes()


@pytest.mark.parametrize("value", ["", "   ", None])
def test_nothing_drawn_is_no_signature(value):
    assert clean_drawn_signature(value) is None


def test_an_empty_canvas_is_no_signature():
    assert clean_drawn_signature(_data_url(_png(stroke=False))) is None


def test_text_chunks_and_other_metadata_are_dropped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    info.add_text("Author", "someone else", zip=True)
    drawn = _png(pnginfo=info)
    assert b"tEXt" in drawn
    assert b"zTXt" in drawn
    cleaned = clean_drawn_signature(_data_url(drawn))
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP", b"<script>"):
        assert chunk not in cleaned
    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.text == {}


def test_a_grayscale_png_is_accepted_and_redrawn_as_rgba():
    cleaned = clean_drawn_signature(_data_url(_png(mode="L")))
    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.mode == "RGBA"


@pytest.mark.parametrize(
    "value",
    [
        "https://evil.example/signature.png",
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk",  # base64 alone
        "javascript:alert(1)",
        "DATA:IMAGE/PNG;BASE64,AAAA",
        _data_url(b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
        _data_url(b"<html></html>", "text/html"),
    ],
)
def test_anything_but_a_png_data_url_is_refused(value):
    with pytest.raises(ValueError, match="must be a PNG image"):
        clean_drawn_signature(value)


def test_a_jpeg_is_refused_even_when_it_claims_to_be_png():
    buffer = io.BytesIO()
    Image.new("RGB", (300, 100), "white").save(buffer, format="JPEG")
    with pytest.raises(ValueError, match="must be a PNG image"):
        clean_drawn_signature(_data_url(buffer.getvalue()))
    with pytest.raises(ValueError, match="must be a PNG image"):
        clean_drawn_signature(_data_url(buffer.getvalue(), "image/jpeg"))


@pytest.mark.parametrize("payload", ["not base64!!", "iVBORw0KGgo=AAAA", "iVBORw0KGgoA\x00"])
def test_bad_base64_is_refused(payload):
    with pytest.raises(ValueError, match="could not be read"):
        clean_drawn_signature("data:image/png;base64," + payload)


def test_a_png_with_a_broken_body_is_refused():
    drawn = bytearray(_png())
    drawn[60] ^= 0xFF  # inside the image data: its checksum no longer matches
    with pytest.raises(ValueError, match="could not be read"):
        clean_drawn_signature(_data_url(bytes(drawn)))


def test_more_than_the_size_limit_is_refused_before_decoding():
    noise = Image.frombytes("RGBA", (600, 200), random.Random(14).randbytes(600 * 200 * 4))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")  # noise does not compress: ~480 KB
    assert len(buffer.getvalue()) > MAX_BYTES
    with pytest.raises(ValueError, match="too large \\(at most 200 KB\\)"):
        clean_drawn_signature(_data_url(buffer.getvalue()))
    with pytest.raises(ValueError, match="too large"):
        clean_drawn_signature("data:image/png;base64," + "A" * 10_000_000)


@pytest.mark.parametrize("size", [(MAX_WIDTH_PX + 1, 10), (10, MAX_HEIGHT_PX + 1)])
def test_an_image_bigger_than_the_signature_box_is_refused(size):
    with pytest.raises(ValueError, match="at most 1200 x 600 pixels"):
        clean_drawn_signature(_data_url(_png(size, stroke=False)))


@pytest.mark.parametrize("side", [5_000, 100_000])  # under and over Pillow's own bomb limit
def test_a_small_file_claiming_huge_dimensions_is_refused_without_decoding(side):
    # A decompression bomb: a header saying side x side pixels and a few bytes of data.
    header = side.to_bytes(4, "big") * 2 + bytes([8, 6, 0, 0, 0])
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + _chunk(b"IEND", b"")
    )
    with pytest.raises(ValueError, match="at most 1200 x 600 pixels"):
        clean_drawn_signature(_data_url(bomb))
