// Explore's one state object, kept in the URL so a reload or a shared link restores the
// same view: the layer's settings, the stage, the step, and the display choices. Its keys
// are the rows of PROPS, read and written by the kit's URL-state table (../kit/urlstate.js).

import { BOOL, NUMBER, TEXT, oneOf, readProps, urlSync, withinLimits, writeProps } from "../kit/urlstate.js";

const UI_DEFAULTS = { mode: "conv", stage: "conv_forward", step: 0, zoom: 1, digits: "4", speed: 0.7 };
const POOL_DEFAULTS = { mode: "max", f: 2, stride: 2, tie_rule: "first" };

function clone(x) {
  return JSON.parse(JSON.stringify(x));
}

/** Filters as the server takes them: a preset or weights, and a bias (nothing else). */
export function cleanFilters(filters) {
  return filters.map((fl) => (fl.preset ? { preset: fl.preset, bias: fl.bias || 0 } : { weights: fl.weights, bias: fl.bias || 0 }));
}

/**
 * The page state: `settings` (the conv layer's, sent to /api/image as is), `transpose` (the
 * transposed-convolution op's own settings; the image's are settings.sample, size, color),
 * `ui` (mode "conv" or "transpose", the stage, the step...), and the uploaded file.
 */
function createState(defaults, transpose) {
  return {
    settings: clone(defaults),
    transpose: { weights: null, ...clone(transpose) },
    ui: { ...UI_DEFAULTS },
    file: null, // a Blob when the user uploaded or pasted an image
  };
}

function encodeFilter(fl) {
  if (fl.preset) return fl.preset;
  const flat = [];
  const walk = (a) => (Array.isArray(a) ? a.forEach(walk) : flat.push(a));
  walk(fl.weights);
  const perChannel = Array.isArray(fl.weights[0][0]);
  return `${perChannel ? "c" : "w"}:${flat.join(",")}`;
}

function decodeFilter(text, f, C) {
  if (!text.includes(":")) return { preset: text };
  const [kind, list] = text.split(":");
  const vals = list.split(",").map(Number);
  if (vals.some((v) => !Number.isFinite(v))) return null;
  const perChannel = kind === "c";
  if (vals.length !== (perChannel ? f * f * C : f * f)) return null;
  const weights = [];
  let k = 0;
  for (let i = 0; i < f; i += 1) {
    const row = [];
    for (let j = 0; j < f; j += 1) {
      if (perChannel) row.push(vals.slice(k, (k += C)));
      else row.push(vals[k++]);
    }
    weights.push(row);
  }
  return { weights };
}

/**
 * The filters as k0=<preset or w:/c: weights>&b0=<bias>, k1=..., up to the server's
 * max_filters; a filter that does not fit f and the colour ends the list.
 */
const FILTERS = {
  read(q, st, limits) {
    const s = st.settings;
    const C = s.color === "rgb" ? 3 : 1;
    const filters = [];
    for (let i = 0; i < limits.max_filters && q.has(`k${i}`); i += 1) {
      const fl = decodeFilter(q.get(`k${i}`), s.f, C);
      if (!fl) break;
      fl.bias = NUMBER.parse(q.get(`b${i}`) ?? "") ?? 0;
      filters.push(fl);
    }
    if (filters.length) s.filters = filters;
  },
  write(q, st) {
    st.settings.filters.forEach((fl, i) => {
      q.set(`k${i}`, encodeFilter(fl));
      q.set(`b${i}`, fl.bias || 0);
    });
  },
};

/** settings.pool is null ("pool=none") or an object ("pool=max" or "pool=average"). */
const POOL = {
  parse: (t) => (t === "none" ? null : t === "average" ? "average" : "max"),
  format: String,
  get: (st) => (st.settings.pool ? st.settings.pool.mode : "none"),
  set(st, mode) {
    st.settings.pool = mode === null ? null : { ...POOL_DEFAULTS, ...(st.settings.pool || {}), mode };
  },
};

const pooled = (st) => Boolean(st.settings.pool);

/**
 * The transposed op's kernel: t_kernel=<preset> or t_kernel=w:<f*f numbers, row-major>
 * (its own numbers). A preset the server does not list, or numbers that are not a square
 * within the weight bounds, are dropped (ctx.transposeKernels: the server's list).
 */
const T_KERNEL = {
  read(q, st, ctx, dropped) {
    const text = q.get("t_kernel");
    if (text === null || st.ui.mode !== "transpose") return;
    const t = st.transpose;
    if (!text.startsWith("w:")) {
      // a preset that takes an f starts from the server's preset_f until t_f says
      const f = ctx.transposeUpsampling.includes(text) ? t.f : t.f ?? ctx.transposePresetF;
      if (ctx.transposeKernels.includes(text)) Object.assign(t, { kernel: text, weights: null, f });
      else dropped.push({ key: "t_kernel", value: text, why: `not one of ${ctx.transposeKernels.join(", ")}` });
      return;
    }
    const vals = text.slice(2).split(",").map(NUMBER.parse);
    const f = Math.round(Math.sqrt(vals.length));
    const w = ctx.weight;
    if (f * f !== vals.length || f > ctx.t_f.max || vals.some((v) => v === undefined || v < w.min || v > w.max)) {
      dropped.push({ key: "t_kernel", value: text, why: `not f × f numbers (f at most ${ctx.t_f.max}) from ${w.min} to ${w.max}` });
      return;
    }
    t.weights = Array.from({ length: f }, (_, r) => vals.slice(r * f, (r + 1) * f));
  },
  write(q, st) {
    if (st.ui.mode !== "transpose") return;
    const t = st.transpose;
    q.set("t_kernel", t.weights ? `w:${t.weights.flat().join(",")}` : t.kernel);
  },
};
const transposing = (st) => st.ui.mode === "transpose";

