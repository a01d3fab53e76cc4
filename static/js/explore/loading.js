// Loading a result: POST /api/image for the current settings (debounced, the older request
// aborted, retried while the server is busy), then the other stages' arrays and their exact
// float32 copies; errors shown in the settings box or under the upload.

import { checkGeometry, fetchArrays, postImage } from "../kit/api.js";
import { lazyArrays } from "../kit/arrays.js";
import { StepStore } from "../kit/steps.js";
import { ALL_ARRAYS, firstArrays, sameStep, stageShape } from "./stages.js";
import { renderGeometry, renderSummary } from "./formulas.js";

const clone = (x) => JSON.parse(JSON.stringify(x));

/**
 * W[:, :, :, c] of every filter in float64, from the first convolution steps (step c is
 * output (0, 0, c), and its record carries the filter's weights as the server computed
 * them): what the kernel editor starts from, so 1/3 stays 0.3333333333333333 and never
 * becomes float32's 0.3333333432674408. null when those records are not in the answer.
 */
function exactWeights(raw) {
  const page = raw.steps && raw.steps.conv_forward;
  const nC = raw.settings.filters.length;
  if (!page || page.offset !== 0) return null;
  const out = [];
  for (const rec of page.steps) {
    if (rec.h === 0 && rec.w === 0 && rec.c < nC) out[rec.c] = rec.weights;
  }
  return out.length === nC && out.every(Boolean) ? out : null;
}
const errorText = (err) => (err.messages ? err.messages.join(" ") : err.message);

/**
 * Returns {compute, requestCompute, cancel, showError, headline}. The parts below: the
 * geometry check before sending, the error display, putting an answer in place (install)
 * and the follow-up arrays.
 */
export function createLoader(app) {
  const { $, state, hooks } = app;
  const statusEl = $("#status");
  const check = geometryCheck(app);
  const errors = errorDisplay(app);
  let inflight = null;
  let pendingTimer = 0;

  function setBusy(on) {
    statusEl.classList.toggle("busy", on);
    if (on) statusEl.textContent = "Computing…";
    else if (statusEl.textContent === "Computing…") statusEl.textContent = "";
  }

  function requestCompute(delay = 180) {
    clearTimeout(pendingTimer);
    pendingTimer = setTimeout(() => compute(), delay);
  }

  /** Stop any request for a result (the form found a bad value). */
  function cancel() {
    clearTimeout(pendingTimer);
    if (inflight) inflight.abort();
    inflight = null;
    setBusy(false);
  }

  async function compute({ fromUpload = false, retries = 0 } = {}) {
    clearTimeout(pendingTimer);
    if (app.op.on()) return app.op.compute(); // the transposed-convolution op asks for itself
    if (inflight) inflight.abort();
    const ac = new AbortController();
    inflight = ac;
    setBusy(true);
    const sent = clone(state.settings);
    const file = state.file;
    const t0 = performance.now();
    const start = fromUpload ? app.uploadChosenAt : t0;
    let raw;
    try {
      const refused = await check.refusal(sent, file, ac.signal);
      if (refused) {
        inflight = null;
        setBusy(false);
        if (!fromUpload && app.dropped.fallback(refused)) {
          // the address's settings do not fit (nothing drawn yet): valid ones instead
          app.form.render();
          app.url.sync();
          compute();
          return;
        }
        if (fromUpload) errors.showError({ messages: [refused.message] }, true);
        else errors.showRefusal(refused);
        return;
      }
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
      errors.showError(err, fromUpload);
      return;
    }
    if (inflight !== ac) return;
    inflight = null;
    install(app, raw, sent, file, start);
    setBusy(false);
    const ms = Math.round(performance.now() - t0);
    statusEl.textContent = `Server: decode ${raw.timing_ms.decode.toFixed(0)} ms, compute ${raw.timing_ms.compute.toFixed(0)} ms; drawn ${ms} ms after asking.`;
    hooks.drawnMs(ms);
    // "convstep-drawn": from asking (or choosing the upload) to the first frame showing it
    requestAnimationFrame(() => performance.measure("convstep-drawn", { start, end: performance.now() }));
  }

  $("#undo-settings").addEventListener("click", () => {
    if (!app.lastGood) return;
    state.settings = clone(app.lastGood.settings);
    state.file = app.lastGood.file;
    app.form.render();
    compute();
  });

  return { compute, requestCompute, cancel, showError: errors.showError, headline: errors.headline };
}

