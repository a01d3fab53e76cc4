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

const STAGE = "conv_backward";

/**
 * The view: dZ, A_prev_pad, da_prev_pad (when its final numbers arrive), dA_prev, dW per
 * filter and db on the left; the step's arithmetic and the terms of a hovered cell on the
 * right. The parts below share one object `v` (the arrays, the geometry, the cursor and
 * what is hovered); v.draw() puts every part's overlays on.
 */
export function createConvBackwardView(ctx) {
  const v = setup(ctx);
  const { root, maps } = viewFrame("convb-view");
  const parts = {
    z: outputGradientMaps(v),
    padMap: paddedInputMap(v),
    pad: paddedGradientMaps(v),
    da: inputGradientMaps(v),
    dw: weightGradientMaps(v),
    db: biasTable(v),
  };
  v.draw = () => drawOverlays(v, parts);
  parts.pad.load(v, parts);
  maps.append(parts.z.el, parts.padMap.el, parts.pad.el, parts.da.group.el, parts.dw.el, parts.db.el);

  const { el: detail, body } = detailPanel({
    label: "This step's gradients",
    title: "conv_backward, window by window",
    intro: formulaLines(),
    notes: [v.terms.el],
  });
  root.append(maps, detail);
  linkTables(body, (cell) => { // a window cell hovered in the tables, in padded coordinates
    const win = windowOf(v.pos.h, v.pos.w, v.stride, v.fEff);
    v.hover.cell = cell ? { r: win.r0 + cell.r * v.dilation, c: win.c0 + cell.c * v.dilation } : null;
    v.draw();
  });

  function renderDetail() {
    const { pos } = v;
    const { rec, win, head, fmt } = stepDetail(ctx, {
      stage: STAGE, pos, stride: v.stride, f: v.fEff, body,
      where: (w) => `dZ[${pos.h}, ${pos.w}, ${pos.c}], window rows ${w.r0}:${w.r1}, columns ${w.c0}:${w.c1} of A_prev_pad`,
    });
    parts.db.render(rec);
    if (rec) body.replaceChildren(head, ...stepLines(v, rec, win, fmt));
  }

  const totals = runningTotals(v, parts);
  const view = stepView({
    el: root,
    stage: STAGE,
    pos: v.pos,
    maps: () => [...parts.z.maps, parts.padMap, ...parts.pad.maps(), ...parts.da.group.maps, ...parts.dw.maps],
    onStep: restingTotals({
      ctx, store: v.store, stage: STAGE, total: v.pos.total, current: () => v.pos.k, show: totals.show, restore: totals.restore,
    }),
    reveal: () => [...parts.pad.maps(), ...parts.da.group.maps, ...parts.dw.maps],
    outline: () => parts.z.maps,
    draw: v.draw,
    detail: renderDetail,
    describe: (step, p, total) => describeStep(v, step, p, total),
  });
  const setZoom = view.setZoom;
  view.setZoom = (z) => {
    v.zoom = z; // for da_prev_pad's maps, made when its numbers arrive
    setZoom(z);
  };
  return view;
}

/** The arrays, the geometry, the cursor `pos` and what is hovered, shared by the parts. */
function setup(ctx) {
  const { arrays, geometry, store, settings } = ctx;
  const dZ = arrays.get("dZ");
  const dAprev = arrays.get("dA_prev");
  const g = geometry.conv;
  const { geo, nH, nW, stride, dilation, fEff, nC, pos } = stageSetup(g, dZ);
  const [H, W, C] = dAprev.shape;
  return {
    ctx, store, settings,
    dZ, padded: arrays.get("padded"), Warr: arrays.get("W"), dAprev, dW: arrays.get("dW"), db: arrays.get("db"),
    geo, nH, nW, stride, dilation, fEff, nC, pos, pad: g.pad, f: g.f, H, W, C,
    // z: a dZ cell's window; a: the outputs covering an input cell; w: a weight of dW
    // (the cells it multiplies light up); cell: a window cell of the detail's tables
    hover: { z: null, a: null, w: null, cell: null },
    runningDb: null, // db's running totals while the player rests on a step
    finalPad: null, // da_prev_pad after the last step, once the server sent it
    zoom: 1,
    draw: () => {},
    terms: termsBox(ctx, "Hover a cell of dA_prev or da_prev_pad to list the windows that add into it, or a weight of dW to light every cell it multiplies."),
  };
}

