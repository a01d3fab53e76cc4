// Stage "pool_backward": the upstream gradient dA routed window by window into the gradient
// of A (create_mask_from_window's mask, or distribute_value's equal shares), overlapping
// windows accumulating. A cell of the accumulating map is drawn from the server's final
// array once its last window is in, or from the server's running totals when paused.

import { makeScale } from "../colors.js";
import { decodeArray } from "../arrays.js";
import { completionSteps, indexOf, outputsCovering, stageGeometry, windowOf } from "../geometry.js";
import {
  channelData, channelMaps, currentCell, detailPanel, el, jumpToCovering, linkTables, loadingLine,
  markCurrentChannel, maskMarks, matrixTable, outputLinks, scalar, stepView, tableScale, throttledDetail,
} from "./common.js";
import { restingTotals, revealTitle } from "./running.js";

export function createPoolBackwardView(ctx) {
  const { arrays, geometry, store, settings } = ctx;
  const stage = "pool_backward";
  const dA = arrays.get("dA");
  const dAp = arrays.get("dA_pool");
  const g = geometry.pool;
  const geo = stageGeometry(g);
  const { nH, nW, stride } = geo;
  const { f } = g;
  const nC = dA.shape[2];
  const [aH, aW] = dAp.shape;
  const total = nH * nW * nC;
  const mode = settings.pool.mode;
  const upScale = makeScale("diverging", dA.min, dA.max);
  const gScale = makeScale("diverging", dAp.min, dAp.max);
  let cur = { h: 0, w: 0, c: 0 };
  let k = 0;
  let hoverIn = null;
  let hoverOut = null;

  const root = el("div", "stage-view poolb-view");
  const maps = el("div", "maps");
  const inGroup = channelMaps(ctx, {
    title: "dA: the gradient arriving at the pooled output",
    n: nC,
    name: (c) => `dA[:, :, ${c}]`,
    data: (c) => channelData(dA, c, { scale: upScale, name: "dA" }),
    maxHeight: nC > 1 ? 280 : 480,
    onHover: (cell, c) => {
      hoverIn = cell ? { ch: c, win: windowOf(cell.r, cell.c, stride, f) } : null;
      draw();
    },
    onClick: (cell, c) => ctx.jump(indexOf(cell.r, cell.c, c, nW, nC)),
  });
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
    },
    onClick: (cell, c) => jumpToCovering(ctx, cell.r, cell.c, c, geo, nC),
  });
  const outTitle = revealTitle(outGroup.title, {
    reveal: "Gradient into A (pool_backward's dA_prev): a cell shows once all its windows are in",
    running: "Gradient into A (pool_backward's dA_prev): running total after this step",
  });
  maps.append(inGroup.el, outGroup.el);

  const code = mode === "max"
    ? "mask = create_mask_from_window(a_prev_slice)\ndA_prev[vs:ve, hs:he, c] += mask * dA[h, w, c]"
    : "da = dA[h, w, c]\ndA_prev[vs:ve, hs:he, c] += distribute_value(da, (f, f))";
  const { el: detail, body } = detailPanel({
    label: "This step",
    title: "pool_backward, window by window",
    intro: el("pre", "code", code),
    notes: [mode === "max"
      ? el("p", "hint", `Tie rule "${settings.pool.tie_rule}". Where windows overlap (stride < f) a cell collects from several windows.`)
      : el("p", "hint", `Each of the ${f * f} cells of the window gets an equal share 1/${f * f} of the gradient.`)],
  });
  root.append(maps, detail);
  let cellLink = null;
  linkTables(body, (cell) => {
    const win = windowOf(cur.h, cur.w, stride, f);
    cellLink = cell ? { r: win.r0 + cell.r, c: win.c0 + cell.c } : null;
    draw();
  });

  function draw() {
    const win = windowOf(cur.h, cur.w, stride, f);
    const rec = store.get(stage, k);
    inGroup.maps.forEach((m, c) => {
      const items = currentCell(c, cur);
      if (hoverOut && hoverOut.ch === c) items.push(...outputLinks(hoverOut.outs));
      m.setOverlays(items);
      m.setFocus(cur.h, cur.w);
    });
    outGroup.maps.forEach((m, c) => {
      const items = c === cur.c ? [{ kind: "window", ...win, dilation: 1 }] : [];
      if (c === cur.c && rec && rec.route && mode === "max") items.push(...maskMarks(rec.route, win));
      if (hoverIn && hoverIn.ch === c) items.push({ kind: "link", ...hoverIn.win });
      if (cellLink && c === cur.c) items.push({ kind: "link", r: cellLink.r, c: cellLink.c });
      m.setOverlays(items);
      m.setFocus(win.r0, win.c0);
    });
  }

  function renderDetail() {
    const rec = store.want(stage, k);
    const fmt = ctx.fmt();
    const win = windowOf(cur.h, cur.w, stride, f);
    const head = el("p", "where", `dA[${cur.h}, ${cur.w}, ${cur.c}] goes to rows ${win.r0}:${win.r1}, columns ${win.c0}:${win.c1}`);
    if (!rec) {
      body.replaceChildren(head, loadingLine());
      return;
    }
    const row = el("div", "eq-row");
    row.append(
      matrixTable(rec.route, { fmt, scale: tableScale(rec.route), field: "route", caption: mode === "max" ? "mask" : "shares" }),
      el("span", "op", "×"),
      scalar(rec.da, fmt, "da"),
      el("span", "op", "="),
      matrixTable(rec.added, { fmt, scale: tableScale(rec.added), field: "added", caption: "added" }),
    );
    body.replaceChildren(head, row);
    draw();
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

  const detailWhen = throttledDetail(renderDetail);
  const totalsWhen = restingTotals({ ctx, store, stage, total, current: () => k, show: showTotals });
  const allMaps = () => [...inGroup.maps, ...outGroup.maps];
  return stepView({
    el: root,
    stage,
    shape: [nH, nW, nC],
    maps: allMaps,
    onStep(step, p, playing) {
      k = step;
      cur = p;
      restoreReveal();
      outGroup.maps.forEach((m) => m.setStep(step));
      markCurrentChannel(allMaps(), cur.c, nC, playing);
      draw();
      detailWhen(playing);
      totalsWhen(step, playing);
    },
    refresh: renderDetail,
    describe(step, p) {
      const rec = store.get(stage, step);
      const how = mode === "max" ? "through the mask of its window" : "as equal shares over its window";
      return `Pooling backward step ${step + 1} of ${total}: dA[${p.h}, ${p.w}, ${p.c}]${rec ? ` = ${ctx.fmt()(rec.da)}` : ""} is routed ${how}.`;
    },
  });
}
