"""The network (issue 9): forward+backward, training per epoch, and draw to prediction.

- forward+backward through the default network (core/net.py: conv 3x3 pad 1 x8, ReLU, max
  pool 2/2, conv 3x3 pad 1 x16, ReLU, max pool 2/2, dense 10, softmax cross-entropy) for one
  image (with the gradient on the pixels, as the page's saliency needs) and for a minibatch
  of 32 (as training runs it), against the same network in PyTorch CPU, float64, with
  convstep's weights copied in. The probabilities are checked equal (1e-10) before timing.
- training time per epoch: core.train's Trainer (Adam, minibatches of 32, 1437 digits, the
  shuffle and one-pixel shifts of every epoch) against a PyTorch loop with the same
  optimizer (torch.optim.Adam, the same betas, eps and linear learning-rate decay), batch
  size and data. One step of both from the same weights is checked equal (1e-10) first.
  Target: at most 2x PyTorch.
- draw to prediction in the browser: strokes drawn with the mouse on the network page's pad;
  the page's own `data-draw-ms` and, measured here, the time from the mouse-up to the first
  animation frame after the last prediction is drawn. Target: at most 100 ms.
  `python -m bench.net_bench --draw` measures this part alone.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from bench.common import back_to_back, ms, openblas_info, p95

TRAIN_TARGET = 2.0  # convstep's epoch / PyTorch's, at most
DRAW_TARGET_MS = 100.0
AGREE = 1e-10  # largest difference allowed between the two libraries' numbers
# The plain measurement: OPENBLAS_THREAD_TIMEOUT=4 makes idle BLAS threads sleep at once
# (core_bench's PLAIN_ENV), and both libraries get the same number of threads.
THREAD_COUNTS = (2, 1)


def plain_env(threads: int) -> dict[str, str]:
    n = str(threads)
    return {"OPENBLAS_THREAD_TIMEOUT": "4", "OPENBLAS_NUM_THREADS": n, "OMP_NUM_THREADS": n,
            "MKL_NUM_THREADS": n}


# ---------------------------------------------------------------- the same network in PyTorch


def torch_params(torch, params: dict) -> dict:
    """convstep's parameters (channels-last) as PyTorch tensors of its own layouts.

    conv W (f, f, n_C_prev, n_C) -> weight (n_C, n_C_prev, f, f); dense W (64, 10) has rows
    in convstep's (h, w, c) flatten order, PyTorch flattens NCHW as (c, h, w), so the rows are
    reordered: weight (10, 64)[:, (c*2 + h)*2 + w] = W[(h*2 + w)*16 + c, :]."""
    def t(a):
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))

    n_H, n_W, n_C = 2, 2, params["conv2.W"].shape[3]
    dense = params["dense.W"].reshape(n_H, n_W, n_C, -1).transpose(3, 2, 0, 1)
    return {"conv1.weight": t(params["conv1.W"].transpose(3, 2, 0, 1)),
            "conv1.bias": t(params["conv1.b"].reshape(-1)),
            "conv2.weight": t(params["conv2.W"].transpose(3, 2, 0, 1)),
            "conv2.bias": t(params["conv2.b"].reshape(-1)),
            "dense.weight": t(dense.reshape(dense.shape[0], -1)),
            "dense.bias": t(params["dense.b"].reshape(-1))}


def torch_module(torch, dense: str = "dense"):
    """The default network's architecture as a float64 torch.nn.Module with PyTorch's own
    initial weights; `dense` names its last layer (PyTorch users often call it "fc")."""
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
            self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
            setattr(self, dense, nn.Linear(64, 10))

        def forward(self, x):  # x (m, 1, 8, 8) -> logits (m, 10)
            x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2, 2)
            x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2, 2)
            return getattr(self, dense)(torch.flatten(x, 1))

    return Net().double()


def torch_net(torch, params: dict):
    """The default network as a torch.nn.Module (float64) holding convstep's weights."""
    model = torch_module(torch)
    model.load_state_dict(torch_params(torch, params))
    return model


def nchw(torch, X: np.ndarray):
    """Channels-last inputs (m, 8, 8, 1) as an NCHW float64 tensor."""
    return torch.from_numpy(np.ascontiguousarray(X.transpose(0, 3, 1, 2), dtype=np.float64))


