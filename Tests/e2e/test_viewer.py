"""The HTML graph viewer (the text/html bundle of `show`) running in a real browser.

A real model's drawing is produced through `graphsmith run ... --format json`, wrapped in a page
and loaded in headless Chromium, driven over the DevTools protocol on a pipe
(`--remote-debugging-pipe`: NUL-separated JSON on fds 3 and 4, so only the standard library is
needed). Checked: the inline script runs without errors, the search box finds a node by name and
centres it, Enter moves to the next hit, the wheel zooms about the pointer, a drag pans, the
fit button shows the whole drawing in both dimensions (tall and wide drawings), `show PATH` opens
centred on PATH, a click on a box opens the side panel (op, attributes, typed inputs and outputs,
path) that the close button and Escape dismiss, and legend entries do not overlap as drawn.
Skips when no Chromium is installed
(Debian: `apt-get install chromium`). Set GRAPHSMITH_VIEWER_SHOTS=DIR to keep the screenshots.
"""
from __future__ import annotations

import base64
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """Headless Chromium with one page, spoken to over the DevTools pipe."""

    def __init__(self, exe: str, profile: pathlib.Path):
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire_fds():
            # The child reads commands on fd 3 and writes replies on fd 4. Move both ends
            # out of the way first, in case the pipes themselves got numbers 3 or 4.
            import fcntl
            r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire_fds, close_fds=False)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no reply from chromium")
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, session: bool = False, timeout: float = 30) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def page(self, method: str, params: dict | None = None) -> dict:
        return self.call(method, params, session=True)

    def wait_event(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        while True:
            event = self._read_message(deadline)
            if event.get("method") == method:
                return event
            self.events.append(event)

    def js(self, expression: str):
        result = self.page("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise AssertionError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def errors(self) -> list[str]:
        found = []
        for e in self.events:
            if e.get("method") == "Runtime.exceptionThrown":
                found.append(json.dumps(e["params"]["exceptionDetails"])[:500])
            elif e.get("method") == "Runtime.consoleAPICalled" and e["params"].get("type") == "error":
                found.append(json.dumps(e["params"]["args"])[:500])
            elif e.get("method") == "Log.entryAdded" and e["params"]["entry"].get("level") == "error":
                found.append(e["params"]["entry"].get("text", ""))
        return found

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        os.close(self._from_child)


def show_html(graphsmith_bin, model: str, show: str = "show", cwd: pathlib.Path = NOTEBOOKS) -> str:
    """The HTML bundle of `show ...` on `model`, exactly as the kernel would send it."""
    cells = subprocess.run([str(graphsmith_bin), "run", "-e", f"load {model}", "-e", show,
                            "--format", "json"], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert cells.returncode == 0, cells.stdout + cells.stderr
    bundles = [json.loads(line).get("data", {}) for line in cells.stdout.splitlines()]
    html = next(b["text/html"] for b in bundles if "text/html" in b)
    assert "<script>" in html and "<svg" in html
    return html


# JupyterLab 4's own rule for SVG inside rendered HTML output (rendermime's base.css): without
# inline sizes it overrides the viewer's height="100%" and sizes the SVG by its viewBox.
JUPYTERLAB_CSS = ".jp-RenderedHTMLCommon img, .jp-RenderedHTMLCommon svg { max-width: 100%; height: auto; }"


def open_html(browser, folder: pathlib.Path, name: str, html: str, jupyterlab: bool = True):
    """Loads the bundle in a page, inside JupyterLab's output class and CSS rule by default."""
    page = folder / name
    page.write_text("<!doctype html><html><head><meta charset=\"utf-8\"><title>viewer</title>"
                    + (f"<style>{JUPYTERLAB_CSS}</style>" if jupyterlab else "") + "</head>"
                    "<body style=\"margin:8px\"><div class=\"jp-RenderedHTMLCommon\">" + html + "</div></body></html>",
                    encoding="utf-8")
    browser.events.clear()
    browser.page("Page.navigate", {"url": page.as_uri()})
    browser.wait_event("Page.loadEventFired")
    return page


@pytest.fixture(scope="module")
def viewer_page(graphsmith_bin, tmp_path_factory):
    exe = _chromium()
    if exe is None:
        pytest.skip("no chromium installed (Debian: apt-get install chromium)")
    html = show_html(graphsmith_bin, "models/tiny_bert.onnx")
    folder = tmp_path_factory.mktemp("viewer")
    page = folder / "viewer.html"
    page.write_text("<!doctype html><html><head><meta charset=\"utf-8\"><title>viewer</title></head>"
                    "<body style=\"margin:8px\">" + html + "</body></html>", encoding="utf-8")
    browser = Browser(exe, pathlib.Path(tempfile.mkdtemp(prefix="gs-chromium-")))
    try:
        for domain in ("Runtime.enable", "Page.enable", "Log.enable"):
            browser.page(domain)
        browser.page("Emulation.setDeviceMetricsOverride",
                     {"width": 1200, "height": 800, "deviceScaleFactor": 1, "mobile": False})
        browser.page("Page.navigate", {"url": page.as_uri()})
        browser.wait_event("Page.loadEventFired")
        browser.bundle_html = html
        browser.graphsmith_bin = graphsmith_bin
        yield browser, folder
    finally:
        browser.close()


def viewbox(browser) -> list[float]:
    return [float(v) for v in browser.js("document.querySelector('.gs-stage svg').getAttribute('viewBox')").split()]


def screenshot(browser, folder: pathlib.Path, name: str) -> pathlib.Path:
    data = base64.b64decode(browser.page("Page.captureScreenshot", {"format": "png"})["data"])
    path = folder / name
    path.write_bytes(data)
    keep = os.environ.get("GRAPHSMITH_VIEWER_SHOTS")
    if keep:
        pathlib.Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, pathlib.Path(keep) / name)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def stage_center(browser) -> tuple[float, float]:
    r = browser.js("(function(){var r=document.querySelector('.gs-stage').getBoundingClientRect();"
                   "return [r.left+r.width/2, r.top+r.height/2];})()")
    return r[0], r[1]


def to_drawing(browser, x: float, y: float) -> tuple[float, float]:
    """Drawing (SVG user) coordinates under a page point."""
    p = browser.js(f"(function(){{var s=document.querySelector('.gs-stage svg');var p=s.createSVGPoint();"
                   f"p.x={x};p.y={y};p=p.matrixTransform(s.getScreenCTM().inverse());return [p.x,p.y];}})()")
    return p[0], p[1]


def search(browser, text: str):
    browser.js("(function(){var q=document.querySelector('.gs-q');q.focus();q.value='';})()")
    browser.page("Input.insertText", {"text": text})
    for kind in ("keyDown", "keyUp"):
        browser.page("Input.dispatchKeyEvent", {"type": kind, "key": "Enter", "code": "Enter",
                                                "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13,
                                                **({"text": "\r"} if kind == "keyDown" else {})})


def test_script_runs_and_opens_on_a_readable_view(viewer_page):
    browser, folder = viewer_page
    assert browser.errors() == []
    svg = browser.js("(function(){var s=document.querySelector('.gs-stage svg');"
                     "return [s.getAttribute('width'), s.getAttribute('height'), s.querySelectorAll('.gs-node').length];})()")
    # The script took over sizing (the static fallback has pixel sizes).
    assert svg[0] == "100%" and svg[1] == "100%" and svg[2] > 10
    # tiny_bert's default view is far taller than wide: fitting it would draw boxes a few pixels
    # wide, so the first view is the top of the drawing at 1:1, centred across.
    vb = viewbox(browser)
    stage = browser.js("(function(){var r=document.querySelector('.gs-stage').getBoundingClientRect();return [r.width,r.height];})()")
    assert -20 <= vb[1] <= 0 and vb[2] == pytest.approx(stage[0]) and vb[3] == pytest.approx(stage[1])
    first = browser.js("(function(){var g=document.querySelector('.gs-stage .gs-node rect');"
                       "return [g.getBoundingClientRect().width, +g.getAttribute('width')];})()")
    assert first[0] == pytest.approx(first[1], rel=0.01)
    shot = screenshot(browser, folder, "viewer-initial.png")
    assert shot.stat().st_size > 5_000
    # The fit button shows the whole drawing inside the stage.
    browser.js("document.querySelector('.gs-fit').click()")
    fitted = viewbox(browser)
    assert fitted[3] > vb[3]
    assert_fits(browser)
    screenshot(browser, folder, "viewer-fit.png")


def assert_fits(browser):
    """The whole drawing lies inside the stage and fills it along one dimension, and the SVG is
    exactly the stage's size (JupyterLab's `height: auto` must not resize it)."""
    got = browser.js("(function(){var s=document.querySelector('.gs-stage').getBoundingClientRect();var n=0;"
                     "document.querySelectorAll('.gs-stage .gs-node rect, .gs-stage .gs-frame rect, .gs-stage .gs-group rect, .gs-stage .gs-legend text').forEach(function(e){"
                     "var r=e.getBoundingClientRect();if(r.left<s.left-0.5||r.right>s.right+0.5||r.top<s.top-0.5||r.bottom>s.bottom+0.5)n++;});"
                     "var d=document.querySelector('.gs-stage svg > rect').getBoundingClientRect();"
                     "var v=document.querySelector('.gs-stage svg').getBoundingClientRect();"
                     "return [n, d.width/s.width, d.height/s.height, v.width-s.width, v.height-s.height];})()")
    outside, fw, fh, dw, dh = got
    assert abs(dw) < 1 and abs(dh) < 1, got
    assert outside == 0, f"{outside} boxes lie outside the stage after fit"
    assert max(fw, fh) > 0.95 and fw <= 1.001 and fh <= 1.001, got


def test_search_finds_and_centres_a_node_by_name(viewer_page):
    browser, folder = viewer_page
    # A node name that is not its id: the tooltip title carries it; the search must find it.
    target = browser.js("(function(){var gs=document.querySelectorAll('.gs-stage .gs-node');"
                        "for(var i=0;i<gs.length;i++){var n=gs[i].getAttribute('data-name');"
                        "if(n&&n!==gs[i].getAttribute('data-id')&&n.indexOf('Softmax')>=0)return [n,gs[i].getAttribute('data-id')];}"
                        "return null;})()")
    assert target is not None, "no node carries a data-name with Softmax"
    name, node_id = target
    search(browser, name)
    found = browser.js("(function(){var f=document.querySelectorAll('.gs-stage .gs-found');"
                       "return [f.length, f.length?f[0].getAttribute('data-id'):null, document.querySelector('.gs-msg').textContent];})()")
    assert found[0] == 1 and found[1] == node_id, found
    assert found[2].startswith("1 of ") and found[2].endswith(node_id)
    # The found box is in the middle of the stage, and zoomed in (drawn larger than at fit).
    box = browser.js(f"(function(){{var g=document.querySelector('.gs-stage [data-id=\"{node_id}\"] rect');"
                     "var r=g.getBoundingClientRect();return [r.left+r.width/2,r.top+r.height/2,r.width];})()")
    cx, cy = stage_center(browser)
    assert abs(box[0] - cx) < 3 and abs(box[1] - cy) < 3, (box, cx, cy)
    assert box[2] > 60
    assert viewbox(browser)[2] < 2000
    screenshot(browser, folder, "viewer-search.png")
    assert browser.errors() == []


def test_search_by_op_steps_through_hits(viewer_page):
    browser, _ = viewer_page
    search(browser, "matmul")
    first = browser.js("document.querySelector('.gs-msg').textContent")
    total = int(first.split(" of ")[1].split(":")[0])
    assert first.startswith("1 of ") and total >= 2
    # Enter again (same text) moves to the next hit and re-centres on it.
    for kind in ("keyDown", "keyUp"):
        browser.page("Input.dispatchKeyEvent", {"type": kind, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13})
    second = browser.js("document.querySelector('.gs-msg').textContent")
    assert second.startswith("2 of ")
    box = browser.js("(function(){var g=document.querySelectorAll('.gs-stage .gs-found');if(g.length!==1)return null;"
                     "var r=g[0].querySelector('rect').getBoundingClientRect();"
                     "return [g[0].getAttribute('data-op'),r.left+r.width/2,r.top+r.height/2];})()")
    cx, cy = stage_center(browser)
    assert box is not None and box[0] == "MatMul"
    assert abs(box[1] - cx) < 3 and abs(box[2] - cy) < 3, (box, cx, cy)
    search(browser, "no-such-node-anywhere")
    assert browser.js("document.querySelector('.gs-msg').textContent") == "no match"
    assert browser.js("document.querySelectorAll('.gs-stage .gs-found').length") == 0


def test_wheel_zooms_about_the_pointer_and_drag_pans(viewer_page):
    browser, folder = viewer_page
    browser.js("document.querySelector('.gs-fit').click()")
    before = viewbox(browser)
    cx, cy = stage_center(browser)
    x, y = cx + 120, cy + 60
    anchor = to_drawing(browser, x, y)
    for _ in range(3):
        browser.page("Input.dispatchMouseEvent", {"type": "mouseWheel", "x": x, "y": y, "deltaX": 0, "deltaY": -100})
    after = viewbox(browser)
    # Three notches (100 px each) in: the visible width shrinks by 1.15^3, keeping the aspect ratio.
    assert after[2] == pytest.approx(before[2] / 1.15 ** 3, rel=1e-3)
    assert after[3] == pytest.approx(before[3] / 1.15 ** 3, rel=1e-3)
    # The drawing point under the pointer stays under the pointer.
    moved = to_drawing(browser, x, y)
    assert moved[0] == pytest.approx(anchor[0], abs=0.5) and moved[1] == pytest.approx(anchor[1], abs=0.5)
    # Wheel out again goes back.
    browser.page("Input.dispatchMouseEvent", {"type": "mouseWheel", "x": x, "y": y, "deltaX": 0, "deltaY": 100})
    assert viewbox(browser)[2] == pytest.approx(after[2] * 1.15, rel=1e-3)
    screenshot(browser, folder, "viewer-zoom.png")
    # Drag 100 px right and 50 px down: the drawing follows the pointer.
    start = viewbox(browser)
    under = to_drawing(browser, cx, cy)
    browser.page("Input.dispatchMouseEvent", {"type": "mousePressed", "x": cx, "y": cy, "button": "left", "buttons": 1, "clickCount": 1})
    for k in range(1, 6):
        browser.page("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": cx + 20 * k, "y": cy + 10 * k, "button": "left", "buttons": 1})
    browser.page("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": cx + 100, "y": cy + 50, "button": "left", "buttons": 0, "clickCount": 1})
    end = viewbox(browser)
    assert end[2] == start[2] and end[0] < start[0] and end[1] < start[1]
    dragged = to_drawing(browser, cx + 100, cy + 50)
    assert dragged[0] == pytest.approx(under[0], abs=0.5) and dragged[1] == pytest.approx(under[1], abs=0.5)
    # Moving after the release does not pan any more.
    browser.page("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": cx, "y": cy, "buttons": 0})
    assert viewbox(browser) == end
    browser.js("document.querySelector('.gs-fit').click()")
    assert_fits(browser)
    assert browser.errors() == []


