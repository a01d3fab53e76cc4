"""Memory before the work: an upper bound of the peak bytes each fast layer function allocates.

Call these with the shapes of a request BEFORE building any array; when the bound is too
large, refuse the request (the server answers 413) instead of letting NumPy try. Each
function reads the same arguments as the layer it describes, but shapes instead of arrays,
and allocates nothing that grows with them (the sizes are plain integer arithmetic):

    conv_forward_bytes(A_prev_shape, W_shape, hparameters, *, pad_mode=, dilation=, itemsize=)
    conv_backward_bytes(A_prev_shape, W_shape, hparameters, *, pad_mode=, dilation=, itemsize=)
    pool_forward_bytes(A_prev_shape, hparameters, mode=, *, itemsize=)
    pool_backward_bytes(A_prev_shape, hparameters, mode=, *, tie_rule=, itemsize=)

`itemsize` is the bytes per number of the computation: 8 for float64 (the default, and what
any mix with float64 or any integer input becomes), 4 when every array is float32. Inputs that
are not float32/float64 are first converted to float64 (a copy of each input): pass
`converted_inputs=True` to count those copies too. The *_breakdown functions return the
same bound as named parts (dict name -> bytes) for error messages; *_bytes is their sum.

The bound counts the results (Z, dA_prev, dW, db, A) and every intermediate as if all were
alive at once, so the true peak is lower (tests/core/test_workspace_bounds.py measures each
function under tracemalloc against it, on ordinary and hostile shapes). With the notation

    m, n_H_prev, n_W_prev, C = A_prev_shape     f, f, C, n_C = W_shape     s = stride, d = dilation
    Hp = n_H_prev + 2*pad                        Hs = ceil(Hp / s)          (likewise Wp, Ws)
    N = m*Hs*Ws   (the flat phase grid)          K = C*f*f                  P = number of stride
    phases the taps read (at most s*s)           B = one block of columns (core/_fast/gemm.py);
                                                 2*B: a GEMM may copy a block's last part

the parts for the convolution are, in bytes (`it` = itemsize):

    forward   phase buffers P*C*N*it + outputs on the grid N*n_C*it + columns 2*B
              + weights 4*(K + 1)*n_C*it [+ for reflect/edge: padded input C*m*Hp*Wp*it]
    backward  the forward's phase buffers, + their gradient P*C*N*it,
              + dZ on the grid N*n_C*it + columns and dcolumns 4*B
              + weights and dW 8*(K + 1)*n_C*it
              + dA_prev m*n_H_prev*n_W_prev*C*it
              [+ for reflect/edge: padded input, padded gradient and two folds,
                 4*C*m*Hp*Wp*it, + dA_prev's channels-first copy]

with the columns blocks counted once per thread at work (T = core/parallel.py's
thread_count() when the bound is taken, at most one per block; the server's one BLAS
thread makes T = 1), and for a backward pass on T > 1 threads what it keeps aside: each
extra group's deferred col2im adds, K*reach numbers (reach = the largest tap shift on the
flat grid), and dW's GEMM products; plus, for both, the geometry's bookkeeping (per axis
about 24*n_out*f + 80*n_pad bytes, the unreached rows it lists) and a fixed allowance for
small Python objects. Every part is what the implementation allocates; when it changes,
this module and its test change with it.
Besides, between calls the convolution's scratch pool (core/_fast/scratch.py) may keep up to
SCRATCH_POOL_MAX_BYTES per process: count it once in a per-worker budget, not per call.

Pooling (n_H, n_W the output size, out = m*n_H*n_W*C*it, `band` the output rows of one
cache-sized band of core/_fast/bands.py):

    forward   A = out + the row maxima of one band, rows*m*n_W_prev*C*it, per thread
    backward  dA_prev m*n_H_prev*n_W_prev*C*it + dA cast to the result dtype, out
              + per band and thread: max: the row maxima, and 4 band-sized arrays of
              numbers and 2 of booleans (the window maxima, the tie counts, the gradient
              still to route, the routed gradient, a mask); average: dA's share
              + on T > 1 threads with overlapping windows, each extra group's deferred
              adds, f*f*ceil((f - stride)/stride) rows of windows

Example: a 256 x 256 x 3 float64 image, eight 3 x 3 filters, stride 1, pad 1:
conv_forward_bytes((1, 256, 256, 3), (3, 3, 3, 8), {"stride": 1, "pad": 1}) is about 8 MB
(the output alone is 4 MB), and the hostile A_prev (1, 1, 1, 1024), W (6, 6, 1024, 1),
pad 125, dilation 50 (one output number) gives about 0.5 GB: its padded input is
251 x 251 x 1024 numbers.
"""