def check_forward(torch, params: dict, X: np.ndarray) -> float:
    """Largest |difference| of the two libraries' probabilities on X; AssertionError beyond
    AGREE (the bench must not time a network that computes something else)."""
    from core.net import net_forward

    ours = net_forward(params, X).probs
    with torch.no_grad():
        theirs = torch.softmax(torch_net(torch, params)(nchw(torch, X)), dim=1).numpy()
    diff = float(np.abs(ours - theirs).max())
    assert diff <= AGREE, f"PyTorch's probabilities differ from convstep's by {diff:.3g}"
    return diff


def check_train_step(torch, params: dict, X: np.ndarray, y: np.ndarray, lr: float) -> float:
    """Largest |difference| of the parameters after one Adam step of each library from the
    same weights on the same minibatch; AssertionError beyond AGREE."""
    from core.net import net_backward, net_forward
    from core.train import Adam

    ours = {k: v.astype(np.float64).copy() for k, v in params.items()}
    grads = net_backward(net_forward(ours, X, checked=True), y).grads
    Adam().step(ours, grads, lr)
    model = torch_net(torch, params)
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    loss = torch.nn.functional.cross_entropy(model(nchw(torch, X)), torch.from_numpy(y))
    loss.backward()
    opt.step()
    expected = torch_params(torch, ours)
    got = dict(model.state_dict())
    diff = max(float((got[k] - expected[k]).abs().max()) for k in expected)
    assert diff <= AGREE, f"one Adam step differs between the libraries by {diff:.3g}"
    return diff


# ---------------------------------------------------------------- timed calls


def forward_backward_contenders(torch, params: dict, X: np.ndarray, y: np.ndarray,
                                saliency: bool) -> dict:
    """One forward+backward of X in each library (PyTorch also takes the gradient on the
    input when `saliency`, as convstep's net_backward always does)."""
    from core.net import check_params, net_backward, net_forward

    checked = check_params(params)
    contenders = {"ours": lambda: net_backward(net_forward(checked, X, checked=True), y)}
    if torch is not None:
        model = torch_net(torch, params)
        x, labels = nchw(torch, X), torch.from_numpy(y)
        x.requires_grad_(saliency)
        cross_entropy = torch.nn.functional.cross_entropy

        def theirs():
            model.zero_grad(set_to_none=True)
            x.grad = None
            cross_entropy(model(x), labels).backward()

        contenders["torch"] = theirs
    return contenders


