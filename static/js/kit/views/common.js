// Pieces every stage view shares: the view skeleton {render, refresh, position, describe},
// groups of maps with hover and click, map data from server arrays, number tables for the
// detail panel. Index arithmetic lives in ../geometry.js, the DOM helpers in ../dom.js.

import { channelView } from "../arrays.js";
import { el } from "../dom.js";
import { channelToRgba, cssColor, makeScale, rgbOf, rgbToRgba, textColorOn } from "../colors.js";
import { MapCanvas } from "../grid.js";
import { indexOf, outputsCovering, positionOf, positionText, rowMajorSteps, stageGeometry, windowOf } from "../geometry.js";

/** A view's frame: the root <div class="stage-view name"> and its maps column. */
export function viewFrame(name, mapsClass = "maps") {
  return { root: el("div", `stage-view ${name}`), maps: el("div", mapsClass) };
}

/** Map data for channel c of a (rows, cols, C) array (or nested list) with a scale. */
export function channelData(arr, c, { scale, name, cellStep, inner, dropped, describe }) {
  const v = channelView(arr, c);
  return {
    rows: v.rows,
    cols: v.cols,
    rgba: channelToRgba(v, scale),
    value: (r, s) => v.get(r, s),
    label: (r, s) => `${name}[${r}, ${s}, ${c}]`,
    scale,
    cellStep,
    rowMajor: Boolean(cellStep),
    inner,
    dropped,
    describe,
    approx: arr.exact === false,
    shapeText: `${v.rows} × ${v.cols}`,
  };
}

/**
 * An image-like array (input or padded input): RGB shown as the picture itself, grey as
 * grey, on the array's own value range.
 */
export function imageData(arr, { name, inner, dropped, describe }) {
  const [rows, cols, C] = arr.shape;
  const lo = Math.min(0, arr.min);
  const hi = Math.max(arr.max, lo + 1e-12);
  // an RGB picture is drawn as its channels: its legend says so (colors.js buildLegend)
  const scale = C >= 3 ? { ...makeScale("grey", lo, hi), rgb: true } : makeScale("grey", lo, hi);
  const rgba = C >= 3 ? rgbToRgba(arr, lo, hi) : channelToRgba(channelView(arr, 0), scale);
  const d = arr.data;
  return {
    rows,
    cols,
    rgba,
    value: (r, s) => d[(r * cols + s) * C],
    label: (r, s) => `${name}[${r}, ${s}, :]`,
    valueText: null,
    scale,
    inner,
    dropped,
    describe: (r, s) => {
      const parts = [];
      if (C > 1) {
        const vals = [];
        for (let ch = 0; ch < C; ch += 1) vals.push(d[(r * cols + s) * C + ch]);
        parts.push(`channels: ${vals.map((x) => String(Number(x.toPrecision(4)))).join(", ")}`);
      }
      if (describe) parts.push(describe(r, s));
      return parts.filter(Boolean).join("\n");
    },
    approx: arr.exact === false,
    shapeText: `${rows} × ${cols} × ${C}`,
  };
}

/** A grid of maps, one per channel, each a MapCanvas; `make(c)` builds the c-th. */
function mapGroup(title, n, make, { className } = {}) {
  const wrap = el("section", `map-group ${className || ""}`.trim());
  const h = el("h3", "map-group-title", title);
  const grid = el("div", `map-grid n${Math.min(n, 8)}`);
  const maps = [];
  for (let c = 0; c < n; c += 1) {
    const m = make(c);
    maps.push(m);
    grid.append(m.el);
  }
  wrap.append(h, grid);
  return { el: wrap, maps, title: h };
}

/**
 * A group of n maps, map c showing data(c) and titled name(c); hovering or clicking a cell
 * calls onHover(cell | null, c) / onClick(cell, c). Returns {el, maps, title}.
 */
export function channelMaps(ctx, { title, n, name, data, maxHeight, maxCell, onHover, onClick, className }) {
  return mapGroup(title, n, (c) => {
    const m = new MapCanvas({
      title: name(c),
      fmt: ctx.cellFmt,
      maxHeight,
      maxCell,
      onHover: onHover && ((cell) => onHover(cell, c)),
      onClick: onClick && ((cell) => onClick(cell, c)),
    });
    m.setData(data(c));
    return m;
  }, { className });
}

/** Where a stage view is: step k of `total` and its output position (h, w, c); stepView moves it. */
export function cursor(shape) {
  const [nH, nW, nC] = shape;
  return { shape, total: nH * nW * nC, k: 0, h: 0, w: 0, c: 0 };
}

