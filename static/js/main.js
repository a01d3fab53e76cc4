// The page: reads the boot data, restores the state from the URL, asks the server for the
// layer, and wires settings, stages, the player, uploads and the "Use it yourself" panel.

import { fetchArrays, postImage } from "./api.js";
import { lazyArrays, makeFormatter } from "./arrays.js";
import { Player } from "./player.js";
import { createSettingsForm } from "./settings.js";
import { flushUrl, stateFromUrl, syncUrl } from "./state.js";
import { StepStore } from "./steps.js";
import { curlSnippet, pythonSnippet, torchSnippet } from "./snippets.js";
import { layerShapes, renderGeometry } from "./geometry.js";
import { createPadView } from "./views/pad.js";
import { createConvView } from "./views/conv.js";
import { createReluView } from "./views/relu.js";
import { createPoolView } from "./views/pool.js";
import { createConvBackwardView, createPoolBackwardView } from "./views/backward.js";

// `uses`: the arrays each view reads (arrays.get); the first /api/image asks only for
// those of the stage being opened (plus ALWAYS), the rest follow in one /api/arrays.
const STAGES = {
  pad: { label: "Pad", make: createPadView, uses: ["input", "padded"] },
  conv_forward: { label: "Convolution", make: createConvView, uses: ["padded", "Z"] },
  relu: { label: "ReLU", make: createReluView, uses: ["Z", "A"] },
  pool_forward: { label: "Pooling", make: createPoolView, uses: ["A", "pooled"] },
  pool_backward: { label: "Pool backward", make: createPoolBackwardView, uses: ["dA", "dA_pool"] },
  conv_backward: {
    label: "Conv backward", make: createConvBackwardView, uses: ["dZ", "padded", "W", "dA_prev", "dW", "db"],
  },
};
// W: the filter form shows it, and its shape gives the channel counts for the shapes panel
const ALWAYS = ["W"];
// every array the server may answer with (docs/CONTRACT.md), fetched after the first draw
const ALL_ARRAYS = ["input", "padded", "W", "b", "Z", "A", "pooled", "pool_mask", "dA", "dA_pool", "dZ", "dA_prev", "dW", "db"];

/** The arrays the first /api/image asks for when `stage` is to be opened. */
function firstArrays(stage) {
  const uses = (STAGES[stage] || STAGES.conv_forward).uses;
  return ALL_ARRAYS.filter((n) => ALWAYS.includes(n) || uses.includes(n));
}

const $ = (id) => document.getElementById(id);
const boot = JSON.parse($("boot").textContent);
const limits = boot.limits || {};

function cleanFilters(filters) {
  return filters.map((fl) => (fl.preset ? { preset: fl.preset, bias: fl.bias || 0 } : { weights: fl.weights, bias: fl.bias || 0 }));
}
const defaults = { ...boot.default_settings, filters: cleanFilters(boot.default_settings.filters) };
const state = stateFromUrl(defaults, window.location.search);
// A first visit (no state in the URL) opens mid-sweep on the convolution and plays it.
let firstVisit = !window.location.search;
if (!(boot.samples || []).some((s) => s.name === state.settings.sample)) state.settings.sample = defaults.sample;

let current = null; // {image, raw, arrays, store}
let view = null;
let lastGood = null; // {settings, file} that the server accepted
let inflight = null;
let pendingTimer = 0;
let fmt = makeFormatter(state.ui.digits);

const ctx = {
  fmt: () => fmt,
  cellFmt: (v) => fmt(v),
  jump: (k) => {
    player.pause();
    player.seek(k);
  },
  isPlaying: () => player.playing,
};

/* ------------------------------------------------------------------ player */

const playBtn = $("btn-play");
const scrub = $("scrub");
const stepLabel = $("step-label");
const speed = $("speed");
const speedOut = $("speed-out");
let announceTimer = 0;