class TorchTrainer:
    """The PyTorch twin of core.train.Trainer: the same data, shuffles and shifts (from the
    same NumPy generator), batch size, Adam and learning-rate schedule; step() for step()."""

    def __init__(self, torch, images, labels, config, params: dict):
        from core.net import scale_pixels

        self.torch, self.config = torch, config
        self.X, self.y = scale_pixels(images), torch.from_numpy(np.asarray(labels, np.int64))
        self.model = torch_net(torch, params)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=config.lr, betas=(0.9, 0.999),
                                    eps=1e-8)
        self.rng = np.random.default_rng(config.seed + 1)
        self.steps_per_epoch = -(-len(self.y) // config.batch_size)
        self.total_steps = self.steps_per_epoch * config.epochs
        self.step_count = 0

    def step(self) -> float:
        from core.train import shift_images

        c, k = self.config, self.step_count % self.steps_per_epoch
        if k == 0:
            self.order = self.torch.from_numpy(self.rng.permutation(len(self.y)))
            self.X_epoch = nchw(self.torch, shift_images(self.X, self.rng, c.shift))
        batch = self.order[k * c.batch_size:(k + 1) * c.batch_size]
        done = min(1.0, self.step_count / max(1, self.total_steps))
        for group in self.opt.param_groups:
            group["lr"] = c.lr + (c.lr_final - c.lr) * done
        self.opt.zero_grad(set_to_none=True)
        loss = self.torch.nn.functional.cross_entropy(self.model(self.X_epoch[batch]),
                                                      self.y[batch])
        loss.backward()
        self.opt.step()
        self.step_count += 1
        return float(loss.detach())


def epoch_contenders(torch, params: dict) -> dict:
    """One epoch (every step of it) of core.train's Trainer and of its PyTorch twin."""
    from core.data import load_digits
    from core.train import TrainConfig, Trainer

    images, labels = load_digits().split("train")
    config = TrainConfig()
    ours = Trainer(images, labels, config, params=params)
    contenders = {"ours": lambda: [ours.step() for _ in range(ours.steps_per_epoch)]}
    if torch is not None:
        theirs = TorchTrainer(torch, images, labels, config, params)
        contenders["torch"] = lambda: [theirs.step() for _ in range(theirs.steps_per_epoch)]
    return contenders


def layer_profile(params: dict, X: np.ndarray, y: np.ndarray, X_epoch: np.ndarray,
                  rounds: int) -> dict[str, float]:
    """Median seconds of each layer's forward and backward call (and the loss) on X, and of
    a training step's other parts: Adam's update and the shuffle and shift of X_epoch (once
    an epoch)."""
    from core.net import (
        DEFAULT_NET,
        check_params,
        layer_backward,
        layer_forward,
        softmax_cross_entropy,
    )
    from core.train import Adam, shift_images

    params = check_params(params)
    times: dict[str, list[float]] = {}

    def tick(name, t0):
        times.setdefault(name, []).append(time.perf_counter() - t0)

    adam, rng = Adam(), np.random.default_rng(0)
    for r in range(rounds + 1):
        A, caches = X, []
        for layer in DEFAULT_NET.layers:
            t0 = time.perf_counter()
            A, cache = layer_forward(layer, A, params)
            tick(f"{layer.name} forward", t0)
            caches.append(cache)
        t0 = time.perf_counter()
        _, _, d = softmax_cross_entropy(A, y)
        tick("softmax cross-entropy", t0)
        grads = {}
        for layer, cache in zip(reversed(DEFAULT_NET.layers), reversed(caches), strict=True):
            t0 = time.perf_counter()
            g = layer_backward(layer, d, cache)
            tick(f"{layer.name} backward", t0)
            d = g["dA_prev"]
            if "dW" in g:
                grads[f"{layer.name}.W"], grads[f"{layer.name}.b"] = g["dW"], g["db"]
        scratch = {k: v.copy() for k, v in params.items()}
        t0 = time.perf_counter()
        adam.step(scratch, grads, 1e-3)
        tick("Adam step", t0)
        t0 = time.perf_counter()
        rng.permutation(len(X_epoch))
        shift_images(X_epoch, rng, 1)
        tick("shuffle + shift (once an epoch)", t0)
        if r == 0:
            times.clear()  # warm-up
    return {name: statistics.median(ts) for name, ts in times.items()}


def plain_json(quick: bool, threads: int) -> None:
    """Print this child's plain measurement as JSON (run with plain_env(threads))."""
    try:
        import torch
    except ImportError:
        torch, note = None, ("PyTorch: not installed, skipped (`make bench` tries "
                             "`pip install torch==2.13.0`, a CPU build).")
    else:
        torch.set_num_threads(threads)
        note = f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads"
    from core.data import load_digits, load_weights
    from core.net import scale_pixels

    params = load_weights()
    images, labels = load_digits().split("train")
    X, y = scale_pixels(images[:32]), labels[:32].astype(np.int64)
    checks = {}
    if torch is not None:
        checks = {"probs": check_forward(torch, params, scale_pixels(images)),
                  "adam step": check_train_step(torch, params, X, y, lr=1e-2)}
    rounds = 3 if quick else 15
    medians = {
        "one image": back_to_back(forward_backward_contenders(torch, params, X[:1], y[:1],
                                                              saliency=True), rounds, calls=20),
        "batch of 32": back_to_back(forward_backward_contenders(torch, params, X, y,
                                                                saliency=False), rounds, calls=10),
        "epoch": back_to_back(epoch_contenders(torch, params), 2 if quick else 6, calls=2),
    }
    info = openblas_info()
    print(json.dumps({"medians": medians, "checks": checks, "note": note,
                      "profile": layer_profile(params, X, y, scale_pixels(images),
                                              20 if quick else 200),
                      "blas": f"OpenBLAS kernel {info.get('corename', '?')}, "
                              f"{info.get('threads', '?')} threads"}))


def _child(quick: bool, threads: int) -> dict:
    code = f"from bench.net_bench import plain_json; plain_json({quick!r}, {threads})"
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, **plain_env(threads)},
                          capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- draw to prediction


