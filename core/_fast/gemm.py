"""The convolution as matrix products (im2col + GEMM): how core/conv.py computes its passes.

core/conv.py states what conv_forward and conv_backward compute; this module makes BLAS do
it. The reasoning, in order:

1. One GEMM instead of a loop over windows. With the im2col matrix `columns`
   (n_C_prev*f*f rows, one column per output position), the forward pass is
   Z = columns.T @ W_flat and the backward pass is dW = columns @ dZ and
   dcolumns = W_flat @ dZ.T, whose columns are added back onto the input cells they were
   read from (col2im).

2. A layout in which every row of `columns` is one contiguous slice. The padded input is
   stored channels-first, one flat row per channel of (m, n_H_pad, n_W_pad) cells. Output
   (i, h, w) is put at flat position p = (i*grid_rows + h)*grid_cols + w of the same grid,
   so that its tap (kh, kw) reads the input at p + a fixed shift: a row of `columns` is a
   plain slice of the input row, not a gather. With stride > 1 the taps would step by
   `stride`; the input is therefore split into its stride phases
   X[:, :, r::stride, q::stride] (one flat grid each), and tap (kh, kw) reads phase
   (kh*dilation % stride, kw*dilation % stride) at shift
   (kh*dilation // stride)*grid_cols + kw*dilation // stride. The taps that read one phase
   form a regular grid of shifts (PhaseTaps), so one strided view copies all their rows.
   The grid has a few cells that are not outputs (the columns past n_W of every grid row,
   the rows past n_H of every image): they are computed and dropped (Z is a view that
   leaves them out), and their gradient is zero. Only positions up to the last real output
   are computed, so that every read stays inside the grid.

3. Blocks that stay in the cache. `columns` is never built whole: it is filled and used in
   blocks of about BLOCK_BYTES, so that a block is still in the cache when its GEMMs read
   it. A block's GEMM runs whole when it is big (m*n*k >= WHOLE_GEMM_MNK: OpenBLAS may run
   it on several threads and one big call costs less set-up than many); a thinner one
   runs in slices of m*n*k <= SINGLE_THREAD_MNK, which OpenBLAS keeps on the calling
   thread, since waking its threads for a thin GEMM costs more than the work.

4. The bias rides along: the last row of `columns` is all ones and the last row of W_flat
   is b, so the forward GEMM adds the bias and the dW GEMM's last row is db.

5. Constant padding is never materialised: each phase grid is filled straight from A_prev
   (its pad cells set to the pad value, one strided copy for the input cells), and dA_prev
   is read straight back from the phase gradients, the pad cells' gradient dropped. That
   is the crop [pad:pad + n_H_prev], never [pad:-pad] (empty for pad 0). Reflect and edge
   padding build the padded input (core/padding.py) and return its whole gradient, which
   core/conv.py folds back onto the cells the pad cells copy.

The intermediates come from a scratch pool (core/_fast/scratch.py says why it is kept); every
array handed back to the caller is fresh.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..geometry import Geometry
from ..padding import pad_channels_first
from . import parallel
from .scratch import scratch_array

BLOCK_BYTES = 1 << 21  # one block of `columns`, in bytes (at least MIN_BLOCK outputs)
MIN_BLOCK = 256  # outputs per block, and per GEMM slice, at least
SINGLE_THREAD_MNK = 1 << 18  # GEMM slices of m*n*k at most this run on the calling thread
WHOLE_GEMM_MNK = 1 << 20  # a block's GEMM this big (m*n*k) runs in one call
MAX_KEPT_BYTES = 1 << 21  # a threaded backward pass keeps no more aside (threads_pay_backward)


@dataclass(frozen=True)
class PhaseTaps:
    """The kernel taps that read one stride phase, a regular grid of shifts.

    Tap (i, j) of the group, i < n_rows and j < n_cols, reads the phase's flat grid at
    shift (first_row + i*row_step)*grid_cols + first_col + j*col_step. The rows of
    `columns` follow this order, group after group.
    """

    phase: int
    first_row: int
    row_step: int
    n_rows: int
    first_col: int
    col_step: int
    n_cols: int


@dataclass(frozen=True)
class TapLayout:
    """Where every kernel tap reads in the flat phase grids (module docstring, point 2).

    grid_rows x grid_cols is each image's phase grid, grid_size = m*grid_rows*grid_cols
    its flat length and n_computed the positions computed (one past the last real output).
    """

    grid_rows: int
    grid_cols: int
    grid_size: int
    n_computed: int
    phases: tuple[tuple[int, int], ...]  # (row phase r, column phase q) of each phase grid
    groups: tuple[PhaseTaps, ...]  # one per phase
    tap_order: tuple[tuple[int, int], ...]  # (kh, kw) of each row of `columns`, per channel
    tap_reads: tuple[tuple[int, int], ...]  # (phase, shift) of each row, same order


def _axis_taps(f: int, dilation: int, stride: int, phase: int) -> tuple[list[int], int, int]:
    """The taps k of one axis that read `phase` (k*dilation % stride == phase): their
    indices, the first one's shift k*dilation // stride, and the step between shifts."""
    ks = [k for k in range(f) if k * dilation % stride == phase]
    step = (ks[1] - ks[0]) * dilation // stride if len(ks) > 1 else 1
    return ks, ks[0] * dilation // stride, step