/** dZ, one map per filter: hovering a cell lights its window on the input side. */
function outputGradientMaps(v) {
  return outputMaps(v.ctx, v.pos, {
    title: "dZ: the gradient at the convolution's output",
    name: "dZ",
    arr: v.dZ,
    scale: signedScale(v.dZ),
    maxHeight: v.nC > 1 ? 260 : 420,
    onHover: (cell) => {
      v.hover.z = cell ? windowOf(cell.r, cell.c, v.stride, v.fEff) : null;
      v.draw();
    },
  });
}

/** A_prev_pad, where a_slice comes from for dW; hovering a cell lights the outputs it feeds. */
function paddedInputMap(v) {
  const { ctx, geo, pad, padded, pos, nC } = v;
  const map = new MapCanvas({
    title: "A_prev_pad: a_slice for dW",
    fmt: ctx.cellFmt,
    maxHeight: 420,
    onHover: (cell) => {
      v.hover.a = cell ? outputsCovering(cell.r, cell.c, geo) : null;
      v.draw();
    },
    onClick: (cell) => jumpToCovering(ctx, cell.r, cell.c, pos.c, geo, nC),
  });
  map.setData(imageData(padded, {
    name: "A_prev_pad",
    inner: pad > 0 ? { top: pad, left: pad, rows: v.H, cols: v.W } : null,
  }));
  return map;
}

/**
 * dA_prev over the input, one map per channel, each cell shown once all its windows are in
 * (or the running totals); the crop written out under the title. Hovering a cell lists its
 * terms. Returns {group, data(ch), title}.
 */
function inputGradientMaps(v) {
  const { ctx, geo, pad, C, H, W, nC, pos } = v;
  const scale = signedScale(v.dAprev);
  const steps = completionSteps(H, W, { ...geo, nC }, { cLast: nC - 1, pad, padMode: v.settings.pad_mode });
  const data = (ch) => ({ ...channelData(v.dAprev, ch, { scale, name: "dA_prev", cellStep: steps }), rowMajor: false });
  const group = channelMaps(ctx, {
    title: "",
    n: C,
    name: (ch) => `dA_prev[:, :, ${ch}]${C === 3 ? ` (${channelName(C, ch)})` : ""}`,
    data,
    maxHeight: C > 1 ? 260 : 420,
    onHover: (cell, ch) => {
      v.hover.a = cell ? outputsCovering(cell.r + pad, cell.c + pad, geo) : null;
      v.draw();
      if (cell) showTerms(v, cell.r + pad, cell.c + pad, ch, false);
      else v.terms.clear();
    },
    onClick: (cell) => jumpToCovering(ctx, cell.r + pad, cell.c + pad, pos.c, geo, nC),
    className: "da-group",
  });
  group.title.after(...cropLines(pad, H, W, v.settings.pad_mode));
  const title = revealTitle(group.title, {
    reveal: "dA_prev over the input: W × dZ collecting (a cell shows once all its windows are in)",
    running: "dA_prev over the input: running total after this step",
  });
  return { group, data, title, scale };
}

/**
 * da_prev_pad, border included: its final value is the running total after the last step,
 * asked of the server once (load()); until then a loading line holds its place.
 * Returns {el, load(v, parts), maps(), data(arr, ch, steps), and once loaded group, title,
 * final, steps}.
 */