def test_the_same_drawing_twice_on_a_page_gets_two_working_viewers(viewer_page):
    # Showing a graph twice in a notebook puts two identical bundles (same element ids) on one
    # page: each script must drive its own viewer, exactly once.
    browser, folder = viewer_page
    page = folder / "twice.html"
    page.write_text("<!doctype html><html><head><meta charset=\"utf-8\"></head><body>" + browser.bundle_html
                    + "<p>second run</p>" + browser.bundle_html + "</body></html>", encoding="utf-8")
    browser.events.clear()
    browser.page("Page.navigate", {"url": page.as_uri()})
    browser.wait_event("Page.loadEventFired")
    boxes = "Array.prototype.map.call(document.querySelectorAll('.gs-stage svg'),function(s){return s.getAttribute('viewBox');})"
    before = browser.js(boxes)
    # Both were set up (the first before the page grew a scrollbar, so widths may differ a little).
    assert len(before) == 2 and all(b and -20 <= float(b.split()[1]) <= 0 for b in before)
    second = browser.js("(function(){var r=document.querySelectorAll('.gs-stage')[1];r.scrollIntoView();"
                        "r=r.getBoundingClientRect();return [r.left+r.width/2,r.top+r.height/2];})()")
    browser.page("Input.dispatchMouseEvent", {"type": "mouseWheel", "x": second[0], "y": second[1], "deltaX": 0, "deltaY": -100})
    after = browser.js(boxes)
    assert after[0] == before[0], "the first viewer did not move"
    w0, w1 = float(before[1].split()[2]), float(after[1].split()[2])
    assert w1 == pytest.approx(w0 / 1.15, rel=1e-3), "one notch zooms the second viewer once"
    assert browser.errors() == []


