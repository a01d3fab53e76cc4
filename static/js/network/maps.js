// Drawing the server's numbers: cell maps on canvases (crisp, one canvas pixel per cell),
// colour scales from the kit's colors.js. Nothing here computes a layer: values are read from
// the nested lists the server sent, only their range picks the colours.

import { makeScale, rgbOf } from "../kit/colors.js";

/** Smallest and largest value of a nested list. */
export function extent(nested) {
  let lo = Infinity;
  let hi = -Infinity;
  const walk = (x) => {
    if (Array.isArray(x)) x.forEach(walk);
    else {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
  };
  walk(nested);
  return [lo, hi];
}

/** The colour scale of a map: diverging around 0 for signed values, sequential from 0. */
export function scaleFor(nested, { signed = null } = {}) {
  const [lo, hi] = extent(nested);
  const isSigned = signed === null ? lo < 0 : signed;
  return isSigned ? makeScale("diverging", lo, hi) : makeScale("sequential", 0, hi > 0 ? hi : 1);
}

/** Ink scale of the input: 0 = paper (white), 16 = ink (black). */
export const INK = {
  kind: "ink", lo: 0, hi: 16, lut: null,
  rgb(v) {
    const g = Math.round(255 * (1 - Math.max(0, Math.min(16, v)) / 16));
    return [g, g, g];
  },
};

/** A (rows, cols) nested list as a getter. */
export function plain(rc) {
  return { rows: rc.length, cols: rc[0].length, get: (r, q) => rc[r][q] };
}

/**
 * Paint a map on `canvas`: one canvas pixel per cell, scaled up crisply by CSS to `cell` px.
 * Hover/click report the cell: onCell({r, c, value} | null), onPick({r, c}).
 */
export function paint(canvas, map, scale, { cell = 8, cellWidth = null, onCell = null,
  onPick = null } = {}) {
  // the same canvas repainted keeps its size (setting it, even unchanged, drops the bitmap)
  if (canvas.width !== map.cols) canvas.width = map.cols;
  if (canvas.height !== map.rows) canvas.height = map.rows;
  const width = `${map.cols * (cellWidth || cell)}px`;
  const height = `${map.rows * cell}px`;
  if (canvas.style.width !== width) canvas.style.width = width;
  if (canvas.style.height !== height) canvas.style.height = height;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(map.cols, map.rows); // putImageData replaces every pixel
  for (let r = 0; r < map.rows; r += 1) {
    for (let c = 0; c < map.cols; c += 1) {
      const v = map.get(r, c);
      const o = (r * map.cols + c) * 4;
      if (Number.isNaN(v)) continue; // a gap: left transparent
      const [R, G, B] = rgbOf(scale, v);
      img.data[o] = R;
      img.data[o + 1] = G;
      img.data[o + 2] = B;
      img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  const at = (e) => {
    const box = canvas.getBoundingClientRect();
    const c = Math.floor(((e.clientX - box.left) / box.width) * map.cols);
    const r = Math.floor(((e.clientY - box.top) / box.height) * map.rows);
    return r >= 0 && r < map.rows && c >= 0 && c < map.cols ? { r, c } : null;
  };
  canvas.onpointermove = onCell ? (e) => {
    const p = at(e);
    onCell(p && { ...p, value: map.get(p.r, p.c) });
  } : null;
  canvas.onpointerleave = onCell ? () => onCell(null) : null;
  canvas.onclick = onPick ? (e) => {
    const p = at(e);
    if (p) onPick(p);
  } : null;
}

/** A painted canvas emptied: no cells, and hovering it reports nothing. */
export function unpaint(canvas) {
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
  canvas.onpointermove = null;
  canvas.onpointerleave = null;
  canvas.onclick = null;
}

/** Value formatter with 4 significant digits (tooltips and readouts). */
export function fmt4(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(3);
  return Number(v.toPrecision(4)).toString();
}