from __future__ import annotations

import math

from ..geometry import (
    PAD_MODES,
    POOL_MODES,
    TIE_RULES,
    GeometryError,
    check_choice,
    check_int,
    conv_geometry,
)
from . import parallel
from .bands import band_rows
from .gemm import MAX_KEPT_BYTES, block_width, gemm_count
from .scratch import MAX_POOL_BYTES as SCRATCH_POOL_MAX_BYTES

# Small Python objects of one call (dicts, dataclasses, views, tap lists): a fixed
# allowance plus one per kernel tap.
_FIXED_BYTES = 1 << 17
_PER_TAP_BYTES = 512


def _shape(name: str, shape, words: str) -> tuple[int, int, int, int]:
    try:
        dims = tuple(shape)
    except TypeError:
        raise GeometryError(f"{name} must be a shape {words}, but it is {shape!r}.") from None
    if len(dims) != 4:
        raise GeometryError(f"{name} must have 4 axes {words}, but it has {len(dims)} "
                            f"(shape {dims}).")
    return tuple(check_int(f"{name}[{k}]", v, minimum=1, what="an axis holds at least one "
                           "number") for k, v in enumerate(dims))


def _hparameters(hparameters, keys: tuple[str, ...], layer: str) -> dict:
    if not isinstance(hparameters, dict) or any(k not in hparameters for k in keys):
        raise GeometryError(f"hparameters for {layer} must be a dict with the keys "
                            f"{', '.join(repr(k) for k in keys)}; got {hparameters!r}.")
    return hparameters


def _itemsize(itemsize) -> int:
    itemsize = check_int("itemsize", itemsize, minimum=1, what="bytes per number")
    if itemsize not in (4, 8):
        raise GeometryError(f"itemsize must be 4 (float32) or 8 (float64), but it is {itemsize}.")
    return itemsize


def _out_size(n_prev: int, f: int, stride: int, pad: int, dilation: int) -> int:
    return (n_prev + 2 * pad - dilation * (f - 1) - 1) // stride + 1


def _geometry_bytes(n_pad: int, n_out: int, f: int) -> int:
    """conv_geometry's arrays and the tuples of unreached rows and columns, both axes."""
    return 2 * (24 * n_out * f + 80 * n_pad)


