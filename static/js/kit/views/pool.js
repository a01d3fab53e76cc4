// Stage "pool_forward": the pooling window over A, the maximum (chosen by the tie rule)
// outlined or the mean shown, and the pooled map filling in behind the window.

import { el } from "../dom.js";
import { autoScale } from "../colors.js";
import { outputsCovering, windowOf } from "../geometry.js";
import {
  channelData, channelMaps, currentCell, detailPanel, jumpToCovering, linkTables, maskMarks,
  matrixTable, outputLinks, outputMaps, scalar, stepDetail, stageSetup, stepView, viewFrame,
} from "./common.js";
import { maskCaption, maximaText, poolForwardCode } from "./poolcode.js";

const TIE_TEXT = {
  first: "Tie rule \"first\": of equal maxima, the first in row-major order takes the gradient (np.argmax).",
  all: "Tie rule \"all\": every maximum takes the whole gradient (the exercise's x == np.max(x)).",
  split: "Tie rule \"split\": equal maxima share the gradient equally.",
};

/**
 * A pool step record written out: the window as a number table (its maxima outlined) and,
 * for max pooling, the mask beside it ({row}); the line saying what the output takes ({line}).
 * Explore's and Network's pool step views both show a step with it.
 */
export function poolStepParts(rec, { fmt, scale, mode, tieRule, f }) {
  const cells = rec.maxima || (rec.argmax ? [rec.argmax] : []);
  const maxima = mode === "max" ? rec.window.map((r0, r) => r0.map((_, c) => cells.some(([i, j]) => i === r && j === c))) : null;
  const t = matrixTable(rec.window, { fmt, scale, field: "window", caption: "a_prev_slice", marks: maxima });
  const line = el("div", "sum-line");
  if (mode === "max") {
    line.dataset.field = "max-where";
    line.append(el("span", "", `max ${maximaText(rec, tieRule)} = `), scalar(rec.value, fmt, "value", "result"));
  } else {
    line.append(el("span", "", `mean of the ${f} × ${f} values = `), scalar(rec.value, fmt, "value", "result"));
  }
  const row = el("div", "eq-row");
  row.append(t);
  if (mode === "max" && rec.mask) {
    row.append(el("span", "op", "→"), matrixTable(rec.mask, { fmt, field: "mask", caption: maskCaption(tieRule) }));
  }
  return { row, line };
}

export function createPoolView(ctx) {
  const { arrays, geometry, store, settings } = ctx;
  const stage = "pool_forward";
  const A = arrays.get("A");
  const P = arrays.get("pooled");
  const g = geometry.pool;
  const { geo, stride, nC, pos } = stageSetup(g, P);
  const { f } = g;
  const mode = settings.pool.mode;
  const tieRule = settings.pool.tie_rule;
  const scale = autoScale(A);
  let hoverA = null;
  let hoverP = null;

  const { root, maps } = viewFrame("pool-view");
  const aGroup = channelMaps(ctx, {
    title: "A (the activation being pooled)",
    n: nC,
    name: (c) => `A[:, :, ${c}]`,
    data: (c) => channelData(A, c, { scale, name: "A", dropped: { rows: g.dropped_rows || [], cols: g.dropped_cols || [] } }),
    maxHeight: nC > 1 ? 300 : 520,
    onHover: (cell, c) => {
      hoverA = cell ? { ch: c, outs: outputsCovering(cell.r, cell.c, geo) } : null;
      draw();
    },
    onClick: (cell, c) => jumpToCovering(ctx, cell.r, cell.c, c, geo, nC),
  });
  const pGroup = outputMaps(ctx, pos, {
    title: `${mode === "max" ? "Max" : "Average"} pooled, f = ${f}, stride = ${stride}`,
    name: "A_pool",
    arr: P,
    scale,
    reveal: true,
    maxHeight: nC > 1 ? 300 : 520,
    onHover: (cell, c) => {
      hoverP = cell ? { ch: c, win: windowOf(cell.r, cell.c, stride, f) } : null;
      draw();
    },
  });
  maps.append(aGroup.el, pGroup.el);

  const { el: detail, body } = detailPanel({
    label: "This step",
    title: mode === "max" ? "Max pooling" : "Average pooling",
    intro: el("p", "formula", mode === "max"
      ? "A_pool[h, w, c] = np.max(a_prev_slice)"
      : "A_pool[h, w, c] = np.mean(a_prev_slice)"),
    notes: mode === "max" ? [el("p", "hint", TIE_TEXT[settings.pool.tie_rule] || "")] : [],
  });
  linkTables(body, (cell) => {
    const win = windowOf(pos.h, pos.w, stride, f);
    hoverP = cell ? { ch: pos.c, win: { r0: win.r0 + cell.r, c0: win.c0 + cell.c, r1: win.r0 + cell.r + 1, c1: win.c0 + cell.c + 1 } } : null;
    draw();
  });
  root.append(maps, detail);

  function draw() {
    const win = windowOf(pos.h, pos.w, stride, f);
    const rec = store.get(stage, pos.k);
    aGroup.maps.forEach((m, c) => {
      const items = c === pos.c ? [{ kind: "window", ...win, dilation: 1 }] : [];
      if (c === pos.c && rec && rec.mask) items.push(...maskMarks(rec.mask, win));
      if (hoverP && hoverP.ch === c) items.push({ kind: "link", ...hoverP.win });
      m.setOverlays(items);
      m.setFocus(win.r0 + (f >> 1), win.c0 + (f >> 1));
    });
    pGroup.maps.forEach((m, c) => {
      const items = currentCell(c, pos);
      if (hoverA && hoverA.ch === c) items.push(...outputLinks(hoverA.outs));
      m.setOverlays(items);
      m.setFocus(pos.h, pos.w);
    });
  }

  function renderDetail() {
    const { rec, head, fmt } = stepDetail(ctx, {
      stage, pos, stride, f, body,
      where: (win) => `A_pool[${pos.h}, ${pos.w}, ${pos.c}]: rows ${win.r0}:${win.r1}, columns ${win.c0}:${win.c1} of A`,
    });
    if (!rec) return;
    const code = el("pre", "code", poolForwardCode(rec, { mode, tieRule }).join("\n"));
    code.dataset.field = "code";
    const { row, line } = poolStepParts(rec, { fmt, scale, mode, tieRule, f });
    const parts = [head, code, row, line];
    if (mode === "max" && rec.mask) parts.push(el("p", "hint", "The mask is kept for the backward pass: it says where this window's gradient goes."));
    body.replaceChildren(...parts);
    draw();
  }

  const allMaps = [...aGroup.maps, ...pGroup.maps];
  return stepView({
    el: root,
    stage,
    pos,
    maps: () => allMaps,
    reveal: () => pGroup.maps,
    outline: () => allMaps,
    draw,
    detail: renderDetail,
    describe(step, p, total) {
      const rec = store.get(stage, step);
      const what = mode === "max" ? "maximum" : "mean";
      return `Pooling step ${step + 1} of ${total}: A_pool[${p.h}, ${p.w}, ${p.c}] is the ${what} of its window${rec ? ` = ${ctx.fmt()(rec.value)}` : ""}.`;
    },
  });
}
