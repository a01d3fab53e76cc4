// One state object for the page, kept in the URL so a reload or a shared link restores the
// same view: the layer's settings, the stage, the step, and the display choices.

const UI_DEFAULTS = { stage: "conv_forward", step: 0, zoom: 1, digits: "4", speed: 0.7 };

function clone(x) {
  return JSON.parse(JSON.stringify(x));
}

/** The page state: `settings` (sent to the server as is), `ui`, and the uploaded file. */
export function createState(defaults) {
  return {
    settings: clone(defaults),
    ui: { ...UI_DEFAULTS },
    file: null, // a Blob when the user uploaded or pasted an image
  };
}

function num(v, fallback) {
  if (v === null || v === undefined || v === "") return fallback;
  const n = Number(v);
  return Number.isFinite(n) ? n : fallback;
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
  const need = perChannel ? f * f * C : f * f;
  if (vals.length !== need) return null;
  const weights = [];
  let k = 0;
  for (let i = 0; i < f; i += 1) {
    const row = [];
    for (let j = 0; j < f; j += 1) {
      if (perChannel) {
        const cell = [];
        for (let c = 0; c < C; c += 1) cell.push(vals[k++]);
        row.push(cell);
      } else row.push(vals[k++]);
    }
    weights.push(row);
  }
  return { weights };
}

/** Query string -> state (unknown or malformed values fall back to the defaults). */
export function stateFromUrl(defaults, search) {
  const st = createState(defaults);
  const q = new URLSearchParams(search);
  if (![...q.keys()].length) return st;
  const s = st.settings;
  if (q.has("sample")) s.sample = q.get("sample");
  s.size = num(q.get("size"), s.size);
  if (q.get("color") === "gray" || q.get("color") === "rgb") s.color = q.get("color");
  s.f = num(q.get("f"), s.f);
  s.stride = num(q.get("stride"), s.stride);
  s.pad = num(q.get("pad"), s.pad);
  if (q.has("pad_mode")) s.pad_mode = q.get("pad_mode");
  s.pad_value = num(q.get("pad_value"), s.pad_value);
  s.dilation = num(q.get("dilation"), s.dilation);
  if (q.has("relu")) s.relu = q.get("relu") !== "0";
  if (q.has("pool")) {
    const mode = q.get("pool");
    if (mode === "none") s.pool = null;
    else {
      const base = s.pool || { mode: "max", f: 2, stride: 2, tie_rule: "first" };
      s.pool = {
        mode: mode === "average" ? "average" : "max",
        f: num(q.get("pool_f"), base.f),
        stride: num(q.get("pool_stride"), base.stride),
        tie_rule: q.get("tie") || base.tie_rule || "first",
      };
    }
  }
  if (q.has("up")) s.upstream = { kind: q.get("up"), seed: num(q.get("seed"), 0) };
  const C = s.color === "rgb" ? 3 : 1;
  const filters = [];
  for (let i = 0; i < 8 && q.has(`k${i}`); i += 1) {
    const fl = decodeFilter(q.get(`k${i}`), s.f, C);
    if (!fl) break;
    fl.bias = num(q.get(`b${i}`), 0);
    filters.push(fl);
  }
  if (filters.length) s.filters = filters;
  const ui = st.ui;
  if (q.has("stage")) ui.stage = q.get("stage");
  ui.step = Math.max(0, Math.floor(num(q.get("step"), 0)));
  ui.zoom = num(q.get("zoom"), ui.zoom);
  if (q.has("digits")) ui.digits = q.get("digits");
  ui.speed = Math.min(1, Math.max(0, num(q.get("speed"), ui.speed)));
  return st;
}

/** State -> query string. */
export function stateToQuery(st) {
  const s = st.settings;
  const q = new URLSearchParams();
  if (s.sample) q.set("sample", s.sample);
  q.set("size", s.size);
  q.set("color", s.color);
  q.set("f", s.f);
  q.set("stride", s.stride);
  q.set("pad", s.pad);
  q.set("pad_mode", s.pad_mode);
  if (s.pad_mode === "constant") q.set("pad_value", s.pad_value);
  q.set("dilation", s.dilation);
  s.filters.forEach((fl, i) => {
    q.set(`k${i}`, encodeFilter(fl));
    q.set(`b${i}`, fl.bias || 0);
  });
  q.set("relu", s.relu ? "1" : "0");
  if (s.pool) {
    q.set("pool", s.pool.mode);
    q.set("pool_f", s.pool.f);
    q.set("pool_stride", s.pool.stride);
    if (s.pool.mode === "max") q.set("tie", s.pool.tie_rule);
  } else q.set("pool", "none");
  q.set("up", s.upstream.kind);
  if (s.upstream.kind === "random") q.set("seed", s.upstream.seed);
  q.set("stage", st.ui.stage);
  q.set("step", st.ui.step);
  if (st.ui.zoom !== 1) q.set("zoom", st.ui.zoom);
  if (st.ui.digits !== UI_DEFAULTS.digits) q.set("digits", st.ui.digits);
  if (st.ui.speed !== UI_DEFAULTS.speed) q.set("speed", st.ui.speed);
  return q.toString();
}

let pending = 0;
/** Replace the URL with the state (coalesced to one history write per 150 ms). */
export function syncUrl(st) {
  clearTimeout(pending);
  pending = setTimeout(() => {
    const url = `${window.location.pathname}?${stateToQuery(st)}`;
    if (url !== `${window.location.pathname}${window.location.search}`) {
      window.history.replaceState(null, "", url);
    }
  }, 150);
}

/** Writes the URL now (before a test or a copy reads it). */
export function flushUrl(st) {
  clearTimeout(pending);
  window.history.replaceState(null, "", `${window.location.pathname}?${stateToQuery(st)}`);
}
