"""Padding: forward (`zero_pad` and its modes), index mapping for traces, exact backward fold.

Modes, on one axis of n cells padded by p on each side (padded index q, source q - p):
- "constant": the pad cells hold a value. `pad_value` is a number or a pair (before, after)
  as in `np.pad(..., constant_values=(4, 6))`: top and left get `before`, bottom and right
  get `after`; a corner takes its column's value (np.pad pads the column axis last).
- "reflect": mirror without repeating the edge: [a b c d] -> [c b | a b c d | c b]; needs p < n.
- "edge": repeat the edge cell: [a b c d] -> [a a | a b c d | d d].

Backward: a pad cell is a copy of a source cell (reflect, edge) or a constant. The gradient
that lands on a copy flows back to its source cell; on a constant it flows nowhere.
"""

from __future__ import annotations

import numbers

import numpy as np

from .geometry import (
    PAD_MODES,
    GeometryError,
    as_float_array,
    check_choice,
    check_int,
    pad_limit_check,
)


def pad_pair(pad_value) -> tuple[float, float]:
    """(before, after) from a number or a pair; GeometryError otherwise."""
    if isinstance(pad_value, numbers.Real) and not isinstance(pad_value, bool):
        return float(pad_value), float(pad_value)
    try:
        before, after = pad_value
        if any(isinstance(v, bool) or not isinstance(v, numbers.Real) for v in (before, after)):
            raise TypeError
    except (TypeError, ValueError):
        raise GeometryError(
            f"pad_value must be a number or a pair (before, after) of numbers, "
            f"as in np.pad(..., constant_values=(4, 6)); got {pad_value!r}."
        ) from None
    return float(before), float(after)


def check_pad_options(pad_mode, pad_value) -> tuple[str, tuple[float, float]]:
    return check_choice("pad_mode", pad_mode, PAD_MODES), pad_pair(pad_value)


def zero_pad(X, pad, *, pad_mode="constant", pad_value=0.0):
    """Pad the height and width of a batch of images.

    X (m, n_H, n_W, n_C) -> X_pad (m, n_H + 2*pad, n_W + 2*pad, n_C), same dtype
    (ints are promoted to float64). Defaults are the exercise's zero padding.
    Example: zero_pad(np.ones((1, 1, 1, 1)), 1)[0, :, :, 0] is [[0 0 0] [0 1 0] [0 0 0]].
    """
    X = as_float_array("X", X, 4, "(m, n_H, n_W, n_C)")
    pad = check_int("pad", pad, minimum=0, what="padding adds rows and columns, it cannot remove")
    pad_mode, (before, after) = check_pad_options(pad_mode, pad_value)
    pad_limit_check(X.shape[1], X.shape[2], pad, pad_mode)
    widths = ((0, 0), (pad, pad), (pad, pad), (0, 0))
    if pad_mode == "constant":
        return np.pad(X, widths, "constant", constant_values=(before, after))
    return np.pad(X, widths, pad_mode)