/**
 * Ask /api/geometry first, so settings the server would refuse are shown, never sent:
 * refusal(settings, file, signal) is its answer when they do not fit, else null (also when
 * the check itself failed: then /api/image says).
 */
function geometryCheck(app) {
  const fileSizes = new WeakMap(); // an upload -> its [width, height], or null if unreadable

  /** [width, height] of an uploaded file as decoded (EXIF orientation applied), or null. */
  async function sourceSize(file) {
    if (!fileSizes.has(file)) {
      let size = null;
      try {
        const bmp = await createImageBitmap(file);
        size = [bmp.width, bmp.height];
        bmp.close();
      } catch {
        size = null; // a format this browser cannot decode (TIFF): the server still can
      }
      fileSizes.set(file, size);
    }
    return fileSizes.get(file);
  }

  /**
   * What /api/geometry needs to know of the image: the sample (nothing), an upload's size,
   * or the last answer's working shape at the same size and colour; null when unknown.
   */
  async function imageSize(file, settings) {
    if (!file) return {};
    const source = await sourceSize(file);
    if (source) return { source };
    const cur = app.current;
    if (cur && cur.image.file === file && cur.raw.settings.size === settings.size && cur.raw.settings.color === settings.color) {
      return { shape: [cur.raw.geometry.conv.n_H_prev, cur.raw.geometry.conv.n_W_prev] };
    }
    return null;
  }

  async function refusal(settings, file, signal) {
    const image = await imageSize(file, settings);
    if (signal.aborted) throw new DOMException("superseded", "AbortError");
    if (image === null) return null;
    let answer;
    try {
      answer = await checkGeometry(settings, image, { signal });
    } catch (err) {
      if (err.name === "AbortError") throw err;
      return null;
    }
    if (signal.aborted) throw new DOMException("superseded", "AbortError");
    return answer.fits ? null : answer;
  }

  return { refusal };
}

/**
 * Where errors show: headline(text) above the formulas, showRefusal(check) for a refusal
 * /api/geometry foresaw, showError(err, fromUpload) in the settings box or under the upload.
 */
function errorDisplay(app) {
  const { $, state } = app;

  /** The headline above the formulas says the settings do not work, and what would. */
  function headline(text) {
    const out = $("#geo-out");
    out.textContent = text;
    out.classList.add("bad");
    $("#geometry-body").classList.add("stale");
  }

  /**
   * A refusal /api/geometry foresaw: its message in the red box, its advice (each setting's
   * range that would fit, from core) in the headline, which names each setting.
   */
  function showRefusal(check) {
    const advice = check.advice.map((a) => a.text.replace("<=", "≤").replace(">=", "≥"));
    const list = advice.length > 1 ? `${advice.slice(0, -1).join(", ")} or ${advice[advice.length - 1]}` : advice[0];
    showError({ messages: [check.message] }, false);
    const what = check.code === "geometry" ? "These settings do not fit" : "These settings cannot be computed";
    headline(advice.length ? `${what}: use ${list}.` : `${what}.`);
  }

  function showError(err, fromUpload) {
    const msg = err.messages
      ? err.messages.join(" ")
      : `Cannot reach the convstep server (${err.message || err}). Is it still running?`;
    if (fromUpload) {
      const uploadError = $("#upload-error");
      uploadError.textContent = msg;
      uploadError.hidden = false;
      // keep showing the image that worked
      state.file = app.lastGood ? app.lastGood.file : null;
      app.form.render();
      return;
    }
    $("#settings-error-text").textContent = msg;
    headline("These settings cannot be computed.");
    $("#size-summary").textContent = "These settings do not fit: see Output size above.";
    $("#size-summary").classList.add("bad");
    $("#settings-error").hidden = false;
    $("#view").classList.add("stale");
    $("#stale-note").hidden = !app.current;
    $("#undo-settings").hidden = !app.lastGood;
    if (!app.current) $("#view").replaceChildren();
  }

  return { headline, showRefusal, showError };
}

/** The step records of an answer, fetched a page at a time (kit/steps.js), seeded with its first pages. */
function stepStore(app, raw, sent, file) {
  const image = { id: raw.id, settings: raw.settings, requestSettings: sent, file };
  const store = new StepStore(image, {
    pageSize: app.limits.first_page_steps, // the length of the pages /api/image sends
    onArrive: (stage) => {
      if (app.view && app.view.stage === stage) {
        app.view.refresh();
        if (!app.bar.player.playing) app.bar.announce();
      }
    },
    onError: (err) => {
      app.$("#status").textContent = `Could not fetch steps: ${errorText(err)}`;
    },
  });
  for (const [stage, page] of Object.entries(raw.steps || {})) store.seed(stage, page);
  return { image, store };
}

