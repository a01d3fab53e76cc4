"""Convolution layer, forward and backward, vectorised (the exercise's API, channels-last).

Shapes: A_prev (m, n_H_prev, n_W_prev, n_C_prev), W (f, f, n_C_prev, n_C), b (1, 1, 1, n_C),
Z (m, n_H, n_W, n_C) with n_H = floor((n_H_prev + 2*pad - dilation*(f - 1) - 1) / stride) + 1.

How it is computed (im2col on a flat, channels-first layout, so that BLAS does the work):
the padded input is laid out channels-first (n_C_prev, m, n_H_pad, n_W_pad) and, for
stride > 1, split into its stride phases X[:, :, r::stride, q::stride]. Each is stored flat,
one row per channel. On that flat row, tap (kh, kw) of every output window is one contiguous
slice at a fixed shift, so the im2col matrix cols (n_C_prev*f*f, N) is f*f plain copies and

    forward   Z = cols.T @ W          (one GEMM, W as (n_C_prev*f*f, n_C))
    backward  dW = cols @ dZ,  dcols = W @ dZ.T   (two GEMMs)

and dcols is added back over the f*f taps into the flat padded gradient (col2im: f*f
contiguous slice-adds). cols is never built whole: it is filled and used in blocks of at most
about 2 MB (see _BLOCK_BYTES for the GEMM sizes and threads). A last row of ones in cols
carries the bias in the forward GEMM and yields db in the dW GEMM. The flat grid has a few
more cells than the output (the columns past n_W on each row, the rows past n_H of each
image): their outputs are computed and dropped (Z is a view that leaves them out), and their
gradient is zero. For constant padding the phase buffers are filled straight from A_prev
(one strided copy per phase, no padded image) and dA_prev is read straight back from their
gradient (the pad cells' gradient is dropped: the crop [pad:pad + n_H_prev], never
[pad:-pad], which is empty for pad 0). For reflect/edge padding the padded gradient is built,
and the gradient on every pad cell is added to the cell it copies. Scratch arrays are reused
between calls (see _scratch).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .geometry import (
    Geometry,
    GeometryError,
    as_float_array,
    check_grad,
    conv_geometry,
    layer_hparameters,
    pad_limit_check,
)
from .padding import check_pad_options, fold_pad, pad_channels_first


@dataclass(frozen=True)
class ConvSetup:
    """Validated inputs of one conv call."""

    A_prev: np.ndarray
    W: np.ndarray
    b: np.ndarray
    hparameters: dict
    geometry: Geometry
    pad_mode: str
    pad_value: tuple[float, float]
    dtype: np.dtype


def prepare_conv(A_prev, W, b, hparameters, *, pad_mode="constant", pad_value=0.0,
                 dilation=1) -> ConvSetup:
    """Check shapes and options of a conv call; raise GeometryError with the numbers."""
    A_prev = as_float_array("A_prev", A_prev, 4, "(m, n_H_prev, n_W_prev, n_C_prev)")
    W = as_float_array("W", W, 4, "(f, f, n_C_prev, n_C)")
    b = as_float_array("b", b, 4, "(1, 1, 1, n_C)")
    hp = layer_hparameters(hparameters, ("stride", "pad"), "conv_forward")
    # An extension may come as a keyword or inside hparameters (as the cache stores it);
    # a keyword that differs from its default wins.
    if isinstance(pad_mode, str) and pad_mode == "constant":
        pad_mode = hp.get("pad_mode", pad_mode)
    if not isinstance(pad_value, tuple | list) and pad_value == 0.0:
        pad_value = hp.get("pad_value", pad_value)
    if not isinstance(dilation, bool) and dilation == 1:
        dilation = hp.get("dilation", dilation)
    pad_mode, pair = check_pad_options(pad_mode, pad_value)
    _, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, f2, n_C_prev_w, n_C = W.shape
    if f != f2:
        raise GeometryError(
            f"W must be square in its first two axes (f, f, n_C_prev, n_C), but its shape is "
            f"{W.shape}: {f} x {f2}."
        )
    if n_C_prev_w != n_C_prev:
        raise GeometryError(
            f"Channel mismatch: A_prev has n_C_prev = {n_C_prev} channels (shape "
            f"{A_prev.shape}), but W expects {n_C_prev_w} (W shape {W.shape} = (f, f, n_C_prev, "
            f"n_C)). Each filter needs one f x f slice per input channel."
        )
    if b.shape != (1, 1, 1, n_C):
        raise GeometryError(
            f"b must have shape (1, 1, 1, n_C) = (1, 1, 1, {n_C}), one bias per filter, "
            f"but its shape is {b.shape}."
        )
    geometry = conv_geometry(n_H_prev, n_W_prev, f, stride=hp["stride"], pad=hp["pad"],
                             dilation=dilation)
    pad_limit_check(n_H_prev, n_W_prev, geometry.pad, pad_mode)
    hp.update(stride=geometry.stride, pad=geometry.pad, pad_mode=pad_mode,
              pad_value=pair if pair[0] != pair[1] else pair[0], dilation=geometry.dilation)
    return ConvSetup(A_prev, W, b, hp, geometry, pad_mode, pair, np.result_type(A_prev, W, b))


def conv_single_step(a_slice_prev, W, b) -> float:
    """One output value: sum(a_slice_prev * W) + b, as a Python float.

    a_slice_prev, W (f, f, n_C_prev); b (1, 1, 1) (any shape with one value).
    Example: conv_single_step(np.ones((2, 2, 1)), np.ones((2, 2, 1)), np.array([[[0.5]]])) == 4.5.
    """
    a_slice_prev, W, b = np.asarray(a_slice_prev), np.asarray(W), np.asarray(b)
    if a_slice_prev.shape != W.shape:
        raise GeometryError(
            f"a_slice_prev and W must have the same shape (f, f, n_C_prev), but they are "
            f"{a_slice_prev.shape} and {W.shape}."
        )
    if b.size != 1:
        raise GeometryError(f"b must hold one value (shape (1, 1, 1)), but its shape is {b.shape}.")
    s = np.multiply(a_slice_prev, W)  # element-wise product
    return float(np.sum(s)) + float(b.reshape(-1)[0])


@dataclass(frozen=True)
class _TapGroup:
    """The taps that read one stride phase: a grid of nr x nq taps whose reads start at
    shift (a0 + i*da)*Ws + (b0 + j*db), i < nr, j < nq. Row order of cols follows them."""

    phase: int
    a0: int
    da: int
    nr: int
    b0: int
    db: int
    nq: int


@dataclass(frozen=True)
class _Taps:
    """Where each kernel tap reads in the flat, channels-first phase layout (module docstring).

    The padded input (n_C_prev, m, n_H_pad, n_W_pad) is split by stride phase (r, q) into
    sub-images X[:, :, r::stride, q::stride], each stored flat as (n_C_prev, N) on a common
    grid of N = m*Hs*Ws cells. Output (i, h, w) sits at flat position p = (i*Hs + h)*Ws + w,
    and its tap (kh, kw) reads phase (kh*dilation % stride, kw*dilation % stride) at p + shift,
    shift = (kh*dilation // stride)*Ws + kw*dilation // stride. Only positions below N_out
    (one past the last real output) are computed: every read then stays inside the grid.
    Taps are ordered phase by phase (`order`), so that each phase's taps are one strided
    view of its buffer and one copy fills their rows of cols.
    """

    Hs: int
    Ws: int
    N: int
    N_out: int
    phases: tuple[tuple[int, int], ...]
    groups: tuple[_TapGroup, ...]
    order: tuple[tuple[int, int], ...]  # (kh, kw) of each row of cols, per channel
    taps: tuple[tuple[int, int], ...]  # (phase index, shift) in the same order


def _axis_taps(f: int, d: int, s: int, r: int) -> tuple[list[int], int, int]:
    """Taps k (k*d % s == r) of one axis: their indices, first shift k*d // s and its step."""
    ks = [k for k in range(f) if k * d % s == r]
    step = (ks[1] - ks[0]) * d // s if len(ks) > 1 else 1
    return ks, ks[0] * d // s, step


def _taps(g: Geometry, m: int) -> _Taps:
    s, d = g.stride, g.dilation
    Hs, Ws = -(-g.n_H_pad // s), -(-g.n_W_pad // s)
    phases = tuple(sorted({(kh * d % s, kw * d % s) for kh in range(g.f) for kw in range(g.f)}))
    groups, order, taps = [], [], []
    for p, (r, q) in enumerate(phases):
        khs, a0, da = _axis_taps(g.f, d, s, r)
        kws, b0, db = _axis_taps(g.f, d, s, q)
        groups.append(_TapGroup(p, a0, da, len(khs), b0, db, len(kws)))
        for i, kh in enumerate(khs):
            for j, kw in enumerate(kws):
                order.append((kh, kw))
                taps.append((p, (a0 + i * da) * Ws + b0 + j * db))
    N_out = ((m - 1) * Hs + g.n_H - 1) * Ws + g.n_W
    return _Taps(Hs, Ws, m * Hs * Ws, N_out, phases, tuple(groups), tuple(order), tuple(taps))


def _phase_buffers(A_cf: np.ndarray, t: _Taps, stride: int) -> np.ndarray:
    """(n_phases, n_C_prev, N): the padded input, one flat grid per stride phase."""
    C, m = A_cf.shape[:2]
    if stride == 1:  # one phase, the padded image itself
        return A_cf.reshape(1, C, t.N)
    buf = np.zeros((len(t.phases), C, t.N), dtype=A_cf.dtype)
    for p, (r, q) in enumerate(t.phases):
        sub = A_cf[:, :, r::stride, q::stride]  # (C, m, <=Hs, <=Ws)
        grid = buf[p].reshape(C, m, t.Hs, t.Ws)
        grid[:, :, : sub.shape[2], : sub.shape[3]] = sub
    return buf


# Block size. cols (n_C_prev*f*f + 1 rows) is filled and used in blocks of at most about
# 2 MB. A block's GEMMs go whole when they are big (m*n*k >= _WHOLE_GEMM_MNK): OpenBLAS may
# then run them on both cores, and fewer, larger calls cost less Python and BLAS set-up.
# Smaller ones go in chunks of m*n*k <= 2**18, which OpenBLAS runs on the calling thread:
# waking BLAS threads for a thin GEMM costs more than it saves. Measured on a quiet 2-core
# machine, forward+backward, against the former 512 KB blocks in single-thread chunks:
# 256x256x3 with eight 3x3 filters, float64, 3.9-4.4 ms against 5.1-5.4 ms; 512x512x3 with
# sixteen 5x5 filters, stride 2, float32, 8.0 ms against 12.3-12.5 ms (1 MB and 4 MB blocks
# were no better). With OPENBLAS_NUM_THREADS=1 (the server's workers) the larger calls still
# win a little (5.3 against 5.6 ms, 12.0 against 13-15 ms). On cores busy with other
# processes threaded GEMMs can cost many times more: set OPENBLAS_NUM_THREADS=1 there.
_BLOCK_BYTES = 1 << 21
_SINGLE_THREAD_MNK = 1 << 18
_WHOLE_GEMM_MNK = 1 << 20
_MIN_BLOCK = 256  # outputs per block (and per GEMM chunk) at least


# Scratch arrays (the phase buffers, their gradient, the padded dZ, the blocks of cols) are
# reused from one call to the next: a fresh array of a few MB costs a page fault per 4 KB on
# first touch (about 1 ms per 4 MB here, as much as the GEMMs), and the allocator often hands
# such arrays back to the system when they are freed. A call takes them from one pool shared
# by all threads (a thread holds what it took until its call ends, so no two calls share
# one) and gives them back at the end. Arrays above _SCRATCH_MAX_BYTES are never kept, and
# the pool keeps at most _POOL_MAX_BYTES in all (the largest go first). Results are always
# fresh arrays, never scratch.
_SCRATCH_MAX_BYTES = 1 << 24
_POOL_MAX_BYTES = 1 << 26
_pool: list[np.ndarray] = []  # free raw uint8 buffers, smallest first
_pool_lock = threading.Lock()
_current = threading.local()  # .taken: the buffers of this thread's running call, or None


@contextmanager
def _scratch():
    """Within it, _scratch_array hands out pooled buffers; they go back to the pool at the
    end (so nothing made from them may outlive the block)."""
    taken: list[np.ndarray] = []
    outer = getattr(_current, "taken", None)
    _current.taken = taken
    try:
        yield
    finally:
        _current.taken = outer
        with _pool_lock:
            _pool.extend(taken)
            _pool.sort(key=lambda a: a.nbytes)
            total = sum(a.nbytes for a in _pool)
            while total > _POOL_MAX_BYTES:
                total -= _pool.pop().nbytes


def _scratch_array(shape: tuple[int, ...], dtype) -> np.ndarray:
    """An uninitialised array of `shape`: a pooled buffer inside `with _scratch()`, else (or
    when it is larger than _SCRATCH_MAX_BYTES) a fresh one."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    taken = getattr(_current, "taken", None)
    if taken is None or nbytes > _SCRATCH_MAX_BYTES:
        return np.empty(shape, dtype=dtype)
    raw = None
    with _pool_lock:  # the smallest that fits, and not more than twice as big
        for k, a in enumerate(_pool):
            if nbytes <= a.nbytes <= 2 * max(nbytes, 4096):
                raw = _pool.pop(k)
                break
    if raw is None:
        raw = np.empty(max(nbytes, 1), dtype=np.uint8)
    taken.append(raw)
    return raw[:nbytes].view(dtype).reshape(shape)


def _block_width(K: int, N: int, itemsize: int) -> int:
    return max(1, min(N, max(_MIN_BLOCK, _BLOCK_BYTES // (K * itemsize))))


def _chunks(n: int, K: int, n_C: int) -> list[slice]:
    """Column ranges of a block for one GEMM each: the whole block when its GEMM is big
    (n*K*n_C >= _WHOLE_GEMM_MNK), else chunks of m*n*k <= _SINGLE_THREAD_MNK."""
    if n * K * n_C >= _WHOLE_GEMM_MNK:
        return [slice(0, n)]
    width = max(1, _MIN_BLOCK, _SINGLE_THREAD_MNK // (K * n_C))
    return [slice(q, min(q + width, n)) for q in range(0, n, width)]


def _flat_weights(W: np.ndarray, t: _Taps) -> np.ndarray:
    """W (f, f, C, n_C) -> (C*f*f, n_C), rows in the (c, tap) order of cols."""
    kh, kw = np.array(t.order).T
    taps = W[kh, kw]  # (f*f, C, n_C) in tap order
    return taps.transpose(1, 0, 2).reshape(-1, W.shape[3])


def _unflatten_weights(dW_flat: np.ndarray, t: _Taps, f: int) -> np.ndarray:
    """Inverse of _flat_weights: (C*f*f, n_C) in (c, tap) order -> (f, f, C, n_C)."""
    C, n_C = dW_flat.shape[0] // (f * f), dW_flat.shape[1]
    kh, kw = np.array(t.order).T
    dW = np.empty((f, f, C, n_C), dtype=dW_flat.dtype)
    dW[kh, kw] = dW_flat.reshape(C, f * f, n_C).transpose(1, 0, 2)
    return dW


def _phase_input(s: ConvSetup, dt) -> tuple[np.ndarray, _Taps]:
    g = s.geometry
    t = _taps(g, s.A_prev.shape[0])
    if s.pad_mode == "constant":  # one strided copy per phase, straight from A_prev
        return _constant_phase_buffers(s.A_prev, t, g, s.pad_value, dt), t
    A = s.A_prev.astype(dt, copy=False)
    A_cf = pad_channels_first(A, g.pad, s.pad_mode, s.pad_value)  # (C, m, Hp, Wp)
    return _phase_buffers(A_cf, t, g.stride), t


def _axis_phase(r: int, stride: int, pad: int, n: int, n_grid: int) -> tuple[int, int, int]:
    """One axis of stride phase r: its grid cells y hold padded index r + y*stride. Cells
    y < y0 are padding before the input, y0 <= y < y1 hold input index src0 + (y - y0)*stride,
    cells from y1 on are padding after it (or past the padded edge, never read by a real
    output)."""
    y0 = max(0, -(-(pad - r) // stride))
    y1 = min(n_grid, max(y0, -(-(pad + n - r) // stride)))
    return y0, y1, r + y0 * stride - pad


def _constant_phase_buffers(A: np.ndarray, t: _Taps, g: Geometry, pad_value, dt) -> np.ndarray:
    """(n_phases, n_C_prev, N) for constant padding without building the padded image: each
    phase grid gets its pad cells (rows first, then columns, corners included, as np.pad
    does) and one strided copy of the input cells it holds (channels-last to -first)."""
    m, H, W, C = A.shape
    s = g.stride
    before, after = pad_value
    buf = _scratch_array((len(t.phases), C, t.N), dt)
    for p, (r, q) in enumerate(t.phases):
        grid = buf[p].reshape(C, m, t.Hs, t.Ws)
        y0, y1, r0 = _axis_phase(r, s, g.pad, H, t.Hs)
        x0, x1, c0 = _axis_phase(q, s, g.pad, W, t.Ws)
        grid[:, :, :y0] = before
        grid[:, :, y1:] = after
        grid[:, :, :, :x0] = before
        grid[:, :, :, x1:] = after
        if y1 > y0 and x1 > x0:
            grid[:, :, y0:y1, x0:x1] = A[:, r0::s, c0::s, :].transpose(3, 0, 1, 2)
    return buf


def _constant_grad_from_phases(dbuf: np.ndarray, t: _Taps, g: Geometry, m: int) -> np.ndarray:
    """dA_prev (m, n_H_prev, n_W_prev, C) for constant padding, straight from the flat phase
    gradients (the pad cells' gradient is dropped): one strided copy per phase."""
    C, s = dbuf.shape[1], g.stride
    H, W = g.n_H_prev, g.n_W_prev
    every_cell = len(t.phases) == s * s  # else the cells of missing phases get no gradient
    dA = (np.empty if every_cell else np.zeros)((m, H, W, C), dtype=dbuf.dtype)
    for p, (r, q) in enumerate(t.phases):
        grid = dbuf[p].reshape(C, m, t.Hs, t.Ws)
        y0, y1, r0 = _axis_phase(r, s, g.pad, H, t.Hs)
        x0, x1, c0 = _axis_phase(q, s, g.pad, W, t.Ws)
        if y1 > y0 and x1 > x0:
            dA[:, r0::s, c0::s, :] = grid[:, :, y0:y1, x0:x1].transpose(1, 2, 3, 0)
    return dA


class _Columns:
    """im2col, one block of outputs at a time: cols (C*f*f + 1, n) for flat outputs p0..p0+n.

    Row (c, kh, kw) holds tap (kh, kw) of channel c, a contiguous slice of the phase buffer
    (f*f copies per block, no gather); the last row is all ones, so that the bias rides along
    in the forward GEMM and db comes out of the dW GEMM.
    """

    def __init__(self, buf: np.ndarray, t: _Taps, f: int, n_C: int):
        self.buf, self.t, self.f = buf, t, f
        self.C = buf.shape[1]
        self.K = self.C * f * f
        self.width = _block_width(self.K + 1, t.N_out, buf.dtype.itemsize)
        self.n_C = n_C
        self.full = _scratch_array((self.K + 1, self.width), buf.dtype)
        self.full[self.K] = 1.0
        # per phase, every tap of every output: (C, nr, nq, N_out) views, sliced per block
        self.views = [_tap_view(buf[grp.phase], grp, 0, t.N_out, t.Ws) for grp in t.groups]

    def blocks(self):
        """Yield (p0, n, cols) over the flat outputs; cols is (C*f*f + 1, n), contiguous,
        and reused from one block to the next."""
        ff = self.f * self.f
        for p0 in range(0, self.t.N_out, self.width):
            n = min(self.width, self.t.N_out - p0)
            cols = self.full if n == self.width else self.full[:, :n]  # the last block
            rows = cols[: self.K].reshape(self.C, ff, n)
            start = 0
            for grp, view in zip(self.t.groups, self.views, strict=True):  # a copy per phase
                count = grp.nr * grp.nq
                dst = rows[:, start : start + count].reshape(self.C, grp.nr, grp.nq, n)
                dst[...] = view[..., p0 : p0 + n]
                start += count
            yield p0, n, cols


def _tap_view(flat: np.ndarray, grp: _TapGroup, p0: int, n: int, Ws: int) -> np.ndarray:
    """Read-only view V (C, nr, nq, n) of a flat phase buffer (C, N):
    V[c, i, j, t] = flat[c, p0 + (a0 + i*da)*Ws + b0 + j*db + t], from two sliding windows."""
    base = p0 + grp.a0 * Ws + grp.b0
    row_len = (grp.nq - 1) * grp.db + n  # what one tap row spans
    span = (grp.nr - 1) * grp.da * Ws + row_len
    rows = sliding_window_view(flat[:, base : base + span], row_len, axis=-1)
    rows = rows[:, :: grp.da * Ws][:, : grp.nr]  # (C, nr, row_len)
    return sliding_window_view(rows, n, axis=-1)[:, :, :: grp.db][:, :, : grp.nq]


def _col2im_phases(dbuf: np.ndarray, t: _Taps, g: Geometry, m: int) -> np.ndarray:
    """Flat phase gradients (n_phases, C, N) -> padded gradient (C, m, Hp, Wp)."""
    C = dbuf.shape[1]
    if g.stride == 1:
        return dbuf[0].reshape(C, m, g.n_H_pad, g.n_W_pad)
    dA_cf = np.zeros((C, m, g.n_H_pad, g.n_W_pad), dtype=dbuf.dtype)
    for p, (r, q) in enumerate(t.phases):
        dst = dA_cf[:, :, r :: g.stride, q :: g.stride]
        dst[...] = dbuf[p].reshape(C, m, t.Hs, t.Ws)[:, :, : dst.shape[2], : dst.shape[3]]
    return dA_cf


def conv_forward(A_prev, W, b, hparameters, *, pad_mode="constant", pad_value=0.0, dilation=1):
    """Convolution forward pass.

    Z[i, h, w, c] = sum(A_pad[i, vert_start:vert_end:dilation, horiz_start:horiz_end:dilation, :]
    * W[..., c]) + b[..., c], vert_start = h*stride, vert_end = vert_start + dilation*(f-1) + 1.
    Returns Z (m, n_H, n_W, n_C) and cache (A_prev, W, b, hparameters) with the unpadded
    A_prev; hparameters is a copy holding also "pad_mode", "pad_value" and "dilation".
    Example: A_prev = ones((1, 3, 3, 1)), W = ones((3, 3, 1, 1)), b = zeros((1, 1, 1, 1)),
    {"stride": 1, "pad": 1} gives Z[0, :, :, 0] = [[4 6 4] [6 9 6] [4 6 4]].
    """
    s = prepare_conv(A_prev, W, b, hparameters, pad_mode=pad_mode, pad_value=pad_value,
                     dilation=dilation)
    g = s.geometry
    m, n_C = s.A_prev.shape[0], s.W.shape[3]
    with _scratch():
        buf, t = _phase_input(s, s.dtype)
        W_b = np.concatenate([_flat_weights(s.W, t), s.b.reshape(1, n_C)]).astype(s.dtype,
                                                                                 copy=False)
        Z_ext = np.empty((t.N, n_C), dtype=s.dtype)  # outputs on the flat phase grid (fresh)
        Z_ext[t.N_out :] = 0  # grid cells past the last output (never shown)
        for p0, n, cols in _Columns(buf, t, g.f, n_C).blocks():
            Z_block = Z_ext[p0 : p0 + n]
            for q in _chunks(n, W_b.shape[0], n_C):  # (n, C*f*f + 1) @ (C*f*f + 1, n_C)
                np.matmul(cols[:, q].T, W_b, out=Z_block[q])
    # The grid has Ws >= n_W columns and Hs >= n_H rows per image: keep the real outputs.
    Z = Z_ext.reshape(m, t.Hs, t.Ws, n_C)[:, : g.n_H, : g.n_W, :]
    return Z, (s.A_prev, s.W, s.b, s.hparameters)


def _backward_cf(dZ, cache):
    """(dA_prev_pad channels-first (C, m, Hp, Wp), dW, db, setup)."""
    with _scratch():  # dbuf is fresh here (scratch=False): the result may be a view of it
        dbuf, t, dW, db, s = _backward_phases(dZ, cache)
        return _col2im_phases(dbuf, t, s.geometry, s.A_prev.shape[0]), dW, db, s


def _backward_phases(dZ, cache, scratch=False):
    """(gradient of the flat phase buffers (n_phases, C, N), taps, dW, db, setup)."""
    A_prev, W, b, hparameters = cache
    s = prepare_conv(A_prev, W, b, hparameters)
    g = s.geometry
    m, n_C = s.A_prev.shape[0], s.W.shape[3]
    dZ = check_grad("dZ", dZ, (m, g.n_H, g.n_W, n_C))
    dt = np.result_type(s.dtype, dZ)
    buf, t = _phase_input(s, dt)
    dZ_ext = _scratch_array((m, t.Hs, t.Ws, n_C), dt)  # zero on the cells past the output
    dZ_ext[:, : g.n_H, : g.n_W, :] = dZ
    dZ_ext[:, : g.n_H, g.n_W :, :] = 0
    dZ_ext[:, g.n_H :, :, :] = 0
    dZ2 = dZ_ext.reshape(t.N, n_C)
    W_flat = _flat_weights(s.W.astype(dt, copy=False), t)  # (C*f*f, n_C)
    columns = _Columns(buf, t, g.f, n_C)
    C, K = columns.C, columns.K
    dW_b = np.zeros((K + 1, n_C), dtype=dt)  # rows (c, tap) then db
    if scratch and s.pad_mode == "constant":  # gradient of the flat phase buffers, read
        # only by _constant_grad_from_phases (which copies) inside the caller's _scratch()
        dbuf = _scratch_array(buf.shape, dt)
        dbuf[...] = 0
    else:  # handed on as (a view of) the padded gradient: a fresh array
        dbuf = np.zeros_like(buf)
    dcols_full = _scratch_array((K, columns.width), dt)
    for p0, n, cols in columns.blocks():
        dZ_block = dZ2[p0 : p0 + n]  # (n, n_C)
        dcols = dcols_full if n == columns.width else dcols_full[:, :n]
        for q in _chunks(n, K + 1, n_C):
            dW_b += cols[:, q] @ dZ_block[q]  # (C*f*f + 1, n) @ (n, n_C)
            np.matmul(W_flat, dZ_block[q].T, out=dcols[:, q])  # (C*f*f, n): taps' dA
        taps = dcols.reshape(C, g.f * g.f, n)
        for k, (p, shift) in enumerate(t.taps):  # col2im: f*f contiguous slice-adds; one
            dbuf[p, :, p0 + shift : p0 + shift + n] += taps[:, k, :]  # tap, distinct cells
    dW = _unflatten_weights(dW_b[:K], t, g.f)  # (f, f, C, n_C)
    db = dW_b[K].reshape(1, 1, 1, n_C).copy()
    return dbuf, t, dW, db, s


def conv_backward_padded(dZ, cache):
    """(dA_prev_pad (m, Hp, Wp, C), dW, db, setup): the backward pass before the crop/fold."""
    dA_cf, dW, db, s = _backward_cf(dZ, cache)
    return np.ascontiguousarray(dA_cf.transpose(1, 2, 3, 0)), dW, db, s


def conv_backward(dZ, cache):
    """Convolution backward pass.

    dZ (m, n_H, n_W, n_C), cache from conv_forward -> dA_prev (m, n_H_prev, n_W_prev,
    n_C_prev), dW (f, f, n_C_prev, n_C), db (1, 1, 1, n_C):
    dA_pad[i, window] += W[..., c] * dZ[i, h, w, c];  dW[..., c] += a_slice * dZ[i, h, w, c];
    db[..., c] += dZ[i, h, w, c]. dA_prev = dA_pad[:, pad:pad + n_H_prev, pad:pad + n_W_prev]
    plus, for reflect/edge padding, the gradient of every pad cell added to its source cell.
    Works for pad = 0 (the exercise's [pad:-pad] crop would be empty there).
    """
    with _scratch():
        dbuf, t, dW, db, s = _backward_phases(dZ, cache, scratch=True)
        g = s.geometry
        if s.pad_mode == "constant":  # the pad cells' gradient is dropped: no padded array
            return _constant_grad_from_phases(dbuf, t, g, s.A_prev.shape[0]), dW, db  # a copy
    dA_cf = _col2im_phases(dbuf, t, g, s.A_prev.shape[0])  # dbuf is fresh for these modes
    dA = fold_pad(dA_cf, g.pad, s.pad_mode, g.n_H_prev, g.n_W_prev, axes=(2, 3))  # (C, m, H, W)
    return np.ascontiguousarray(dA.transpose(1, 2, 3, 0)), dW, db