def source_index(q: np.ndarray, n: int, pad: int, pad_mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Map padded indices q to (source index into the unpadded axis, inside-mask).

    For "constant" the source of a pad cell is clipped to the axis and `inside` is False there
    (the caller fills the pad value). For "reflect" and "edge" every cell has a real source.
    """
    src = np.asarray(q) - pad
    inside = (src >= 0) & (src < n)
    if pad_mode == "reflect":
        src = np.abs(src)  # before the start: -1 -> 1, -2 -> 2
        src = np.where(src > n - 1, 2 * (n - 1) - src, src)  # past the end: n -> n - 2
        return src, np.ones_like(inside)
    src = np.clip(src, 0, n - 1)
    return src, (np.ones_like(inside) if pad_mode == "edge" else inside)


def padded_window(a: np.ndarray, rows: np.ndarray, cols: np.ndarray, pad: int, pad_mode: str,
                  pad_value: tuple[float, float]) -> np.ndarray:
    """Cells (rows x cols) of the padded image, read from the unpadded a (n_H, n_W, ...).

    Costs len(rows)*len(cols) cells: nothing pads the whole image.
    """
    n_H, n_W = a.shape[0], a.shape[1]
    r_src, r_in = source_index(rows, n_H, pad, pad_mode)
    c_src, c_in = source_index(cols, n_W, pad, pad_mode)
    out = a[np.ix_(r_src, c_src)]  # (len(rows), len(cols), ...)
    if pad_mode == "constant" and not (r_in.all() and c_in.all()):
        before, after = pad_value
        # The column decides in the pad columns (corners too); the row decides elsewhere.
        c_val = np.where(np.asarray(cols) < pad, before, after)
        r_val = np.where(np.asarray(rows) < pad, before, after)
        fill = np.where(c_in[None, :], r_val[:, None], c_val[None, :])
        inside = r_in[:, None] & c_in[None, :]
        extra = (1,) * (a.ndim - 2)
        out = np.where(inside.reshape(inside.shape + extra), out,
                       fill.reshape(fill.shape + extra).astype(a.dtype))
    return out


def _fold_axis(G: np.ndarray, axis: int, n: int, pad: int, pad_mode: str) -> np.ndarray:
    """Sum the gradient on the pad cells of one axis back into their source cells."""
    def take(start, stop, step=1):
        idx = [slice(None)] * G.ndim
        idx[axis] = slice(start, stop, step)
        return tuple(idx)

    if pad == 0 or pad_mode == "constant":
        return G[take(pad, pad + n)]  # [pad:pad + n], never [pad:-pad] (empty for pad 0); a view
    out = G[take(pad, pad + n)].copy()
    top, bottom = G[take(0, pad)], G[take(pad + n, pad + n + pad)]
    if pad_mode == "edge":
        out[take(0, 1)] += top.sum(axis=axis, keepdims=True)
        out[take(n - 1, n)] += bottom.sum(axis=axis, keepdims=True)
    else:  # reflect: padded pad-1-j <-> source j+1 ... i.e. rows 0..pad-1 mirror pad..1
        out[take(1, pad + 1)] += top[take(None, None, -1)]
        out[take(n - 1 - pad, n - 1)] += bottom[take(None, None, -1)]
    return out


def fold_pad(dX_pad: np.ndarray, pad: int, pad_mode: str, n_H: int, n_W: int,
             axes: tuple[int, int] = (1, 2)) -> np.ndarray:
    """Backward of padding: dX_pad (m, n_H + 2p, n_W + 2p, n_C) -> dX (m, n_H, n_W, n_C).

    `axes` names the row and column axes when the layout is not channels-last. For constant
    padding (the pad cells copy nothing) the result is a view of dX_pad, the crop.
    """
    return _fold_axis(_fold_axis(dX_pad, axes[0], n_H, pad, pad_mode), axes[1], n_W, pad, pad_mode)


def pad_channels_first(X: np.ndarray, pad: int, pad_mode: str,
                       pad_value: tuple[float, float]) -> np.ndarray:
    """X (m, n_H, n_W, n_C) padded and laid out channels-first: (n_C, m, n_H + 2p, n_W + 2p).

    Same values as zero_pad (np.pad pads rows before columns in both layouts, so the corners
    of a (before, after) constant pair agree).
    """
    X_cf = X.transpose(3, 0, 1, 2)  # (n_C, m, n_H, n_W), a view
    if pad == 0:
        return np.ascontiguousarray(X_cf)
    if pad_mode != "constant":
        return np.pad(X_cf, ((0, 0), (0, 0), (pad, pad), (pad, pad)), pad_mode)
    # Constant: filled by hand (np.pad's bookkeeping costs more than the copy on small inputs).
    C, m, n_H, n_W = X_cf.shape
    before, after = pad_value
    out = np.empty((C, m, n_H + 2 * pad, n_W + 2 * pad), dtype=X.dtype)
    out[:, :, :pad, :] = before  # top rows, then bottom rows ...
    out[:, :, pad + n_H :, :] = after
    out[:, :, :, :pad] = before  # ... then the columns, corners included, as np.pad does
    out[:, :, :, pad + n_W :] = after
    out[:, :, pad : pad + n_H, pad : pad + n_W] = X_cf
    return out
