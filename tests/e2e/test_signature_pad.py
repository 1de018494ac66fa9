"""static/js/signature_pad.js in Chromium: mouse, touch and phone-sized drawing reach the form as
a PNG the server keeps; Clear and "nothing drawn" post nothing; no JavaScript, no pad.

The signing page is not built yet, so a tiny page is served from a temp dir, under a CSP that
refuses inline script as the app's pages must."""

import base64
import io
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from PIL import Image
from playwright.sync_api import expect

from contracts.esign.signature_image import clean_drawn_signature

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "static" / "js" / "signature_pad.js"
SCREENSHOTS = ROOT / "var" / "screenshots"
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'"
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Signature pad</title>
<style>
  body {{ font-family: sans-serif; margin: 16px; }}
  canvas {{ display: block; width: 100%; max-width: 600px; border: 1px solid #8a8fa8;
           border-radius: 6px; background: #fff; }}
</style></head>
<body>
<form method="post" action="/submit">
  <label>Type your full name <input name="typed_name" value="Jordan Signer"></label>
  <div data-signature-wrap hidden>
    <p>Draw your signature (optional)</p>
    <canvas data-signature-pad width="600" height="200"></canvas>
    <button type="button" data-signature-clear>Clear</button>
  </div>
  <input type="hidden" name="drawn_signature" value="{kept}">
  <button type="submit">Sign</button>
</form>
<script src="/signature_pad.js"></script>
</body></html>
"""


class _PadServer(ThreadingHTTPServer):
    posted: list[dict[str, str]]


class _Handler(SimpleHTTPRequestHandler):
    server: _PadServer

    def end_headers(self):
        self.send_header("Content-Security-Policy", CSP)
        super().end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        fields = parse_qs(body, keep_blank_values=True)
        self.server.posted.append({name: values[0] for name, values in fields.items()})
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(b"<p id=received>received</p>")

    def log_message(self, *args):
        pass


@pytest.fixture
def pad_server(tmp_path):
    shutil.copy(SCRIPT, tmp_path / "signature_pad.js")
    (tmp_path / "favicon.ico").write_bytes(b"")  # else a 404 in the console
    server = _PadServer(("127.0.0.1", 0), lambda *a: _Handler(*a, directory=str(tmp_path)))
    server.posted = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, tmp_path
    server.shutdown()
    server.server_close()


@pytest.fixture
def pad(pad_server, page):
    """pad(kept="") opens the test page; returns the list the server's posts go to."""
    server, root = pad_server
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def open_page(kept: str = "") -> list[dict[str, str]]:
        (root / "index.html").write_text(PAGE.format(kept=kept), encoding="utf-8")
        page.goto(f"http://127.0.0.1:{server.server_port}/index.html")
        expect(page.locator("canvas[data-signature-pad]")).to_be_visible()
        return server.posted

    yield open_page
    assert errors == []  # no CSP violation, no script error


def _draw_with_mouse(page, *, across: float = 0.8) -> None:
    box = page.locator("canvas").bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.6
    page.mouse.move(x0, y0)
    page.mouse.down()
    for step in range(1, 21):
        x = x0 + box["width"] * across * step / 20
        y = y0 - box["height"] * 0.3 * (step % 4) / 4
        page.mouse.move(x, y)
    page.mouse.up()


def _submit(page, posted) -> dict[str, str]:
    page.get_by_role("button", name="Sign").click()
    expect(page.locator("#received")).to_be_visible()
    assert len(posted) == 1
    return posted[0]


def _canvas_is_blank(page) -> bool:
    return page.evaluate(
        """() => {
          const c = document.querySelector("canvas");
          return c.getContext("2d").getImageData(0, 0, c.width, c.height).data.every(v => v === 0);
        }"""
    )


def _inked_box(png: bytes) -> tuple[int, int, int, int]:
    with Image.open(io.BytesIO(png)) as image:
        return image.getchannel("A").getbbox()


def test_a_mouse_drawing_is_posted_as_a_png_the_server_keeps(page, pad, screenshot):
    posted = pad()
    _draw_with_mouse(page)
    assert not _canvas_is_blank(page)
    screenshot("signature-pad-drawn")
    form = _submit(page, posted)
    assert form["typed_name"] == "Jordan Signer"
    assert form["drawn_signature"].startswith("data:image/png;base64,")
    kept = clean_drawn_signature(form["drawn_signature"])
    with Image.open(io.BytesIO(kept)) as image:
        assert image.size == (600, 200)  # the canvas's own size, not its size on screen
    left, _, right, _ = _inked_box(kept)
    assert right - left > 400  # the stroke went across the box


def test_nothing_drawn_posts_nothing(page, pad):
    posted = pad()
    assert _submit(page, posted)["drawn_signature"] == ""


def test_clear_empties_the_canvas_and_the_field(page, pad):
    posted = pad()
    _draw_with_mouse(page)
    page.get_by_role("button", name="Clear").click()
    assert _canvas_is_blank(page)
    assert page.locator("input[name=drawn_signature]").input_value() == ""
    assert _submit(page, posted)["drawn_signature"] == ""


def _kept_drawing() -> str:
    """A drawing as the page would echo it back after an error: a line from x 100 to 499."""
    drawn = Image.new("RGBA", (600, 200))
    for x in range(100, 500):
        drawn.putpixel((x, 100), (0, 0, 0, 255))
    buffer = io.BytesIO()
    drawn.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _wait_for_ink(page) -> None:
    page.wait_for_function(
        """() => {
          const c = document.querySelector("canvas");
          return c.getContext("2d").getImageData(0, 0, c.width, c.height).data.some(v => v);
        }"""
    )


def test_a_drawing_the_page_kept_is_shown_and_posted_again(page, pad):
    posted = pad(kept=_kept_drawing())
    _wait_for_ink(page)
    kept = clean_drawn_signature(_submit(page, posted)["drawn_signature"])
    assert _inked_box(kept) == (100, 100, 500, 101)


def test_clear_after_a_drawing_was_kept_posts_nothing(page, pad):
    posted = pad(kept=_kept_drawing())
    _wait_for_ink(page)
    page.get_by_role("button", name="Clear").click()
    assert _canvas_is_blank(page)
    assert _submit(page, posted)["drawn_signature"] == ""


def test_on_a_phone_a_finger_draws_across_the_whole_box(pad_server, browser):
    server, root = pad_server
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    try:
        page = context.new_page()
        (root / "index.html").write_text(PAGE.format(kept=""), encoding="utf-8")
        page.goto(f"http://127.0.0.1:{server.server_port}/index.html")
        box = page.locator("canvas").bounding_box()
        assert box["width"] < 600  # shown smaller than its pixels: the script must scale
        cdp = context.new_cdp_session(page)
        y = box["y"] + box["height"] / 2
        xs = [box["x"] + box["width"] * f for f in (0.05, 0.3, 0.6, 0.95)]
        # Real touch input (not synthetic DOM events), as a finger on a phone sends it.
        touches = [("touchStart", xs[0])] + [("touchMove", x) for x in xs[1:]]
        for kind, x in touches:
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "signature-pad-phone.png"))
        page.get_by_role("button", name="Sign").click()
        expect(page.locator("#received")).to_be_visible()
        kept = clean_drawn_signature(server.posted[0]["drawn_signature"])
        left, _, right, _ = _inked_box(kept)
        assert left < 60
        assert right > 540  # finger positions mapped onto the 600 px canvas
    finally:
        context.close()


def test_without_javascript_there_is_no_pad_and_the_form_still_posts(pad_server, browser):
    server, root = pad_server
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        (root / "index.html").write_text(PAGE.format(kept=""), encoding="utf-8")
        page.goto(f"http://127.0.0.1:{server.server_port}/index.html")
        expect(page.locator("canvas[data-signature-pad]")).to_be_hidden()
        page.get_by_role("button", name="Sign").click()
        expect(page.locator("#received")).to_be_visible()
        assert server.posted == [{"typed_name": "Jordan Signer", "drawn_signature": ""}]
    finally:
        context.close()
