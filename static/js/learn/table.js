// Small arrays as tables of numbers: one cell per value, coloured by the shared scales of
// colors.js, with marks (the window, the current cell, cells not reached yet, differing
// cells). Learn mode's arrays are at most 7 x 9, so every number is written in its cell.
// Values are shown as the server sent them: nothing here computes with them.

import { el } from "../kit/dom.js";
import { cssColor, makeScale, rgbOf, textColorOn } from "../kit/colors.js";
import { makeFormatter } from "../kit/arrays.js";

export const fmt = makeFormatter(4);

/** "2", "-0.5", "2.111": short text for a value (the cell's title and data-v keep it all). */
export function num(v) {
  if (typeof v === "boolean") return v ? "True" : "False";
  return fmt(v);
}

/** Scale for an array whose value range [lo, hi] the server sent (ranges in the lesson). */
export function scaleFor(range, kind) {
  const [lo, hi] = range || [0, 1];
  if (kind === "mask") return makeScale("sequential", 0, 1);
  return makeScale(lo < 0 ? "diverging" : "sequential", lo, hi);
}

/**
 * A table of a 2-D array.
 * o.name: caption ("Z[0, :, :, 0]"); o.values: rows of numbers (or booleans);
 * o.scale: a colors.js scale (or null: no colour); o.label(r, c): a cell's name for its title;
 * o.field: data-field for tests; o.note: a line under the table.
 * o.marks(r, c) -> list of classes: "window", "current", "unreached", "differs", "pad",
 * "source", "on" (a True mask cell), "crop-out" (greyed border).
 */
export function arrayTable(o) {
  const fig = el("figure", "arr");
  if (o.className) fig.classList.add(o.className);
  const cap = el("figcaption");
  cap.append(el("code", "arr-name", o.name));
  const rows = o.values.length;
  const cols = rows ? o.values[0].length : 0;
  cap.append(el("span", "arr-shape", o.shape || `${rows} × ${cols}`));
  fig.append(cap);
  const wrap = el("div", "arr-wrap");
  const t = el("table", "arr-table");
  if (o.field) t.dataset.field = o.field;
  t.setAttribute("aria-label", `${o.name}, ${rows} by ${cols}`);
  if (o.colIndex !== false) {
    const head = el("tr", "arr-idx");
    head.append(el("th", "arr-corner"));
    for (let c = 0; c < cols; c += 1) head.append(el("th", null, String(c)));
    const thead = el("thead");
    thead.append(head);
    t.append(thead);
  }
  const body = el("tbody");
  for (let r = 0; r < rows; r += 1) {
    const tr = el("tr");
    if (o.colIndex !== false) tr.append(el("th", null, String(r)));
    for (let c = 0; c < cols; c += 1) {
      const v = o.values[r][c];
      const marks = o.marks ? o.marks(r, c).flat() : [];
      const td = el("td");
      td.dataset.r = String(r);
      td.dataset.c = String(c);
      td.dataset.v = typeof v === "boolean" ? (v ? "1" : "0") : String(v);
      for (const m of marks) if (m) td.classList.add(m);
      const hidden = marks.includes("unreached");
      td.textContent = hidden ? "" : num(v);
      if (!hidden && o.scale && typeof v !== "boolean") {
        td.style.backgroundColor = cssColor(o.scale, v);
        if (textColorOn(...rgbOf(o.scale, v)) === "#fff") td.classList.add("dark");
      }
      const label = o.label ? o.label(r, c) : `[${r}, ${c}]`;
      td.title = hidden ? `${label}: not computed yet` : `${label} = ${typeof v === "boolean" ? num(v) : String(v)}`;
      tr.append(td);
    }
    body.append(tr);
  }
  t.append(body);
  wrap.append(t);
  fig.append(wrap);
  if (o.note) fig.append(el("p", "arr-note", o.note));
  return fig;
}

/**
 * Classes of cell (r, c) for the window box s = {vert_start, vert_end, horiz_start,
 * horiz_end} (taps `by` apart): "window" inside, plus "wt", "wb", "wl", "wr" on its edges.
 */
export function windowMarks(r, c, s, by = 1) {
  const { vert_start: r0, vert_end: r1, horiz_start: c0, horiz_end: c1 } = s;
  if (r < r0 || r >= r1 || c < c0 || c >= c1) return [];
  const out = ["inwin"];
  if ((r - r0) % by === 0 && (c - c0) % by === 0) out.push("window");
  if (r === r0) out.push("wt");
  if (r === r1 - 1) out.push("wb");
  if (c === c0) out.push("wl");
  if (c === c1 - 1) out.push("wr");
  return out;
}

/** Slice [:, :, ch, c] of a (f, f, C, n_C) nested list. */
export function filterSlice(a4, ch, c) {
  return a4.map((row) => row.map((cell) => cell[ch][c]));
}
