// Stage "conv_backward": dA_prev collecting W x dZ, dW collecting a_slice x dZ and db summing
// dZ, window by window, then the final dA_prev, dW per filter and db. A cell is drawn from
// the server's final array once every window that adds into it has been visited, or from
// the server's running totals (`totals_at`) when the player rests on a step.

import { el } from "../dom.js";
import { MapCanvas } from "../grid.js";
import { channelToRgba, makeScale, signedScale } from "../colors.js";
import { at, channelView, decodeArray, weightsView } from "../arrays.js";
import { completionSteps, cropPadded, indexOf, outputsCovering, tapCells, windowOf } from "../geometry.js";
import {
  channelData, channelMaps, channelName, currentCell, detailPanel, imageData, jumpToCovering,
  linkTables, loadingLine, matrixTable, outputLinks, outputMaps, scalar, stepDetail, sliceChannel,
  stageSetup, stepView, tableScale, viewFrame,
} from "./common.js";
import { restingTotals, revealTitle } from "./running.js";
import { termsBox } from "./terms.js";

export function createConvBackwardView(ctx) {
  const { arrays, geometry, store, settings } = ctx;
  const stage = "conv_backward";
  const dZ = arrays.get("dZ");
  const padded = arrays.get("padded");
  const Warr = arrays.get("W");
  const dAprev = arrays.get("dA_prev");
  const dW = arrays.get("dW");
  const db = arrays.get("db");
  const g = geometry.conv;
  const { geo, nH, nW, stride, dilation, fEff, nC, pos } = stageSetup(g, dZ);
  const { pad, f } = g;
  const [H, W, C] = dAprev.shape;
  let hoverZ = null;
  let hoverA = null;
  let hoverW = null; // a weight of dW hovered: the cells it multiplies light up
  let zoom = 1;
  const terms = termsBox(ctx, "Hover a cell of dA_prev or da_prev_pad to list the windows that add into it, or a weight of dW to light every cell it multiplies.");

  const { root, maps } = viewFrame("convb-view");
  const zGroup = outputMaps(ctx, pos, {
    title: "dZ: the gradient at the convolution's output",
    name: "dZ",
    arr: dZ,
    scale: signedScale(dZ),
    maxHeight: nC > 1 ? 260 : 420,
    onHover: (cell) => {
      hoverZ = cell ? windowOf(cell.r, cell.c, stride, fEff) : null;
      draw();
    },
  });
  const padMap = new MapCanvas({
    title: "A_prev_pad: a_slice for dW",
    fmt: ctx.cellFmt,
    maxHeight: 420,
    onHover: (cell) => {
      hoverA = cell ? outputsCovering(cell.r, cell.c, geo) : null;
      draw();
    },
    onClick: (cell) => jumpToCovering(ctx, cell.r, cell.c, pos.c, geo, nC),
  });
  padMap.setData(imageData(padded, {
    name: "A_prev_pad",
    inner: pad > 0 ? { top: pad, left: pad, rows: H, cols: W } : null,
  }));
  const daScale = signedScale(dAprev);
  const daSteps = completionSteps(H, W, { ...geo, nC }, { cLast: nC - 1, pad, padMode: settings.pad_mode });
  const daData = (ch) => ({ ...channelData(dAprev, ch, { scale: daScale, name: "dA_prev", cellStep: daSteps }), rowMajor: false });
  const daGroup = channelMaps(ctx, {
    title: "",
    n: C,
    name: (ch) => `dA_prev[:, :, ${ch}]${C === 3 ? ` (${channelName(C, ch)})` : ""}`,
    data: daData,
    maxHeight: C > 1 ? 260 : 420,
    onHover: (cell, ch) => {
      hoverA = cell ? outputsCovering(cell.r + pad, cell.c + pad, geo) : null;
      draw();
      if (cell) showTerms(cell.r + pad, cell.c + pad, ch, false);
      else terms.clear();
    },
    onClick: (cell) => jumpToCovering(ctx, cell.r + pad, cell.c + pad, pos.c, geo, nC),
    className: "da-group",
  });
  daGroup.title.after(...cropLines());

  // da_prev_pad, border included: its final value is the running total after the last step
  const Hp = H + 2 * pad;
  const Wp = W + 2 * pad;
  const padSteps = completionSteps(Hp, Wp, { ...geo, nC }, { cLast: nC - 1 });
  const padWrap = el("section", "map-group dapad-group");
  padWrap.append(el("h3", "map-group-title", "da_prev_pad: W × dZ collecting, the border included"), loadingLine());
  let padGroup = null;
  let padTitle = null;
  let finalPad = null;
  let padScale = null;
  const padData = (arr, ch, cellStep) => ({
    ...channelData(arr, ch, {
      scale: padScale, name: "da_prev_pad", cellStep,
      inner: pad > 0 ? { top: pad, left: pad, rows: H, cols: W } : null,
    }),
    rowMajor: false,
    discard: true,
  });
  store.totals(stage, pos.total - 1).then((t) => {
    finalPad = decodeArray(t.dA_prev_pad);
    padScale = signedScale(finalPad);
    padGroup = channelMaps(ctx, {
      title: padWrap.firstChild.textContent,
      n: C,
      name: (ch) => `da_prev_pad[:, :, ${ch}]${C === 3 ? ` (${channelName(C, ch)})` : ""}`,
      data: (ch) => padData(finalPad, ch, padSteps),
      maxHeight: C > 1 ? 260 : 420,
      onHover: (cell, ch) => {
        hoverA = cell ? outputsCovering(cell.r, cell.c, geo) : null;
        draw();
        if (cell) showTerms(cell.r, cell.c, ch, true);
        else terms.clear();
      },
      onClick: (cell) => jumpToCovering(ctx, cell.r, cell.c, pos.c, geo, nC),
      className: "dapad-group",
    });
    padGroup.el.append(el("p", "hint", pad > 0
      ? `Grey: the ${pad}-cell border, where the padding was; the crop below drops it.`
      : "pad is 0: no border, da_prev_pad is dA_prev itself."));
    padTitle = revealTitle(padGroup.title, {
      reveal: "da_prev_pad, the border included: W × dZ collecting (a cell shows once all its windows are in)",
      running: "da_prev_pad, the border included: running total after this step",
    });
    padWrap.replaceWith(padGroup.el);
    padGroup.maps.forEach((m) => m.setZoom(zoom));
    padGroup.maps.forEach((m) => m.setStep(pos.k));
    draw();
  }).catch((err) => {
    padWrap.lastChild.textContent = `Could not fetch da_prev_pad (${err.message}).`;
  });
  maps.append(zGroup.el, padMap.el, padWrap, daGroup.el);

  /** The crop written out with its numbers, and what [pad:-pad] would do. */
  function cropLines() {
    const crop = el("pre", "code crop");
    crop.dataset.field = "crop";
    crop.textContent = `dA_prev = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]\n`
      + `        = da_prev_pad[${pad}:${pad} + ${H}, ${pad}:${pad} + ${W}, :] = da_prev_pad[${pad}:${pad + H}, ${pad}:${pad + W}, :]`;
    const note = el("p", "hint");
    note.dataset.field = "crop-note";
    note.textContent = pad === 0
      ? "pad is 0: the exercise's da_prev_pad[pad:-pad, pad:-pad, :] would be da_prev_pad[0:-0, 0:-0, :], which is empty (-0 is 0); slicing to pad + n_H_prev works for every pad."
      : `The exercise's da_prev_pad[pad:-pad, pad:-pad, :] = da_prev_pad[${pad}:-${pad}, ${pad}:-${pad}, :] gives the same cells here; at pad 0 it would be empty.`;
    const lines = [crop, note];
    if (settings.pad_mode !== "constant" && pad > 0) {
      lines.push(el("p", "hint", `pad mode ${settings.pad_mode}: the border's cells copy input cells, so core adds their gradient back into the cells they copy (the fold): at the edges dA_prev is the crop plus the fold.`));
    }
    return lines;
  }

  /** The terms of da_prev_pad[r, s, ch] (padded coordinates): W × dZ of every window and filter. */
  function showTerms(r, s, ch, padded) {
    const outs = outputsCovering(r, s, geo);
    const label = padded ? `da_prev_pad[${r}, ${s}, ${ch}]` : `dA_prev[${r - pad}, ${s - pad}, ${ch}]`;
    terms.show(label, async () => {
      const ks = outs.flatMap((o) => Array.from({ length: nC }, (_, c) => indexOf(o.h, o.w, c, nW, nC)));
      const recs = await store.many(stage, ks);
      const fmt = ctx.fmt();
      const list = [];
      outs.forEach((o, n) => {
        for (let c = 0; c < nC; c += 1) {
          const rec = recs[n * nC + c];
          list.push({
            name: `dZ[${o.h}, ${o.w}, ${c}] * W[${o.i}, ${o.j}, ${ch}, ${c}]`,
            factors: [fmt(rec.dz), fmt(weightsView(Warr, ch, c).get(o.i, o.j))],
            value: rec.da_add[o.i][o.j][ch],
          });
        }
      });
      const folded = !padded && settings.pad_mode !== "constant" && pad > 0;
      return {
        terms: list,
        windows: outs.length,
        total: padded ? at(finalPad, r, s, ch) : at(dAprev, r - pad, s - pad, ch),
        note: folded ? `plus what lands on the border cells copied from it (pad mode ${settings.pad_mode}), folded back by core.` : null,
      };
    });
  }

  const dwScale = signedScale(dW);
  // dW per filter (C small maps each) and db
  const dwWrap = el("section", "map-group dw-group");
  const dwHead = el("h3", "map-group-title");
  dwWrap.append(dwHead);
  const dwTitle = revealTitle(dwHead, {
    reveal: "dW per filter: a_slice × dZ collecting (shown once the filter's last window is in)",
    running: "dW per filter: running total after this step",
  });
  const dwMaps = [];
  const dwRows = el("div", "dw-rows");
  for (let c = 0; c < nC; c += 1) {
    const rowEl = el("div", "dw-row");
    rowEl.append(el("span", "dw-label", `filter ${c}`));
    for (let ch = 0; ch < C; ch += 1) {
      const m = new MapCanvas({
        title: `dW[:, :, ${ch}, ${c}]`, fmt: ctx.cellFmt, maxHeight: 140, maxCell: 40, className: "small",
        onHover: (cell) => {
          hoverW = cell ? { i: cell.r, j: cell.c, ch, c } : null;
          draw();
          if (cell) explainWeight(hoverW);
          else terms.clear();
        },
      });
      m.setData(dwFinalData(ch, c));
      dwMaps.push(m);
      rowEl.append(m.el);
    }
    dwRows.append(rowEl);
  }
  dwWrap.append(dwRows);
  const dbWrap = el("section", "map-group db-group");
  dbWrap.append(el("h3", "map-group-title", "db = Σ dZ per filter"));
  const dbTable = el("table", "mat db-table");
  dbTable.dataset.field = "db";
  const dbRow = el("tr");
  const dbCells = [];
  for (let c = 0; c < nC; c += 1) {
    const td = el("td", "", "…");
    td.dataset.filter = String(c);
    dbCells.push(td);
    dbRow.append(td);
  }
  const dbHead = el("tr");
  for (let c = 0; c < nC; c += 1) dbHead.append(el("th", "", `db[${c}]`));
  dbTable.append(dbHead, dbRow);
  dbWrap.append(dbTable);
  maps.append(dwWrap, dbWrap);

  const formulas = el("div", "formulas");
  formulas.append(
    el("p", "formula", "dA += Σₕ Σ_w W_c × dZ_hw"),
    el("p", "formula", "dW_c += Σₕ Σ_w a_slice × dZ_hw"),
    el("p", "formula", "db = Σₕ Σ_w dZ_hw"),
  );
  const { el: detail, body } = detailPanel({
    label: "This step's gradients",
    title: "conv_backward, window by window",
    intro: formulas,
    notes: [terms.el],
  });

  /** dW[i, j, ch, c] is the sum over every window of a_slice[i, j] × dZ: name its cells. */
  function explainWeight({ i, j, ch, c }) {
    const cells = tapCells(i, j, geo);
    const p = el("p", "formula");
    p.dataset.field = "weight-sum";
    p.dataset.cells = String(cells.length);
    p.append(`dW[${i}, ${j}, ${ch}, ${c}] = Σ over the ${nH} × ${nW} windows of A_prev_pad[h·${stride} + ${i * dilation}, w·${stride} + ${j * dilation}, ${ch}] × dZ[h, w, ${c}] = `,
      scalar(weightsView(dW, ch, c).get(i, j), ctx.fmt(), "weight-total", "result"));
    terms.say(p, el("p", "hint", `Lit on A_prev_pad: the ${cells.length} cells this weight multiplies, one per window.`));
  }
  root.append(maps, detail);
  let cellLink = null; // a window cell hovered in the tables, in padded coordinates
  linkTables(body, (cell) => {
    const win = windowOf(pos.h, pos.w, stride, fEff);
    cellLink = cell ? { r: win.r0 + cell.r * dilation, c: win.c0 + cell.c * dilation } : null;
    draw();
  });

  function draw() {
    const win = windowOf(pos.h, pos.w, stride, fEff);
    zGroup.maps.forEach((m, c) => {
      const items = currentCell(c, pos);
      if (hoverA) items.push(...outputLinks(hoverA));
      m.setOverlays(items);
      m.setFocus(pos.h, pos.w);
    });
    const pw = [{ kind: "window", ...win, dilation }];
    if (hoverZ) pw.push({ kind: "link", ...hoverZ });
    if (cellLink) pw.push({ kind: "link", r: cellLink.r, c: cellLink.c });
    if (hoverW) pw.push(...tapCells(hoverW.i, hoverW.j, geo).map((cell) => ({ kind: "link", ...cell })));
    padMap.setOverlays(pw);
    padMap.setFocus(win.r0, win.c0);
    if (padGroup) {
      padGroup.maps.forEach((m) => {
        const items = [{ kind: "window", ...win, dilation }];
        if (hoverZ) items.push({ kind: "link", ...hoverZ });
        if (cellLink) items.push({ kind: "link", r: cellLink.r, c: cellLink.c });
        m.setOverlays(items);
        m.setFocus(win.r0, win.c0);
      });
    }
    const shifted = { r0: win.r0 - pad, r1: win.r1 - pad, c0: win.c0 - pad, c1: win.c1 - pad };
    daGroup.maps.forEach((m) => {
      const items = [{ kind: "window", ...shifted, dilation }];
      if (hoverZ) items.push({ kind: "link", r0: hoverZ.r0 - pad, r1: hoverZ.r1 - pad, c0: hoverZ.c0 - pad, c1: hoverZ.c1 - pad });
      if (cellLink) items.push({ kind: "link", r: cellLink.r - pad, c: cellLink.c - pad });
      m.setOverlays(items);
      m.setFocus(shifted.r0, shifted.c0);
    });
  }

  function renderDb(rec) {
    const fmt = ctx.fmt();
    for (let c = 0; c < nC; c += 1) {
      const done = pos.k >= indexOf(nH - 1, nW - 1, c, nW, nC);
      const td = dbCells[c];
      td.classList.toggle("current", c === pos.c);
      if (runningDb) {
        const v = runningDb.data[c];
        td.textContent = fmt(v);
        td.dataset.v = String(v);
        td.title = done ? "final" : "running sum after this step";
      } else if (done) {
        const v = db.data[c];
        td.textContent = fmt(v);
        td.dataset.v = String(v);
        td.title = "final";
      } else if (c === pos.c && rec) {
        td.textContent = fmt(rec.db_running);
        td.dataset.v = String(rec.db_running);
        td.title = "running sum after this step";
      } else {
        td.textContent = "…";
        delete td.dataset.v;
        td.title = "still collecting";
      }
    }
  }

  function renderDetail() {
    const { rec, win, head, fmt } = stepDetail(ctx, {
      stage, pos, stride, f: fEff, body,
      where: (w) => `dZ[${pos.h}, ${pos.w}, ${pos.c}], window rows ${w.r0}:${w.r1}, columns ${w.c0}:${w.c1} of A_prev_pad`,
    });
    renderDb(rec);
    if (!rec) return;
    const sl = dilation > 1 ? `:${dilation}` : "";
    const code = el("pre", "code");
    code.textContent =
      `da_prev_pad[${win.r0}:${win.r1}${sl}, ${win.c0}:${win.c1}${sl}, :] += W[:, :, :, ${pos.c}] * dZ[0, ${pos.h}, ${pos.w}, ${pos.c}]\n` +
      `dW[:, :, :, ${pos.c}] += a_slice * dZ[0, ${pos.h}, ${pos.w}, ${pos.c}]\n` +
      `db[:, :, :, ${pos.c}] += dZ[0, ${pos.h}, ${pos.w}, ${pos.c}]`;
    const dz = el("p", "sum-line");
    dz.append(el("span", "", `dZ[${pos.h}, ${pos.w}, ${pos.c}] = `), scalar(rec.dz, fmt, "dz", "result"));
    const blockA = el("div", "eq-rows");
    blockA.append(el("h4", "", "dA_prev window += W_c × dZ_hw"));
    const blockW = el("div", "eq-rows");
    blockW.append(el("h4", "", "dW_c += a_slice × dZ_hw"));
    const wSc = tableScale(rec.da_add);
    const dwSc = tableScale(rec.dw_add);
    for (let ch = 0; ch < C; ch += 1) {
      const name = C > 1 ? ` (${channelName(C, ch)})` : "";
      const wv = weightsView(Warr, ch, pos.c);
      const wl = [];
      for (let r = 0; r < f; r += 1) {
        const row = [];
        for (let s = 0; s < f; s += 1) row.push(wv.get(r, s));
        wl.push(row);
      }
      const rowA = el("div", "eq-row");
      rowA.append(
        matrixTable(wl, { fmt, scale: tableScale(wl), field: "W", caption: `W${name}` }),
        el("span", "op", "×"), scalar(rec.dz, fmt, null), el("span", "op", "="),
        matrixTable(sliceChannel(rec.da_add, ch), { fmt, scale: wSc, field: "da_add", caption: `added to dA${name}` }),
      );
      const pv = channelView(padded, ch);
      const sliceL = [];
      for (let r = 0; r < f; r += 1) {
        const row = [];
        for (let s = 0; s < f; s += 1) row.push(pv.get(win.r0 + r * dilation, win.c0 + s * dilation));
        sliceL.push(row);
      }
      const rowW = el("div", "eq-row");
      rowW.append(
        matrixTable(sliceL, { fmt, scale: makeScale("grey", Math.min(0, padded.min), padded.max), field: "a_slice", caption: `a_slice${name}` }),
        el("span", "op", "×"), scalar(rec.dz, fmt, null), el("span", "op", "="),
        matrixTable(sliceChannel(rec.dw_add, ch), { fmt, scale: dwSc, field: "dw_add", caption: `added to dW${name}` }),
      );
      [rowA, rowW].forEach((r) => r.querySelectorAll("table").forEach((t) => (t.dataset.channel = String(ch))));
      blockA.append(rowA);
      blockW.append(rowW);
    }
    const dbl = el("p", "sum-line");
    dbl.append(el("span", "", `db[${pos.c}] after this step = `), scalar(rec.db_running, fmt, "db_running", "result"));
    const pair = el("div", "bw-grid"); // the two accumulations side by side when there is room
    pair.append(blockA, blockW);
    body.replaceChildren(head, code, dz, pair, dbl);
  }

  const daTitle = revealTitle(daGroup.title, {
    reveal: "dA_prev over the input: W × dZ collecting (a cell shows once all its windows are in)",
    running: "dA_prev over the input: running total after this step",
  });
  let runningDb = null;

  function dwData(arr, ch, c, cellStep) {
    const v = weightsView(arr, ch, c);
    return {
      rows: f, cols: f, rgba: channelToRgba(v, dwScale), value: (r, s) => v.get(r, s),
      label: (r, s) => `dW[${r}, ${s}, ${ch}, ${c}]`, scale: dwScale,
      cellStep, rowMajor: true, shapeText: `${f} × ${f}`,
    };
  }

  /** The final dW[:, :, ch, c], every cell shown once filter c's last window is in. */
  function dwFinalData(ch, c) {
    return dwData(dW, ch, c, new Int32Array(f * f).fill(indexOf(nH - 1, nW - 1, c, nW, nC)));
  }

  function showTotals(t) {
    const arr = decodeArray(t.dA_prev_pad);
    const tdw = decodeArray(t.dW);
    const tdb = decodeArray(t.db);
    if (!arr) return;
    const crop = cropPadded(arr, pad, H, W);
    if (padGroup) {
      padGroup.maps.forEach((m, ch) => m.setData(padData(arr, ch, null)));
      padTitle.running(true);
    }
    daGroup.maps.forEach((m, ch) => m.setData(channelData(crop, ch, { scale: daScale, name: "dA_prev (running)" })));
    if (tdw) dwMaps.forEach((m, i) => m.setData(dwData(tdw, i % C, Math.floor(i / C), null)));
    runningDb = tdb;
    renderDb(store.get(stage, pos.k));
    daTitle.running(true);
    dwTitle.running(true);
    draw();
  }

  function restoreReveal() {
    if (!daTitle.shown()) return;
    runningDb = null;
    daTitle.running(false);
    dwTitle.running(false);
    daGroup.maps.forEach((m, ch) => m.setData(daData(ch)));
    if (padGroup) {
      padGroup.maps.forEach((m, ch) => m.setData(padData(finalPad, ch, padSteps)));
      padTitle.running(false);
    }
    dwMaps.forEach((m, i) => m.setData(dwFinalData(i % C, Math.floor(i / C))));
  }

  const totalsWhen = restingTotals({ ctx, store, stage, total: pos.total, current: () => pos.k, show: showTotals, restore: restoreReveal });
  const allMaps = () => [...zGroup.maps, padMap, ...(padGroup ? padGroup.maps : []), ...daGroup.maps, ...dwMaps];
  const view = stepView({
    el: root,
    stage,
    pos,
    maps: allMaps,
    onStep: totalsWhen,
    reveal: () => [...(padGroup ? padGroup.maps : []), ...daGroup.maps, ...dwMaps],
    outline: () => zGroup.maps,
    draw,
    detail: renderDetail,
    describe(step, p, total) {
      const rec = store.get(stage, step);
      const fmt = ctx.fmt();
      const dzText = rec ? ` = ${fmt(rec.dz)}` : "";
      const dbText = rec ? ` db[${p.c}] is now ${fmt(rec.db_running)}.` : "";
      return `Convolution backward step ${step + 1} of ${total}: dZ[${p.h}, ${p.w}, ${p.c}]${dzText} times filter ${p.c} is added to dA_prev over its window, and the window times dZ to dW[..., ${p.c}].${dbText}`;
    },
  });
  const setZoom = view.setZoom;
  view.setZoom = (z) => {
    zoom = z; // for da_prev_pad's maps, made when its numbers arrive
    setZoom(z);
  };
  return view;
}