def test_fit_shows_wide_and_tall_drawings_whole(viewer_page):
    browser, folder = viewer_page
    for name, show in (("wide", "show all direction=LR"), ("tall", "show all")):
        html = show_html(browser.graphsmith_bin, "models/tiny_bert.onnx", show)
        # Under JupyterLab's CSS rule for SVG in HTML output, as a notebook user sees it.
        open_html(browser, folder, f"fit-{name}.html", html, jupyterlab=True)
        browser.js("document.querySelector('.gs-fit').click()")
        assert_fits(browser)
        screenshot(browser, folder, f"viewer-fit-{name}.png")
        assert browser.errors() == []


def test_show_path_opens_centred_on_the_path(viewer_page):
    browser, folder = viewer_page
    path = "encoder/layer.1/attention"
    html = show_html(browser.graphsmith_bin, "models/tiny_bert.onnx", f"show /{path}")
    assert f'data-focus="{path}"' in html
    open_html(browser, folder, "focus.html", html)
    frame = browser.js(f"(function(){{var f=document.querySelector('.gs-stage .gs-frame[data-id=\"{path}\"] rect');"
                       "var r=f.getBoundingClientRect();return [r.left,r.top,r.width,r.height];})()")
    stage = browser.js("(function(){var r=document.querySelector('.gs-stage').getBoundingClientRect();return [r.left,r.top,r.width,r.height];})()")
    # The frame is in view: wholly when it fits at a readable scale, else its top, centred across.
    cx = frame[0] + frame[2] / 2
    assert abs(cx - (stage[0] + stage[2] / 2)) < 3 or frame[2] > stage[2]
    assert stage[1] <= frame[1] <= stage[1] + stage[3] / 2
    vb = viewbox(browser)
    assert vb[1] > 100, "not the top-left of the whole graph"
    # Readable: a box is drawn at least half its size.
    first = browser.js(f"(function(){{var g=document.querySelector('.gs-stage .gs-frame[data-id=\"{path}\"] rect');"
                       "return g.getBoundingClientRect().width/(+g.getAttribute('width'));})()")
    assert first >= 0.5
    screenshot(browser, folder, "viewer-focus.png")
    assert browser.errors() == []