const player = new Player({
  onStep(k, playing) {
    state.ui.step = k;
    if (view) view.render(k, playing);
    scrub.value = String(k);
    stepLabel.textContent = view && view.total ? `step ${k + 1} of ${view.total} · ${view.position(k)}` : "";
    document.body.dataset.step = String(k);
    if (!playing) {
      syncUrl(state);
      clearTimeout(announceTimer);
      announceTimer = setTimeout(announce, 200);
    }
  },
  onPlayChange(playing) {
    playBtn.textContent = playing ? "Pause" : "Play";
    playBtn.setAttribute("aria-label", playing ? "Pause" : "Play");
    playBtn.classList.toggle("playing", playing);
    document.body.dataset.playing = playing ? "1" : "0";
    if (!playing) {
      syncUrl(state);
      announce();
    } else {
      $("live").textContent = "Playing.";
    }
  },
});

function announce() {
  if (!view) return;
  $("live").textContent = view.describe(state.ui.step) || "";
}

function speedText() {
  const r = player.rate();
  const sweep = view && view.total ? view.total / r : 0;
  const rate = r >= 100 ? `${Math.round(r).toLocaleString("en")}` : r >= 10 ? r.toFixed(0) : r.toFixed(1);
  return `${rate} steps/s${sweep ? ` · whole stage in ${sweep >= 120 ? `${Math.round(sweep / 60)} min` : `${Math.max(1, Math.round(sweep))} s`}` : ""}`;
}

playBtn.addEventListener("click", () => player.toggle());
$("btn-back").addEventListener("click", () => player.stepBy(-1));
$("btn-fwd").addEventListener("click", () => player.stepBy(1));
$("btn-first").addEventListener("click", () => ctx.jump(0));
$("btn-last").addEventListener("click", () => ctx.jump(player.total - 1));
scrub.addEventListener("input", () => {
  player.pause();
  player.seek(Number(scrub.value));
});
speed.value = String(Math.round(state.ui.speed * 1000));
player.setSpeed(state.ui.speed);
speed.addEventListener("input", () => {
  state.ui.speed = Number(speed.value) / 1000;
  player.setSpeed(state.ui.speed);
  speedOut.textContent = speedText();
  syncUrl(state);
});
const zoomSel = $("zoom");
zoomSel.value = String(state.ui.zoom);
if (zoomSel.value === "") zoomSel.value = "1";
zoomSel.addEventListener("change", () => {
  state.ui.zoom = Number(zoomSel.value);
  if (view) {
    view.setZoom(state.ui.zoom);
    view.render(state.ui.step, false);
  }
  syncUrl(state);
});
const digitsSel = $("digits");
digitsSel.value = state.ui.digits;
if (digitsSel.value === "") digitsSel.value = "4";
digitsSel.addEventListener("change", () => {
  state.ui.digits = digitsSel.value;
  fmt = makeFormatter(state.ui.digits);
  if (view) view.render(state.ui.step, false);
  syncUrl(state);
});

