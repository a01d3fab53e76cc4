// Stage "pool_backward": the upstream gradient dA routed window by window into the gradient
// of A (create_mask_from_window's mask, or distribute_value's equal shares), overlapping
// windows accumulating. A cell of the accumulating map is drawn from the server's final
// array once its last window is in, or from the server's running totals when paused.

import { el } from "../dom.js";
import { signedScale } from "../colors.js";
import { at, decodeArray } from "../arrays.js";
import { completionSteps, indexOf, outputsCovering, windowOf } from "../geometry.js";
import {
  channelData, channelMaps, currentCell, detailPanel, jumpToCovering, linkTables, maskMarks,
  matrixTable, outputLinks, outputMaps, scalar, stepDetail, stageSetup, stepView, tableScale,
  viewFrame,
} from "./common.js";
import { restingTotals, revealTitle } from "./running.js";
import { maskCaption, maximaText, poolBackwardCode } from "./poolcode.js";
import { termsBox } from "./terms.js";

/**
 * A pool backward step record written out: route × da = added, as number tables (route: the
 * mask the tie rule makes, or the equal shares of average pooling). Explore's and Network's
 * pool backward step views both show a step with it.
 */
export function poolBackwardRow(rec, { fmt, mode, tieRule }) {
  const row = el("div", "eq-row");
  row.append(
    matrixTable(rec.route, { fmt, scale: tableScale(rec.route), field: "route", caption: mode === "max" ? maskCaption(tieRule) : "shares" }),
    el("span", "op", "×"),
    scalar(rec.da, fmt, "da"),
    el("span", "op", "="),
    matrixTable(rec.added, { fmt, scale: tableScale(rec.added), field: "added", caption: "added" }),
  );
  return row;
}