/** Put an /api/image answer in place: the current result, the form, the formulas, the stage. */
function install(app, raw, sent, file, askedAt) {
  const { $, state } = app;
  // the output position shown, to keep across a change of geometry
  const before = app.current ? { stage: state.ui.stage, shape: stageShape(app.current.raw, state.ui.stage) } : null;
  if (app.current) app.current.store.close();
  const { image, store } = stepStore(app, raw, sent, file);
  const cur = { image, raw, arrays: lazyArrays(raw.arrays), store, askedAt, pending: null };
  app.current = cur;
  app.lastGood = { settings: clone(sent), file };
  $("#settings-error").hidden = true;
  $("#upload-error").hidden = true;
  $("#geo-out").classList.remove("bad");
  $("#geometry-body").classList.remove("stale");
  $("#view").classList.remove("stale");
  $("#stale-note").hidden = true;
  const W = cur.arrays.get("W");
  app.form.render(W, exactWeights(raw));
  renderGeometry($("#geometry-body"), $("#geo-out"), raw, W);
  renderSummary($("#size-summary"), raw, W);
  app.stages.renderTabs(raw.stages);
  openStage(app, raw, W, before);
  $("#source-name").textContent = file ? `Showing your image${file.name ? ` “${file.name}”` : ""}. (Links and reloads open the sample.)` : "";
  app.use.render();
  app.url.sync();
  fetchRest(app, cur);
  app.hooks.drawn(raw.id);
}

/**
 * The stage to show for a new answer: a first visit (no state in the URL) opens mid-sweep
 * on the convolution and plays it; otherwise the stage shown, at the same (h, w, c) on the
 * new output (clamped), not the same step number.
 */
function openStage(app, raw, W, before) {
  const { state } = app;
  if (app.firstVisit) {
    app.firstVisit = false;
    const g = raw.geometry.conv;
    app.stages.show("conv_forward", Math.floor(g.n_H * 0.35) * g.n_W * W.shape[3]);
    if (!window.matchMedia("(prefers-reduced-motion: reduce)").matches) app.bar.player.play();
    return;
  }
  const stage = raw.stages.includes(state.ui.stage) ? state.ui.stage : "conv_forward";
  const step = before && before.stage === stage ? sameStep(state.ui.step, before.shape, stageShape(raw, stage)) : state.ui.step;
  app.stages.show(stage, step);
}

/**
 * The first answer carries only the arrays of the stage being opened: fetch all the
 * others (display encoding: colours, exact where the contract's rules allow), then draw a
 * stage that was waiting for them, then fetch exact numbers (fetchExact).
 */
function fetchRest(app, cur) {
  const { $, hooks } = app;
  const names = ALL_ARRAYS.filter((n) => !cur.arrays.has(n));
  hooks.arrays({ complete: !names.length, exact: false });
  if (!names.length) {
    fetchExact(app, cur);
    return;
  }
  fetchArrays(cur.image, names, { display: true })
    .then((res) => {
      if (app.current !== cur) return;
      cur.arrays.replace(res.arrays);
      hooks.arrays({ complete: true });
      app.stages.redrawIfUses(Object.keys(res.arrays));
      fetchExact(app, cur);
    })
    .catch((err) => {
      if (app.current !== cur) return;
      const statusEl = $("#status");
      statusEl.textContent = `Could not fetch the other stages' arrays (${errorText(err)}).`;
      if (cur.pending) $("#view").firstChild.textContent = statusEl.textContent;
    });
}

/** Float32 copies of the arrays whose numbers are only approximate, then a redraw. */
function fetchExact(app, cur) {
  const { hooks } = app;
  const names = cur.arrays.approximate();
  hooks.arrays({ exact: !names.length });
  if (!names.length) return;
  fetchArrays(cur.image, names)
    .then((res) => {
      if (app.current !== cur) return;
      cur.arrays.replace(res.arrays);
      app.stages.redrawIfUses(Object.keys(res.arrays));
      hooks.arrays({ exact: !cur.arrays.approximate().length });
      requestAnimationFrame(() => performance.measure("convstep-exact", { start: cur.askedAt, end: performance.now() }));
    })
    .catch((err) => {
      if (app.current === cur) app.$("#status").textContent = `Numbers on the maps are rounded to their colours (${err.message}).`;
    });
}