/**
 * A windowed stage's geometry and cursor, from the server's geometry `g` (conv or pool) and
 * the stage's output `out` (n_H, n_W, n_C): stageGeometry(g)'s fields (nH, nW, stride, fEff,
 * dilation), `geo` itself, nC and pos, the cursor over (nH, nW, nC).
 */
export function stageSetup(g, out) {
  const geo = stageGeometry(g);
  const nC = out.shape[2];
  return { ...geo, geo, nC, pos: cursor([geo.nH, geo.nW, nC]) };
}

/**
 * The skeleton of a stage view with steps over an output of shape pos.shape, in loop order.
 * render(step, playing) moves the cursor `pos` to the step, calls onStep(step, playing) for
 * the view's own bookkeeping, then the `reveal()` maps fill in up to the step, the
 * `outline()` maps mark the current channel, draw() puts the overlays on, and detail()
 * redraws the detail panel (throttled while playing; refresh() calls it when the step
 * records arrive). position(step) is the step counter's text, describe(step, {h, w, c},
 * total) the live region's. `maps()` lists every MapCanvas (zoom and destroy go to all).
 */
export function stepView({
  el: root, stage, pos, maps, onStep = () => {}, reveal = () => [], outline = () => [], draw, detail = () => {}, describe,
}) {
  const [nH, nW, nC] = pos.shape;
  const detailWhen = throttledDetail(detail);
  return {
    el: root,
    stage,
    total: pos.total,
    maps: maps(),
    render(step, playing) {
      Object.assign(pos, { k: step }, positionOf(step, nH, nW, nC));
      onStep(step, playing);
      reveal().forEach((m) => m.setStep(step));
      markCurrentChannel(outline(), pos.c, nC, playing);
      draw();
      detailWhen(playing);
    },
    refresh: detail,
    position: (step) => positionText(step, nH, nW, nC),
    describe: (step) => describe(step, positionOf(step, nH, nW, nC), pos.total),
    ...mapsLifecycle(maps),
  };
}

/**
 * The stage's output (or the gradient at it), one map per channel of pos.shape:
 * name[:, :, c] drawn from `arr` with `scale`, filling in step by step if `reveal`;
 * hovering calls onHover(cell | null, c), clicking a cell jumps to its step.
 */
export function outputMaps(ctx, pos, { title, name, arr, scale, reveal = false, maxHeight, maxCell, onHover }) {
  const [nH, nW, nC] = pos.shape;
  return channelMaps(ctx, {
    title,
    n: nC,
    name: (c) => `${name}[:, :, ${c}]`,
    data: (c) => channelData(arr, c, { scale, name, cellStep: reveal ? rowMajorSteps(nH, nW, nC, c) : null }),
    maxHeight,
    maxCell,
    onHover,
    onClick: (cell, c) => ctx.jump(indexOf(cell.r, cell.c, c, nW, nC)),
  });
}

/**
 * A numbers table for a 2-D nested list (from a step record, or a whole small array), each
 * cell coloured by the scale and carrying its exact value in data-v (booleans as 1 / 0) and
 * its position in data-r / data-c. `marks` (same shape, truthy) are outlined ("marked").
 * A whole array drawn as numbers (Learn's grids) also gives what a MapCanvas gets:
 * `overlays`, the map's overlay items (window with its dilation taps, cell, mark, link),
 * drawn as cell classes (overlayClasses); `inner` {top, left, rows, cols} and `discard`, the
 * padding ("pad") or the border a crop drops ("crop-out"); `reached(r, c)`, false for a cell
 * no step has written yet ("unreached": blank and uncoloured, as a map's cellStep). And:
 * `index` (row and column numbers in headers), `label(r, c)` (a cell's name for its title),
 * `classes(r, c)` (more classes), `className` (the table's, "mat" by default), `ariaLabel`.
 */