def _conv_sizes(A_prev_shape, W_shape, hparameters, pad_mode, dilation):
    m, n_H_prev, n_W_prev, C = _shape("A_prev", A_prev_shape, "(m, n_H_prev, n_W_prev, n_C_prev)")
    f, f2, C_w, n_C = _shape("W", W_shape, "(f, f, n_C_prev, n_C)")
    if f != f2 or C_w != C:
        raise GeometryError(f"W {tuple(W_shape)} must be (f, f, n_C_prev, n_C) with "
                            f"n_C_prev = {C} (A_prev {tuple(A_prev_shape)}).")
    hp = _hparameters(hparameters, ("stride", "pad"), "conv_forward")
    # As prepare_conv reads them: a keyword at its default defers to hparameters.
    if pad_mode == "constant":
        pad_mode = hp.get("pad_mode", pad_mode)
    if not isinstance(dilation, bool) and dilation == 1:
        dilation = hp.get("dilation", dilation)
    pad_mode = check_choice("pad_mode", pad_mode, PAD_MODES)
    stride = check_int("stride", hp["stride"], minimum=1, what="the window moves")
    pad = check_int("pad", hp["pad"], minimum=0, what="padding cannot remove")
    dilation = check_int("dilation", dilation, minimum=1, what="1 means adjacent cells")
    n_H = _out_size(n_H_prev, f, stride, pad, dilation)
    n_W = _out_size(n_W_prev, f, stride, pad, dilation)
    if n_H < 1 or n_W < 1:  # core's own message; it raises before it allocates anything
        conv_geometry(n_H_prev, n_W_prev, f, stride=stride, pad=pad, dilation=dilation)
    Hp, Wp = n_H_prev + 2 * pad, n_W_prev + 2 * pad
    Hs, Ws = -(-Hp // stride), -(-Wp // stride)
    # Tap k of an axis reads phase k*dilation % stride: min(f, stride / gcd) distinct ones.
    P = min(f, stride // math.gcd(dilation, stride)) ** 2
    N = m * Hs * Ws
    N_out = ((m - 1) * Hs + n_H - 1) * Ws + n_W
    return dict(m=m, n_H_prev=n_H_prev, n_W_prev=n_W_prev, C=C, f=f, n_C=n_C, pad_mode=pad_mode,
                Hp=Hp, Wp=Wp, N=N, N_out=N_out, P=P, K=C * f * f, n_H=n_H, n_W=n_W,
                stride=stride, dilation=dilation, Ws=Ws)


def conv_forward_breakdown(A_prev_shape, W_shape, hparameters, *, pad_mode="constant",
                           dilation=1, itemsize=8, converted_inputs=False) -> dict[str, int]:
    """conv_forward's bound as named parts in bytes (module docstring); sum = the bound."""
    z = _conv_sizes(A_prev_shape, W_shape, hparameters, pad_mode, dilation)
    it = _itemsize(itemsize)
    K, n_C, C, m = z["K"], z["n_C"], z["C"], z["m"]
    width = block_width(K + 1, z["N_out"], it)
    threads = parallel.thread_count()
    parts = {
        "phase buffers (the padded input)": z["P"] * C * z["N"] * it,
        "Z on the flat grid": z["N"] * n_C * it,
        "columns block, and a copy of it for the GEMM, per thread":
            min(threads, -(-z["N_out"] // width)) * 2 * (K + 1) * width * it,
        "weights": 4 * (K + 1) * n_C * it,
        "geometry": _geometry_bytes(z["Hp"], z["n_H"], z["f"]) + _geometry_bytes(
            z["Wp"], z["n_W"], z["f"]),
        "small objects": _FIXED_BYTES + _PER_TAP_BYTES * z["f"] * z["f"],
    }
    if z["pad_mode"] != "constant":
        parts["padded input"] = C * m * z["Hp"] * z["Wp"] * it
        parts["A_prev cast"] = m * z["n_H_prev"] * z["n_W_prev"] * C * it
    if converted_inputs:
        parts["float64 copies of the inputs"] = 8 * (m * z["n_H_prev"] * z["n_W_prev"] * C
                                                     + K * n_C + n_C)
    return parts


def conv_backward_breakdown(A_prev_shape, W_shape, hparameters, *, pad_mode="constant",
                            dilation=1, itemsize=8, converted_inputs=False) -> dict[str, int]:
    """conv_backward's bound as named parts in bytes (module docstring); sum = the bound.

    A_prev_shape, W_shape and hparameters are those of the forward call whose cache the
    backward pass gets (hparameters may be the cache's, holding pad_mode and dilation).
    """
    z = _conv_sizes(A_prev_shape, W_shape, hparameters, pad_mode, dilation)
    it = _itemsize(itemsize)
    K, n_C, C, m = z["K"], z["n_C"], z["C"], z["m"]
    width = block_width(K + 1, z["N_out"], it)
    A_bytes = m * z["n_H_prev"] * z["n_W_prev"] * C * it
    parts = {
        "phase buffers (the padded input)": z["P"] * C * z["N"] * it,
        "their gradient": z["P"] * C * z["N"] * it,
        "dZ on the flat grid": z["N"] * n_C * it,
        "columns and dcolumns blocks, and GEMM copies of both, per thread":
            min(parallel.thread_count(), -(-z["N_out"] // width)) * 4 * (K + 1) * width * it,
        "weights, dW and db": 8 * (K + 1) * n_C * it,
        "dA_prev": A_bytes,
        "geometry": _geometry_bytes(z["Hp"], z["n_H"], z["f"]) + _geometry_bytes(
            z["Wp"], z["n_W"], z["f"]),
        "small objects": _FIXED_BYTES + _PER_TAP_BYTES * z["f"] * z["f"],
    }
    parts.update(_threaded_backward(z, width, it))
    if z["pad_mode"] != "constant":
        parts["padded input, padded gradient and folds"] = 4 * C * m * z["Hp"] * z["Wp"] * it
        parts["A_prev cast and dA_prev channels-first"] = 2 * A_bytes
    if converted_inputs:
        parts["float64 copies of the inputs and dZ"] = 8 * (
            m * z["n_H_prev"] * z["n_W_prev"] * C + K * n_C + n_C + m * z["n_H"] * z["n_W"] * n_C)
    return parts


def _threaded_backward(z: dict, width: int, it: int) -> dict[str, int]:
    """What a backward pass on several threads keeps aside (core/_fast/gemm.py, backward
    and threads_pay_backward): each extra group's deferred col2im adds (K*reach numbers at
    most, reach the largest tap shift on the flat grid) and every GEMM product of dW."""
    threads = parallel.thread_count()
    K, n_C, N_out = z["K"], z["n_C"], z["N_out"]
    n_blocks = -(-N_out // width)
    terms = gemm_count(width, N_out, K + 1, n_C)
    stride, dilation = z["stride"], z["dilation"]
    reach = ((z["f"] - 1) * dilation // stride) * z["Ws"] + (z["f"] - 1) * dilation // stride
    if threads < 2 or n_blocks < 2 or K * reach * it > MAX_KEPT_BYTES \
            or terms * (K + 1) * n_C * it > MAX_KEPT_BYTES:
        return {}
    groups = min(threads, n_blocks)
    return {"deferred adds and dW's products (threads)":
            (groups - 1) * K * reach * it + terms * (K + 1) * n_C * it
            + _PER_TAP_BYTES * (K * groups + terms)}


def conv_forward_bytes(A_prev_shape, W_shape, hparameters, *, pad_mode="constant", dilation=1,
                       itemsize=8, converted_inputs=False) -> int:
    """Upper bound of the peak bytes conv_forward allocates (results included).

    Same arguments as conv_forward, with the shapes A_prev (m, n_H_prev, n_W_prev, n_C_prev)
    and W (f, f, n_C_prev, n_C) instead of the arrays; itemsize 8 (float64) or 4 (float32).
    Formula: the module docstring. Raises GeometryError for shapes conv_forward refuses.
    """
    return sum(conv_forward_breakdown(A_prev_shape, W_shape, hparameters, pad_mode=pad_mode,
                                      dilation=dilation, itemsize=itemsize,
                                      converted_inputs=converted_inputs).values())


def conv_backward_bytes(A_prev_shape, W_shape, hparameters, *, pad_mode="constant", dilation=1,
                        itemsize=8, converted_inputs=False) -> int:
    """Upper bound of the peak bytes conv_backward allocates (dA_prev, dW, db included).

    The shapes and hparameters of the forward call (or of its cache). Formula: the module
    docstring. Raises GeometryError for shapes conv_forward refuses.
    """
    return sum(conv_backward_breakdown(A_prev_shape, W_shape, hparameters, pad_mode=pad_mode,
                                       dilation=dilation, itemsize=itemsize,
                                       converted_inputs=converted_inputs).values())


def _pool_sizes(A_prev_shape, hparameters):
    m, n_H_prev, n_W_prev, C = _shape("A_prev", A_prev_shape, "(m, n_H_prev, n_W_prev, n_C)")
    hp = _hparameters(hparameters, ("stride", "f"), "pool_forward")
    f = check_int("f", hp["f"], minimum=1, what="a window covers at least one cell")
    stride = check_int("stride", hp["stride"], minimum=1, what="the window moves")
    n_H, n_W = _out_size(n_H_prev, f, stride, 0, 1), _out_size(n_W_prev, f, stride, 0, 1)
    if n_H < 1 or n_W < 1:
        conv_geometry(n_H_prev, n_W_prev, f, stride=stride, pad=0, dilation=1)
    return m, n_H_prev, n_W_prev, C, f, stride, n_H, n_W


def _pool_threads(m: int, n_W_prev: int, C: int, stride: int, n_H: int) -> int:
    """Bands at work at once: the thread count, or fewer if there are fewer bands (counted
    with 8-byte numbers, the most bands)."""
    return min(parallel.thread_count(), -(-n_H // band_rows(m, n_W_prev, C, 8, stride)))


def pool_forward_breakdown(A_prev_shape, hparameters, mode="max", *, itemsize=8,
                           converted_inputs=False) -> dict[str, int]:
    """pool_forward's bound as named parts in bytes (module docstring); sum = the bound."""
    check_choice("mode", mode, POOL_MODES)
    m, n_H_prev, n_W_prev, C, f, stride, n_H, n_W = _pool_sizes(A_prev_shape, hparameters)
    it = _itemsize(itemsize)
    rows = min(n_H, band_rows(m, n_W_prev, C, 4, stride))  # cut by A_prev's itemsize (4 or 8)
    parts = {
        "A": m * n_H * n_W * C * it,
        "row maxima of one band, per thread":
            _pool_threads(m, n_W_prev, C, stride, n_H) * rows * m * n_W_prev * C * it,
        "geometry": _geometry_bytes(n_H_prev, n_H, f) + _geometry_bytes(n_W_prev, n_W, f),
        "small objects": _FIXED_BYTES + _PER_TAP_BYTES * f * f,
    }
    if converted_inputs:
        parts["float64 copy of A_prev"] = 8 * m * n_H_prev * n_W_prev * C
    return parts


def pool_backward_breakdown(A_prev_shape, hparameters, mode="max", *, tie_rule="first",
                            itemsize=8, converted_inputs=False) -> dict[str, int]:
    """pool_backward's bound as named parts in bytes (module docstring); sum = the bound."""
    check_choice("mode", mode, POOL_MODES)
    check_choice("tie_rule", tie_rule, TIE_RULES)
    m, n_H_prev, n_W_prev, C, f, stride, n_H, n_W = _pool_sizes(A_prev_shape, hparameters)
    it = _itemsize(itemsize)
    # The bands are cut by A_prev's itemsize, which may be 4 under a float64 dA: take 4.
    rows = min(n_H, band_rows(m, n_W_prev, C, 4, stride))
    band = rows * m * n_W * C
    threads = _pool_threads(m, n_W_prev, C, stride, n_H)
    parts = {
        "dA_prev": m * n_H_prev * n_W_prev * C * it,
        "dA cast": m * n_H * n_W * C * it,
        # max: the window maxima, tie counts, gradient to route, routed gradient, a mask
        # and the row maxima; average: the share of dA
        "band scratch, per thread": threads * (
            band * (4 * it + 2) + rows * m * n_W_prev * C * it if mode == "max" else band * it),
        "geometry": 2 * (_geometry_bytes(n_H_prev, n_H, f) + _geometry_bytes(n_W_prev, n_W, f)),
        "small objects": _FIXED_BYTES + _PER_TAP_BYTES * f * f,
    }
    if threads > 1 and f > stride:  # each extra group's deferred adds (core/_fast/bands.py)
        parts["deferred adds (threads)"] = (threads - 1) * f * f * (
            -(-(f - stride) // stride) * m * n_W * C * it + _PER_TAP_BYTES)
    if converted_inputs:
        parts["float64 copies of A_prev and dA"] = 8 * m * (n_H_prev * n_W_prev + n_H * n_W) * C
    return parts


def pool_forward_bytes(A_prev_shape, hparameters, mode="max", *, itemsize=8,
                       converted_inputs=False) -> int:
    """Upper bound of the peak bytes pool_forward allocates (A included).

    A_prev (m, n_H_prev, n_W_prev, n_C), hparameters {"stride", "f"}; formula: module
    docstring. Raises GeometryError for shapes pool_forward refuses.
    """
    return sum(pool_forward_breakdown(A_prev_shape, hparameters, mode, itemsize=itemsize,
                                      converted_inputs=converted_inputs).values())


def pool_backward_bytes(A_prev_shape, hparameters, mode="max", *, tie_rule="first", itemsize=8,
                        converted_inputs=False) -> int:
    """Upper bound of the peak bytes pool_backward allocates (dA_prev included).

    The forward call's A_prev shape and hparameters; formula: module docstring.
    """
    return sum(pool_backward_breakdown(A_prev_shape, hparameters, mode, tie_rule=tie_rule,
                                       itemsize=itemsize,
                                       converted_inputs=converted_inputs).values())


__all__ = [
    "SCRATCH_POOL_MAX_BYTES",
    "conv_backward_breakdown",
    "conv_backward_bytes",
    "conv_forward_breakdown",
    "conv_forward_bytes",
    "pool_backward_breakdown",
    "pool_backward_bytes",
    "pool_forward_breakdown",
    "pool_forward_bytes",
]
