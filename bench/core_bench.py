"""Core benchmark: convstep's NumPy layers against PyTorch CPU and against their loop twins.

Cases (issue 2, section 7, and issue 11, section 2): conv forward+backward 256x256x3 with
eight 3x3 filters (stride 1, pad 1) and 512x512x3 with sixteen 5x5 filters (stride 2, pad 2),
float64 and float32; max pooling f=2 s=2 on the ReLU'd output of the first conv case; max and
average pooling f=2 s=2 and f=3 s=1 on a 256x256x8 map, forward+backward; the loop twins at
64x64x3 with eight 3x3 filters; a 64-step trace page at the start and at the end of a
1024x1024 input; the conv scratch pool, with and without, through the server's call.
PyTorch gets its own native layout (NCHW, converted before timing) and as many threads as
OpenBLAS uses for NumPy.

Two measurements side by side (issue 11, section 2):
- plain: in a child process with PLAIN_ENV (OPENBLAS_THREAD_TIMEOUT=4: idle BLAS threads
  sleep at once; 2 threads for both libraries), the median of every call of groups of
  back-to-back calls of one library, then the other, groups interleaved (common.back_to_back);
- paused (as before): conv in short bursts after a pause, the first call of each dropped
  (_bursts); pooling in alternated single calls (common.interleaved), in this process.
The targets hold for the plain measurement.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

from bench.common import (
    Row,
    back_to_back,
    interleaved,
    openblas_info,
    set_blas_threads,
    side_by_side,
    table,
)
from core import (
    conv_backward,
    conv_backward_row_sums,
    conv_backward_trace,
    conv_forward,
    conv_forward_trace,
    pool_backward,
    pool_backward_trace,
    pool_forward,
    pool_forward_trace,
)
from core.loops import conv_backward_loop, conv_forward_loop

# Convolution: each library in short bursts after a pause (see _bursts).
BURST, PAUSE_S = 3, 0.15


def _bursts(contenders: dict, rounds: int, burst: int = BURST,
            pause: float = PAUSE_S) -> dict[str, float]:
    """Median seconds per call, in interleaved rounds: in each round every contender sleeps
    `pause` s, then runs `burst` calls back to back; the first of them is not counted.

    Both libraries run GEMMs on two threads, and both keep their idle threads spinning for a
    while after a call (OpenBLAS for about 0.1 s, PyTorch's OpenMP pool for less). Calls
    alternated back to back then measure each library slowed down by the other's spinning
    threads (here PyTorch's 4.5 ms became 8.5 ms, and convstep's 3.8 ms became 8.5 ms). The
    pause lets those threads go to sleep; the first call after it wakes the library's own
    threads and caches (slower for both) and is dropped, as a warm-up.
    """
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            time.sleep(pause)
            for k in range(burst):
                t0 = time.perf_counter()
                fn()
                elapsed = time.perf_counter() - t0
                if k:
                    times[name].append(elapsed)
    return {name: statistics.median(ts) for name, ts in times.items()}


def _torch():
    """(torch, note): the module with threads set like NumPy's BLAS, or None and why not."""
    try:
        import torch
    except ImportError:
        return None, ("PyTorch: not installed, skipped (`make bench` tries "
                      "`pip install torch==2.13.0`, a CPU build).")
    threads = int(openblas_info().get("threads", os.cpu_count() or 1))
    torch.set_num_threads(threads)
    return torch, f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads."


def _conv_case(torch, rng, shape, f, n_C, stride, pad, dtype):
    C = shape[3]
    A_prev = rng.standard_normal(shape).astype(dtype)
    W = rng.standard_normal((f, f, C, n_C)).astype(dtype)
    b = rng.standard_normal((1, 1, 1, n_C)).astype(dtype)
    hp = {"stride": stride, "pad": pad}
    Z, _ = conv_forward(A_prev, W, b, hp)
    dZ = rng.standard_normal(Z.shape).astype(dtype)

    def ours():
        _, cache = conv_forward(A_prev, W, b, hp)
        conv_backward(dZ, cache)

    contenders = {"ours": ours}
    if torch is not None:
        F = torch.nn.functional
        x = torch.from_numpy(A_prev.transpose(0, 3, 1, 2).copy()).requires_grad_(True)
        w = torch.from_numpy(W.transpose(3, 2, 0, 1).copy()).requires_grad_(True)
        bias = torch.from_numpy(b.reshape(n_C).copy()).requires_grad_(True)
        g = torch.from_numpy(dZ.transpose(0, 3, 1, 2).copy())

        def theirs():
            x.grad = w.grad = bias.grad = None
            F.conv2d(x, w, bias, stride=stride, padding=pad).backward(g)

        contenders["torch"] = theirs
    return contenders


def _pool_case(torch, rng, A_prev, f, stride, mode):
    dtype = A_prev.dtype
    hp = {"f": f, "stride": stride}
    A, _ = pool_forward(A_prev, hp, mode)
    dA = rng.standard_normal(A.shape).astype(dtype)

    def ours():
        _, cache = pool_forward(A_prev, hp, mode)
        pool_backward(dA, cache, mode)

    contenders = {"ours": ours}
    if torch is not None:
        F = torch.nn.functional
        pool = F.max_pool2d if mode == "max" else F.avg_pool2d
        x = torch.from_numpy(A_prev.transpose(0, 3, 1, 2).copy()).requires_grad_(True)
        g = torch.from_numpy(dA.transpose(0, 3, 1, 2).copy())

        def theirs():
            x.grad = None
            pool(x, f, stride).backward(g)

        contenders["torch"] = theirs
    return contenders


CONV_CASES = [((1, 256, 256, 3), 3, 8, 1, 1), ((1, 512, 512, 3), 5, 16, 2, 2)]
# (name of the input, f, stride, modes): "relu" is the ReLU'd output of the first conv case
POOL_CASES = [("relu", 2, 2, ("max",)), ("random", 2, 2, ("max", "average")),
              ("random", 3, 1, ("max", "average"))]
PLAIN_TARGETS = {"conv float64": "<= 0.8x", "conv float32": "<= 1.5x", "pool": "<= 1.2x"}
PAUSED_TARGETS = {"conv float64": "<= 0.8x", "conv float32": "<= 2x", "pool": "<= 1.5x"}
PLAIN_ENV = {"OPENBLAS_THREAD_TIMEOUT": "4", "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2",
             "MKL_NUM_THREADS": "2"}
PLAIN_CALLS = 10  # calls per group, back to back


def _conv_name(shape, f, n_C, stride, pad, dtype) -> str:
    return (f"conv {shape[1]}x{shape[2]}x{shape[3]}, {n_C} filters {f}x{f}, "
            f"stride {stride}, pad {pad}, {np.dtype(dtype).name}")


def _relu_map(dtype) -> np.ndarray:
    """The ReLU'd output (1, 256, 256, 8) of the first conv case (its own seed)."""
    rng = np.random.default_rng(3)
    A_prev = rng.standard_normal((1, 256, 256, 3)).astype(dtype)
    W = rng.standard_normal((3, 3, 3, 8)).astype(dtype)
    b = rng.standard_normal((1, 1, 1, 8)).astype(dtype)
    Z, _ = conv_forward(A_prev, W, b, {"stride": 1, "pad": 1})
    return np.maximum(Z, 0)


def _cases(torch, pooling: bool = True) -> list[tuple[str, str, dict]]:
    """(name, target key, contenders) of every case against PyTorch; the same arrays in
    every process (fixed seeds)."""
    rng = np.random.default_rng(0)
    cases = []
    for shape, f, n_C, stride, pad in CONV_CASES:
        for dtype in (np.float64, np.float32):
            cases.append((_conv_name(shape, f, n_C, stride, pad, dtype),
                          f"conv {np.dtype(dtype).name}",
                          _conv_case(torch, rng, shape, f, n_C, stride, pad, dtype)))
    for source, f, stride, modes in POOL_CASES if pooling else ():
        for mode in modes:
            for dtype in (np.float64, np.float32):
                if source == "relu":
                    A_prev, what = _relu_map(dtype), "the ReLU'd conv 256x256x3 -> 8 output"
                else:
                    A_prev, what = rng.standard_normal((1, 256, 256, 8)).astype(dtype), "256x256x8"
                name = f"{mode} pool {what}, f={f} s={stride}, {np.dtype(dtype).name}"
                cases.append((name, "pool", _pool_case(torch, rng, A_prev, f, stride, mode)))
    return cases


def _paused(torch, rounds: int, pooling: bool = True) -> dict[str, dict[str, float]]:
    """The earlier measurement: conv in bursts after a pause, pooling alternated."""
    medians = {}
    for name, key, contenders in _cases(torch, pooling):
        if key == "pool":
            medians[name] = interleaved(contenders, rounds)
        else:
            medians[name] = _bursts(contenders, rounds)
    return medians


# Cases of the thread-scaling table (names as in _cases).
SCALING_CASES = ("conv 256x256x3, 8 filters 3x3, stride 1, pad 1, float64",
                 "conv 512x512x3, 16 filters 5x5, stride 2, pad 2, float32",
                 "max pool the ReLU'd conv 256x256x3 -> 8 output, f=2 s=2, float64")


def _scaling(torch, cases, rounds: int) -> dict[str, dict[str, float]]:
    """Each library with 1 and with 2 threads, plainly (back to back, groups interleaved):
    what a second core buys each of them."""
    out = {}
    for name, _, contenders in cases:
        if name not in SCALING_CASES or "torch" not in contenders:
            continue
        runs = {}
        for threads in (1, 2):
            def ours(fn=contenders["ours"], n=threads):
                set_blas_threads(n)
                fn()

            def theirs(fn=contenders["torch"], n=threads):
                torch.set_num_threads(n)
                fn()

            runs[f"ours {threads}"], runs[f"torch {threads}"] = ours, theirs
        out[name] = back_to_back(runs, rounds, PLAIN_CALLS)
    set_blas_threads(2)
    torch.set_num_threads(2)
    return out


def _conv_stages(dtype, rounds: int) -> dict[str, float]:
    """CPU ms of each stage of conv_forward + conv_backward on the first conv case, one
    BLAS thread: the steps of core/_fast/gemm.py's forward and backward, timed one by one."""
    from core._fast import gemm
    from core._fast.scratch import scratch_array, scratch_scope
    from core.conv import prepare_conv

    rng = np.random.default_rng(5)
    A_prev = rng.standard_normal((1, 256, 256, 3)).astype(dtype)
    W = rng.standard_normal((3, 3, 3, 8)).astype(dtype)
    b = rng.standard_normal((1, 1, 1, 8)).astype(dtype)
    dZ = rng.standard_normal((1, 256, 256, 8)).astype(dtype)
    setup = prepare_conv(A_prev, W, b, {"stride": 1, "pad": 1})
    g, n_C = setup.geometry, 8
    totals: dict[str, list[float]] = {}

    def once():
        stages: dict[str, float] = {}
        clock = [time.thread_time()]

        def tick(name):
            now = time.thread_time()
            stages[name] = stages.get(name, 0.0) + now - clock[0]
            clock[0] = now

        with scratch_scope():  # forward
            grids, layout = gemm.phase_input(setup, setup.dtype)
            W_flat = np.concatenate([gemm.flat_weights(setup.W, layout), setup.b.reshape(1, n_C)])
            Z_grid = np.empty((layout.grid_size, n_C), dtype=setup.dtype)
            tick("input grids and weights (fwd + bwd)")
            blocks = gemm.Columns(grids, layout, g.f).blocks()
            for p0, n, columns in blocks:
                tick("im2col: fill the columns (fwd + bwd)")
                np.matmul(columns.T, W_flat, out=Z_grid[p0 : p0 + n])
                tick("GEMM forward: Z = columns.T @ W")
        with scratch_scope():  # backward
            grids, layout = gemm.phase_input(setup, setup.dtype)
            dZ_grid = scratch_array((1, layout.grid_rows, layout.grid_cols, n_C), setup.dtype)
            dZ_grid[:, : g.n_H, : g.n_W, :] = dZ
            dZ_grid[:, : g.n_H, g.n_W :, :] = 0
            dZ_grid[:, g.n_H :, :, :] = 0
            dZ_flat = dZ_grid.reshape(layout.grid_size, n_C)
            tick("dZ onto the flat grid")
            W_flat = gemm.flat_weights(setup.W, layout)
            cols = gemm.Columns(grids, layout, g.f)
            dW_flat = np.zeros((cols.K + 1, n_C), dtype=setup.dtype)
            grad = scratch_array(grids.shape, setup.dtype)
            grad[...] = 0
            dcolumns_block = scratch_array((cols.K, cols.width), setup.dtype)
            tick("input grids and weights (fwd + bwd)")
            for p0, n, block in cols.blocks():
                tick("im2col: fill the columns (fwd + bwd)")
                dZ_block = dZ_flat[p0 : p0 + n]
                dW_flat += block @ dZ_block
                tick("GEMM dW = columns @ dZ")
                dcolumns = dcolumns_block[:, :n]
                np.matmul(W_flat, dZ_block.T, out=dcolumns)
                tick("GEMM dcolumns = W @ dZ.T")
                by_tap = dcolumns.reshape(cols.C, 9, n)
                for k, (p, shift) in enumerate(layout.tap_reads):
                    grad[p, :, p0 + shift : p0 + shift + n] += by_tap[:, k, :]
                tick("col2im: add dcolumns back (9 slice-adds)")
            gemm.constant_grad_input(grad, layout, g, 1)
            tick("dA_prev from the grid gradient")
        return stages

    set_blas_threads(1)
    for r in range(1 + rounds):
        for name, value in once().items():
            if r:
                totals.setdefault(name, []).append(value)
    set_blas_threads(2)
    return {name: statistics.median(v) for name, v in totals.items()}


def _pool_stages(rounds: int) -> dict[str, float]:
    """CPU ms of pool_forward and pool_backward (max, f=2 s=2, "first") on the ReLU'd map."""
    A_prev = _relu_map(np.float64)
    hp = {"f": 2, "stride": 2}
    A, cache = pool_forward(A_prev, hp)
    dA = np.random.default_rng(6).standard_normal(A.shape)
    times: dict[str, list[float]] = {"pool_forward": [], "pool_backward": []}
    for r in range(1 + rounds):
        for name, fn in (("pool_forward", lambda: pool_forward(A_prev, hp)),
                         ("pool_backward", lambda: pool_backward(dA, cache))):
            t0 = time.thread_time()
            fn()
            if r:
                times[name].append(time.thread_time() - t0)
    return {name: statistics.median(v) for name, v in times.items()}


def plain_json(quick: bool) -> None:
    """Print the plain measurement as JSON (run in a child process with PLAIN_ENV), with
    the thread-scaling table and the per-stage profile that explain the misses."""
    torch, note = _torch()
    rounds = 3 if quick else 15
    cases = _cases(torch)
    medians = {name: back_to_back(contenders, rounds, PLAIN_CALLS)
               for name, _, contenders in cases}
    loops = _versus_loops(1 if quick else 3)
    scaling = _scaling(torch, cases, 2 if quick else 8) if torch is not None else {}
    stages = {np.dtype(dt).name: _conv_stages(dt, 5 if quick else 30)
              for dt in (np.float64, np.float32)}
    info = openblas_info()
    print(json.dumps({"medians": medians, "note": note, "loops": [loops.ours, loops.other],
                      "scaling": scaling, "conv_stages": stages,
                      "pool_stages": _pool_stages(5 if quick else 30),
                      "blas": f"OpenBLAS kernel {info.get('corename', '?')}, "
                              f"{info.get('threads', '?')} threads"}))


def _child(code: str, env: dict[str, str], timeout: int = 1800):
    """Run `code` in a child Python with `env` added; its last stdout line as JSON."""
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _versus_loops(rounds: int) -> Row:
    rng = np.random.default_rng(1)
    A_prev = rng.standard_normal((1, 64, 64, 3))
    W = rng.standard_normal((3, 3, 3, 8))
    b = rng.standard_normal((1, 1, 1, 8))
    hp = {"stride": 1, "pad": 1}
    dZ = rng.standard_normal((1, 64, 64, 8))

    def fast():
        conv_backward(dZ, conv_forward(A_prev, W, b, hp)[1])

    def loops():
        conv_backward_loop(dZ, conv_forward_loop(A_prev, W, b, hp)[1])

    def fast_per_call():  # one round of the fast version: the median of 25 calls in a row
        times = []
        for _ in range(25):
            started = time.perf_counter()
            fast()
            times.append(time.perf_counter() - started)
        fast_times.append(statistics.median(times))

    fast_times: list[float] = []
    medians = interleaved({"fast": fast_per_call, "loops": loops}, rounds, warmup=0)
    return Row("conv 64x64x3, 8 filters 3x3, stride 1, pad 1, float64, forward+backward",
               statistics.median(fast_times), medians["loops"], ">= 500x",
               ratio_kind="other/ours")


def _trace_pages(rounds: int) -> list[Row]:
    rng = np.random.default_rng(2)
    A_prev = rng.standard_normal((1, 1024, 1024, 3)).astype(np.float32)
    W = rng.standard_normal((3, 3, 3, 8)).astype(np.float32)
    b = np.zeros((1, 1, 1, 8), dtype=np.float32)
    hp = {"stride": 1, "pad": 1}
    Z, cache = conv_forward(A_prev, W, b, hp)
    dZ = rng.standard_normal(Z.shape).astype(np.float32)
    db_prefix = conv_backward_row_sums(dZ)  # once, untimed, as the server does per result
    pool_hp = {"f": 2, "stride": 2}
    A, pool_cache = pool_forward(Z, pool_hp)
    dA = rng.standard_normal(A.shape).astype(np.float32)
    limit = 64
    pages = {
        "conv forward": (lambda off: conv_forward_trace(A_prev, W, b, hp, offset=off,
                                                        limit=limit), Z.size),
        # As the server serves it: db_prefix computed once per layer result (app/layer.py).
        "conv backward": (lambda off: conv_backward_trace(dZ, cache, offset=off, limit=limit,
                                                          db_prefix=db_prefix), Z.size),
        "max pool forward": (lambda off: pool_forward_trace(Z, pool_hp, offset=off,
                                                            limit=limit), A.size),
        "max pool backward": (lambda off: pool_backward_trace(dA, pool_cache, offset=off,
                                                              limit=limit), A.size),
    }
    rows = []
    for name, (page, total) in pages.items():
        medians = interleaved({"start": lambda p=page: p(0),
                               "end": lambda p=page, t=total: p(t - limit)}, rounds)
        rows.append(Row(f"{name} trace, {limit} steps, 1024x1024 input ({total:,} steps)",
                        medians["end"], medians["start"], "<= 2x"))
    return rows


CONV_HEADERS = ("case (forward+backward)", "convstep ms", "PyTorch ms", "convstep/PyTorch")
BLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def _conv_rows(medians: dict[str, dict[str, float]], targets: dict[str, str]) -> list[Row]:
    return [Row(name, medians[name]["ours"], medians[name].get("torch"), targets[key])
            for name, key, _ in _cases(None, pooling=False)]


def conv_table(quick: bool) -> str:
    """The convolution table alone, paused (run in a child process by `_other_kernel`)."""
    torch, _ = _torch()
    info = openblas_info()
    medians = _paused(torch, 3 if quick else 15, pooling=False)
    return (f"OpenBLAS kernel {info.get('corename', '?')}, {info.get('threads', '?')} threads.\n\n"
            + table(_conv_rows(medians, PAUSED_TARGETS), CONV_HEADERS))


def _other_kernel(quick: bool) -> str:
    """The convolution table again, in a child process without OPENBLAS_CORETYPE/L2_SIZE.

    This machine sets them because old OpenBLAS builds crash or miscompute on its CPU; the
    current NumPy's OpenBLAS then runs an older kernel than it would pick by itself.
    """
    if not any(v in os.environ for v in BLAS_VARIABLES):
        return ""
    env = {k: v for k, v in os.environ.items() if k not in BLAS_VARIABLES}
    code = f"from bench.core_bench import conv_table; print(conv_table({quick!r}))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    body = done.stdout.strip() if done.returncode == 0 else f"```\n{done.stderr[-2000:]}```"
    return ("### Convolution again, with OpenBLAS choosing its own kernel (paused)\n\n"
            f"Same cases in a child process with {' and '.join(BLAS_VARIABLES)} unset (for "
            "this table only; the tables above use the machine's settings). " + body)


SERVER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def scratch_pool_json(quick: bool) -> None:
    """Print, as JSON, app.explore.services.layer.run (the server's whole layer call: conv, ReLU,
    pool, their backward passes and the float32 copies) with and without the conv scratch
    pool (core/_fast/scratch.py): median ms per call and page faults per call, by image size.
    Run in a child process with SERVER_ENV, the server's one BLAS thread."""
    from app.explore.schemas.image import ImageSettings
    from app.explore.services import layer
    from app.explore.services.plan import make_plan
    from core._fast import scratch as _scratch

    kept = _scratch.MAX_ARRAY_BYTES
    rng = np.random.default_rng(4)
    out = {}
    for size in (96, 256, 512):
        image = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        settings = ImageSettings(size=size, filters=[{"preset": "sobel_x"},
                                                     {"preset": "sobel_y"}] * 4)
        plan = make_plan(settings, image.shape)
        times: dict[str, list[float]] = {"pool": [], "fresh": []}
        faults: dict[str, list[int]] = {"pool": [], "fresh": []}
        for r in range(1 + (3 if quick else 12)):
            for mode in ("pool", "fresh") if r % 2 else ("fresh", "pool"):
                _scratch.MAX_ARRAY_BYTES = kept if mode == "pool" else -1
                _scratch.clear()
                layer.run(image, plan)  # the pool's first call fills it (not counted)
                for _ in range(3):
                    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                    t0 = time.perf_counter()
                    layer.run(image, plan)
                    if r:
                        times[mode].append(time.perf_counter() - t0)
                        faults[mode].append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                                            - f0)
        out[str(size)] = {mode: [statistics.median(times[mode]),
                                 statistics.median(faults[mode])] for mode in times}
    _scratch.MAX_ARRAY_BYTES = kept
    print(json.dumps(out))


