// Stage "conv_forward": the window slides over A_prev_pad in the exercise's loop order
// (h, w, then c innermost), each filter's feature map Z fills in behind it, and the detail
// panel writes conv_single_step out with the step record's exact numbers.

import { el } from "../dom.js";
import { MapCanvas } from "../grid.js";
import { makeScale, signedScale } from "../colors.js";
import { outputsCovering, windowOf } from "../geometry.js";
import {
  channelName, currentCell, detailPanel, imageData, jumpToCovering, linkTables, matrixTable,
  outputLinks, outputMaps, scalar, stepDetail, sliceChannel, stageSetup, stepView, tableScale,
  viewFrame,
} from "./common.js";

/**
 * conv_single_step's products for one step record (a_slice, weights, products): one row per
 * input channel, a_slice ⊙ W = products, as number tables; `aScale` colours the slice.
 * Explore's and Network's conv step views both write the step out with it.
 */
export function convProductRows(rec, { fmt, aScale }) {
  const cell = rec.a_slice[0][0];
  const C = Array.isArray(cell) ? cell.length : 1;
  const wScale = tableScale(rec.weights);
  const pScale = tableScale(rec.products);
  const rows = el("div", "eq-rows");
  for (let ch = 0; ch < C; ch += 1) {
    const row = el("div", "eq-row");
    const name = C > 1 ? ` (${channelName(C, ch)})` : "";
    const t1 = matrixTable(sliceChannel(rec.a_slice, ch), { fmt, scale: aScale, field: "a_slice", caption: `a_slice${name}` });
    const t2 = matrixTable(sliceChannel(rec.weights, ch), { fmt, scale: wScale, field: "weights", caption: `W${name}` });
    const t3 = matrixTable(sliceChannel(rec.products, ch), { fmt, scale: pScale, field: "products", caption: `products${name}` });
    [t1, t2, t3].forEach((t) => (t.dataset.channel = String(ch)));
    row.append(t1, el("span", "op", "⊙"), t2, el("span", "op", "="), t3);
    rows.append(row);
  }
  return rows;
}

/** The step's sum line: Σ products = total + b = bias ⇒ Z[h, w, c] = z (the record's numbers). */
export function convSumLine(rec, fmt) {
  const sum = el("div", "sum-line");
  sum.append(
    el("span", "", "Σ products = "),
    scalar(rec.total, fmt, "total"),
    el("span", "", "  + b = "),
    scalar(rec.bias, fmt, "bias"),
    el("span", "", `  ⇒  Z[${rec.h}, ${rec.w}, ${rec.c}] = `),
    scalar(rec.z, fmt, "z", "result"),
  );
  return sum;
}

export function createConvView(ctx) {
  const { arrays, geometry, store } = ctx;
  const stage = "conv_forward";
  const padded = arrays.get("padded");
  const Z = arrays.get("Z");
  const g = geometry.conv;
  const { geo, stride, dilation, fEff, nC, pos } = stageSetup(g, Z);
  const { pad } = g;
  const links = new Map();

  const { root, maps } = viewFrame("conv-view");
  const padMap = new MapCanvas({
    title: "A_prev_pad with the window",
    fmt: ctx.cellFmt,
    onHover: (cell) => {
      links.clear();
      if (cell) {
        links.set(pos.c, outputLinks(outputsCovering(cell.r, cell.c, geo)));
      }
      draw();
    },
    onClick: (cell) => jumpToCovering(ctx, cell.r, cell.c, pos.c, geo, nC),
  });
  padMap.setData(
    imageData(padded, {
      name: "A_prev_pad",
      inner: pad > 0 ? { top: pad, left: pad, rows: padded.shape[0] - 2 * pad, cols: padded.shape[1] - 2 * pad } : null,
      dropped: { rows: g.dropped_rows || [], cols: g.dropped_cols || [] },
      describe: (r, s) => {
        const n = outputsCovering(r, s, geo).length;
        return n ? `used by ${n} output${n === 1 ? "" : "s"} per filter (click to jump)` : "no window reaches this cell";
      },
    }),
  );
  const zScale = signedScale(Z);
  let padLinks = [];
  const group = outputMaps(ctx, pos, {
    title: `Z: ${nC} feature map${nC === 1 ? "" : "s"}, one per filter`,
    name: "Z",
    arr: Z,
    scale: zScale,
    reveal: true,
    maxHeight: nC > 1 ? 320 : 560,
    onHover: (cell) => {
      padLinks = cell ? [{ kind: "link", ...windowOf(cell.r, cell.c, stride, fEff) }] : [];
      draw();
    },
  });
  maps.append(padMap.el, group.el);

  const { el: detail, body } = detailPanel({
    label: "This step's arithmetic",
    title: "conv_single_step, written out",
    intro: el("p", "formula", "Z[h, w, c] = Σ (a_slice_prev ⊙ W[:, :, :, c]) + b[c]"),
  });
  linkTables(body, (cell) => {
    const win = windowOf(pos.h, pos.w, stride, fEff);
    padLinks = cell ? [{ kind: "link", r: win.r0 + cell.r * dilation, c: win.c0 + cell.c * dilation }] : [];
    draw();
  });
  root.append(maps, detail);

  function draw() {
    const win = windowOf(pos.h, pos.w, stride, fEff);
    padMap.setOverlays([{ kind: "window", ...win, dilation }, ...padLinks]);
    padMap.setFocus(Math.floor((win.r0 + win.r1) / 2), Math.floor((win.c0 + win.c1) / 2));
    group.maps.forEach((m, c) => {
      m.setOverlays([...currentCell(c, pos), ...(links.get(c) || [])]);
      m.setFocus(pos.h, pos.w);
    });
  }

  function renderDetail() {
    const { rec, head, fmt } = stepDetail(ctx, {
      stage, pos, stride, f: fEff, body,
      where: (win) => `Z[${pos.h}, ${pos.w}, ${pos.c}]: rows ${win.r0}:${win.r1}, columns ${win.c0}:${win.c1} of A_prev_pad${dilation > 1 ? `, every ${dilation}th` : ""}`,
    });
    if (!rec) return;
    const code = el("pre", "code");
    code.textContent =
      `a_slice_prev = a_prev_pad[${rec.vert_start}:${rec.vert_end}${dilation > 1 ? `:${dilation}` : ""}, ` +
      `${rec.horiz_start}:${rec.horiz_end}${dilation > 1 ? `:${dilation}` : ""}, :]\n` +
      `Z[0, ${rec.h}, ${rec.w}, ${rec.c}] = conv_single_step(a_slice_prev, W[:, :, :, ${rec.c}], b[:, :, :, ${rec.c}])`;
    const aScale = makeScale("grey", Math.min(0, padded.min), padded.max);
    const rows = convProductRows(rec, { fmt, aScale });
    const sum = convSumLine(rec, fmt);
    body.replaceChildren(head, code, rows, sum);
  }

  return stepView({
    el: root,
    stage,
    pos,
    maps: () => [padMap, ...group.maps],
    reveal: () => group.maps,
    outline: () => group.maps,
    draw,
    detail: renderDetail,
    describe(step, p, total) {
      const rec = store.get(stage, step);
      const fmt = ctx.fmt();
      if (!rec) return `Convolution step ${step + 1} of ${total}: Z[${p.h}, ${p.w}, ${p.c}].`;
      return `Convolution step ${step + 1} of ${total}: Z[${p.h}, ${p.w}, ${p.c}] = sum of products ${fmt(rec.total)} plus bias ${fmt(rec.bias)} = ${fmt(rec.z)}.`;
    },
  });
}