def click(browser, x: float, y: float):
    browser.page("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
    browser.page("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x, "y": y, "button": "left", "buttons": 1, "clickCount": 1})
    browser.page("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x, "y": y, "button": "left", "buttons": 0, "clickCount": 1})


def panel_state(browser):
    return browser.js("(function(){var p=document.querySelector('.gs-panel');return [getComputedStyle(p).display,"
                      "p.textContent,document.querySelector('.gs-view').getAttribute('data-selected')];})()")


def test_clicking_a_node_opens_the_side_panel_and_escape_closes_it(viewer_page):
    browser, folder = viewer_page
    html = show_html(browser.graphsmith_bin, "models/tiny_bert.onnx", "show /encoder/layer.0/attention depth=3")
    open_html(browser, folder, "panel.html", html)
    assert panel_state(browser)[0] == "none"
    # Click the middle of the first MatMul box in view.
    target = browser.js("(function(){var s=document.querySelector('.gs-stage').getBoundingClientRect();"
                        "var gs=document.querySelectorAll('.gs-stage .gs-node[data-op=\"MatMul\"]');for(var i=0;i<gs.length;i++){"
                        "var r=gs[i].querySelector('rect').getBoundingClientRect();var x=r.left+r.width/2,y=r.top+r.height/2;"
                        "if(x>s.left&&x<s.right-360&&y>s.top&&y<s.bottom)return [gs[i].getAttribute('data-id'),x,y];}return null;})()")
    assert target is not None, "no MatMul box in view"
    node_id, x, y = target
    click(browser, x, y)
    display, text, selected = panel_state(browser)
    assert display == "block" and selected == node_id
    # Op, a typed input with its shape, the output, the hierarchy path.
    assert "MatMul" in text and "inputs" in text and "outputs" in text and "float[" in text, text
    assert "/encoder/layer.0/attention" in text, text
    assert browser.js("document.querySelectorAll('.gs-stage .gs-sel').length") == 1
    screenshot(browser, folder, "viewer-panel.png")
    for kind in ("keyDown", "keyUp"):
        browser.page("Input.dispatchKeyEvent", {"type": kind, "key": "Escape", "code": "Escape", "windowsVirtualKeyCode": 27})
    assert panel_state(browser)[0] == "none"
    assert browser.js("document.querySelectorAll('.gs-stage .gs-sel').length") == 0
    # Open again; the close button dismisses it too.
    click(browser, x, y)
    assert panel_state(browser)[0] == "block"
    btn = browser.js("(function(){var r=document.querySelector('.gs-close').getBoundingClientRect();return [r.left+r.width/2,r.top+r.height/2];})()")
    click(browser, btn[0], btn[1])
    assert panel_state(browser)[0] == "none"
    # A drag that starts on a box pans and does not open the panel.
    before = viewbox(browser)
    browser.page("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x, "y": y, "button": "left", "buttons": 1, "clickCount": 1})
    browser.page("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x + 40, "y": y + 10, "button": "left", "buttons": 1})
    browser.page("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x + 40, "y": y + 10, "button": "left", "buttons": 0, "clickCount": 1})
    assert panel_state(browser)[0] == "none" and viewbox(browser) != before
    assert browser.errors() == []


def test_legend_entries_do_not_overlap_as_drawn(viewer_page):
    browser, folder = viewer_page
    html = show_html(browser.graphsmith_bin, "light/light_resnet50.onnx", "show",
                     cwd=REPO.parent / "shared" / "corpus" / "models") if (REPO.parent / "shared" / "corpus" / "models" / "light").exists() \
        else show_html(browser.graphsmith_bin, "models/tiny_bert.onnx", "show all")
    open_html(browser, folder, "legend.html", html)
    boxes = browser.js("Array.prototype.map.call(document.querySelectorAll('.gs-stage .gs-legend-item'),function(g){"
                       "var b=g.getBBox();return [b.x,b.y,b.width,b.height];})")
    assert len(boxes) >= 4
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            apart = a[0] + a[2] <= b[0] + 0.5 or b[0] + b[2] <= a[0] + 0.5 or a[1] + a[3] <= b[1] + 0.5 or b[1] + b[3] <= a[1] + 0.5
            assert apart, f"legend entries overlap: {a} {b}"


CORPUS = REPO.parent / "shared" / "corpus" / "models"


def test_flat_model_opens_readable_with_an_overview_of_everything(viewer_page):
    browser, folder = viewer_page
    if not (CORPUS / "light" / "light_resnet50.onnx").exists():
        pytest.skip("../shared/corpus is absent")
    html = show_html(browser.graphsmith_bin, "light/light_resnet50.onnx", "show", cwd=CORPUS)
    open_html(browser, folder, "flat.html", html)
    # Readable: boxes at full size.
    scale = browser.js("(function(){var g=document.querySelector('.gs-stage .gs-node rect');"
                       "return g.getBoundingClientRect().width/(+g.getAttribute('width'));})()")
    assert scale >= 0.9
    # The overview shows the whole drawing, with the visible window marked inside it.
    mini = browser.js("(function(){var m=document.querySelector('.gs-mini'),v=m.querySelector('.gs-mini-view');"
                      "var a=m.getBoundingClientRect(),b=v.getBoundingClientRect();"
                      "return [getComputedStyle(m).display,a.left,a.top,a.width,a.height,b.left,b.top,b.width,b.height,"
                      "m.querySelector('use').getAttribute('href')];})()")
    assert mini[0] == "block", mini
    assert mini[9] and browser.js(f"!!document.getElementById('{mini[9][1:]}')")
    assert mini[3] > 100 and mini[5] >= mini[1] - 1 and mini[7] < mini[3] and mini[8] < mini[4]
    screenshot(browser, folder, "viewer-flat-overview.png")
    # A click in the overview's middle brings the drawing's middle into the centre of the stage.
    click(browser, mini[1] + mini[3] / 2, mini[2] + mini[4] / 2)
    vb = viewbox(browser)
    W, H = browser.js("(function(){var r=document.querySelector('.gs-stage svg > rect');return [+r.getAttribute('width'),+r.getAttribute('height')];})()")
    assert vb[0] + vb[2] / 2 == pytest.approx(W / 2, abs=W * 0.02) and vb[1] + vb[3] / 2 == pytest.approx(H / 2, abs=H * 0.02)
    # When everything is in view the overview hides.
    browser.js("document.querySelector('.gs-fit').click()")
    assert browser.js("getComputedStyle(document.querySelector('.gs-mini')).display") == "none"
    assert browser.errors() == []


def test_a_small_flat_model_opens_whole_and_readable(viewer_page):
    # light_squeezenet (68 boxes once its weights fold): wrapped to the viewer's shape, the whole
    # drawing fits the stage at a readable size, so the first view is all of it.
    browser, folder = viewer_page
    if not (CORPUS / "light" / "light_squeezenet.onnx").exists():
        pytest.skip("../shared/corpus is absent")
    html = show_html(browser.graphsmith_bin, "light/light_squeezenet.onnx", "show", cwd=CORPUS)
    open_html(browser, folder, "squeezenet.html", html)
    assert_fits(browser)
    scale = browser.js("(function(){var g=document.querySelector('.gs-stage .gs-node rect');"
                       "return g.getBoundingClientRect().width/(+g.getAttribute('width'));})()")
    assert scale >= 0.5, scale
    assert browser.js("getComputedStyle(document.querySelector('.gs-mini')).display") == "none"
    screenshot(browser, folder, "viewer-flat-whole.png")
    assert browser.errors() == []


def test_show_node_opens_on_the_node_with_its_details(viewer_page):
    browser, folder = viewer_page
    html = show_html(browser.graphsmith_bin, "models/tiny_bert.onnx", "show /pooler/dense/Gemm")
    open_html(browser, folder, "node.html", html)
    focus = browser.js("document.querySelector('.gs-view').getAttribute('data-focus')")
    assert focus
    display, text, selected = panel_state(browser)
    assert display == "block" and selected == focus and "Gemm" in text
    box = browser.js(f"(function(){{var g=document.querySelector('.gs-stage [data-id=\"{focus}\"] rect');"
                     "var r=g.getBoundingClientRect();return [r.left+r.width/2,r.top+r.height/2];})()")
    cx, cy = stage_center(browser)
    assert abs(box[0] - cx) < 3 and abs(box[1] - cy) < 3, (box, cx, cy)
    assert browser.errors() == []


def test_check_links_focus_their_node_in_the_drawing(viewer_page):
    """`check`'s table and drawing are one output: a click on a row's node link centres that node
    in the drawing, opens its panel with its problems, and leaves the page where it is."""
    browser, folder = viewer_page
    html = show_html(browser.graphsmith_bin, "models/broken.onnx", "check")
    assert html.startswith('<div class="gs-report"><table')
    open_html(browser, folder, "check.html", html)
    links = browser.js("Array.from(document.querySelectorAll('.gs-report a[data-gs-node]')).map(function(a){return a.getAttribute('data-gs-node');})")
    marked = browser.js("Array.from(document.querySelectorAll('.gs-stage .gs-problem')).map(function(g){return g.getAttribute('data-id');})")
    assert len(links) == 3 and set(links) <= set(marked), (links, marked)
    for node in (links[-1], links[0]):
        at = browser.js(f"(function(){{var a=document.querySelector('.gs-report a[data-gs-node=\"{node}\"]');"
                        "a.scrollIntoView({block:'center'});var r=a.getBoundingClientRect();return [r.left+r.width/2,r.top+r.height/2];})()")
        click(browser, at[0], at[1])
        focused, selected, hash = browser.js("(function(){var v=document.querySelector('.gs-view');"
                                             "return [v.getAttribute('data-focused'),v.getAttribute('data-selected'),location.hash];})()")
        assert (focused, selected, hash) == (node, node, ""), (node, focused, selected, hash)
        # The node's box sits in the middle of the stage, drawn at a readable size.
        box = browser.js(f"(function(){{var rs=document.querySelectorAll('.gs-stage .gs-node[data-id=\"{node}\"] rect');var r=rs[rs.length-1].getBoundingClientRect();"
                         "return [r.left+r.width/2,r.top+r.height/2,r.width/(+rs[rs.length-1].getAttribute('width'))];})()")
        stage = browser.js("(function(){var r=document.querySelector('.gs-stage').getBoundingClientRect();return [r.left+r.width/2,r.top+r.height/2];})()")
        assert abs(box[0] - stage[0]) < 4 and abs(box[1] - stage[1]) < 4, (box, stage)
        assert box[2] >= 1
        text = panel_state(browser)[1]
        assert "problems" in text and ("schema" in text or "shape" in text), text
        assert browser.js(f"document.querySelector('.gs-stage .gs-node[data-id=\"{node}\"]').classList.contains('gs-found')")
    screenshot(browser, folder, "check-link.png")
    assert browser.errors() == []