# Strokes in pad coordinates (0..1): a "1", a "0" and a "7", drawn in turn.
STROKES = {
    "1": [[(0.5, 0.12), (0.5, 0.88)]],
    "0": [[(0.5 + 0.25 * np.sin(a), 0.5 - 0.36 * np.cos(a))
           for a in np.linspace(0, 2 * np.pi, 13)]],
    "7": [[(0.25, 0.18), (0.75, 0.18), (0.45, 0.88)]],
}
MOVES_PER_SEGMENT = 8

# In the page (run once through page.evaluate, not a string predicate): the time of the
# pad's pointerup, of the last prediction drawn after it (the MutationObserver runs after the
# page's task, so state "ready" there means no request is left), and of the animation frame
# after that, which also sets data-netbench-trial on <body> for a locator to wait on.
OBSERVER = """() => {
  const root = document.querySelector('#main');
  const nb = window.__netbench = { trial: -1, up: null, drawn: null, frame: null };
  document.querySelector('#pad').addEventListener('pointerup', () => {
    nb.up = performance.now();
  }, true);
  new MutationObserver(() => {
    if (nb.up === null || root.dataset.prediction === undefined) return;
    if (root.dataset.state !== 'ready') return;
    const t = performance.now();
    nb.drawn = t;
    const run = performance.getEntriesByType('resource')
      .filter((e) => e.name.endsWith('/api/network/run')).at(-1);
    nb.fetch = run ? { start: run.startTime, requestStart: run.requestStart,
      responseStart: run.responseStart, responseEnd: run.responseEnd,
      bytes: run.encodedBodySize,
      server: (run.serverTiming.find((t) => t.name === 'app') || {}).duration } : null;
    requestAnimationFrame(() => {
      if (nb.drawn !== t) return;
      nb.frame = performance.now();
      document.body.dataset.netbenchTrial = String(nb.trial);
    });
  }).observe(root, { attributes: true, attributeFilter: ['data-prediction'] });
}"""


def _stroke(page, box, points) -> None:
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x0 + points[0][0] * w, y0 + points[0][1] * h)
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x * w, y0 + y * h, steps=MOVES_PER_SEGMENT)


def draw_trials(browser, url: str, trials: int) -> list[dict]:
    """`trials` digits drawn with the mouse (after one warm-up), one record per digit."""
    from playwright.sync_api import expect

    ctx = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto("/network")
    root, body = page.locator("#main"), page.locator("body")
    expect(root).to_have_attribute("data-state", "ready", timeout=30000)
    page.evaluate(OBSERVER)
    box = page.locator("#pad").bounding_box()
    names = list(STROKES)
    records = []
    for r in range(trials + 1):  # trial 0 warms up
        digit = names[r % len(names)]
        page.click("#clear")
        page.evaluate(f"() => {{ performance.clearResourceTimings(); "
                      f"Object.assign(window.__netbench, {{ trial: {r}, up: null, drawn: null, "
                      "frame: null, fetch: null }); }")
        strokes = STROKES[digit]
        for points in strokes:
            _stroke(page, box, points)
            page.mouse.up()
        t0 = time.perf_counter()
        expect(body).to_have_attribute("data-netbench-trial", str(r), timeout=30000)
        wall = (time.perf_counter() - t0) * 1000
        nb = page.evaluate("() => ({ ...window.__netbench, "
                           "drawMs: Number(document.querySelector('#main').dataset.drawMs), "
                           "prediction: document.querySelector('#main').dataset.prediction })")
        if r:
            records.append({"digit": digit, "prediction": nb["prediction"],
                            "page_ms": nb["drawMs"], "up_to_frame_ms": nb["frame"] - nb["up"],
                            "up_to_drawn_ms": nb["drawn"] - nb["up"], "wall_ms": wall,
                            **_fetch_parts(nb)})
    ctx.close()
    if errors:
        raise RuntimeError(f"the page raised: {errors[:3]}")
    return records