function paddedGradientMaps(v) {
  const { ctx, geo, pad, C, H, W, nC, pos } = v;
  const wrap = el("section", "map-group dapad-group");
  wrap.append(el("h3", "map-group-title", "da_prev_pad: W × dZ collecting, the border included"), loadingLine());
  const part = {
    el: wrap,
    group: null,
    title: null,
    final: null,
    scale: null,
    steps: completionSteps(H + 2 * pad, W + 2 * pad, { ...geo, nC }, { cLast: nC - 1 }),
    maps: () => (part.group ? part.group.maps : []),
    data: (arr, ch, cellStep) => ({
      ...channelData(arr, ch, {
        scale: part.scale, name: "da_prev_pad", cellStep,
        inner: pad > 0 ? { top: pad, left: pad, rows: H, cols: W } : null,
      }),
      rowMajor: false,
      discard: true,
    }),
    load() {
      v.store.totals(STAGE, pos.total - 1).then((t) => {
        part.final = decodeArray(t.dA_prev_pad);
        v.finalPad = part.final; // the terms of a hovered da_prev_pad cell end on it
        part.scale = signedScale(part.final);
        const group = channelMaps(ctx, {
          title: wrap.firstChild.textContent,
          n: C,
          name: (ch) => `da_prev_pad[:, :, ${ch}]${C === 3 ? ` (${channelName(C, ch)})` : ""}`,
          data: (ch) => part.data(part.final, ch, part.steps),
          maxHeight: C > 1 ? 260 : 420,
          onHover: (cell, ch) => {
            v.hover.a = cell ? outputsCovering(cell.r, cell.c, geo) : null;
            v.draw();
            if (cell) showTerms(v, cell.r, cell.c, ch, true);
            else v.terms.clear();
          },
          onClick: (cell) => jumpToCovering(ctx, cell.r, cell.c, pos.c, geo, nC),
          className: "dapad-group",
        });
        group.el.append(el("p", "hint", pad > 0
          ? `Grey: the ${pad}-cell border, where the padding was; the crop below drops it.`
          : "pad is 0: no border, da_prev_pad is dA_prev itself."));
        part.title = revealTitle(group.title, {
          reveal: "da_prev_pad, the border included: W × dZ collecting (a cell shows once all its windows are in)",
          running: "da_prev_pad, the border included: running total after this step",
        });
        part.group = group;
        wrap.replaceWith(group.el);
        group.maps.forEach((m) => m.setZoom(v.zoom));
        group.maps.forEach((m) => m.setStep(pos.k));
        v.draw();
      }).catch((err) => {
        wrap.lastChild.textContent = `Could not fetch da_prev_pad (${err.message}).`;
      });
    },
  };
  return part;
}

/** The crop written out with its numbers, and what [pad:-pad] would do. */
function cropLines(pad, H, W, padMode) {
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
  if (padMode !== "constant" && pad > 0) {
    lines.push(el("p", "hint", `pad mode ${padMode}: the border's cells copy input cells, so core adds their gradient back into the cells they copy (the fold): at the edges dA_prev is the crop plus the fold.`));
  }
  return lines;
}

/** The terms of da_prev_pad[r, s, ch] (padded coordinates): W × dZ of every window and filter. */
function showTerms(v, r, s, ch, padded) {
  const { pad, nC, nW, settings } = v;
  const outs = outputsCovering(r, s, v.geo);
  const label = padded ? `da_prev_pad[${r}, ${s}, ${ch}]` : `dA_prev[${r - pad}, ${s - pad}, ${ch}]`;
  v.terms.show(label, async () => {
    const ks = outs.flatMap((o) => Array.from({ length: nC }, (_, c) => indexOf(o.h, o.w, c, nW, nC)));
    const recs = await v.store.many(STAGE, ks);
    const fmt = v.ctx.fmt();
    const list = [];
    outs.forEach((o, n) => {
      for (let c = 0; c < nC; c += 1) {
        const rec = recs[n * nC + c];
        list.push({
          name: `dZ[${o.h}, ${o.w}, ${c}] * W[${o.i}, ${o.j}, ${ch}, ${c}]`,
          factors: [fmt(rec.dz), fmt(weightsView(v.Warr, ch, c).get(o.i, o.j))],
          value: rec.da_add[o.i][o.j][ch],
        });
      }
    });
    const folded = !padded && settings.pad_mode !== "constant" && pad > 0;
    return {
      terms: list,
      windows: outs.length,
      total: padded ? at(v.finalPad, r, s, ch) : at(v.dAprev, r - pad, s - pad, ch),
      note: folded ? `plus what lands on the border cells copied from it (pad mode ${settings.pad_mode}), folded back by core.` : null,
    };
  });
}

