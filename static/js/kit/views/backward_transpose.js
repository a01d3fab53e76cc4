// Stage "backward_transpose": conv_backward's dA_prev again, as a transposed convolution of
// dZ drawn as a plain one. dZ_up is dZ with stride - 1 zeros inserted between its cells and a
// border (tinted like padding); the kernel turned by 180 degrees slides over it one cell at a
// time, and each step's sum of products is dA_prev[h, w, c], the same number the Conv
// backward stage collects window by window. Every number is the server's (core's
// transpose_as_convolution and conv_forward_trace); the page only draws them.

import { el } from "../dom.js";
import { signedScale } from "../colors.js";
import { at } from "../arrays.js";
import { windowOf } from "../geometry.js";
import {
  channelData, channelMaps, channelName, currentCell, detailPanel, linkTables, matrixTable, outputMaps, scalar,
  sliceChannel, stageSetup, stepDetail, stepView, tableScale, viewFrame,
} from "./common.js";

export function createBackwardTransposeView(ctx) {
  const { arrays, geometry, store } = ctx;
  const stage = "backward_transpose";
  const up = arrays.get("dZ_up");
  const dAprev = arrays.get("dA_prev");
  const t = geometry.transpose;
  const conv = geometry.conv;
  const { stride, dilation, fEff, pos } = stageSetup(t.conv, dAprev);
  const nF = up.shape[2];
  const C = dAprev.shape[2];
  const holding = { rows: t.dZ_rows, cols: t.dZ_cols };
  let tapLinks = [];

  const { root, maps } = viewFrame("convt-view");
  const upScale = signedScale(up);
  const upGroup = channelMaps(ctx, {
    title: `dZ_up: dZ (${t.n_H_dZ} × ${t.n_W_dZ}) with ${t.stride - 1} zero${t.stride === 2 ? "" : "s"} inserted between its cells and a border (tinted), one map per filter`,
    n: nF,
    name: (k) => `dZ_up[:, :, ${k}]`,
    data: (k) => ({
      ...channelData(up, k, { scale: upScale, name: "dZ_up" }),
      holding,
      describe: (r, s) => (holding.rows.includes(r) && holding.cols.includes(s)
        ? `dZ[${holding.rows.indexOf(r)}, ${holding.cols.indexOf(s)}, ${k}]`
        : "an inserted zero (or the border)"),
    }),
    maxHeight: nF > 1 ? 300 : 480,
  });
  const upMaps = upGroup.maps;
  const outGroup = outputMaps(ctx, pos, {
    title: `dA_prev (${dAprev.shape[0]} × ${dAprev.shape[1]}), cell by cell: the same numbers as Conv backward`,
    name: "dA_prev",
    arr: dAprev,
    scale: signedScale(dAprev),
    reveal: true,
    maxHeight: C > 1 ? 260 : 480,
  });
  maps.append(upGroup.el, outGroup.el);

  const op = t.output_padding;
  const code = el("pre", "code");
  code.textContent =
    `# conv_backward(dZ, cache) gives dA_prev; the same numbers, as a transposed convolution:\n` +
    `hparameters = {"stride": ${conv.stride}, "pad": ${conv.pad}}\n` +
    `dZ_up, W_flip, _ = transpose_as_convolution(\n` +
    `    dZ, W, hparameters, output_padding=(${op[0]}, ${op[1]})${dilation > 1 ? `, dilation=${dilation}` : ""})\n` +
    `dA_prev = conv_forward(dZ_up, W_flip, 0, {"stride": 1, "pad": 0}${dilation > 1 ? `, dilation=${dilation}` : ""})[0]`;
  function introBox() {
    const box = el("div", "intro");
    box.append(el("p", "formula", "dA_prev[h, w, c] = Σ (dZ_up window ⊙ W_flip[:, :, :, c]),  W_flip = W turned by 180°"), code);
    return box;
  }
  const { el: detail, body } = detailPanel({
    label: "This step's arithmetic",
    title: "A plain convolution over dZ_up",
    intro: introBox(),
    notes: [el("p", "hint", `Border: dilation·(f − 1) − pad = ${t.border} on the top and left, plus output_padding (${op[0]}, ${op[1]}) (the rows and columns the forward floor dropped) on the bottom and right. ${t.formula}.`)],
  });
  linkTables(body, (cell) => {
    const win = windowOf(pos.h, pos.w, stride, fEff);
    tapLinks = cell ? [{ kind: "link", r: win.r0 + cell.r * dilation, c: win.c0 + cell.c * dilation }] : [];
    draw();
  });
  root.append(maps, detail);

  function draw() {
    const win = windowOf(pos.h, pos.w, stride, fEff);
    upMaps.forEach((m) => {
      m.setOverlays([{ kind: "window", ...win, dilation }, ...tapLinks]);
      m.setFocus(Math.floor((win.r0 + win.r1) / 2), Math.floor((win.c0 + win.c1) / 2));
    });
    outGroup.maps.forEach((m, c) => {
      m.setOverlays(currentCell(c, pos));
      m.setFocus(pos.h, pos.w);
    });
  }

  function renderDetail() {
    const { rec, head, fmt } = stepDetail(ctx, {
      stage, pos, stride, f: fEff, body,
      where: (win) => `dA_prev[${pos.h}, ${pos.w}, ${pos.c}]${C === 3 ? ` (${channelName(C, pos.c)})` : ""}: rows ${win.r0}:${win.r1}, columns ${win.c0}:${win.c1} of dZ_up${dilation > 1 ? `, every ${dilation}th` : ""}`,
    });
    if (!rec) return;
    const aScale = tableScale(rec.a_slice);
    const wScale = tableScale(rec.weights);
    const pScale = tableScale(rec.products);
    const rows = el("div", "eq-rows");
    for (let k = 0; k < nF; k += 1) {
      const row = el("div", "eq-row");
      const name = nF > 1 ? ` (filter ${k})` : "";
      const t1 = matrixTable(sliceChannel(rec.a_slice, k), { fmt, scale: aScale, field: "a_slice", caption: `dZ_up window${name}` });
      const t2 = matrixTable(sliceChannel(rec.weights, k), { fmt, scale: wScale, field: "weights", caption: `W flipped${name}` });
      const t3 = matrixTable(sliceChannel(rec.products, k), { fmt, scale: pScale, field: "products", caption: `products${name}` });
      [t1, t2, t3].forEach((tb) => (tb.dataset.channel = String(k)));
      row.append(t1, el("span", "op", "⊙"), t2, el("span", "op", "="), t3);
      rows.append(row);
    }
    const sum = el("div", "sum-line");
    sum.append(
      el("span", "", `Σ products  ⇒  dA_prev[${rec.h}, ${rec.w}, ${rec.c}] = `),
      scalar(rec.z, fmt, "z", "result"),
    );
    const same = el("p", "hint same-as-backward");
    same.append(
      el("span", "", "Conv backward's dA_prev there: "),
      scalar(at(dAprev, rec.h, rec.w, rec.c), fmt, "dA_prev"),
      el("span", "", dAprev.exact === false ? " (as the page holds it, rounded to one byte)" : " (float32)"),
    );
    body.replaceChildren(head, rows, sum, same);
  }

  return stepView({
    el: root,
    stage,
    pos,
    maps: () => [...upMaps, ...outGroup.maps],
    reveal: () => outGroup.maps,
    outline: () => outGroup.maps,
    draw,
    detail: renderDetail,
    describe(step, p, total) {
      const rec = store.get(stage, step);
      if (!rec) return `Transposed convolution step ${step + 1} of ${total}: dA_prev[${p.h}, ${p.w}, ${p.c}].`;
      return `Transposed convolution step ${step + 1} of ${total}: dA_prev[${p.h}, ${p.w}, ${p.c}] = sum of products ${ctx.fmt()(rec.z)}.`;
    },
  });
}