def tap_layout(g: Geometry, m: int) -> TapLayout:
    s, d = g.stride, g.dilation
    grid_rows, grid_cols = -(-g.n_H_pad // s), -(-g.n_W_pad // s)
    phases = tuple(sorted({(kh * d % s, kw * d % s) for kh in range(g.f) for kw in range(g.f)}))
    groups, order, reads = [], [], []
    for p, (r, q) in enumerate(phases):
        khs, first_row, row_step = _axis_taps(g.f, d, s, r)
        kws, first_col, col_step = _axis_taps(g.f, d, s, q)
        groups.append(PhaseTaps(p, first_row, row_step, len(khs), first_col, col_step, len(kws)))
        for i, kh in enumerate(khs):
            for j, kw in enumerate(kws):
                order.append((kh, kw))
                reads.append((p, (first_row + i * row_step) * grid_cols + first_col + j * col_step))
    n_computed = ((m - 1) * grid_rows + g.n_H - 1) * grid_cols + g.n_W
    return TapLayout(grid_rows, grid_cols, m * grid_rows * grid_cols, n_computed, phases,
                     tuple(groups), tuple(order), tuple(reads))


def _axis_cells(phase: int, stride: int, pad: int, n: int, n_grid: int) -> tuple[int, int, int]:
    """One axis of a phase grid: cell y holds padded index phase + y*stride. Cells y < start
    are padding before the input; start <= y < stop hold input index
    first_input + (y - start)*stride; cells from stop on are padding after it (or past the
    padded edge, never read by a real output). Returns (start, stop, first_input)."""
    start = max(0, -(-(pad - phase) // stride))
    stop = min(n_grid, max(start, -(-(pad + n - phase) // stride)))
    return start, stop, phase + start * stride - pad


def phase_input(setup, dtype) -> tuple[np.ndarray, TapLayout]:
    """(phase grids (n_phases, n_C_prev, grid_size), layout) of a ConvSetup's input."""
    g = setup.geometry
    layout = tap_layout(g, setup.A_prev.shape[0])
    if setup.pad_mode == "constant":
        return _constant_phase_grids(setup.A_prev, layout, g, setup.pad_value, dtype), layout
    padded = pad_channels_first(setup.A_prev.astype(dtype, copy=False), g.pad, setup.pad_mode,
                                setup.pad_value)  # (C, m, n_H_pad, n_W_pad)
    return _split_phases(padded, layout, g.stride), layout


def _split_phases(padded: np.ndarray, layout: TapLayout, stride: int) -> np.ndarray:
    """(n_phases, C, grid_size): the padded input (C, m, n_H_pad, n_W_pad) by stride phase."""
    C, m = padded.shape[:2]
    if stride == 1:  # one phase, the padded input itself
        return padded.reshape(1, C, layout.grid_size)
    grids = np.zeros((len(layout.phases), C, layout.grid_size), dtype=padded.dtype)
    for p, (r, q) in enumerate(layout.phases):
        cells = padded[:, :, r::stride, q::stride]  # (C, m, <= grid_rows, <= grid_cols)
        grid = grids[p].reshape(C, m, layout.grid_rows, layout.grid_cols)
        grid[:, :, : cells.shape[2], : cells.shape[3]] = cells
    return grids


def _constant_phase_grids(A_prev: np.ndarray, layout: TapLayout, g: Geometry, pad_value,
                          dtype) -> np.ndarray:
    """(n_phases, C, grid_size) for constant padding, without a padded image: each grid gets
    its pad cells (rows first, then columns, so corners take the column's value, as np.pad
    does) and one strided copy of its input cells (channels-last to channels-first)."""
    m, n_H_prev, n_W_prev, C = A_prev.shape
    s = g.stride
    before, after = pad_value
    grids = scratch_array((len(layout.phases), C, layout.grid_size), dtype)
    copies = []  # (grid cells, input cells, the axis of rows), made on the threads at once
    for p, (r, q) in enumerate(layout.phases):
        grid = grids[p].reshape(C, m, layout.grid_rows, layout.grid_cols)
        y0, y1, row0 = _axis_cells(r, s, g.pad, n_H_prev, layout.grid_rows)
        x0, x1, col0 = _axis_cells(q, s, g.pad, n_W_prev, layout.grid_cols)
        grid[:, :, :y0] = before
        grid[:, :, y1:] = after
        grid[:, :, :, :x0] = before
        grid[:, :, :, x1:] = after
        if y1 > y0 and x1 > x0:
            copies.append((grid[:, :, y0:y1, x0:x1],
                           A_prev[:, row0::s, col0::s, :].transpose(3, 0, 1, 2), 2))
    parallel.assign(*copies)  # cut by rows over the threads (core/parallel.py)
    return grids


def constant_grad_input(grad_grids: np.ndarray, layout: TapLayout, g: Geometry,
                        m: int) -> np.ndarray:
    """dA_prev (m, n_H_prev, n_W_prev, C) from the phase grids' gradient, constant padding:
    the input cells' gradient, one strided copy per phase (the pad cells' is dropped)."""
    C, s = grad_grids.shape[1], g.stride
    n_H_prev, n_W_prev = g.n_H_prev, g.n_W_prev
    every_cell = len(layout.phases) == s * s  # else cells of unread phases get no gradient
    dA_prev = (np.empty if every_cell else np.zeros)((m, n_H_prev, n_W_prev, C),
                                                     dtype=grad_grids.dtype)
    copies = []  # (dA_prev cells, grid cells, the axis of rows), made on the threads at once
    for p, (r, q) in enumerate(layout.phases):
        grid = grad_grids[p].reshape(C, m, layout.grid_rows, layout.grid_cols)
        y0, y1, row0 = _axis_cells(r, s, g.pad, n_H_prev, layout.grid_rows)
        x0, x1, col0 = _axis_cells(q, s, g.pad, n_W_prev, layout.grid_cols)
        if y1 > y0 and x1 > x0:
            copies.append((dA_prev[:, row0::s, col0::s, :],
                           grid[:, :, y0:y1, x0:x1].transpose(1, 2, 3, 0), 1))
    parallel.assign(*copies)  # cut by rows over the threads (core/parallel.py)
    return dA_prev


def padded_grad_input(grad_grids: np.ndarray, layout: TapLayout, g: Geometry,
                      m: int) -> np.ndarray:
    """The phase grids' gradient put back together: dA_pad (C, m, n_H_pad, n_W_pad)."""
    C = grad_grids.shape[1]
    if g.stride == 1:
        return grad_grids[0].reshape(C, m, g.n_H_pad, g.n_W_pad)
    dA_pad = np.zeros((C, m, g.n_H_pad, g.n_W_pad), dtype=grad_grids.dtype)
    for p, (r, q) in enumerate(layout.phases):
        cells = dA_pad[:, :, r :: g.stride, q :: g.stride]
        grid = grad_grids[p].reshape(C, m, layout.grid_rows, layout.grid_cols)
        cells[...] = grid[:, :, : cells.shape[2], : cells.shape[3]]
    return dA_pad


def block_width(n_rows: int, n_computed: int, itemsize: int) -> int:
    """Outputs per block of `columns` (n_rows rows): about BLOCK_BYTES, at least MIN_BLOCK."""
    return max(1, min(n_computed, max(MIN_BLOCK, BLOCK_BYTES // (n_rows * itemsize))))


def gemm_slices(width: int, n_rows: int, n_C: int) -> list[slice]:
    """Column ranges of a block for one GEMM each (module docstring, point 3)."""
    if width * n_rows * n_C >= WHOLE_GEMM_MNK:
        return [slice(0, width)]
    step = max(1, MIN_BLOCK, SINGLE_THREAD_MNK // (n_rows * n_C))
    return [slice(q, min(q + step, width)) for q in range(0, width, step)]


def gemm_count(width: int, n_computed: int, n_rows: int, n_C: int) -> int:
    """How many GEMM slices all the blocks of `width` outputs make (the last one shorter)."""
    full, last = divmod(n_computed, width)
    return full * len(gemm_slices(width, n_rows, n_C)) + (
        len(gemm_slices(last, n_rows, n_C)) if last else 0)


def flat_weights(W: np.ndarray, layout: TapLayout) -> np.ndarray:
    """W (f, f, C, n_C) -> (C*f*f, n_C), rows in the (channel, tap) order of `columns`."""
    kh, kw = np.array(layout.tap_order).T
    by_tap = W[kh, kw]  # (f*f, C, n_C) in tap order
    return by_tap.transpose(1, 0, 2).reshape(-1, W.shape[3])


def unflatten_weights(dW_flat: np.ndarray, layout: TapLayout, f: int) -> np.ndarray:
    """The inverse of flat_weights: (C*f*f, n_C) -> dW (f, f, C, n_C)."""
    C, n_C = dW_flat.shape[0] // (f * f), dW_flat.shape[1]
    kh, kw = np.array(layout.tap_order).T
    dW = np.empty((f, f, C, n_C), dtype=dW_flat.dtype)
    dW[kh, kw] = dW_flat.reshape(C, f * f, n_C).transpose(1, 0, 2)
    return dW


def _phase_tap_view(grid: np.ndarray, taps: PhaseTaps, n: int, grid_cols: int) -> np.ndarray:
    """Read-only view V (C, n_rows, n_cols, n) of one flat phase grid (C, grid_size):
    V[c, i, j, t] = grid[c, (first_row + i*row_step)*grid_cols + first_col + j*col_step + t],
    from two sliding windows (one over tap rows, one over tap columns)."""
    start = taps.first_row * grid_cols + taps.first_col
    row_span = (taps.n_cols - 1) * taps.col_step + n  # what one row of taps reads
    span = (taps.n_rows - 1) * taps.row_step * grid_cols + row_span
    rows = sliding_window_view(grid[:, start : start + span], row_span, axis=-1)
    rows = rows[:, :: taps.row_step * grid_cols][:, : taps.n_rows]  # (C, n_rows, row_span)
    return sliding_window_view(rows, n, axis=-1)[:, :, :: taps.col_step][:, :, : taps.n_cols]


class Columns:
    """im2col one block at a time: `columns` (C*f*f + 1, n) for the flat outputs p0..p0+n.

    Row (c, tap) holds that tap of channel c (one strided copy per phase fills a block);
    the last row is all ones (the bias, module docstring point 4).
    """

    def __init__(self, grids: np.ndarray, layout: TapLayout, f: int):
        self.layout, self.f = layout, f
        self.C = grids.shape[1]
        self.K = self.C * f * f  # rows of taps, the ones row not counted
        self.width = block_width(self.K + 1, layout.n_computed, grids.dtype.itemsize)
        self.block = self._new_block(grids.dtype)
        # per phase, every tap of every computed output: (C, n_rows, n_cols, n_computed)
        self.tap_views = [_phase_tap_view(grids[taps.phase], taps, layout.n_computed,
                                          layout.grid_cols) for taps in layout.groups]

    def _new_block(self, dtype) -> np.ndarray:
        block = scratch_array((self.K + 1, self.width), dtype)
        block[self.K] = 1.0
        return block

    def sibling(self) -> Columns:
        """The same columns with a block buffer of its own (for another thread)."""
        twin = object.__new__(Columns)
        twin.__dict__.update(self.__dict__)
        twin.block = self._new_block(self.block.dtype)
        return twin

    def starts(self) -> range:
        """The first output p0 of every block."""
        return range(0, self.layout.n_computed, self.width)

    def fill(self, p0: int) -> tuple[int, np.ndarray]:
        """(n, columns) of the block that starts at p0; columns (C*f*f + 1, n) is this
        object's buffer, overwritten by the next fill."""
        n = min(self.width, self.layout.n_computed - p0)
        columns = self.block if n == self.width else self.block[:, :n]  # the last block
        tap_rows = columns[: self.K].reshape(self.C, self.f * self.f, n)
        first = 0
        for taps, view in zip(self.layout.groups, self.tap_views, strict=True):
            count = taps.n_rows * taps.n_cols
            dst = tap_rows[:, first : first + count].reshape(self.C, taps.n_rows, taps.n_cols, n)
            dst[...] = view[..., p0 : p0 + n]
            first += count
        return n, columns

    def blocks(self):
        """Yield (p0, n, columns) over the computed outputs, one buffer reused."""
        for p0 in self.starts():
            n, columns = self.fill(p0)
            yield p0, n, columns


def threads_pay_backward(columns: Columns, n_C: int, reach: int, dtype) -> bool:
    """Whether backward may cut its blocks over threads, keeping at most MAX_KEPT_BYTES
    per extra thread for a group's deferred adds (at most `reach` cells per row of
    dcolumns: K*reach numbers) and MAX_KEPT_BYTES in all for dW's kept GEMM products."""
    itemsize = np.dtype(dtype).itemsize
    terms = gemm_count(columns.width, columns.layout.n_computed, columns.K + 1, n_C)
    return (columns.K * reach * itemsize <= MAX_KEPT_BYTES
            and terms * (columns.K + 1) * n_C * itemsize <= MAX_KEPT_BYTES)


def forward(setup) -> np.ndarray:
    """Z (m, n_H, n_W, n_C) of a ConvSetup, a view of the outputs on the flat grid.

    The blocks write distinct rows of Z: consecutive blocks go to each thread
    (core/parallel.py), each with a columns buffer of its own.
    """
    g = setup.geometry
    m, n_C = setup.A_prev.shape[0], setup.W.shape[3]
    grids, layout = phase_input(setup, setup.dtype)
    W_flat = np.concatenate([flat_weights(setup.W, layout), setup.b.reshape(1, n_C)])
    W_flat = W_flat.astype(setup.dtype, copy=False)  # (C*f*f + 1, n_C), b last
    Z_grid = np.empty((layout.grid_size, n_C), dtype=setup.dtype)  # a result: fresh
    Z_grid[layout.n_computed :] = 0  # grid cells past the last output (never shown)
    columns = Columns(grids, layout, g.f)
    starts = columns.starts()
    groups = parallel.split(len(starts))
    buffers = [columns] + [columns.sibling() for _ in groups[1:]]

    def forward_group(k: int) -> None:
        for j in groups[k]:
            p0 = starts[j]
            n, block = buffers[k].fill(p0)
            Z_block = Z_grid[p0 : p0 + n]
            for q in gemm_slices(n, W_flat.shape[0], n_C):  # (n, C*f*f + 1) @ (C*f*f + 1, n_C)
                np.matmul(block[:, q].T, W_flat, out=Z_block[q])

    parallel.run([lambda k=k: forward_group(k) for k in range(len(groups))])
    # Each image's grid has grid_cols >= n_W columns and grid_rows >= n_H rows: keep those.
    return Z_grid.reshape(m, layout.grid_rows, layout.grid_cols, n_C)[:, : g.n_H, : g.n_W, :]


def backward(setup, dZ: np.ndarray, dtype, *, grad_scratch: bool):
    """(gradient of the phase grids (n_phases, C, grid_size), layout, dW, db), in `dtype`.

    grad_scratch: the phase grids' gradient may be a scratch array (the caller copies what
    it keeps inside its scratch scope); else it is fresh, to be handed on.

    Consecutive blocks go to each thread (core/parallel.py); every sum is still made in
    the order of one thread, block after block:
    - dW: each block's GEMM products are kept and added to dW in block order afterwards.
    - col2im: block b adds onto the cells p0 + shift .. p0 + shift + n of each tap, so
      consecutive blocks share cells (up to the largest shift past a block's end). A group
      of blocks other than the first leaves its adds to the cells below (its first p0 +
      the largest shift) for later: those are the only cells an earlier group also adds
      to, and after the groups are done their values are added group after group, block
      after block, tap after tap. Every other cell is only added to by one group, in its
      own order; and an earlier group's adds to a cell always come before a later
      group's, so the order per cell is the one thread's.
    """
    g = setup.geometry
    m, n_C = setup.A_prev.shape[0], setup.W.shape[3]
    grids, layout = phase_input(setup, dtype)
    dZ_grid = scratch_array((m, layout.grid_rows, layout.grid_cols, n_C), dtype)
    dZ_grid[:, : g.n_H, g.n_W :, :] = 0  # zero on the grid cells that are not outputs
    dZ_grid[:, g.n_H :, :, :] = 0
    dZ_flat = dZ_grid.reshape(layout.grid_size, n_C)
    W_flat = flat_weights(setup.W.astype(dtype, copy=False), layout)  # (C*f*f, n_C)
    columns = Columns(grids, layout, g.f)
    C, K = columns.C, columns.K
    dW_flat = np.zeros((K + 1, n_C), dtype=dtype)  # rows (channel, tap), then db
    if grad_scratch:
        grad_grids = scratch_array(grids.shape, dtype)
        parallel.assign((dZ_grid[:, : g.n_H, : g.n_W, :], dZ, 1), (grad_grids, 0, 2))
    else:
        grad_grids = np.zeros_like(grids)
        parallel.assign((dZ_grid[:, : g.n_H, : g.n_W, :], dZ, 1))  # cut by rows (threads)
    starts = columns.starts()
    reach = max(shift for _, shift in layout.tap_reads)
    groups = parallel.split(len(starts))
    if not threads_pay_backward(columns, n_C, reach, dtype):
        groups = [range(len(starts))]
    buffers = [(columns, scratch_array((K, columns.width), dtype))]
    buffers += [(columns.sibling(), scratch_array((K, columns.width), dtype))
                for _ in groups[1:]]
    products: list[list[np.ndarray]] = [[] for _ in starts]  # dW's terms, block by block
    deferred: list[list] = [[] for _ in groups]  # (cells, values) to add after the groups

    def backward_group(k: int) -> None:
        cols, dcolumns_block = buffers[k]
        later_below = starts[groups[k].start] + reach if k else 0  # cells left for later
        for j in groups[k]:
            p0 = starts[j]
            n, block = cols.fill(p0)
            dZ_block = dZ_flat[p0 : p0 + n]  # (n, n_C)
            dcolumns = dcolumns_block if n == cols.width else dcolumns_block[:, :n]
            for q in gemm_slices(n, K + 1, n_C):
                products[j].append(block[:, q] @ dZ_block[q])  # (C*f*f + 1, n) @ (n, n_C)
                np.matmul(W_flat, dZ_block[q].T, out=dcolumns[:, q])  # (C*f*f, n)
            by_tap = dcolumns.reshape(C, g.f * g.f, n)
            for t, (p, shift) in enumerate(layout.tap_reads):  # col2im: one slice-add per
                start = p0 + shift  # tap; within a block the cells are distinct
                cut = min(n, max(0, later_below - start))
                if cut:
                    deferred[k].append((grad_grids[p, :, start : start + cut],
                                        by_tap[:, t, :cut].copy()))
                grad_grids[p, :, start + cut : start + n] += by_tap[:, t, cut:]

    parallel.run([lambda k=k: backward_group(k) for k in range(len(groups))])
    for adds in deferred:
        for cells, values in adds:
            cells += values
    for terms in products:
        for term in terms:
            dW_flat += term
    dW = unflatten_weights(dW_flat[:K], layout, g.f)  # (f, f, C, n_C)
    db = dW_flat[K].reshape(1, 1, 1, n_C).copy()
    return grad_grids, layout, dW, db