const EDITABLE = new Set(["INPUT", "SELECT", "TEXTAREA"]);
document.addEventListener("keydown", (ev) => {
  if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const t = ev.target;
  const tag = t && t.tagName;
  if (t && t.getAttribute && t.getAttribute("role") === "tab" && (ev.key === "ArrowLeft" || ev.key === "ArrowRight")) {
    const tabs = [...document.querySelectorAll("#stage-tabs [role=tab]")];
    const i = tabs.indexOf(t);
    const next = tabs[(i + (ev.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    next.focus();
    next.click();
    ev.preventDefault();
    return;
  }
  const isRange = tag === "INPUT" && t.type === "range";
  if ((EDITABLE.has(tag) && !(isRange && ev.key === " ")) || (t && t.isContentEditable)) return;
  if (!view || !view.total) return;
  if (ev.key === " " || ev.key === "Spacebar") {
    if (tag === "BUTTON" || tag === "A" || tag === "SUMMARY") return; // Space presses those
    player.toggle();
    ev.preventDefault();
  } else if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
    const d = (ev.key === "ArrowRight" ? 1 : -1) * (ev.shiftKey ? 10 : 1);
    player.stepBy(d);
    ev.preventDefault();
  } else if (ev.key === "Home") {
    ctx.jump(0);
    ev.preventDefault();
  } else if (ev.key === "End") {
    ctx.jump(player.total - 1);
    ev.preventDefault();
  }
});

/* ------------------------------------------------------------------ stages */

function renderTabs(stages) {
  const box = $("stage-tabs");
  box.replaceChildren();
  stages.forEach((st, i) => {
    const info = STAGES[st];
    if (!info) return;
    const b = document.createElement("button");
    b.type = "button";
    b.setAttribute("role", "tab");
    b.id = `tab-${st}`;
    b.dataset.stage = st;
    b.setAttribute("aria-controls", "view");
    const n = document.createElement("span");
    n.className = "tab-n";
    n.textContent = String(i + 1);
    b.append(n, document.createTextNode(info.label));
    if (st === "pool_backward") b.classList.add("backward-first");
    b.addEventListener("click", () => {
      if (state.ui.stage === st) return;
      player.pause();
      showStage(st, 0);
      syncUrl(state);
    });
    box.append(b);
  });
}

function selectTab(stage) {
  document.querySelectorAll("#stage-tabs [role=tab]").forEach((b) => {
    const on = b.dataset.stage === stage;
    b.setAttribute("aria-selected", String(on));
    b.tabIndex = on ? 0 : -1;
  });
}

/** A stage whose arrays are still on their way: a note, no player; drawn when they arrive. */
function showPending(stage, step) {
  const note = document.createElement("p");
  note.className = "loading";
  note.textContent = `Fetching the arrays of ${STAGES[stage].label}…`;
  $("view").replaceChildren(note);
  $("view").dataset.stage = stage;
  $("view").dataset.pending = "1";
  $("view").setAttribute("aria-labelledby", `tab-${stage}`);
  for (const id of ["player-buttons", "scrub-row", "speed-group"]) $(id).hidden = true;
  player.setTotal(0);
  stepLabel.textContent = "";
  state.ui.step = step || 0;
  current.pending = { stage, step: step || 0 };
}

function showStage(stage, step) {
  if (view) view.destroy();
  view = null;
  const info = STAGES[stage];
  state.ui.stage = stage;
  if (!info.uses.every((n) => current.arrays.has(n))) {
    showPending(stage, step);
    selectTab(stage);
    return;
  }
  current.pending = null;
  delete $("view").dataset.pending;
  view = info.make({ ...ctx, arrays: current.arrays, geometry: current.raw.geometry, settings: current.raw.settings, store: current.store });
  view.setZoom(state.ui.zoom);
  $("view").replaceChildren(view.el);
  $("view").dataset.stage = stage;
  $("view").setAttribute("aria-labelledby", `tab-${stage}`);
  selectTab(stage);
  const has = view.total > 0;
  // a stage without steps (Pad) keeps zoom, digits and the sizes; its player controls go
  for (const id of ["player-buttons", "scrub-row", "speed-group"]) $(id).hidden = !has;
  scrub.max = String(Math.max(0, view.total - 1));
  player.setTotal(view.total);
  speedOut.textContent = speedText();
  const k = Math.max(0, Math.min(view.total - 1, step || 0));
  state.ui.step = has ? k : 0;
  if (has) player.seek(k);
  else {
    stepLabel.textContent = "";
    announce();
  }
}

/* ------------------------------------------------------------------ compute */

const statusEl = $("status");
const settingsError = $("settings-error");
const uploadError = $("upload-error");

function setBusy(on) {
  document.body.dataset.busy = on ? "1" : "0";
  if (on) statusEl.textContent = "Computing…";
  else if (statusEl.textContent === "Computing…") statusEl.textContent = "";
}

function requestCompute(delay = 180) {
  clearTimeout(pendingTimer);
  pendingTimer = setTimeout(() => compute(), delay);
}

async function compute({ fromUpload = false, retries = 0 } = {}) {
  clearTimeout(pendingTimer);
  if (inflight) inflight.abort();
  const ac = new AbortController();
  inflight = ac;
  setBusy(true);
  const sent = JSON.parse(JSON.stringify(state.settings));
  const file = state.file;
  const t0 = performance.now();
  let raw;
  try {
    raw = await postImage(sent, file, { signal: ac.signal, arrays: firstArrays(state.ui.stage) });
  } catch (err) {
    if (err.name === "AbortError") return;
    inflight = null;
    if (err.status === 503 && retries < 3) {
      // the server is busy with other work: ask again shortly, as its Retry-After says
      statusEl.textContent = "The server is busy; trying again…";
      pendingTimer = setTimeout(() => compute({ fromUpload, retries: retries + 1 }), 800 * (retries + 1));
      return;
    }
    setBusy(false);
    showError(err, fromUpload);
    return;
  }
  if (inflight !== ac) return;
  inflight = null;
  install(raw, sent, file, fromUpload ? uploadChosenAt : t0);
  setBusy(false);
  const ms = Math.round(performance.now() - t0);
  statusEl.textContent = `Server: decode ${raw.timing_ms.decode.toFixed(0)} ms, compute ${raw.timing_ms.compute.toFixed(0)} ms; drawn ${ms} ms after asking.`;
  document.body.dataset.drawnMs = String(ms);
  // "convstep-drawn": from asking (or choosing the upload) to the first frame showing it
  requestAnimationFrame(() => {
    performance.measure("convstep-drawn", { start: fromUpload ? uploadChosenAt : t0, end: performance.now() });
  });
}

function showError(err, fromUpload) {
  const msg = err.messages
    ? err.messages.join(" ")
    : `Cannot reach the convstep server (${err.message || err}). Is it still running?`;
  if (fromUpload) {
    uploadError.textContent = msg;
    uploadError.hidden = false;
    // keep showing the image that worked
    state.file = lastGood ? lastGood.file : null;
    form.render();
    return;
  }
  $("settings-error-text").textContent = msg;
  $("size-summary").textContent = "These settings do not fit: see Output size above.";
  $("size-summary").classList.add("bad");
  settingsError.hidden = false;
  document.body.dataset.settingsError = "1";
  $("view").classList.add("stale");
  $("stale-note").hidden = !current;
  $("undo-settings").hidden = !lastGood;
  if (!current) $("view").replaceChildren();
}

/** Redraws the current stage (keeping the step and playing) if it reads any of `names`. */
function redrawIfUses(names) {
  const wasPlaying = player.playing;
  if (current.pending) {
    showStage(current.pending.stage, current.pending.step);
  } else if (STAGES[state.ui.stage].uses.some((n) => names.includes(n))) {
    showStage(state.ui.stage, state.ui.step);
  } else return;
  if (wasPlaying) player.play();
}

/**
 * The first answer carries only the arrays of the stage being opened: fetch all the
 * others (display encoding: colours, exact where the contract's rules allow), then draw a
 * stage that was waiting for them, then fetch exact numbers (fetchExact).
 */
function fetchRest(cur) {
  const names = ALL_ARRAYS.filter((n) => !cur.arrays.has(n));
  document.body.dataset.exact = "0";
  document.body.dataset.complete = names.length ? "0" : "1";
  if (!names.length) {
    fetchExact(cur);
    return;
  }
  fetchArrays(cur.image, names, { display: true })
    .then((res) => {
      if (current !== cur) return;
      cur.arrays.replace(res.arrays);
      document.body.dataset.complete = "1";
      redrawIfUses(Object.keys(res.arrays));
      fetchExact(cur);
    })
    .catch((err) => {
      if (current !== cur) return;
      statusEl.textContent = `Could not fetch the other stages' arrays (${err.messages ? err.messages.join(" ") : err.message}).`;
      if (cur.pending) $("view").firstChild.textContent = statusEl.textContent;
    });
}

/**
 * Fetch float32 copies of the arrays whose numbers are only approximate (display
 * encoding), then redraw the view with the exact numbers.
 */
function fetchExact(cur) {
  const names = cur.arrays.approximate();
  document.body.dataset.exact = names.length ? "0" : "1";
  if (!names.length) return;
  fetchArrays(cur.image, names)
    .then((res) => {
      if (current !== cur) return;
      cur.arrays.replace(res.arrays);
      redrawIfUses(Object.keys(res.arrays));
      document.body.dataset.exact = cur.arrays.approximate().length ? "0" : "1";
      requestAnimationFrame(() => {
        performance.measure("convstep-exact", { start: cur.askedAt, end: performance.now() });
      });
    })
    .catch((err) => {
      if (current === cur) statusEl.textContent = `Numbers on the maps are rounded to their colours (${err.message}).`;
    });
}

/** The sizes through the layer, kept in the sticky player bar so they stay on screen. */
function renderSummary(raw, W) {
  const g = raw.geometry;
  const shapes = layerShapes(raw, W);
  const sh = (name) => (shapes[name] ? shapes[name].join("×") : "");
  const parts = [`A_prev ${sh("input")}`, `pad ${g.conv.pad} → ${sh("padded")}`, `Z ${sh("Z")}`];
  if (g.pool) parts.push(`pool ${sh("pooled")}`);
  const box = $("size-summary");
  box.classList.remove("bad");
  box.textContent = `${parts.join(" → ")} · n_H = ${g.conv.formula_H.split(" = ").slice(2).join(" = ")}`;
  box.title = g.conv.formula_H;
}

function install(raw, sent, file, askedAt = performance.now()) {
  if (current) current.store.close();
  const image = { id: raw.id, settings: raw.settings, requestSettings: sent, file };
  const store = new StepStore(image, {
    pageSize: Math.min(64, limits.max_steps_per_page || 64),
    onArrive: (stage) => {
      if (view && view.stage === stage) {
        view.refresh();
        if (!player.playing) announce();
      }
    },
    onError: (err) => {
      statusEl.textContent = `Could not fetch steps: ${err.messages ? err.messages.join(" ") : err.message}`;
    },
  });
  for (const [stage, page] of Object.entries(raw.steps || {})) store.seed(stage, page);
  current = { image, raw, arrays: lazyArrays(raw.arrays), store, askedAt, pending: null };
  lastGood = { settings: JSON.parse(JSON.stringify(sent)), file };
  settingsError.hidden = true;
  uploadError.hidden = true;
  document.body.dataset.settingsError = "0";
  $("view").classList.remove("stale");
  $("stale-note").hidden = true;
  form.render(current.arrays.get("W"));
  renderGeometry($("geometry-body"), raw, current.arrays);
  renderSummary(raw, current.arrays.get("W"));
  renderTabs(raw.stages);
  const stage = raw.stages.includes(state.ui.stage) ? state.ui.stage : "conv_forward";
  if (firstVisit) {
    firstVisit = false;
    const g = raw.geometry.conv;
    const nC = current.arrays.get("W").shape[3];
    showStage("conv_forward", Math.floor(g.n_H * 0.35) * g.n_W * nC);
    if (!window.matchMedia("(prefers-reduced-motion: reduce)").matches) player.play();
  } else {
    showStage(stage, state.ui.step);
  }
  $("source-name").textContent = file ? `Showing your image${file.name ? ` “${file.name}”` : ""}. (Links and reloads open the sample.)` : "";
  renderSnippet();
  syncUrl(state);
  document.body.dataset.imageId = raw.id;
  document.body.dataset.ready = "1";
  fetchRest(current);
  document.body.dataset.renders = String(Number(document.body.dataset.renders || 0) + 1);
}

$("undo-settings").addEventListener("click", () => {
  if (!lastGood) return;
  state.settings = JSON.parse(JSON.stringify(lastGood.settings));
  state.file = lastGood.file;
  form.render();
  compute();
});

/* ------------------------------------------------------------------ settings */

const form = createSettingsForm({
  root: $("settings"),
  boot,
  state,
  onChange: () => {
    syncUrl(state);
    renderSnippet();
    requestCompute();
  },
  onInvalid: (message) => {
    clearTimeout(pendingTimer);
    if (inflight) inflight.abort();
    inflight = null;
    setBusy(false);
    showError({ messages: [message] }, false);
  },
  onSample: (name) => {
    state.settings.sample = name;
    state.file = null;
    uploadError.hidden = true;
    form.render();
    compute();
  },
});
form.render();

/* ------------------------------------------------------------------ uploads */

let uploadChosenAt = 0;
function useFile(file) {
  if (!file) return;
  uploadChosenAt = performance.now();
  uploadError.hidden = true;
  if (limits.max_upload_bytes && file.size > limits.max_upload_bytes) {
    uploadError.textContent = `This file is ${(file.size / 1048576).toFixed(1)} MB; the server takes at most ${(limits.max_upload_bytes / 1048576).toFixed(1)} MB.`;
    uploadError.hidden = false;
    return;
  }
  state.file = file;
  form.render();
  compute({ fromUpload: true });
}

$("upload").addEventListener("change", (ev) => {
  useFile(ev.target.files[0]);
  ev.target.value = "";
});
const dropZone = $("drop-overlay");
let dragDepth = 0;
document.addEventListener("dragenter", (ev) => {
  if (![...(ev.dataTransfer?.types || [])].includes("Files")) return;
  dragDepth += 1;
  dropZone.hidden = false;
});
document.addEventListener("dragleave", () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) dropZone.hidden = true;
});
document.addEventListener("dragover", (ev) => {
  if ([...(ev.dataTransfer?.types || [])].includes("Files")) ev.preventDefault();
});
document.addEventListener("drop", (ev) => {
  dragDepth = 0;
  dropZone.hidden = true;
  const file = ev.dataTransfer && ev.dataTransfer.files[0];
  if (!file) return;
  ev.preventDefault();
  useFile(file);
});
document.addEventListener("paste", (ev) => {
  const t = ev.target;
  if (t && EDITABLE.has(t.tagName)) return;
  const items = [...(ev.clipboardData?.items || [])];
  const item = items.find((i) => i.kind === "file" && i.type.startsWith("image/"));
  if (!item) return;
  ev.preventDefault();
  const blob = item.getAsFile();
  useFile(new File([blob], blob.name || "pasted.png", { type: blob.type }));
});