/**
 * dW per filter (C small maps each), each shown once the filter's last window is in (or the
 * running totals); hovering a weight names the cells it multiplies. Returns {el, maps,
 * title, data(arr, ch, c, steps), finalData(ch, c)}.
 */
function weightGradientMaps(v) {
  const { ctx, f, C, nC, nH, nW } = v;
  const scale = signedScale(v.dW);
  const wrap = el("section", "map-group dw-group");
  const head = el("h3", "map-group-title");
  wrap.append(head);
  const title = revealTitle(head, {
    reveal: "dW per filter: a_slice × dZ collecting (shown once the filter's last window is in)",
    running: "dW per filter: running total after this step",
  });
  const data = (arr, ch, c, cellStep) => {
    const wv = weightsView(arr, ch, c);
    return {
      rows: f, cols: f, rgba: channelToRgba(wv, scale), value: (r, s) => wv.get(r, s),
      label: (r, s) => `dW[${r}, ${s}, ${ch}, ${c}]`, scale,
      cellStep, rowMajor: true, shapeText: `${f} × ${f}`,
    };
  };
  /** The final dW[:, :, ch, c], every cell shown once filter c's last window is in. */
  const finalData = (ch, c) => data(v.dW, ch, c, new Int32Array(f * f).fill(indexOf(nH - 1, nW - 1, c, nW, nC)));
  const maps = [];
  const rows = el("div", "dw-rows");
  for (let c = 0; c < nC; c += 1) {
    const rowEl = el("div", "dw-row");
    rowEl.append(el("span", "dw-label", `filter ${c}`));
    for (let ch = 0; ch < C; ch += 1) {
      const m = new MapCanvas({
        title: `dW[:, :, ${ch}, ${c}]`, fmt: ctx.cellFmt, maxHeight: 140, maxCell: 40, className: "small",
        onHover: (cell) => {
          v.hover.w = cell ? { i: cell.r, j: cell.c, ch, c } : null;
          v.draw();
          if (cell) explainWeight(v, v.hover.w);
          else v.terms.clear();
        },
      });
      m.setData(finalData(ch, c));
      maps.push(m);
      rowEl.append(m.el);
    }
    rows.append(rowEl);
  }
  wrap.append(rows);
  return { el: wrap, maps, title, data, finalData };
}

/** dW[i, j, ch, c] is the sum over every window of a_slice[i, j] × dZ: name its cells. */
function explainWeight(v, { i, j, ch, c }) {
  const cells = tapCells(i, j, v.geo);
  const p = el("p", "formula");
  p.dataset.field = "weight-sum";
  p.dataset.cells = String(cells.length);
  p.append(`dW[${i}, ${j}, ${ch}, ${c}] = Σ over the ${v.nH} × ${v.nW} windows of A_prev_pad[h·${v.stride} + ${i * v.dilation}, w·${v.stride} + ${j * v.dilation}, ${ch}] × dZ[h, w, ${c}] = `,
    scalar(weightsView(v.dW, ch, c).get(i, j), v.ctx.fmt(), "weight-total", "result"));
  v.terms.say(p, el("p", "hint", `Lit on A_prev_pad: the ${cells.length} cells this weight multiplies, one per window.`));
}

/**
 * db = Σ dZ per filter, one cell per filter: final once its last window is in, the running
 * sum at the current filter (or every running total while the player rests), "…" before.
 * Returns {el, render(rec)}.
 */
