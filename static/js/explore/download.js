// Explore's "Download animation": the stage on screen as the server animates it, with the
// layer's settings (the convolution's f, stride, pad and dilation, or the pooling's f and
// stride) on the working image's size, and the step shown. An image larger than the
// animation's cells allow (EXAMPLE cells a side) is drawn as an EXAMPLE x EXAMPLE example
// with the same settings, and the note says so. Pad and ReLU have no loop of their own:
// they export the convolution's. "As transposed conv" exports the transposed convolution
// of dZ drawn as that stage draws it, a stride-1 convolution over dZ with zeros inserted
// (op conv_transpose_direct, one frame per cell of dA_prev), with the stage's geometry; the
// transposed-convolution op says its own (./transpose_op.js describeDownload).

import { createDownloadMenu } from "../kit/download.js";

const EXAMPLE = 16;
const OPS = { pad: "conv_forward", conv_forward: "conv_forward", relu: "conv_forward",
  conv_backward: "conv_backward", pool_forward: "pool_forward", pool_backward: "pool_backward",
  backward_transpose: "conv_transpose_direct" };

/** A grid of n_H x n_W cells as drawn: itself, or `side` x `side` when it has too many. */
function fitted(nH, nW, side) {
  const big = Math.max(nH, nW) > side;
  return { big, h: big ? side : nH, w: big ? side : nW };
}

/**
 * The backward_transpose stage's download: dZ (n_H_dZ x n_W_dZ) is the transposed
 * convolution's input, its output dA_prev about stride times as large, so the example keeps
 * dZ at EXAMPLE / stride a side. output_padding is one number in /api/animation: the rows'.
 */
function transposeParams(cur, step) {
  const t = cur.raw.geometry.transpose;
  const c = cur.raw.geometry.conv;
  if (!t) return null;
  const { big, h, w } = fitted(t.n_H_dZ, t.n_W_dZ, Math.max(2, Math.floor(EXAMPLE / t.stride)));
  const [opRows, opCols] = t.output_padding;
  const params = { op: "conv_transpose_direct", h, w, f: c.f, stride: t.stride, pad: c.pad,
    dilation: c.dilation, output_padding: opRows };
  const where = big
    ? `on a ${h} × ${w} dZ with your settings (your ${t.n_H_dZ} × ${t.n_W_dZ} dZ has too many cells to draw one by one)`
    : `on your ${t.n_H_dZ} × ${t.n_W_dZ} dZ's grid`;
  const op = opRows === opCols ? "" : ` (output_padding ${opRows} on both sides; yours is ${opRows} rows, ${opCols} columns)`;
  return {
    params,
    step: big ? 0 : Math.floor(step / t.n_C), // a step runs over (h, w, c); a frame over (h, w)
    note: `dA_prev as the transposed convolution of dZ, one frame per cell of dA_prev: dZ with stride − 1 zeros inserted, the flipped kernel sliding, ${where}${op}, in the classic colours (the numbers are a fixed example, not your image's).`,
  };
}

export function createExploreDownload(app) {
  function describe() {
    if (app.op.on()) return app.op.describeDownload();
    const cur = app.current;
    const stage = app.state.ui.stage;
    const op = OPS[stage];
    if (!cur || !op) return null;
    if (stage === "backward_transpose") return transposeParams(cur, app.state.ui.step);
    const g = op.startsWith("pool") ? cur.raw.geometry.pool : cur.raw.geometry.conv;
    if (!g) return null;
    const { big, h, w } = fitted(g.n_H_prev, g.n_W_prev, EXAMPLE);
    const params = { op, h, w, f: g.f, stride: g.stride };
    if (!op.startsWith("pool")) Object.assign(params, { pad: g.pad, dilation: g.dilation });
    const nC = cur.raw.settings.filters.length;
    // a step runs over (h, w, c); the animation has one frame per (h, w)
    const frame = op === "conv_forward" && stage === "pad" ? 0 : Math.floor(app.state.ui.step / nC);
    const what = op.replace("_", " ");
    const where = big
      ? `on a ${EXAMPLE} × ${EXAMPLE} example with your settings (your ${g.n_H_prev} × ${g.n_W_prev} input has too many cells to draw one by one)`
      : `on your ${g.n_H_prev} × ${g.n_W_prev} input's grid`;
    return {
      params,
      step: big ? 0 : frame,
      note: `The ${what} loop, one frame per window position, ${where}, in the classic colours (the numbers are a fixed example, not your image's).`,
    };
  }
  return createDownloadMenu(app.$("#download"), describe);
}
