"""The notebook widget's front end in Chromium, loaded as Jupyter loads it.

show(conv_forward) in Jupyter is an anywidget whose `_esm` anywidget imports from a blob:
URL. Here a harness page on loopback (this file's, nothing of the app) fetches the real
widget class's `_esm` and `_css` (cli/notebook.py: static/js/notebook/widget.js with the kit
inlined), imports the module from a blob: URL as anywidget does, and calls its
`render({model, el})` with a model built from the Python widget's real state: a learner's
conv_forward without the stride. The view must show the padded input with two windows in
two colours (the right one and the learner's), both outputs filling in with the learner's
differing cells marked, start at the first differing step, and step with the buttons, the
keys, the scrubber and Play, without a console error; a windowless function (zero_pad that
pads every axis) shows the two arrays side by side. Screenshots at 1280 and 390 px.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import tempfile
import threading
from pathlib import Path

import pytest

from cli.learner import load_file
from cli.notebook import _widget_class, widget_state

SHOTS = Path(os.environ.get("CONVSTEP_SCREENSHOT_DIR")
             or Path(tempfile.gettempdir()) / "convstep-screenshots")

# learners' files of the checker's tests: conv_forward without the stride, zero_pad that
# pads every axis
FILES = Path(__file__).resolve().parents[1] / "cli" / "learner_files"

HARNESS = """<!doctype html>
<html><head><meta charset="utf-8"><title>widget harness</title><link rel="icon" href="data:,">
<style>body { margin: 12px; background: #fff; }</style></head>
<body><div id="out"></div>
<script type="module">
  // as anywidget does: the module text imported from a blob: URL (no relative import resolves)
  const [esm, css, state] = await Promise.all([
    fetch("/esm").then((r) => r.text()), fetch("/css").then((r) => r.text()),
    fetch("/state").then((r) => r.json())]);
  const style = document.createElement("style");
  style.textContent = css;
  document.head.append(style);
  const url = URL.createObjectURL(new Blob([esm], { type: "text/javascript" }));
  const mod = await import(url);
  const listeners = {};
  const model = {
    get: (k) => state[k],
    on: (ev, f) => { (listeners[ev] ||= []).push(f); },
    off: (ev, f) => { listeners[ev] = (listeners[ev] || []).filter((g) => g !== f); },
  };
  window.cleanup = mod.default.render({ model, el: document.getElementById("out") });
  window.rendered = true;
</script></body></html>
"""


@functools.cache
def learner(name: str) -> dict:
    """The functions of a learner's file, loaded as the checker loads it."""
    return load_file(str(FILES / f"{name}.py"), False)[0]


def widget_of(fn, name=None):
    """The real widget (anywidget) on the learner's function: its _esm, _css and state."""
    widget = _widget_class()(data=widget_state(fn, name))
    return {"esm": widget._esm, "css": widget._css, "state": {"data": widget.data}}


@pytest.fixture
def harness():
    """serve(widget) -> the harness page's URL on loopback, serving that widget."""
    served = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body, kind = {
                "/": (HARNESS, "text/html"),
                "/esm": (served.get("esm", ""), "text/javascript"),
                "/css": (served.get("css", ""), "text/css"),
                "/state": (json.dumps(served.get("state", {})), "application/json"),
            }.get(self.path, (None, None))
            if body is None:
                self.send_error(404)
                return
            data = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(widget: dict) -> str:
        served.update(widget)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield serve
    server.shutdown()
    server.server_close()


def open_widget(browser, url: str, width: int):
    ctx = browser.new_context(viewport={"width": width, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(15000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_function("window.rendered === true")
    return ctx, page, errors


def overlay_colours(page) -> dict:
    """How many pixels of the map's overlay are the right window's amber (#ffbe00) and the
    learner's window's blue (#0077cc), the kit's grid colours."""
    return page.evaluate("""() => {
      const c = document.querySelector('.convstep-widget .map-overlay');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let amber = 0, blue = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] < 200) continue;
        if (Math.abs(d[i] - 255) < 20 && Math.abs(d[i + 1] - 190) < 25 && d[i + 2] < 60) amber += 1;
        if (d[i] < 40 && Math.abs(d[i + 1] - 119) < 25 && Math.abs(d[i + 2] - 204) < 30) blue += 1;
      }
      return { amber, blue };
    }""")


def step_of(page) -> int:
    return int(page.get_attribute(".convstep-widget", "data-step"))


def test_conv_forward_widget(browser, harness):
    widget = widget_of(learner("stride_missing")["conv_forward"])
    data = widget["state"]["data"]
    assert data["first"] == 2 and data["yours"] and data["steps"]  # both traces in the state
    url = harness(widget)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        ctx, page, errors = open_widget(browser, url, width)
        root = ".convstep-widget"
        # opens at the first difference: step 3 of 24, Z[0, 0, 1, 0]
        assert step_of(page) == 2
        assert page.inner_text(".cw-label").startswith("Step 3 of 24: Z[0, 0, 1, 0]")
        assert page.get_attribute(root, "data-right-window") == "0:3,2:5"
        assert page.get_attribute(root, "data-yours-window") == "0:3,1:4"
        page.wait_for_function(
            "document.querySelector('.convstep-widget .map-overlay').width > 0")
        colours = overlay_colours(page)
        assert colours["amber"] > 50 and colours["blue"] > 50, colours
        assert page.locator(".cw-first.here").count() == 1
        # the grid: a_prev_pad 7 x 9, the outputs 3 x 4 filling in
        assert page.inner_text(".map-title").startswith("a_prev_pad = A_prev_pad[0, :, :, 0]")
        assert page.inner_text(".map-shape") == "7 × 9"
        right = page.locator('table[data-field="right-Z"] td:not(.unreached)')
        mine = page.locator('table[data-field="yours-Z"] td:not(.unreached)')
        assert right.count() == 2 and mine.count() == 2  # channel 0 of steps 1..3
        assert page.locator('table[data-field="yours-Z"] td.differs').count() == 1
        assert page.locator('table[data-field="yours-Z"] td.differs').first.inner_text() == "7.5"
        text = (FILES / "stride_missing.py").read_text(encoding="utf-8")
        read_line = 1 + next(n for n, line in enumerate(text.splitlines())
                             if "a_slice_prev = a_prev_pad" in line)
        assert f"line {read_line}:" in page.inner_text(".cw-yours")
        assert "a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]" in page.inner_text(
            ".cw-yours")
        assert "= 5 + 0.5 = 5.5" in page.inner_text(".cw-right")
        if width == 1280:
            page.locator(root).screenshot(path=str(SHOTS / "widget-1280.png"))
            # the player: buttons, keys, scrubber, Play
            page.click("text=Next ▶")
            assert step_of(page) == 3
            page.click("text=◀ Prev")
            page.focus(root)
            # the player's keys stay the widget's: the notebook around it does not see them
            page.evaluate("window.leaked = [];"
                          "document.addEventListener('keydown', (e) => leaked.push(e.key))")
            page.keyboard.press("ArrowRight")
            assert step_of(page) == 3
            page.keyboard.press("End")
            assert step_of(page) == 23
            page.keyboard.press("a")
            assert page.evaluate("window.leaked") == ["a"]
            assert page.get_attribute(root, "data-right-window") == "4:7,6:9"
            page.fill(".cw-player input[type=range]", "0")
            assert step_of(page) == 0
            assert page.get_attribute(root, "data-yours-window") == "0:3,0:3"
            assert page.locator(".cw-first.here").count() == 0
            page.click("text=Play")
            page.wait_for_function(
                "Number(document.querySelector('.convstep-widget').dataset.step) >= 2",
                timeout=5000)
            page.click("text=Pause")
            page.click(".cw-jump")
            assert step_of(page) == 2
        else:
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(SHOTS / "widget-390.png"), full_page=True)
        assert errors == []
        ctx.close()


def test_windowless_widget(browser, harness):
    """zero_pad that pads every axis: the two arrays side by side, the wrong shape said."""
    widget = widget_of(learner("pad_all_axes")["zero_pad"])
    ctx, page, errors = open_widget(browser, harness(widget), 1280)
    assert page.locator("table[data-field=right]").count() == 1
    assert page.locator("table[data-field=yours]").count() == 1
    assert "FAIL" in page.inner_text(".cw-verdict")
    assert "shape" in page.inner_text(".cw-first")
    assert page.locator(".cw-player").count() == 0  # nothing to step through
    page.locator(".convstep-widget").screenshot(path=str(SHOTS / "widget-zero-pad-1280.png"))
    assert errors == []
    ctx.close()


@pytest.mark.parametrize(("file", "function", "cell", "differing", "shot"), [
    # = instead of +=: at the first difference 6 cells already written hold other values
    ("assign_not_accumulate", "conv_backward", "dZ", 6, "widget-conv-backward-1280.png"),
    ("mask_not_max", "pool_backward", "dA", 3, "widget-pool-backward-1280.png"),
    ("crop_minus_pad", "conv_backward", "dZ", 0, None),
])
def test_backward_widget(browser, harness, file, function, cell, differing, shot):
    """A backward step adds into a window: the running gradient after the step, with the
    right window and the learner's, and the learner's own running gradient (replayed from
    their loop's writes); a difference after the loop (the crop) marks no step."""
    widget = widget_of(learner(file)[function])
    data = widget["state"]["data"]
    ctx, page, errors = open_widget(browser, harness(widget), 1280)
    k = step_of(page)
    row = data["steps"][k]
    assert page.inner_text(".cw-label").startswith(f"Step {k + 1} of {len(data['steps'])}: "
                                                   f"{cell}[")
    assert page.inner_text(".map-title") == row["grid"]["name"]
    assert page.inner_text(".map-title").endswith("after this step")
    page.wait_for_function(
        "document.querySelector('.convstep-widget .map-overlay').width > 0")
    colours = overlay_colours(page)
    assert colours["amber"] > 50 and colours["blue"] > 50, colours
    # your running gradient beside it, as your loop's writes left it: cells not written yet
    # blank, written cells that differ marked
    mine = row["yours_grid"]
    table = page.locator('table[data-field="yours-grid"]')
    assert table.locator("caption").inner_text() == mine["name"]
    written = sum(v is not None for line in mine["values"] for v in line)
    assert table.locator("td:not(.unreached)").count() == written > 0
    assert table.locator("td.differs").count() == sum(map(sum, mine["differs"])) == differing
    if shot:
        page.locator(".convstep-widget").screenshot(path=str(SHOTS / shot))
    if data["first"] is None:  # the crop: every step's window is right
        assert "after that image's loop" in page.inner_text(".cw-first")
        assert page.locator(".cw-jump").count() == 0
    else:
        assert k == data["first"] and page.locator(".cw-first.here").count() == 1
        page.focus(".convstep-widget")
        page.keyboard.press("End")
        assert step_of(page) == len(data["steps"]) - 1
    assert errors == []
    ctx.close()


def test_a_function_that_raises(browser, harness):
    """No step of the learner's: each step says their loop never wrote it, and the error."""
    widget = widget_of(learner("raises")["conv_forward"])
    ctx, page, errors = open_widget(browser, harness(widget), 390)
    assert page.get_attribute(".convstep-widget", "data-yours-window") == ""
    assert "your loop never writes Z[0, 0, 0, 0]" in page.inner_text(".cw-yours")
    assert "Your function raised NameError" in page.inner_text(".cw-first")
    assert page.locator('table[data-field="yours-Z"] td:not(.unreached)').count() == 0
    page.screenshot(path=str(Path(tempfile.gettempdir()) / "convstep-widget-raises-390.png"),
                    full_page=True)
    assert errors == []
    ctx.close()
