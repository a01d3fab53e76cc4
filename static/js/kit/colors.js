// Colour scales and legends. Pure presentation: a value goes in, a colour comes out.
// Signed maps use a diverging scale symmetric around zero (blue < 0 < red, white at 0);
// non-negative maps use a sequential scale; images use grey or their own RGB.

const DIVERGING = [
  [0.0, [33, 78, 150]],
  [0.2, [67, 147, 195]],
  [0.4, [176, 214, 232]],
  [128 / 255, [247, 247, 247]],
  [0.6, [248, 195, 168]],
  [0.8, [214, 96, 77]],
  [1.0, [140, 20, 40]],
];
const SEQUENTIAL = [
  [0.0, [250, 250, 247]],
  [0.25, [254, 217, 142]],
  [0.5, [243, 141, 60]],
  [0.75, [190, 60, 40]],
  [1.0, [90, 20, 40]],
];
const GREY = [
  [0.0, [0, 0, 0]],
  [1.0, [255, 255, 255]],
];

function buildLut(stops) {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i += 1) {
    const t = i / 255;
    let k = 0;
    while (k < stops.length - 2 && t > stops[k + 1][0]) k += 1;
    const [t0, c0] = stops[k];
    const [t1, c1] = stops[k + 1];
    const u = t1 === t0 ? 0 : (t - t0) / (t1 - t0);
    for (let j = 0; j < 3; j += 1) lut[i * 3 + j] = Math.round(c0[j] + (c1[j] - c0[j]) * u);
  }
  return lut;
}

const LUTS = {
  diverging: buildLut(DIVERGING),
  sequential: buildLut(SEQUENTIAL),
  grey: buildLut(GREY),
};

/**
 * A scale maps a value to a 0..255 LUT index.
 * kind: "diverging" (lo = -hi, symmetric around zero), "sequential", "grey" or "rgb".
 */
export function makeScale(kind, min, max) {
  let lo = Number.isFinite(min) ? min : 0;
  let hi = Number.isFinite(max) ? max : 0;
  if (kind === "diverging") {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    lo = -m;
    hi = m;
  } else if (hi <= lo) {
    hi = lo + 1;
  }
  const span = hi - lo;
  if (kind === "diverging") {
    // 0 is index 128 exactly, -m is 1 and +m is 255: the server's display encoding's q
    const m = hi;
    return {
      kind, lo, hi, lut: LUTS.diverging,
      index(v) {
        const i = 128 + Math.round((127 * v) / m);
        if (!(i > 1)) return 1; // also NaN
        return i > 255 ? 255 : i;
      },
    };
  }
  return {
    kind,
    lo,
    hi,
    lut: LUTS[kind === "rgb" ? "grey" : kind],
    index(v) {
      const t = (v - lo) / span;
      if (!(t > 0)) return 0; // also NaN
      if (t >= 1) return 255;
      return (t * 255 + 0.5) | 0;
    },
  };
}

/** The diverging scale of an array's values, symmetric around zero. */
export function signedScale(arr) {
  return makeScale("diverging", arr.min, arr.max);
}

/** The scale for a map of signed values (diverging) or non-negative ones (sequential from 0). */
export function autoScale(arr) {
  return makeScale(arr.min < 0 ? "diverging" : "sequential", Math.min(0, arr.min), arr.max);
}

/** One channel of a (rows, cols, C) view to RGBA pixels with the given scale. */
export function channelToRgba(view, scale) {
  const { rows, cols } = view;
  const out = new Uint8ClampedArray(rows * cols * 4);
  const { lut } = scale;
  for (let r = 0; r < rows; r += 1) {
    for (let c = 0; c < cols; c += 1) {
      const i = scale.index(view.get(r, c)) * 3;
      const o = (r * cols + c) * 4;
      out[o] = lut[i];
      out[o + 1] = lut[i + 1];
      out[o + 2] = lut[i + 2];
      out[o + 3] = 255;
    }
  }
  return out;
}