export function matrixTable(rows2d, {
  fmt, scale, field, caption, marks, overlays, inner, discard, reached, index, label, classes, className, ariaLabel,
}) {
  const t = el("table", className || "mat");
  if (field) t.dataset.field = field;
  if (ariaLabel) t.setAttribute("aria-label", ariaLabel);
  if (caption) {
    const cap = el("caption", "", caption);
    t.append(cap);
  }
  const cols = rows2d.length ? rows2d[0].length : 0;
  if (index) {
    const head = el("tr", "mat-idx");
    head.append(el("th", "mat-corner"));
    for (let c = 0; c < cols; c += 1) head.append(el("th", null, String(c)));
    const thead = el("thead");
    thead.append(head);
    t.append(thead);
  }
  const onCell = overlays ? overlayClasses(overlays) : null;
  const body = el("tbody");
  rows2d.forEach((row, r) => {
    const tr = el("tr");
    if (index) tr.append(el("th", null, String(r)));
    row.forEach((v, s) => {
      const bool = typeof v === "boolean";
      const shown = !reached || reached(r, s);
      const td = el("td", "", shown ? fmt(v) : "");
      td.dataset.v = bool ? (v ? "1" : "0") : String(v);
      td.dataset.r = String(r);
      td.dataset.c = String(s);
      const name = label ? label(r, s) : null;
      td.title = !name ? String(v) : shown ? `${name} = ${bool ? fmt(v) : String(v)}` : `${name}: not computed yet`;
      if (scale && shown && !bool) {
        td.style.backgroundColor = cssColor(scale, v); // a padding hatch (background-image) stays
        td.style.color = textColorOn(...rgbOf(scale, v));
      }
      const cls = [
        marks && marks[r] && marks[r][s] ? "marked" : null,
        shown ? null : "unreached",
        inner ? borderClass(r, s, inner, discard) : null,
        ...(onCell ? onCell(r, s) : []),
        ...(classes ? classes(r, s).flat() : []),
      ];
      for (const c of cls) if (c) td.classList.add(c);
      tr.append(td);
    });
    body.append(tr);
  });
  t.append(body);
  return t;
}

/** "pad" (or "crop-out" when the border is discarded) for a cell outside `inner`. */
function borderClass(r, c, inner, discard) {
  const out = r < inner.top || c < inner.left || r >= inner.top + inner.rows || c >= inner.left + inner.cols;
  return out ? (discard ? "crop-out" : "pad") : null;
}

/**
 * A MapCanvas's overlay items as the classes of a number table's cell (r, c): a window
 * {r0, r1, c0, c1, dilation} gives "inwin" inside it, "window" on its taps (every dilation-th
 * cell) and "wt", "wb", "wl", "wr" on its edges; a cell "current"; a mark "max"; a link
 * (the map's dashed outline) "yin" inside and "yt", "yb", "yl", "yr" on its edges.
 */
export function overlayClasses(items) {
  return (r, c) => {
    const out = [];
    for (const it of items) {
      const r0 = it.r0 ?? it.r;
      const c0 = it.c0 ?? it.c;
      const r1 = it.r1 ?? r0 + 1;
      const c1 = it.c1 ?? c0 + 1;
      if (r < r0 || r >= r1 || c < c0 || c >= c1) continue;
      if (it.kind === "cell") out.push("current");
      else if (it.kind === "mark") out.push("max");
      else if (it.kind === "window" || it.kind === "link") {
        const [inside, t, b, l, rt] = it.kind === "window" ? ["inwin", "wt", "wb", "wl", "wr"] : ["yin", "yt", "yb", "yl", "yr"];
        const by = it.dilation || 1;
        out.push(inside);
        if (it.kind === "window" && (r - r0) % by === 0 && (c - c0) % by === 0) out.push("window");
        if (r === r0) out.push(t);
        if (r === r1 - 1) out.push(b);
        if (c === c0) out.push(l);
        if (c === c1 - 1) out.push(rt);
      }
    }
    return out;
  };
}

/**
 * A number table in a figure, as a MapCanvas is: its caption (the array's name and shape),
 * the table (scrolled sideways when wider than the column) and a note under it.
 */
export function tableFigure(table, { name, shape, note, className }) {
  const fig = el("figure", "arr");
  if (className) fig.classList.add(className);
  const cap = el("figcaption");
  cap.append(el("code", "arr-name", name), el("span", "arr-shape", shape));
  const wrap = el("div", "arr-wrap");
  wrap.append(table);
  fig.append(cap, wrap);
  if (note) fig.append(el("p", "arr-note", note));
  return fig;
}

/** Channel ch of an (f, f, C) nested list as an (f, f) nested list (indexing only). */
export function sliceChannel(a3, ch) {
  return a3.map((row) => row.map((cell) => (Array.isArray(cell) ? cell[ch] : cell)));
}

/** A scalar in the detail panel with its exact value in data-v. */
export function scalar(v, fmt, field, cls) {
  const o = el("output", `num ${cls || ""}`.trim(), fmt(v));
  o.dataset.v = String(v);
  if (field) o.dataset.field = field;
  o.title = String(v);
  return o;
}