/* ------------------------------------------------------------------ use it yourself */

let snippetKind = "python";
function renderSnippet() {
  const st = state.settings;
  const name = state.file ? state.file.name || "image.png" : null;
  let text;
  if (snippetKind === "python") text = pythonSnippet(st, name);
  else if (snippetKind === "curl") text = curlSnippet(st, name, current ? current.image.id : null);
  else text = torchSnippet(st, name);
  $("snippet-code").textContent = text;
  document.querySelectorAll("#snippet-tabs [role=tab]").forEach((b) => {
    const on = b.dataset.kind === snippetKind;
    b.setAttribute("aria-selected", String(on));
    b.tabIndex = on ? 0 : -1;
  });
}
document.querySelectorAll("#snippet-tabs [role=tab]").forEach((b) =>
  b.addEventListener("click", () => {
    snippetKind = b.dataset.kind;
    $("copy-status").textContent = "";
    renderSnippet();
  }),
);
$("copy-snippet").addEventListener("click", async () => {
  const text = $("snippet-code").textContent;
  try {
    await navigator.clipboard.writeText(text);
    $("copy-status").textContent = "Copied.";
  } catch {
    const range = document.createRange();
    range.selectNodeContents($("snippet-code"));
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    const ok = document.execCommand && document.execCommand("copy");
    $("copy-status").textContent = ok ? "Copied." : "Selected: press Ctrl+C to copy.";
  }
});
$("copy-link").addEventListener("click", async () => {
  flushUrl(state);
  try {
    await navigator.clipboard.writeText(window.location.href);
    $("copy-link-status").textContent = "Link copied.";
  } catch {
    $("copy-link-status").textContent = "Copy the address bar: it holds this view.";
  }
});

/* ------------------------------------------------------------------ go */

compute();
