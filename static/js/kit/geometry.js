// The page's one geometry module: index arithmetic on the layer's grids, never values.
// Which step is at which output position, which padded cells a window covers, which
// outputs cover a cell, when a cell of a backward map has received its last contribution,
// where a pad cell copies from, and the crop of a padded array. Every function here is
// checked against core (conv_geometry, pool_geometry, the traces' window corners and
// core.padding.source_index) over a table of cases in tests/browser/test_kit_geometry.py.
//
// Conventions (core/trace.py): steps run in the exercise's loop order h, w, c (c innermost),
// so step k is np.unravel_index(k, (n_H, n_W, n_C)); window corners are in padded
// coordinates, vert_start = h * stride, vert_end = vert_start + f_eff with
// f_eff = dilation * (f - 1) + 1, the taps `dilation` apart.

/** Step k -> (h, w, c) for a (n_H, n_W, n_C) stage: np.unravel_index. */
export function positionOf(k, nH, nW, nC) {
  const c = k % nC;
  const hw = (k - c) / nC;
  const w = hw % nW;
  const h = (hw - w) / nW;
  return { h, w, c };
}

/** Step k as the step counter shows it: "h 1, w 2, c 0". */
export function positionText(k, nH, nW, nC) {
  const p = positionOf(k, nH, nW, nC);
  return `h ${p.h}, w ${p.w}, c ${p.c}`;
}

/** (h, w, c) -> step k: np.ravel_multi_index. */
export function indexOf(h, w, c, nW, nC) {
  return (h * nW + w) * nC + c;
}

/** Reveal steps for channel c of a map filled in loop order: cell (h, w) at (h*nW + w)*nC + c. */
export function rowMajorSteps(rows, cols, nC, c) {
  const out = new Int32Array(rows * cols);
  for (let i = 0; i < out.length; i += 1) out[i] = i * nC + c;
  return out;
}

/** Window corners in padded coordinates for output (h, w): {r0, c0, r1, c1} (ends exclusive). */
export function windowOf(h, w, stride, fEff) {
  const vs = h * stride;
  const hs = w * stride;
  return { r0: vs, c0: hs, r1: vs + fEff, c1: hs + fEff };
}

/**
 * Output cells (h, w) whose window has a tap on padded cell (r, s), in loop order, each with
 * the tap (i, j) that lands there: the inverse links of a hover, and the terms of a sum.
 * geo = {stride, fEff, dilation, nH, nW}.
 */
export function outputsCovering(r, s, { stride, fEff, dilation, nH, nW }) {
  const out = [];
  const hLo = Math.max(0, Math.ceil((r - fEff + 1) / stride));
  const hHi = Math.min(nH - 1, Math.floor(r / stride));
  const wLo = Math.max(0, Math.ceil((s - fEff + 1) / stride));
  const wHi = Math.min(nW - 1, Math.floor(s / stride));
  for (let h = hLo; h <= hHi; h += 1) {
    if ((r - h * stride) % dilation) continue;
    for (let w = wLo; w <= wHi; w += 1) {
      if ((s - w * stride) % dilation) continue;
      out.push({ h, w, i: (r - h * stride) / dilation, j: (s - w * stride) / dilation });
    }
  }
  return out;
}

/**
 * Padded cells that tap (i, j) of the window meets over all outputs (h, w), in loop order:
 * the cells weight W[i, j] multiplies, the terms of dW[i, j] = Σ a_slice[i, j] × dZ[h, w].
 */
export function tapCells(i, j, { stride, dilation, nH, nW }) {
  const out = [];
  for (let h = 0; h < nH; h += 1) {
    for (let w = 0; w < nW; w += 1) out.push({ r: h * stride + i * dilation, c: w * stride + j * dilation });
  }
  return out;
}

