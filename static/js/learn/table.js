// Learn's small arrays as the kit's number tables (kit/views/common.js matrixTable in a
// tableFigure): one cell per value, coloured by the shared scales of colors.js, with the marks
// a MapCanvas takes (the window, the current cell, the padding, cells not reached yet) given
// as the same overlay items. Learn mode's arrays are at most 7 x 9, so every number is
// written in its cell. Values are shown as the server sent them: nothing here computes.

import { makeScale } from "../kit/colors.js";
import { makeFormatter } from "../kit/arrays.js";
import { matrixTable, tableFigure } from "../kit/views/common.js";

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
 * A 2-D array as a captioned number table.
 * o.name: caption ("Z[0, :, :, 0]"); o.values: rows of numbers (or booleans); o.scale: a
 * colors.js scale (or null); o.label(r, c): a cell's name; o.field: data-field for tests;
 * o.note: a line under it; o.className: the figure's; and matrixTable's map-like marks:
 * o.overlays, o.inner (+ o.discard), o.reached(r, c), o.marks(r, c) (more classes: "differs",
 * "done", "on" / "off" for a mask).
 */
export function arrayTable(o) {
  const rows = o.values.length;
  const cols = rows ? o.values[0].length : 0;
  const table = matrixTable(o.values, {
    fmt: num, scale: o.scale, field: o.field, label: o.label || ((r, c) => `[${r}, ${c}]`), index: true,
    className: "arr-table", ariaLabel: `${o.name}, ${rows} by ${cols}`,
    overlays: o.overlays, inner: o.inner, discard: o.discard, reached: o.reached, classes: o.marks,
  });
  return tableFigure(table, { name: o.name, shape: o.shape || `${rows} × ${cols}`, note: o.note, className: o.className });
}

/** The window s = {vert_start, vert_end, horiz_start, horiz_end} as a map's overlay item. */
export function windowItem(s, dilation = 1) {
  return { kind: "window", r0: s.vert_start, r1: s.vert_end, c0: s.horiz_start, c1: s.horiz_end, dilation };
}

/** Slice [:, :, ch, c] of a (f, f, C, n_C) nested list. */
export function filterSlice(a4, ch, c) {
  return a4.map((row) => row.map((cell) => cell[ch][c]));
}
