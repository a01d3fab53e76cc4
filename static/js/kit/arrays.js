// Decoding the server's arrays (base64 little-endian float32) and reading them by index.
// Only indexing lives here: no sums, products or maxima of values.

function base64ToBytes(b64) {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(b64);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i += 1) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * ARR -> {shape, data: Float32Array, min, max, exact}. A float32 ARR is the values
 * themselves; a display ARR (dtype uint8, one byte q per value) decodes by the contract's
 * one formula, value = offset + q * scale in float64 rounded to float32, through a
 * 256-entry table. `exact` is false when that is only the colour-accurate approximation.
 */
export function decodeArray(arr) {
  if (!arr) return null;
  const bytes = base64ToBytes(arr.data);
  if (arr.encoding === "display") {
    const table = Float32Array.from({ length: 256 }, (_, q) => arr.offset + q * arr.scale);
    const data = new Float32Array(bytes.length);
    for (let i = 0; i < bytes.length; i += 1) data[i] = table[bytes[i]];
    return { shape: arr.shape.slice(), data, min: arr.min, max: arr.max, exact: Boolean(arr.exact) };
  }
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return { shape: arr.shape.slice(), data, min: arr.min, max: arr.max, exact: true };
}

/** Decodes every array of an image response once, lazily; float32 copies can replace them. */
export function lazyArrays(raw) {
  const cache = new Map();
  const src = { ...(raw || {}) };
  return {
    has(name) {
      return Boolean(src[name]);
    },
    get(name) {
      if (!cache.has(name)) cache.set(name, decodeArray(src[name] || null));
      return cache.get(name);
    },
    /** Names whose values are only the display approximation. */
    approximate() {
      return Object.keys(src).filter((n) => src[n].encoding === "display" && !src[n].exact);
    },
    /** Put exact (float32) ARRs in place of display ones. */
    replace(arrs) {
      for (const [name, arr] of Object.entries(arrs)) {
        src[name] = arr;
        cache.delete(name);
      }
    },
  };
}

/** Channel `c` of a (rows, cols, C) array, or of a nested list as a step answer sends it, as a 2-D view. */
export function channelView(arr, c) {
  if (Array.isArray(arr)) return { rows: arr.length, cols: arr[0].length, get: (r, s) => arr[r][s][c] };
  const [rows, cols, C] = arr.shape.length === 3 ? arr.shape : [arr.shape[0], arr.shape[1], 1];
  const d = arr.data;
  return {
    rows,
    cols,
    get(r, s) {
      return d[(r * cols + s) * C + c];
    },
  };
}

/** Slice [:, :, ch, c] of a (f, f, C, n_C) weights array as a 2-D view. */
export function weightsView(arr, ch, c) {
  const [f1, f2, C, nC] = arr.shape;
  const d = arr.data;
  return {
    rows: f1,
    cols: f2,
    get(r, s) {
      return d[((r * f2 + s) * C + ch) * nC + c];
    },
  };
}

/** Value at a flat multi-index of a row-major array. */
export function at(arr, ...idx) {
  let flat = 0;
  for (let k = 0; k < idx.length; k += 1) flat = flat * arr.shape[k] + idx[k];
  return arr.data[flat];
}

/** Number formatting for cells and tables; "full" gives the shortest exact float64 text. */
export function makeFormatter(digits) {
  if (digits === "full") return (v) => (Number.isFinite(v) ? String(v) : String(v));
  const p = Number(digits) || 4;
  return (v) => {
    if (v === null || v === undefined) return "";
    if (!Number.isFinite(v)) return String(v);
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (a >= 10 ** (p + 1) || a < 10 ** -(p - 1)) return v.toExponential(Math.max(0, p - 2));
    return String(Number(v.toPrecision(p)));
  };
}

/** Compact formatting for legends and tiny cells. */
export const fmtShort = makeFormatter(3);