export function createPoolBackwardView(ctx) {
  const { arrays, geometry, store, settings } = ctx;
  const stage = "pool_backward";
  const dA = arrays.get("dA");
  const dAp = arrays.get("dA_pool");
  const g = geometry.pool;
  const { geo, nW, stride, nC, pos } = stageSetup(g, dA);
  const { f } = g;
  const [aH, aW] = dAp.shape;
  const mode = settings.pool.mode;
  let hoverIn = null;
  let hoverOut = null;

  const { root, maps } = viewFrame("poolb-view");
  const inGroup = outputMaps(ctx, pos, {
    title: "dA: the gradient arriving at the pooled output",
    name: "dA",
    arr: dA,
    scale: signedScale(dA),
    maxHeight: nC > 1 ? 280 : 480,
    onHover: (cell, c) => {
      hoverIn = cell ? { ch: c, win: windowOf(cell.r, cell.c, stride, f) } : null;
      draw();
    },
  });
  const gScale = signedScale(dAp);
  const revealData = (c) => ({
    ...channelData(dAp, c, {
      scale: gScale, name: "dA_prev", cellStep: completionSteps(aH, aW, { ...geo, nC }, { cLast: c }),
    }),
    rowMajor: false,
  });
  const outGroup = channelMaps(ctx, {
    title: "",
    n: nC,
    name: (c) => `dA_prev[:, :, ${c}]`,
    data: revealData,
    maxHeight: nC > 1 ? 280 : 480,
    onHover: (cell, c) => {
      hoverOut = cell ? { ch: c, outs: outputsCovering(cell.r, cell.c, geo) } : null;
      draw();
      if (cell) showTerms(cell.r, cell.c, c, hoverOut.outs);
      else terms.clear();
    },
    onClick: (cell, c) => jumpToCovering(ctx, cell.r, cell.c, c, geo, nC),
  });
  const outTitle = revealTitle(outGroup.title, {
    reveal: "Gradient into A (pool_backward's dA_prev): a cell shows once all its windows are in",
    running: "Gradient into A (pool_backward's dA_prev): running total after this step",
  });
  maps.append(inGroup.el, outGroup.el);

  const tieRule = settings.pool.tie_rule;
  const terms = termsBox(ctx, "Hover a cell of dA_prev to list the windows that add into it.");
  const { el: detail, body } = detailPanel({
    label: "This step",
    title: "pool_backward, window by window",
    intro: el("p", "formula", mode === "max"
      ? `dA_prev[window] += mask × dA[h, w, c] (tie rule "${tieRule}")`
      : "dA_prev[window] += distribute_value(dA[h, w, c], (f, f))"),
    notes: [mode === "max"
      ? el("p", "hint", "Where windows overlap (stride < f) a cell collects from several windows.")
      : el("p", "hint", `Each of the ${f * f} cells of the window gets an equal share 1/${f * f} of the gradient.`),
    terms.el],
  });
  root.append(maps, detail);
  let cellLink = null;
  linkTables(body, (cell) => {
    const win = windowOf(pos.h, pos.w, stride, f);
    cellLink = cell ? { r: win.r0 + cell.r, c: win.c0 + cell.c } : null;
    draw();
  });

  function draw() {
    const win = windowOf(pos.h, pos.w, stride, f);
    const rec = store.get(stage, pos.k);
    inGroup.maps.forEach((m, c) => {
      const items = currentCell(c, pos);
      if (hoverOut && hoverOut.ch === c) items.push(...outputLinks(hoverOut.outs));
      m.setOverlays(items);
      m.setFocus(pos.h, pos.w);
    });
    outGroup.maps.forEach((m, c) => {
      const items = c === pos.c ? [{ kind: "window", ...win, dilation: 1 }] : [];
      if (c === pos.c && rec && rec.route && mode === "max") items.push(...maskMarks(rec.route, win));
      if (hoverIn && hoverIn.ch === c) items.push({ kind: "link", ...hoverIn.win });
      if (cellLink && c === pos.c) items.push({ kind: "link", r: cellLink.r, c: cellLink.c });
      m.setOverlays(items);
      m.setFocus(win.r0, win.c0);
    });
  }

  function renderDetail() {
    const { rec, head, fmt } = stepDetail(ctx, {
      stage, pos, stride, f, body,
      where: (win) => `dA[${pos.h}, ${pos.w}, ${pos.c}] goes to rows ${win.r0}:${win.r1}, columns ${win.c0}:${win.c1}`,
    });
    if (!rec) return;
    const code = el("pre", "code", poolBackwardCode(rec, { mode, tieRule, f }).join("\n"));
    code.dataset.field = "code";
    const parts = [head, code];
    if (mode === "average") {
      // the exercise's distribute_value(dz, shape): (n_H, n_W) = shape; average = dz / (n_H * n_W)
      const avg = el("p", "sum-line");
      avg.dataset.field = "distribute";
      avg.append("average = dz / (n_H * n_W) = ", scalar(rec.da, fmt, null), ` / (${f} * ${f}) = `,
        scalar(rec.added[0][0], fmt, "average", "result"));
      parts.push(avg);
    } else if ((rec.maxima || []).length > 1) {
      parts.push(el("p", "hint", `The maximum is ${maximaText(rec, tieRule)}.`));
    }
    body.replaceChildren(...parts, poolBackwardRow(rec, { fmt, mode, tieRule }));
    draw();
  }

  /** The terms of dA_prev[r, s, c]: route[i, j] * dA[h, w, c] of every window over it. */
  function showTerms(r, s, c, outs) {
    terms.show(`dA_prev[${r}, ${s}, ${c}]`, async () => {
      const recs = await store.many(stage, outs.map((o) => indexOf(o.h, o.w, c, nW, nC)));
      const fmt = ctx.fmt();
      return {
        terms: outs.map((o, n) => ({
          name: `dA[${o.h}, ${o.w}, ${c}] * ${mode === "max" ? "mask" : "share"}[${o.i}, ${o.j}]`,
          factors: [fmt(recs[n].da), fmt(recs[n].route[o.i][o.j])],
          value: recs[n].added[o.i][o.j],
        })),
        total: at(dAp, r, s, c),
      };
    });
  }

  function showTotals(t) {
    const arr = decodeArray(t.dA_prev);
    if (!arr) return;
    outGroup.maps.forEach((m, c) => m.setData(channelData(arr, c, { scale: gScale, name: "dA_prev (running)" })));
    outTitle.running(true);
    draw();
  }

  function restoreReveal() {
    if (!outTitle.shown()) return;
    outTitle.running(false);
    outGroup.maps.forEach((m, c) => m.setData(revealData(c)));
  }

  const totalsWhen = restingTotals({ ctx, store, stage, total: pos.total, current: () => pos.k, show: showTotals, restore: restoreReveal });
  const allMaps = () => [...inGroup.maps, ...outGroup.maps];
  return stepView({
    el: root,
    stage,
    pos,
    maps: allMaps,
    onStep: totalsWhen,
    reveal: () => outGroup.maps,
    outline: allMaps,
    draw,
    detail: renderDetail,
    describe(step, p, total) {
      const rec = store.get(stage, step);
      const how = mode === "max" ? "through the mask of its window" : "as equal shares over its window";
      return `Pooling backward step ${step + 1} of ${total}: dA[${p.h}, ${p.w}, ${p.c}]${rec ? ` = ${ctx.fmt()(rec.da)}` : ""} is routed ${how}.`;
    },
  });
}
