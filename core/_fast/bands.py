"""Pooling's choreography: the output in bands of rows that stay in the CPU cache, the bands
on threads, and the order of the adds where bands of overlapping windows share input rows.

Why: both pooling passes walk the f*f window offsets (core/pool.py: the maths). Done over
the whole image, each offset pass is a round trip to memory; over a band of output rows
whose input rows take about _BAND_BYTES, the input stays in the cache across the f*f
passes. Bands also split the work over the BLAS threads (core/_fast/parallel.py), and the
results stay bit-identical to one thread: forward bands write distinct rows of A; backward,
with overlapping windows (stride < f) a group of bands shares its first f - stride input rows
with the group before it, so its adds to those rows are deferred and made after every group,
group after group: the order of one thread.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..geometry import Geometry, pool_geometry
from . import parallel

# Rows per band: both passes go over the output in bands of rows whose input (about 1 MB)
# stays in the CPU cache across the f*f offset passes, instead of a round trip to memory each.
_BAND_BYTES = 1 << 20


def band_rows(m: int, n_W_prev: int, n_C: int, itemsize: int, stride: int) -> int:
    """Output rows per band: their input rows take about _BAND_BYTES (at least one row)."""
    return max(1, _BAND_BYTES // (m * n_W_prev * n_C * itemsize * stride))


def bands(A_prev: np.ndarray, g: Geometry) -> list:
    """[(h0, h1, input rows of output rows h0..h1, their geometry)], top to bottom."""
    m, _, n_W_prev, n_C = A_prev.shape
    rows = band_rows(m, n_W_prev, n_C, A_prev.itemsize, g.stride)
    out = []
    for h0 in range(0, g.n_H, rows):
        h1 = min(h0 + rows, g.n_H)
        band = A_prev[:, h0 * g.stride : (h1 - 1) * g.stride + g.f]
        out.append((h0, h1, band, pool_geometry(band.shape[1], band.shape[2], g.f,
                                                stride=g.stride)))
    return out


def pool_bands(A_prev: np.ndarray, g: Geometry, pool_band: Callable) -> None:
    """pool_band(band, its geometry, slice of its output rows) for every band, the bands on
    threads (they write distinct rows of the output)."""
    found = bands(A_prev, g)

    def run(k: int) -> None:
        h0, h1, band, g_band = found[k]
        pool_band(band, g_band, slice(h0, h1))

    parallel.for_each(run, len(found))


def pool_backward_bands(A_prev: np.ndarray, dA: np.ndarray, g: Geometry, dA_prev: np.ndarray,
                        backward_band: Callable) -> None:
    """backward_band(band, its dA rows, its geometry, its dA_prev rows, add) for every band:
    it writes its gradient into its dA_prev rows, with add(at, values) for
    `dA_prev rows[at] += values` where windows overlap. Groups of bands run on threads;
    every cell's sum is made in the order of one thread, band after band (module docstring;
    core/_fast/gemm.py's col2im does the same, and explains why no other order is needed)."""
    found = bands(A_prev, g)
    groups = parallel.split(len(found))
    deferred: list[list] = [[] for _ in groups]

    def backward_group(k: int) -> None:
        first = found[groups[k].start][0] * g.stride  # the group's first input row
        defer_below = first + g.f - g.stride if k and g.stride < g.f else 0
        for h0, h1, band, g_band in (found[j] for j in groups[k]):
            out = dA_prev[:, h0 * g.stride : h0 * g.stride + band.shape[1]]
            defer_rows = max(0, defer_below - h0 * g.stride)
            backward_band(band, dA[:, h0:h1], g_band, out,
                          lambda at, values, out=out, defer_rows=defer_rows:
                          _add(out, at, values, defer_rows, deferred[k]))

    parallel.run([lambda k=k: backward_group(k) for k in range(len(groups))])
    for adds in deferred:
        for target, values in adds:
            target += values


def _add(dA_prev, at, values, defer_rows: int, deferred: list) -> None:
    """dA_prev[at] += values (window rows of one offset), except the input rows below
    defer_rows: their part goes to `deferred` as (view of dA_prev, a copy of the values)."""
    rows = at[1]
    split = 0 if defer_rows <= rows.start else -(-(defer_rows - rows.start) // rows.step)
    split = min(split, values.shape[1])
    if split:
        head = (at[0], slice(rows.start, rows.start + split * rows.step, rows.step), *at[2:])
        deferred.append((dA_prev[head], values[:, :split].copy()))
        at = (at[0], slice(rows.start + split * rows.step, rows.stop, rows.step), *at[2:])
        values = values[:, split:]
    dA_prev[at] += values