def _fetch_parts(nb: dict) -> dict:
    """The last request's parts (resource timing, ms): before it (ink and JSON in the page),
    sending and the server's answer up to its first byte, the download, and the page's
    work after it (parsing the JSON, drawing every map)."""
    f = nb.get("fetch")
    if not f:
        return {}
    start = nb["drawn"] - nb["drawMs"]  # the page's refresh() start (rounded to 1 ms)
    return {"before_fetch_ms": max(0.0, f["start"] - start),
            "to_first_byte_ms": f["responseStart"] - f["start"],
            **({"server_ms": f["server"]} if f.get("server") is not None else {}),
            "download_ms": f["responseEnd"] - f["responseStart"],
            "after_fetch_ms": nb["drawn"] - f["responseEnd"],
            "answer_kb": f["bytes"] / 1024,
            "up_to_request_ms": f["start"] - nb["up"]}


def server_alone(url: str, calls: int) -> dict[str, tuple[float, int]]:
    """(median ms, body bytes) of POST /api/network/run from Python (gzip accepted, as a
    browser does) with a drawn 1: as strokes (the page's form: STROKES' 1 on the 168-pixel
    pad, a point every pixel) and as a 168 x 168 pad's ink, nested rows and ink_base64: the
    server's share without the browser."""
    import base64
    import urllib.request

    ink = np.zeros((168, 168), dtype=int)
    ink[20:150, 77:91] = 255
    (top, bottom), = STROKES["1"]
    one = np.linspace(np.multiply(top, 168), np.multiply(bottom, 168), 128).round(1)
    forms = {"strokes": {"kind": "strokes", "strokes": [one.tolist()]},
             "nested rows": {"kind": "canvas", "ink": ink.tolist()},
             "ink_base64": {"kind": "canvas", "shape": [168, 168], "ink_base64":
                            base64.b64encode(ink.astype(np.uint8).tobytes()).decode()}}
    out = {}
    for name, inp in forms.items():
        body = json.dumps({"input": inp, "weights": "shipped", "target": None,
                           "backward": True}).encode()
        times = []
        for _ in range(calls + 1):  # the first warms up
            request = urllib.request.Request(url + "/api/network/run", data=body, headers={
                "content-type": "application/json", "accept-encoding": "gzip"})
            t0 = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as answer:
                answer.read()
            times.append((time.perf_counter() - t0) * 1000)
        out[name] = (statistics.median(times[1:]), len(body))
    return out