def _scratch_pool(quick: bool) -> str:
    try:
        result = _child(f"from bench.core_bench import scratch_pool_json; "
                        f"scratch_pool_json({quick!r})", SERVER_ENV)
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as error:
        return f"### Scratch pool in the server's call\n\nNot measured: {error}"
    lines = ["| image | with the pool ms | without ms | without/with | page faults per call, "
             "with / without |", "| --- | ---: | ---: | ---: | --- |"]
    for size, row in result.items():
        (t_pool, f_pool), (t_fresh, f_fresh) = row["pool"], row["fresh"]
        lines.append(f"| {size} x {size} x 3, 8 filters 3x3, ReLU, max pool 2/2 | "
                     f"{t_pool * 1e3:.3g} | {t_fresh * 1e3:.3g} | {t_fresh / t_pool:.2f}x | "
                     f"{f_pool:.0f} / {f_fresh:.0f} |")
    return ("### Scratch pool in the server's call\n\n"
            "`app.explore.services.layer.run` (what one /api/image computation does) with the conv "
            "scratch pool (core/_fast/scratch.py) and without it (every intermediate a fresh "
            "array), in a child process with one BLAS thread as the server runs, alternated "
            "rounds, 3 calls each after one untimed call. A fresh array of a few hundred KB "
            "or more is mapped from the system and costs a page fault per 4 KB on first touch; "
            "the pool stays while it pays here.\n\n" + "\n".join(lines))