/** One row per URL key, in the order of the query string (../kit/urlstate.js says how). */
const PROPS = [
  { key: "sample", path: ["settings", "sample"], type: TEXT },
  { key: "size", path: ["settings", "size"], type: NUMBER, check: withinLimits("size") },
  { key: "color", path: ["settings", "color"], type: oneOf("gray", "rgb") },
  { key: "f", path: ["settings", "f"], type: NUMBER, check: withinLimits("f") },
  { key: "stride", path: ["settings", "stride"], type: NUMBER, check: withinLimits("stride") },
  { key: "pad", path: ["settings", "pad"], type: NUMBER, check: withinLimits("pad") },
  { key: "pad_mode", path: ["settings", "pad_mode"], type: TEXT },
  { key: "pad_value", path: ["settings", "pad_value"], type: NUMBER, when: (st) => st.settings.pad_mode === "constant" },
  { key: "dilation", path: ["settings", "dilation"], type: NUMBER, check: withinLimits("dilation") },
  { key: "filters", ...FILTERS },
  { key: "relu", path: ["settings", "relu"], type: BOOL },
  { key: "pool", type: POOL, get: POOL.get, set: POOL.set },
  { key: "pool_f", path: ["settings", "pool", "f"], type: NUMBER, when: pooled, check: withinLimits("pool_f") },
  { key: "pool_stride", path: ["settings", "pool", "stride"], type: NUMBER, when: pooled, check: withinLimits("pool_stride") },
  { key: "tie", path: ["settings", "pool", "tie_rule"], type: TEXT, when: (st) => pooled(st) && st.settings.pool.mode === "max" },
  { key: "up", path: ["settings", "upstream", "kind"], type: TEXT },
  { key: "seed", path: ["settings", "upstream", "seed"], type: NUMBER, check: withinLimits("seed"), when: (st) => st.settings.upstream.kind === "random" },
  { key: "op", path: ["ui", "mode"], type: oneOf("conv", "transpose"), default: "conv" },
  { key: "t_kernel", ...T_KERNEL },
  { key: "t_f", path: ["transpose", "f"], type: NUMBER, check: withinLimits("t_f"), when: transposing },
  { key: "t_stride", path: ["transpose", "stride"], type: NUMBER, check: withinLimits("t_stride"), when: transposing },
  { key: "t_pad", path: ["transpose", "pad"], type: NUMBER, check: withinLimits("t_pad"), when: transposing },
  { key: "t_op", path: ["transpose", "output_padding"], type: NUMBER, check: withinLimits("t_output_padding"), when: transposing },
  { key: "t_dilation", path: ["transpose", "dilation"], type: NUMBER, check: withinLimits("t_dilation"), when: transposing },
  { key: "t_bias", path: ["transpose", "bias"], type: NUMBER, when: transposing },
  { key: "stage", path: ["ui", "stage"], type: TEXT },
  { key: "step", path: ["ui", "step"], type: NUMBER, clean: (v) => Math.max(0, Math.floor(v)) },
  { key: "zoom", path: ["ui", "zoom"], type: NUMBER, default: UI_DEFAULTS.zoom },
  { key: "digits", path: ["ui", "digits"], type: TEXT, default: UI_DEFAULTS.digits },
  { key: "speed", path: ["ui", "speed"], type: NUMBER, default: UI_DEFAULTS.speed, clean: (v) => Math.min(1, Math.max(0, v)) },
];

/**
 * Query string -> state (unknown or malformed values fall back to the defaults).
 * limits: the server's boot limits (max_filters bounds the filter list, {min, max} of each
 * number its row's check). transpose: the server's {defaults, kernels} of the transposed
 * op. `dropped` gets {key, value, why} of every value refused.
 */
export function stateFromUrl(defaults, search, limits, transpose, dropped = []) {
  const st = createState(defaults, transpose.defaults);
  if (![...new URLSearchParams(search).keys()].length) return st;
  const ctx = {
    ...limits, transposeKernels: transpose.kernels, transposeUpsampling: transpose.upsampling, transposePresetF: transpose.preset_f,
  };
  return readProps(PROPS, search, st, ctx, dropped);
}

/** The address bar kept in line with `st` (../kit/urlstate.js urlSync: sync() and flush()). */
export function urlOf(st) {
  return urlSync(() => writeProps(PROPS, st));
}
