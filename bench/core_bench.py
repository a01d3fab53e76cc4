"""Core benchmark: convstep's NumPy layers against PyTorch CPU and against their loop twins.

Cases (issue 2, section 7): conv forward+backward 256x256x3 with eight 3x3 filters (stride 1,
pad 1) and 512x512x3 with sixteen 5x5 filters (stride 2, pad 2), float64 and float32; max
and average pooling f=2 s=2 and f=3 s=1 on a 256x256x8 map, forward+backward; the loop twins
at 64x64x3 with eight 3x3 filters; a 64-step trace page at the start and at the end of a
1024x1024 input. PyTorch gets its own native layout (NCHW, converted before timing) and as
many threads as OpenBLAS uses for NumPy.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import numpy as np

from bench.common import Row, interleaved, openblas_info, table
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


def _pool_case(torch, rng, shape, f, stride, mode, dtype):
    A_prev = rng.standard_normal(shape).astype(dtype)
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


def _versus_torch(torch, rounds: int, pooling: bool = True) -> tuple[list[Row], list[Row]]:
    rng = np.random.default_rng(0)
    conv_rows, pool_rows = [], []
    conv_cases = [((1, 256, 256, 3), 3, 8, 1, 1), ((1, 512, 512, 3), 5, 16, 2, 2)]
    for shape, f, n_C, stride, pad in conv_cases:
        for dtype, target in ((np.float64, "<= 0.8x"), (np.float32, "<= 2x")):
            medians = _bursts(_conv_case(torch, rng, shape, f, n_C, stride, pad, dtype),
                              rounds)
            name = (f"conv {shape[1]}x{shape[2]}x{shape[3]}, {n_C} filters {f}x{f}, "
                    f"stride {stride}, pad {pad}, {np.dtype(dtype).name}")
            conv_rows.append(Row(name, medians["ours"], medians.get("torch"), target))
    for f, stride in ((2, 2), (3, 1)) if pooling else ():
        for mode in ("max", "average"):
            for dtype in (np.float64, np.float32):
                medians = interleaved(
                    _pool_case(torch, rng, (1, 256, 256, 8), f, stride, mode, dtype), rounds)
                name = (f"{mode} pool 256x256x8, f={f} s={stride}, "
                        f"{np.dtype(dtype).name}")
                pool_rows.append(Row(name, medians["ours"], medians.get("torch"), "<= 1.5x"))
    return conv_rows, pool_rows


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


def conv_table(quick: bool) -> str:
    """The convolution table alone (run in a child process by `_other_kernel`)."""
    torch, _ = _torch()
    info = openblas_info()
    rows, _ = _versus_torch(torch, 3 if quick else 15, pooling=False)
    return (f"OpenBLAS kernel {info.get('corename', '?')}, {info.get('threads', '?')} threads.\n\n"
            + table(rows, CONV_HEADERS))


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
    return ("### Convolution again, with OpenBLAS choosing its own kernel\n\n"
            f"Same cases in a child process with {' and '.join(BLAS_VARIABLES)} unset (for "
            "this table only; the tables above use the machine's settings). " + body)


def run(quick: bool) -> str:
    torch, torch_note = _torch()
    rounds = 3 if quick else 15
    conv_rows, pool_rows = _versus_torch(torch, rounds)
    loop_row = _versus_loops(1 if quick else 3)
    trace_rows = _trace_pages(5 if quick else 30)
    return "\n\n".join([
        "## Core: NumPy layers",
        f"{torch_note} Inputs in each library's own layout (channels-last for convstep, NCHW "
        "for PyTorch), converted before timing; each timing is one forward and one backward "
        "call. Max-pool backward uses convstep's default tie rule \"first\", as PyTorch does. "
        f"Convolution: both libraries run their big GEMMs on both threads, so each is timed "
        f"in rounds of {BURST} calls after a {PAUSE_S} s pause, the first call of a round "
        "not counted: alternated back to back, each library's idle threads keep spinning for "
        "a while and slow the other down (measured here: PyTorch 4.5 ms -> 8.5 ms, convstep "
        "3.8 ms -> 8.5 ms on the 256x256 float64 case). convstep's scratch arrays are reused "
        "between calls (a bounded pool), as PyTorch's allocator reuses its memory.",
        "### Convolution against PyTorch CPU",
        table(conv_rows, CONV_HEADERS),
        "### Pooling against PyTorch CPU",
        table(pool_rows, CONV_HEADERS),
        "### Against the loop twins (core/loops.py)",
        table([loop_row], ("case", "fast ms", "loops ms", "speed-up")),
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