def _profiles(plain: dict) -> str:
    """The thread-scaling table and the per-stage CPU profile, with what they say."""
    parts = ["### Where the time goes (profiles of the plain measurement)"]
    scaling = plain.get("scaling") or {}
    if scaling:
        lines = ["| case | convstep 1 thread ms | 2 threads ms | speed-up | PyTorch 1 thread ms "
                 "| 2 threads ms | speed-up |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for name, m in scaling.items():
            lines.append(f"| {name} | {m['ours 1'] * 1e3:.3g} | {m['ours 2'] * 1e3:.3g} | "
                         f"{m['ours 1'] / m['ours 2']:.2f}x | {m['torch 1'] * 1e3:.3g} | "
                         f"{m['torch 2'] * 1e3:.3g} | {m['torch 1'] / m['torch 2']:.2f}x |")
        parts.append("What a second core buys each library (plain, back to back, both thread "
                     "counts interleaved in one process). convstep cuts each pass into parts "
                     "whose sizes do not depend on the thread count (blocks of im2col columns "
                     "with their GEMMs and col2im adds, bands of pooled rows, pieces of the "
                     "big copies) and runs consecutive groups of them on as many threads as "
                     "OpenBLAS uses (core/_fast/parallel.py; NumPy lets go of the GIL inside those "
                     "passes, and OpenBLAS is held at one thread meanwhile, so each part's "
                     "GEMMs run on its own thread); results are bit-identical on any thread "
                     "count. What stays on one thread: checking the inputs, the weights, the "
                     "pad cells, and the few adds kept for later so that every sum is made in "
                     "one thread's order. PyTorch splits each of its stages (its im2col, its "
                     "pooling loops) over both cores.\n\n"
                     + "\n".join(lines))
    stages = plain.get("conv_stages") or {}
    if stages:
        names = list(next(iter(stages.values())))
        lines = ["| stage (conv 256x256x3 -> 8 filters 3x3, forward + backward, one thread) | "
                 + " | ".join(f"{dt} CPU ms" for dt in stages) + " |",
                 "| --- |" + " ---: |" * len(stages)]
        for name in names:
            lines.append(f"| {name} | " + " | ".join(f"{stages[dt].get(name, 0) * 1e3:.3g}"
                                                  for dt in stages) + " |")
        lines.append("| total | " + " | ".join(f"{sum(v.values()) * 1e3:.3g}"
                                             for v in stages.values()) + " |")
        gemm_share = {dt: sum(t for n, t in v.items() if n.startswith("GEMM")) / sum(v.values())
                      for dt, v in stages.items()}
        parts.append("convstep's conv passes stage by stage (core/_fast/gemm.py's steps timed "
                     "one by one, CPU time of one BLAS thread, median of the rounds). The three "
                     "GEMMs are "
                     + " and ".join(f"{share:.0%} ({dt})" for dt, share in gemm_share.items())
                     + " of the time: with 8 filters and 3 channels they are thin (k = 28, "
                     "n = 8), so they stream the columns from memory rather than compute; the "
                     "rest is copying. On two threads every stage but the weights and the "
                     "input checks is cut in two (the table above shows what that buys).\n\n"
                     + "\n".join(lines))
    pool = plain.get("pool_stages") or {}
    if pool:
        parts.append(
            f"Max pooling f=2 s=2 on the ReLU'd 256x256x8 map, float64, one thread: "
            f"pool_forward {pool['pool_forward'] * 1e3:.3g} ms, pool_backward "
            f"{pool['pool_backward'] * 1e3:.3g} ms. The backward pass computes the window "
            "maxima again (the exercise's cache holds A_prev, not the argmax PyTorch keeps) "
            "and then makes two strided passes per window offset (is it the maximum, and "
            "its share of dA). Channels-last with n_C = 8, a strided NumPy pass runs its "
            "inner loop over 8 numbers at a time, several times slower per number than a "
            "contiguous one; the forward pass combines whole rows first to avoid half of them. "
            "On two threads both passes split their bands of rows between the threads.")
    return "\n\n".join(parts)


def run(quick: bool) -> str:
    torch, torch_note = _torch()
    rounds = 3 if quick else 15
    try:
        plain = _child(f"from bench.core_bench import plain_json; plain_json({quick!r})",
                       PLAIN_ENV)
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as error:
        plain = {"medians": {}, "note": f"plain measurement failed: {error}", "loops": None,
                 "blas": "?", "scaling": {}, "conv_stages": {}, "pool_stages": {}}
    paused = _paused(torch, rounds)
    pairs = {"conv": [], "pool": []}
    for name, key, _ in _cases(None):
        mine = plain["medians"].get(name, {})
        plain_row = Row(name, mine.get("ours", float("nan")), mine.get("torch"),
                        PLAIN_TARGETS[key])
        paused_row = Row(name, paused[name]["ours"], paused[name].get("torch"),
                         PAUSED_TARGETS[key])
        pairs["conv" if key.startswith("conv") else "pool"].append((plain_row, paused_row))
    if plain["loops"]:
        fast, loops = plain["loops"]
    else:
        loop_row = _versus_loops(1 if quick else 3)
        fast, loops = loop_row.ours, loop_row.other
    loop_row = Row("conv 64x64x3, 8 filters 3x3, stride 1, pad 1, float64, forward+backward",
                   fast, loops, ">= 500x", ratio_kind="other/ours")
    trace_rows = _trace_pages(5 if quick else 30)
    env = ", ".join(f"{k}={v}" for k, v in PLAIN_ENV.items())
    headers = ("case (forward+backward)", "convstep ms", "PyTorch ms")
    return "\n\n".join([
        "## Core: NumPy layers",
        f"{torch_note} Inputs in each library's own layout (channels-last for convstep, NCHW "
        "for PyTorch), converted before timing; each timing is one forward and one backward "
        "call. Max-pool backward uses convstep's default tie rule \"first\", as PyTorch does. "
        "Two measurements of each case, side by side; the targets hold for the plain one.\n\n"
        f"- **plain**: in a child process with {env} ({plain['blas']}): the median of every "
        f"call of groups of {PLAIN_CALLS} back-to-back calls of one library, then "
        "the other, groups interleaved; no pause, no call dropped. The times in the tables "
        "are these.\n"
        f"- **paused** (the earlier method, in this process): convolution in rounds of {BURST} "
        f"calls after a {PAUSE_S} s pause, the first call of a round not counted; pooling in "
        "alternated single calls. With OpenBLAS's default thread timeout its idle threads "
        "spin for a while after a call and slow the next library down; the pause hides that, "
        "OPENBLAS_THREAD_TIMEOUT=4 removes it.",
        "### Convolution against PyTorch CPU",
        side_by_side(pairs["conv"], headers),
        "### Pooling against PyTorch CPU",
        side_by_side(pairs["pool"], headers),
        "### Against the loop twins (core/loops.py)",
        "Plain: the fast version's median of 25 calls in a row against whole loop-twin calls, "
        "in the plain child process.\n\n"
        + table([loop_row], ("case", "fast ms", "loops ms", "speed-up")),
        _profiles(plain),
        _scratch_pool(quick),
        "### Trace pages: the end of a big input against its start",
        table(trace_rows, ("page", "end ms", "start ms", "end/start")),
        "A page reads only its own windows, wherever it is. The conv backward page also "
        "reports `db_running` (db after each step), the sum of every dZ before the step. It "
        "is timed the way the server serves it: with `db_prefix = conv_backward_row_sums(dZ)` "
        "(db at the start of every output row, an (m, n_H + 1, n_C) array) computed once per "
        "layer result next to the backward pass and not timed here, so a page sums only "
        "within its own output row. Without `db_prefix` a page sums every dZ before it "
        "(correct, but its cost grows with its position).",
        _other_kernel(quick),
    ])