function biasTable(v) {
  const { nC, nH, nW, pos } = v;
  const wrap = el("section", "map-group db-group");
  wrap.append(el("h3", "map-group-title", "db = Σ dZ per filter"));
  const table = el("table", "mat db-table");
  table.dataset.field = "db";
  const row = el("tr");
  const cells = [];
  for (let c = 0; c < nC; c += 1) {
    const td = el("td", "", "…");
    td.dataset.filter = String(c);
    cells.push(td);
    row.append(td);
  }
  const headRow = el("tr");
  for (let c = 0; c < nC; c += 1) headRow.append(el("th", "", `db[${c}]`));
  table.append(headRow, row);
  wrap.append(table);
  const put = (td, value, title) => {
    td.textContent = v.ctx.fmt()(value);
    td.dataset.v = String(value);
    td.title = title;
  };
  return {
    el: wrap,
    render(rec) {
      for (let c = 0; c < nC; c += 1) {
        const done = pos.k >= indexOf(nH - 1, nW - 1, c, nW, nC);
        const td = cells[c];
        td.classList.toggle("current", c === pos.c);
        if (v.runningDb) put(td, v.runningDb.data[c], done ? "final" : "running sum after this step");
        else if (done) put(td, v.db.data[c], "final");
        else if (c === pos.c && rec) put(td, rec.db_running, "running sum after this step");
        else {
          td.textContent = "…";
          delete td.dataset.v;
          td.title = "still collecting";
        }
      }
    },
  };
}

/** The three accumulations as formulas (the detail panel's opening). */
function formulaLines() {
  const formulas = el("div", "formulas");
  formulas.append(
    el("p", "formula", "dA += Σₕ Σ_w W_c × dZ_hw"),
    el("p", "formula", "dW_c += Σₕ Σ_w a_slice × dZ_hw"),
    el("p", "formula", "db = Σₕ Σ_w dZ_hw"),
  );
  return formulas;
}

/** Every part's overlays: the window, the hovered links, on each map. */
function drawOverlays(v, parts) {
  const { pos, hover, pad, dilation } = v;
  const win = windowOf(pos.h, pos.w, v.stride, v.fEff);
  const links = () => {
    const items = [{ kind: "window", ...win, dilation }];
    if (hover.z) items.push({ kind: "link", ...hover.z });
    if (hover.cell) items.push({ kind: "link", r: hover.cell.r, c: hover.cell.c });
    return items;
  };
  parts.z.maps.forEach((m, c) => {
    const items = currentCell(c, pos);
    if (hover.a) items.push(...outputLinks(hover.a));
    m.setOverlays(items);
    m.setFocus(pos.h, pos.w);
  });
  const onInput = links();
  if (hover.w) onInput.push(...tapCells(hover.w.i, hover.w.j, v.geo).map((cell) => ({ kind: "link", ...cell })));
  parts.padMap.setOverlays(onInput);
  parts.padMap.setFocus(win.r0, win.c0);
  parts.pad.maps().forEach((m) => {
    m.setOverlays(links());
    m.setFocus(win.r0, win.c0);
  });
  const shifted = { r0: win.r0 - pad, r1: win.r1 - pad, c0: win.c0 - pad, c1: win.c1 - pad };
  parts.da.group.maps.forEach((m) => {
    const items = [{ kind: "window", ...shifted, dilation }];
    if (hover.z) items.push({ kind: "link", r0: hover.z.r0 - pad, r1: hover.z.r1 - pad, c0: hover.z.c0 - pad, c1: hover.z.c1 - pad });
    if (hover.cell) items.push({ kind: "link", r: hover.cell.r - pad, c: hover.cell.c - pad });
    m.setOverlays(items);
    m.setFocus(shifted.r0, shifted.c0);
  });
}

/** An (f, f) nested list of `get(r, s)`. */
function square(f, get) {
  return Array.from({ length: f }, (_, r) => Array.from({ length: f }, (__, s) => get(r, s)));
}

/** The step's arithmetic from its record `rec` at window `win` (Explore's stage). */
function stepLines(v, rec, win, fmt) {
  const { pos, dilation, f, padded } = v;
  return convBackwardStepLines({
    pos, rec, win, fmt, dilation, C: v.C,
    weight: (ch) => {
      const wv = weightsView(v.Warr, ch, pos.c);
      return square(f, (r, s) => wv.get(r, s));
    },
    slice: (ch) => {
      const pv = channelView(padded, ch);
      return square(f, (r, s) => pv.get(win.r0 + r * dilation, win.c0 + s * dilation));
    },
    aScale: makeScale("grey", Math.min(0, padded.min), padded.max),
  });
}