/** Largest absolute value of nested lists, for a table's symmetric colour range (display only). */
export function tableScale(...lists) {
  let m = 0;
  const walk = (a) => {
    if (Array.isArray(a)) a.forEach(walk);
    else if (Number.isFinite(a) && Math.abs(a) > m) m = Math.abs(a);
  };
  lists.forEach(walk);
  return makeScale("diverging", -m, m);
}

const CHANNEL_NAMES = ["R", "G", "B"];

export function channelName(C, ch) {
  return C === 3 ? CHANNEL_NAMES[ch] : `channel ${ch}`;
}

/**
 * The detail panel beside the maps: an <aside class="detail"> with a heading, what states the
 * stage (formula or code), the step's own body (returned, for the view to fill) and notes.
 */
export function detailPanel({ label, title, intro, notes = [] }) {
  const panel = el("aside", "detail");
  panel.setAttribute("aria-label", label);
  const body = el("div", "detail-body");
  panel.append(el("h3", "", title), intro, body, ...notes);
  return { el: panel, body };
}

/** A "waiting for the numbers" line for the detail panel. */
export function loadingLine() {
  return el("p", "loading", "Fetching this step's numbers…");
}

/**
 * The opening of a windowed view's detail panel at the cursor `pos`: the step's record (asked
 * of the store; null until it arrives), its window (stride, f: the window's extent) and the
 * "where" line, where(win)'s text. Until the record arrives `body` shows that line and a
 * loading line.
 */
export function stepDetail(ctx, { stage, pos, stride, f, body, where }) {
  const rec = ctx.store.want(stage, pos.k);
  const win = windowOf(pos.h, pos.w, stride, f);
  const head = el("p", "where", where(win));
  if (!rec) body.replaceChildren(head, loadingLine());
  return { rec, win, head, fmt: ctx.fmt() };
}

/** Jump to the first step (loop order) at channel c whose window covers padded cell (r, s). */
export function jumpToCovering(ctx, r, s, c, geo, nC) {
  const outs = outputsCovering(r, s, geo);
  if (outs.length) ctx.jump(indexOf(outs[0].h, outs[0].w, c, geo.nW, nC));
}

/** Link overlays on the output cells `outs` (from outputsCovering). */
export function outputLinks(outs) {
  return outs.map((o) => ({ kind: "link", r: o.h, c: o.w }));
}

/** The current output cell's outline on channel c's map (cur: {h, w, c}); none on the others. */
export function currentCell(c, cur) {
  return c === cur.c ? [{ kind: "cell", r: cur.h, c: cur.w }] : [];
}

/** Mark overlays on the cells of window `win` where `mask` (a nested list) is truthy. */
export function maskMarks(mask, win) {
  const items = [];
  mask.forEach((row, r) => row.forEach((v, s) => {
    if (v) items.push({ kind: "mark", r: win.r0 + r, c: win.c0 + s });
  }));
  return items;
}

/** While paused, outline channel c's maps (every nC-th of `maps`) when there are several channels. */
function markCurrentChannel(maps, c, nC, playing) {
  maps.forEach((m, i) => m.el.classList.toggle("current", !playing && nC > 1 && i % nC === c));
}

/**
 * Hovering a number in the detail panel's tables calls onCell({r, c}) with its position in
 * the window (or null when the pointer leaves), so a view can light the cell up on its map.
 */
export function linkTables(container, onCell) {
  container.addEventListener("pointerover", (ev) => {
    const td = ev.target.closest ? ev.target.closest("td[data-r]") : null;
    onCell(td ? { r: Number(td.dataset.r), c: Number(td.dataset.c) } : null);
  });
  container.addEventListener("pointerleave", () => onCell(null));
}

/**
 * A view's detail panel drawn at once when paused and at most every `ms` while playing:
 * returns (playing) => void, which calls render() when it is time.
 */
function throttledDetail(render, ms = 150) {
  let last = 0;
  return (playing) => {
    const now = performance.now();
    if (!playing || now - last > ms) {
      last = now;
      render();
    }
  };
}

/** setZoom and destroy over every map of a view; `maps()` lists them. */
export function mapsLifecycle(maps) {
  return {
    setZoom(z) {
      maps().forEach((m) => m.setZoom(z));
    },
    destroy() {
      maps().forEach((m) => m.destroy());
    },
  };
}
