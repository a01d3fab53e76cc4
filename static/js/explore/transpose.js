// Explore's "dA_prev is a transposed convolution of dZ" panel, under the Conv backward
// stage: the server's animation of that transposed convolution drawn as a plain
// convolution over dZ with zeros inserted (op conv_transpose_direct), for the layer's f,
// stride, pad and dilation. The convolution's plan names the transposed query (input
// n_H x n_W, output_padding the rows the floor dropped); the page computes none of it.

import { animationUrl, fetchAnimationPlan } from "../kit/api.js";

const EXAMPLE = 12;

export function createTransposePanel(app) {
  const panel = app.$("#transpose-panel");
  const img = app.$("#transpose-img");
  let shown = "";
  let controller = null;

  async function refresh() {
    const cur = app.current;
    const g = cur && cur.raw.geometry.conv;
    if (!g || app.state.ui.stage !== "conv_backward") {
      panel.hidden = true;
      return;
    }
    const big = Math.max(g.n_H_prev, g.n_W_prev) > EXAMPLE;
    const conv = { op: "conv_forward", h: big ? EXAMPLE : g.n_H_prev, w: big ? EXAMPLE : g.n_W_prev,
      f: g.f, stride: g.stride, pad: g.pad, dilation: g.dilation };
    const key = JSON.stringify(conv);
    panel.hidden = false;
    if (key === shown) return;
    shown = key;
    if (controller) controller.abort();
    controller = new AbortController();
    app.$("#transpose-where").textContent = big
      ? `on a ${EXAMPLE} × ${EXAMPLE} input (yours, ${g.n_H_prev} × ${g.n_W_prev}, has too many cells to draw one by one)`
      : `on your ${g.n_H_prev} × ${g.n_W_prev} input's grid`;
    const error = app.$("#transpose-error");
    try {
      const plan = await fetchAnimationPlan(conv, { signal: controller.signal });
      if (!plan.transposed) throw new Error("The rows and columns need different output padding here; the gallery draws square inputs.");
      // the numbers read only where the picture is drawn large enough
      const numbers = !window.matchMedia("(max-width: 700px)").matches;
      const direct = { ...plan.transposed, op: "conv_transpose_direct", numbers };
      const dplan = await fetchAnimationPlan(direct, { signal: controller.signal });
      img.width = dplan.width;
      img.height = dplan.height;
      img.src = animationUrl(direct);
      img.alt = `dZ (${plan.transposed.h} × ${plan.transposed.w}) with zeros inserted, the flipped kernel sliding over it, filling dA_prev: ${dplan.frames} frames`;
      app.$("#transpose-formula").textContent = dplan.formula.split("; ")[0];
      error.hidden = true;
      img.hidden = false;
    } catch (err) {
      if (err.name === "AbortError") return;
      error.textContent = err.messages ? err.messages.join(" ") : String(err.message || err);
      error.hidden = false;
      img.hidden = true;
    }
  }
  return { refresh };
}