/** Last output row (or column) of n whose window has a tap on padded index q; -1 if none. */
function lastCovering(q, n, { stride, fEff, dilation }) {
  for (let h = Math.min(n - 1, Math.floor(q / stride)); h >= 0; h -= 1) {
    const d = q - h * stride;
    if (d >= fEff) break;
    if (d % dilation === 0) return h;
  }
  return -1;
}

/**
 * Padded index -> index into the unpadded axis of length n that it copies (numpy's np.pad
 * modes, as core.padding.source_index), or null for a constant pad cell.
 */
export function sourceIndex(q, n, pad, mode) {
  const i = q - pad;
  if (i >= 0 && i < n) return i;
  if (mode === "constant") return null;
  if (mode === "edge") return i < 0 ? 0 : n - 1;
  const a = Math.abs(i); // reflect without repeating the edge: -1 -> 1, n -> n - 2
  return a > n - 1 ? 2 * (n - 1) - a : a;
}

/**
 * Step after which each cell of a backward map (rows, cols) has received all its
 * contributions, row-major, -1 for cells no window reaches (they stay 0).
 * geo = {stride, fEff, dilation, nH, nW, nC}; cLast: the channel of the last step at a
 * position that adds into the map (the map's own channel for pooling, n_C - 1 for conv).
 * pad, padMode: the map is the unpadded input of a padded one (conv backward); with
 * "reflect" or "edge" a cell also collects what lands on the pad cells copied from it.
 */
export function completionSteps(rows, cols, geo, { cLast, pad = 0, padMode = "constant" }) {
  const axis = (n, nOut) => {
    const last = new Int32Array(n).fill(-1);
    for (let q = 0; q < n + 2 * pad; q += 1) {
      const src = sourceIndex(q, n, pad, padMode);
      if (src !== null) last[src] = Math.max(last[src], lastCovering(q, nOut, geo));
    }
    return last;
  };
  const lastH = axis(rows, geo.nH);
  const lastW = axis(cols, geo.nW);
  const out = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r += 1) {
    for (let s = 0; s < cols; s += 1) {
      // loop order is increasing in h, then w: the last step is the pair of the last ones
      out[r * cols + s] = lastH[r] < 0 || lastW[s] < 0 ? -1 : indexOf(lastH[r], lastW[s], cLast, geo.nW, geo.nC);
    }
  }
  return out;
}

/**
 * dA_prev = dA_prev_pad[pad:pad + rows, pad:pad + cols, :] of a decoded (rows + 2 pad,
 * cols + 2 pad, C) array (the exercise's crop; copying, no arithmetic; min and max stay
 * the padded array's, for the colour scale).
 */
export function cropPadded(arr, pad, rows, cols) {
  const [, PW, C] = arr.shape;
  const data = new Float32Array(rows * cols * C);
  for (let r = 0; r < rows; r += 1) {
    const from = ((r + pad) * PW + pad) * C;
    data.set(arr.data.subarray(from, from + cols * C), r * cols * C);
  }
  return { shape: [rows, cols, C], data, min: arr.min, max: arr.max, exact: arr.exact };
}

/**
 * The shapes along the layer from the server's geometry and W's shape (f, f, C, n_C), so
 * they are known before the arrays themselves arrive: {input, padded, Z, A, pooled}, each
 * a list of numbers (pooled null without pooling).
 */
export function layerShapes(geometry, W) {
  const g = geometry;
  const [, , C, nC] = W.shape;
  const out = [g.conv.n_H, g.conv.n_W, nC];
  return {
    input: [g.conv.n_H_prev, g.conv.n_W_prev, C],
    padded: [g.conv.n_H_pad, g.conv.n_W_pad, C],
    Z: out,
    A: out,
    pooled: g.pool ? [g.pool.n_H, g.pool.n_W, nC] : null,
  };
}

/** The view geometry of a conv or pool stage from the server's Geometry: {stride, fEff, dilation, nH, nW}. */
export function stageGeometry(g) {
  return { stride: g.stride, fEff: g.f_eff ?? g.f, dilation: g.dilation ?? 1, nH: g.n_H, nW: g.n_W };
}