def draw_table(records: list[dict]) -> str:
    """Median and p95 of each measure of draw_trials' records, the target on the worst."""
    rows = [("page's data-draw-ms (last request's start to its prediction drawn)", "page_ms"),
            ("mouse-up to the last prediction drawn (in the page)", "up_to_drawn_ms"),
            ("mouse-up to the next animation frame (in the page)", "up_to_frame_ms"),
            ("mouse-up to Playwright seeing it (wall)", "wall_ms")]
    lines = ["| measure | median ms | p95 ms | target (p95) | result |",
             "| --- | ---: | ---: | --- | --- |"]
    parts = [("— the mouse-up to the last request's start (negative: a run under way for "
              "the same ink, kept)", "up_to_request_ms"),
             ("— the page before the request (reading the ink, JSON)", "before_fetch_ms"),
             ("— the request to its first byte (upload, the server's work)", "to_first_byte_ms"),
             ("— of which the app's own work (its Server-Timing `app` duration)", "server_ms"),
             ("— the answer's download", "download_ms"),
             ("— the page after it (JSON parse, drawing every map)", "after_fetch_ms")]
    rows[2:2] = [p for p in parts if all(p[1] in rec for rec in records)]
    for label, key in rows:
        values = [rec[key] for rec in records]
        high = p95(values)
        held = key in ("page_ms", "up_to_drawn_ms", "up_to_frame_ms")
        verdict = ("pass" if high <= DRAW_TARGET_MS else "**miss**") if held else "–"
        target = f"<= {DRAW_TARGET_MS:.0f} ms" if held else "–"
        lines.append(f"| {label} | {statistics.median(values):.0f} | {high:.0f} | {target} | "
                     f"{verdict} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- the section


def _verdict(ratio: float | None, limit: float | None) -> str:
    if ratio is None:
        return "not measured"
    if limit is None:
        return "–"
    return "pass" if ratio <= limit else "**miss**"


def timing_table(plains: dict[int, dict]) -> str:
    lines = ["| case | threads | convstep ms | PyTorch ms | ratio | target | result |",
             "| --- | ---: | ---: | ---: | ---: | --- | --- |"]
    cases = [("forward+backward, one image (with the pixels' gradient)", "one image", None),
             ("forward+backward, a minibatch of 32", "batch of 32", None),
             ("training, one epoch (45 steps, 1437 digits)", "epoch", TRAIN_TARGET)]
    for label, key, limit in cases:
        for threads, plain in plains.items():
            m = plain["medians"].get(key, {})
            ours, theirs = m.get("ours"), m.get("torch")
            ratio = None if ours is None or theirs is None else ours / theirs
            target = f"<= {limit:g}x" if limit else "–"
            lines.append(f"| {label} | {threads} | {ms(ours)} | {ms(theirs)} | "
                         f"{'–' if ratio is None else f'{ratio:.2f}x'} | {target} | "
                         f"{_verdict(ratio, limit)} |")
    return "\n".join(lines)


def core_train_row(plains: dict[int, dict]) -> str:
    """core.train's own setting (one BLAS thread, which `python -m core.train` and the server
    set) against PyTorch at each thread count."""
    one = plains.get(1, {}).get("medians", {}).get("epoch", {}).get("ours")
    lines = ["| convstep as `python -m core.train` runs it (1 BLAS thread) against | "
             "convstep ms | PyTorch ms | ratio | target | result |",
             "| --- | ---: | ---: | ---: | --- | --- |"]
    for threads, plain in plains.items():
        theirs = plain["medians"].get("epoch", {}).get("torch")
        ratio = None if one is None or theirs is None else one / theirs
        lines.append(f"| PyTorch, {threads} thread{'s' if threads > 1 else ''} | {ms(one)} | "
                     f"{ms(theirs)} | {'–' if ratio is None else f'{ratio:.2f}x'} | "
                     f"<= {TRAIN_TARGET:g}x | {_verdict(ratio, TRAIN_TARGET)} |")
    return "\n".join(lines)


def profile_table(plains: dict[int, dict]) -> str:
    threads = list(plains)
    head = " | ".join(f"{t} thread{'s' if t > 1 else ''} µs" for t in threads)
    lines = [f"| convstep, minibatch of 32 | {head} |",
             "| --- |" + " ---: |" * len(threads)]
    names = list(next(iter(plains.values()))["profile"])
    for name in names:
        cells = " | ".join(f"{plains[t]['profile'].get(name, float('nan')) * 1e6:.0f}"
                           for t in threads)
        lines.append(f"| {name} | {cells} |")
    totals = " | ".join(f"{sum(plains[t]['profile'].values()) * 1e6:.0f}" for t in threads)
    lines.append(f"| sum | {totals} |")
    return "\n".join(lines)


def draw_section(quick: bool) -> list[str]:
    """The draw-to-prediction part: its heading, how it was measured, the load averages at its
    start and end, and its table (`python -m bench.net_bench --draw` runs this part alone)."""
    from bench.api_bench import Server
    from bench.browser_bench import CHROMIUM, CHROMIUM_ARGS

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    parts = ["### Draw to prediction in the browser"]
    trials = 6 if quick else 20
    try:
        from playwright.sync_api import sync_playwright

        with Server() as server, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                records = draw_trials(browser, server.url, trials)
            finally:
                browser.close()
            alone = server_alone(server.url, 5 if quick else 20)
    except (ImportError, RuntimeError, OSError) as error:
        return [*parts, f"Not measured: {error}"]
    seen = ", ".join(f"{rec['digit']}->{rec['prediction']}" for rec in records[:6])
    end = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return [*parts,
        f"Load average (1, 5, 15 min) when this part started: {load}; when it ended: {end}. "
        f"Debian's chromium ({CHROMIUM}) headless through Playwright on /network, the app "
        "served by `python -m app` on loopback (api_bench's Server: one uvicorn worker, "
        "one BLAS thread, as browser_bench serves too; not `uvicorn --fd`, which wraps the "
        "socket as AF_UNIX, so asyncio never sets TCP_NODELAY and an answer written head "
        "then body waits for the client's delayed ACK, about 40 ms), viewport 1280 x 900. "
        f"{trials} digits after a warm-up, "
        f"back to back: clear the pad, draw a 1, a 0 or a 7 with the mouse "
        f"({MOVES_PER_SEGMENT} moves a segment; while drawing the page redraws live, a run "
        "with the strokes as they are 50 ms after each answer; a new stroke sends nothing at "
        "its start; at the mouse-up it aborts a run under way for older strokes and sends "
        "the whole drawing as `kind: strokes`, which the server draws again with a pen a "
        "share of the digit's size), release. The page records `data-draw-ms` "
        "(from the start of its last request to the prediction drawn); a MutationObserver "
        "installed here records the mouse-up, the last prediction drawn after it and the "
        "animation frame after that; the lines marked — split that time with the last "
        f"request's resource timing. Drawn -> predicted: {seen}, ...",
        draw_table(records),
        "The server alone: POST /api/network/run from Python with a drawn 1 (gzip "
        "accepted), after the browser closed, median: " + "; ".join(
            f"{name} ({size / 1000:.1f} kB of JSON) {ms:.1f} ms"
            for name, (ms, size) in alone.items()) + "."]


def run(quick: bool) -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    parts = ["## The network (bench/net_bench.py)"]
    plains, failures = {}, []
    for threads in THREAD_COUNTS:
        try:
            plains[threads] = _child(quick, threads)
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as error:
            failures.append(f"{threads} thread(s): {error}")
    env = ", ".join(f"{k}={v}" for k, v in plain_env(2).items())
    first = next(iter(plains.values()), {})
    checks = first.get("checks") or {}
    check_text = (f"Before timing, the PyTorch network's probabilities on the 1437 training "
                  f"digits agreed with convstep's to {checks['probs']:.1g} and one Adam step of "
                  f"each from the same weights to {checks['adam step']:.1g} (bound {AGREE:g})."
                  if checks else "")
    parts.append(
        f"Load average when this section started (1, 5, 15 min): {load}. The default network "
        "with the shipped weights (core/data/net_weights.safetensors), float64, against the "
        "same network in PyTorch CPU holding the same weights (NCHW; its dense rows "
        f"reordered for its flatten order). {first.get('note', '').rstrip('.')}. {check_text}\n\n"
        f"Plain measurement, in one child process per thread count with {env} (and 1 "
        "thread in the second child; PyTorch gets as many threads as OpenBLAS): groups of "
        "calls back to back, one library then the other, groups interleaved, every call "
        "counted, no pause. One image: 20 calls a group; a minibatch: 10; an epoch: 2 epochs "
        "a group, each continuing the same run (every epoch reshuffles and reshifts its "
        "digits in both). Medians.")
    if failures:
        parts.append("Plain measurement failed for " + "; ".join(failures))
    if plains:
        parts += ["### Forward+backward and training against PyTorch CPU", timing_table(plains),
                  "### Training as core.train runs it", core_train_row(plains),
                  "`python -m core.train` restarts itself with OPENBLAS_NUM_THREADS=1 and the "
                  "server runs BLAS on one thread too: the GEMMs of an 8 x 8 network are "
                  "small, and OpenBLAS splits the larger ones (conv2's im2col product, "
                  "512 x 73 by 73 x 16 for a minibatch) over two threads, whose wake-up and "
                  "hand-over cost more than the product on a busy machine. The profile shows "
                  "where. On a loaded machine the two-thread rows move the most, for both "
                  "libraries: each step waits for a second core.",
                  "### Where a training step goes (convstep, per layer)", profile_table(plains),
                  "Medians of single calls on a minibatch of 32 (`layer_forward`/"
                  "`layer_backward` of core/net.py, the loss, Adam's update of the 1898 "
                  "parameters, and the epoch's shuffle and shift, which runs once per 45 "
                  "steps)."]
    parts += draw_section(quick)
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    if "--draw" in sys.argv:
        print("\n\n".join(draw_section("--quick" in sys.argv)))
    else:
        print(run("--quick" in sys.argv))