/** All three channels of an RGB (rows, cols, 3) array as the image itself (range lo..hi). */
export function rgbToRgba(arr, lo, hi) {
  const [rows, cols, C] = arr.shape;
  const out = new Uint8ClampedArray(rows * cols * 4);
  const span = hi > lo ? hi - lo : 1;
  const d = arr.data;
  for (let p = 0; p < rows * cols; p += 1) {
    for (let j = 0; j < 3; j += 1) {
      const v = d[p * C + Math.min(j, C - 1)];
      out[p * 4 + j] = ((v - lo) / span) * 255;
    }
    out[p * 4 + 3] = 255;
  }
  return out;
}

/** Black or white text, whichever reads better on an RGB background. */
export function textColorOn(r, g, b) {
  return 0.299 * r + 0.587 * g + 0.114 * b > 140 ? "#111" : "#fff";
}

/** [r, g, b] of a value under a scale (its lookup table, or its own rgb(v) function). */
export function rgbOf(scale, v) {
  if (typeof scale.rgb === "function") return scale.rgb(v);
  const i = scale.index(v) * 3;
  return [scale.lut[i], scale.lut[i + 1], scale.lut[i + 2]];
}

/** CSS colour of a value under a scale (for table cells). */
export function cssColor(scale, v) {
  const [r, g, b] = rgbOf(scale, v);
  return `rgb(${r}, ${g}, ${b})`;
}

/**
 * The legend of an RGB picture (scale.rgb): one bar per channel, black to red, green and
 * blue over the same range, since its colours are the channels themselves, not a grey scale.
 */
function rgbLegend(scale, fmt) {
  const wrap = document.createElement("div");
  wrap.className = "legend rgb";
  ["R", "G", "B"].forEach((name, ch) => {
    const bar = document.createElement("canvas");
    bar.width = 128;
    bar.height = 1;
    bar.className = "legend-bar";
    bar.dataset.channel = name;
    bar.setAttribute("aria-hidden", "true");
    const ctx = bar.getContext("2d");
    const img = ctx.createImageData(128, 1);
    for (let x = 0; x < 128; x += 1) {
      img.data[x * 4 + ch] = Math.round((x / 127) * 255);
      img.data[x * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    wrap.append(bar);
  });
  const labels = document.createElement("div");
  labels.className = "legend-labels";
  for (const t of [fmt(scale.lo), "R, G, B", fmt(scale.hi)]) {
    const sp = document.createElement("span");
    sp.textContent = t;
    labels.append(sp);
  }
  wrap.append(labels);
  wrap.setAttribute("aria-label", `red, green and blue channels, each from ${fmt(scale.lo)} to ${fmt(scale.hi)}`);
  wrap.setAttribute("role", "img");
  return wrap;
}

/** A legend: a gradient bar with its low, zero (diverging) and high ends labelled. */
export function buildLegend(scale, fmt) {
  if (scale.rgb) return rgbLegend(scale, fmt);
  const wrap = document.createElement("div");
  wrap.className = "legend";
  const bar = document.createElement("canvas");
  bar.width = 128;
  bar.height = 1;
  bar.className = "legend-bar";
  bar.setAttribute("aria-hidden", "true");
  const ctx = bar.getContext("2d");
  const img = ctx.createImageData(128, 1);
  for (let x = 0; x < 128; x += 1) {
    const i = Math.round((x / 127) * 255) * 3;
    img.data[x * 4] = scale.lut[i];
    img.data[x * 4 + 1] = scale.lut[i + 1];
    img.data[x * 4 + 2] = scale.lut[i + 2];
    img.data[x * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  const labels = document.createElement("div");
  labels.className = "legend-labels";
  const lo = document.createElement("span");
  lo.textContent = fmt(scale.lo);
  const mid = document.createElement("span");
  mid.textContent = scale.kind === "diverging" ? "0" : "";
  const hi = document.createElement("span");
  hi.textContent = fmt(scale.hi);
  labels.append(lo, mid, hi);
  wrap.append(bar, labels);
  wrap.setAttribute(
    "aria-label",
    `colour scale from ${fmt(scale.lo)} to ${fmt(scale.hi)}${scale.kind === "diverging" ? ", white at zero" : ""}`,
  );
  wrap.setAttribute("role", "img");
  return wrap;
}