/**
 * conv_backward's step written out, the same on every page that shows one (Explore's stage,
 * Network's step view): the three code lines, dZ, W x dZ added into dA_prev and a_slice x dZ
 * into dW (one row per input channel), db's running sum. From the step record `rec` (dz,
 * da_add and dw_add (f, f, C), db_running) at output position pos {h, w, c} and window
 * win {r0, r1, c0, c1} of the padded input (taps `dilation` apart); weight(ch) and slice(ch)
 * give W[:, :, ch, c] and a_slice[:, :, ch] as (f, f) nested lists, aScale the slice's scale.
 * Returns the nodes, in order.
 */
export function convBackwardStepLines({ pos, rec, win, C, dilation = 1, weight, slice, aScale, fmt }) {
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
    const wl = weight(ch);
    const rowA = el("div", "eq-row");
    rowA.append(
      matrixTable(wl, { fmt, scale: tableScale(wl), field: "W", caption: `W${name}` }),
      el("span", "op", "×"), scalar(rec.dz, fmt, null), el("span", "op", "="),
      matrixTable(sliceChannel(rec.da_add, ch), { fmt, scale: wSc, field: "da_add", caption: `added to dA${name}` }),
    );
    const rowW = el("div", "eq-row");
    rowW.append(
      matrixTable(slice(ch), { fmt, scale: aScale, field: "a_slice", caption: `a_slice${name}` }),
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
  return [code, dz, pair, dbl];
}

/**
 * While the player rests on a step: show(t) puts the server's running totals t on
 * da_prev_pad, dA_prev, dW and db; restore() goes back to the revealed final arrays.
 */
function runningTotals(v, parts) {
  const { pad, H, W, C } = v;
  return {
    show(t) {
      const arr = decodeArray(t.dA_prev_pad);
      const tdw = decodeArray(t.dW);
      const tdb = decodeArray(t.db);
      if (!arr) return;
      const crop = cropPadded(arr, pad, H, W);
      if (parts.pad.group) {
        parts.pad.group.maps.forEach((m, ch) => m.setData(parts.pad.data(arr, ch, null)));
        parts.pad.title.running(true);
      }
      parts.da.group.maps.forEach((m, ch) => m.setData(channelData(crop, ch, { scale: parts.da.scale, name: "dA_prev (running)" })));
      if (tdw) parts.dw.maps.forEach((m, i) => m.setData(parts.dw.data(tdw, i % C, Math.floor(i / C), null)));
      v.runningDb = tdb;
      parts.db.render(v.store.get(STAGE, v.pos.k));
      parts.da.title.running(true);
      parts.dw.title.running(true);
      v.draw();
    },
    restore() {
      if (!parts.da.title.shown()) return;
      v.runningDb = null;
      parts.da.title.running(false);
      parts.dw.title.running(false);
      parts.da.group.maps.forEach((m, ch) => m.setData(parts.da.data(ch)));
      if (parts.pad.group) {
        parts.pad.group.maps.forEach((m, ch) => m.setData(parts.pad.data(parts.pad.final, ch, parts.pad.steps)));
        parts.pad.title.running(false);
      }
      parts.dw.maps.forEach((m, i) => m.setData(parts.dw.finalData(i % C, Math.floor(i / C))));
    },
  };
}

/** The live region's sentence for a step. */
function describeStep(v, step, p, total) {
  const rec = v.store.get(STAGE, step);
  const fmt = v.ctx.fmt();
  const dzText = rec ? ` = ${fmt(rec.dz)}` : "";
  const dbText = rec ? ` db[${p.c}] is now ${fmt(rec.db_running)}.` : "";
  return `Convolution backward step ${step + 1} of ${total}: dZ[${p.h}, ${p.w}, ${p.c}]${dzText} times filter ${p.c} is added to dA_prev over its window, and the window times dZ to dW[..., ${p.c}].${dbText}`;
}
