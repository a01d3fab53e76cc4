// The view of Explore's transposed-convolution op: one step per input cell (and channel),
// in loop order. The input cell lights up on the image, its window lights up on the output
// (the canvas, with the pad rows and columns the crop removes tinted), the output's pixels
// appear once every window that reaches them has been added, and the detail panel writes
// the step out with the server's numbers: a × W = spread, then before + spread = after.

import { el } from "../kit/dom.js";
import { MapCanvas } from "../kit/grid.js";
import { completionSteps, indexOf, windowOf } from "../kit/geometry.js";
import {
  channelName, detailPanel, imageData, loadingLine, matrixTable, scalar, sliceChannel, stepView,
  tableScale, viewFrame, cursor,
} from "../kit/views/common.js";

export const STAGE = "conv_transpose";

/** ctx = {answer (POST /api/explore/transpose), arrays: {input, Z_full} decoded, store, fmt, jump}. */
export function createConvtView(ctx) {
  const { answer, arrays, store } = ctx;
  const g = answer.geometry;
  const C = g.n_C;
  const pos = cursor([g.n_H_prev, g.n_W_prev, C]);
  const { root, maps } = viewFrame("convt-op-view");

  const inMap = new MapCanvas({
    title: "A_prev: your image, one step per cell and channel",
    fmt: ctx.cellFmt,
    onClick: (cell) => ctx.jump(indexOf(cell.r, cell.c, pos.c, g.n_W_prev, C)),
  });
  inMap.setData(imageData(arrays.input, { name: "A_prev" }));

  const geo = { stride: g.stride, fEff: g.f_eff, dilation: g.dilation, nH: g.n_H_prev, nW: g.n_W_prev, nC: C };
  const outMap = new MapCanvas({
    title: "Z: the output filling in",
    fmt: ctx.cellFmt,
    maxHeight: 560,
  });
  outMap.setData({
    ...imageData(arrays.Z_full, {
      name: "Z_full",
      inner: g.pad > 0 ? { top: g.pad, left: g.pad, rows: g.n_H, cols: g.n_W } : null,
      describe: (r, s) => (g.pad > 0 && (r < g.pad || s < g.pad || r >= g.pad + g.n_H || s >= g.pad + g.n_W) ? "cropped by pad" : ""),
    }),
    // a pixel shows once the last step that adds into it (its last channel) is done
    cellStep: completionSteps(g.n_H_full, g.n_W_full, geo, { cLast: C - 1 }),
    rowMajor: false,
  });
  maps.append(inMap.el, outMap.el);

  const { el: detail, body } = detailPanel({
    label: "This step's arithmetic",
    title: "One input cell spreads into the output",
    intro: el("p", "formula", "Z_full[window, c] += A_prev[h, w, c] × W;  Z = Z_full[pad:pad + n_H, pad:pad + n_W] + b"),
  });
  root.append(maps, detail);

  function draw() {
    const win = windowOf(pos.h, pos.w, g.stride, g.f_eff);
    inMap.setOverlays([{ kind: "cell", r: pos.h, c: pos.w }]);
    inMap.setFocus(pos.h, pos.w);
    outMap.setOverlays([{ kind: "window", ...win, dilation: g.dilation }]);
    outMap.setFocus(Math.floor((win.r0 + win.r1) / 2), Math.floor((win.c0 + win.c1) / 2));
  }

  function renderDetail() {
    const fmt = ctx.fmt();
    const rec = store.want(STAGE, pos.k);
    const win = windowOf(pos.h, pos.w, g.stride, g.f_eff);
    const step = g.dilation > 1 ? `:${g.dilation}` : "";
    const head = el("p", "where", `A_prev[${pos.h}, ${pos.w}, ${pos.c}] (${channelName(C, pos.c)}) spreads into rows ${win.r0}:${win.r1}, columns ${win.c0}:${win.c1} of Z_full${g.dilation > 1 ? `, every ${g.dilation}th` : ""}`);
    if (!rec) {
      body.replaceChildren(head, loadingLine());
      return;
    }
    const code = el("pre", "code");
    code.textContent = `Z_full[${rec.vert_start}:${rec.vert_end}${step}, ${rec.horiz_start}:${rec.horiz_end}${step}, ${rec.c}] += A_prev[${rec.h}, ${rec.w}, ${rec.c}] * W`;
    const c = rec.c;
    const weights = sliceChannel(rec.weights, c);
    const spread = sliceChannel(rec.spread, c);
    const before = sliceChannel(rec.before, c);
    const after = sliceChannel(rec.after, c);
    const wScale = tableScale(weights);
    const sScale = tableScale(before, after);
    const row1 = el("div", "eq-row");
    row1.append(
      el("span", "", "a = "), scalar(rec.a, fmt, "a"), el("span", "op", "×"),
      matrixTable(weights, { fmt, scale: wScale, field: "weights", caption: "W" }), el("span", "op", "="),
      matrixTable(spread, { fmt, scale: sScale, field: "spread", caption: "spread" }),
    );
    const row2 = el("div", "eq-row");
    row2.append(
      matrixTable(before, { fmt, scale: sScale, field: "before", caption: "Z_full window before" }), el("span", "op", "+"),
      matrixTable(spread, { fmt, scale: sScale, field: "spread2", caption: "spread" }), el("span", "op", "="),
      matrixTable(after, { fmt, scale: sScale, field: "after", caption: "after" }),
    );
    const rows = el("div", "eq-rows");
    rows.append(row1, row2);
    body.replaceChildren(head, code, rows);
  }

  return stepView({
    el: root,
    stage: STAGE,
    pos,
    maps: () => [inMap, outMap],
    reveal: () => [outMap],
    draw,
    detail: renderDetail,
    describe(k, p, total) {
      const rec = store.get(STAGE, k);
      const fmt = ctx.fmt();
      const what = `Transposed convolution step ${k + 1} of ${total}: A_prev[${p.h}, ${p.w}, ${p.c}]`;
      return rec ? `${what} = ${fmt(rec.a)} times the kernel, added into rows ${rec.vert_start} to ${rec.vert_end - 1}, columns ${rec.horiz_start} to ${rec.horiz_end - 1} of the output.` : `${what}.`;
    },
  });
}
