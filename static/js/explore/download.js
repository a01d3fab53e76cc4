// Explore's "Download animation": the stage on screen as the server animates it, with the
// layer's settings (the convolution's f, stride, pad and dilation, or the pooling's f and
// stride) on the working image's size, and the step shown. An image larger than the
// animation's cells allow (EXAMPLE cells a side) is drawn as an EXAMPLE x EXAMPLE example
// with the same settings, and the note says so. Pad and ReLU have no loop of their own:
// they export the convolution's.

import { createDownloadMenu } from "../kit/download.js";

const EXAMPLE = 16;
const OPS = { pad: "conv_forward", conv_forward: "conv_forward", relu: "conv_forward",
  conv_backward: "conv_backward", pool_forward: "pool_forward", pool_backward: "pool_backward" };

export function createExploreDownload(app) {
  function describe() {
    const cur = app.current;
    const op = OPS[app.state.ui.stage];
    if (!cur || !op) return null;
    const g = op.startsWith("pool") ? cur.raw.geometry.pool : cur.raw.geometry.conv;
    if (!g) return null;
    const big = Math.max(g.n_H_prev, g.n_W_prev) > EXAMPLE;
    const h = big ? EXAMPLE : g.n_H_prev;
    const w = big ? EXAMPLE : g.n_W_prev;
    const params = { op, h, w, f: g.f, stride: g.stride };
    if (!op.startsWith("pool")) Object.assign(params, { pad: g.pad, dilation: g.dilation });
    const nC = cur.raw.settings.filters.length;
    // a step runs over (h, w, c); the animation has one frame per (h, w)
    const frame = op === "conv_forward" && app.state.ui.stage === "pad" ? 0 : Math.floor(app.state.ui.step / nC);
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
