// Explore's second operation: a transposed convolution on the person's image (the mode
// "Transposed convolution" of the Operation panel). This module binds its settings panel
// (kernel, f, stride, pad, output padding, dilation, bias, own numbers) to state.transpose,
// asks POST /api/explore/transpose for the result, puts its view (./convt_view.js) under the
// player, and says what the download menu exports. The conv layer's panels and stages hide
// while it is on. The server computes every number; a refusal is shown in its words.

import { postTranspose, fetchTransposeSteps } from "../kit/api.js";
import { decodeArray } from "../kit/arrays.js";
import { StepStore } from "../kit/steps.js";
import { createConvtView, STAGE } from "./convt_view.js";

const OWN = "own";
const EXAMPLE = 16;
const clone = (x) => JSON.parse(JSON.stringify(x));

/** Own numbers as text: one row of the kernel a line. */
const weightsText = (w) => w.map((row) => row.join(" ")).join("\n");

/** The textarea's rows as numbers, or {error} naming what is not a number. */
function parseWeights(text) {
  const rows = text.trim().split(/\n+/).map((line) => line.trim().split(/[\s,;]+/).filter(Boolean));
  for (const row of rows) {
    for (const t of row) if (!Number.isFinite(Number(t))) return { error: `weights: “${t}” is not a number.` };
  }
  if (!rows.length || !rows[0].length) return { error: "weights: write at least one number." };
  return { weights: rows.map((row) => row.map(Number)) };
}

export function createTransposeOp(app) {
  const { $, state, boot } = app;
  const info = boot.transpose;
  const panel = $("#transpose-settings");
  const errorBox = $("#convt-error");
  const fRow = $("#t-f-row");
  const weightsRow = $("#t-weights-row");
  let controller = null;
  let timer = 0;
  let shown = null; // {answer, store}
  let fellBack = false; // the address's settings were dropped once for the defaults

  const on = () => state.ui.mode === "transpose";
  const upsampling = () => info.upsampling.includes(state.transpose.kernel);

  /** The settings as the server takes them: the image's, and the op's own. */
  function requestSettings() {
    const t = state.transpose;
    const own = Boolean(t.weights);
    return {
      sample: state.settings.sample, size: state.settings.size, color: state.settings.color,
      kernel: own ? null : t.kernel, weights: own ? t.weights : null,
      f: own || upsampling() ? null : t.f,
      stride: t.stride, pad: t.pad, output_padding: t.output_padding, dilation: t.dilation, bias: t.bias,
    };
  }

  function showMode() {
    // the stylesheet hides .conv-only or .transpose-only by the layout's mode
    $("#layout").dataset.mode = state.ui.mode;
    for (const r of app.root.querySelectorAll('input[name="op-mode"]')) r.checked = r.value === state.ui.mode;
  }

  function render() {
    showMode();
    const t = state.transpose;
    $("#t-kernel").value = t.weights ? OWN : t.kernel;
    for (const [id, key] of [["t-f", "f"], ["t-stride", "stride"], ["t-pad", "pad"], ["t-op", "output_padding"], ["t-dilation", "dilation"], ["t-bias", "bias"]]) {
      $(`#${id}`).value = String(t[key] ?? "");
    }
    fRow.hidden = Boolean(t.weights) || upsampling();
    weightsRow.hidden = !t.weights;
    if (t.weights && document.activeElement !== $("#t-weights")) $("#t-weights").value = weightsText(t.weights);
    const fNote = $("#t-f-note");
    fNote.hidden = !upsampling() || !shown;
    if (shown && upsampling()) fNote.textContent = `f = ${shown.answer.geometry.f}, from the stride`;
  }

  function changed() {
    app.url.sync();
    clearTimeout(timer);
    timer = setTimeout(compute, 180);
  }

  function bindNumber(id, key, { float = false } = {}) {
    $(`#${id}`).addEventListener("input", (ev) => {
      const v = Number(ev.target.value);
      if (ev.target.value === "" || !Number.isFinite(v) || (!float && !Number.isInteger(v))) return;
      state.transpose[key] = v;
      changed();
    });
  }

  for (const r of app.root.querySelectorAll('input[name="op-mode"]')) {
    r.addEventListener("change", () => {
      state.ui.mode = r.value;
      state.ui.step = 0;
      app.bar.player.pause();
      render();
      app.url.flush();
      app.loader.compute(); // the op's compute in its mode (loading.js hands it over)
    });
  }
  const kernelSel = $("#t-kernel");
  kernelSel.replaceChildren(...[...info.kernels, OWN].map((k) => {
    const o = document.createElement("option");
    o.value = k;
    o.textContent = k === OWN ? "your own numbers" : k.replace("_", " ");
    return o;
  }));
  kernelSel.addEventListener("change", () => {
    const t = state.transpose;
    if (kernelSel.value === OWN) {
      // start from the kernel on screen, as the server computed it
      t.weights = shown ? clone(shown.answer.kernel) : [[1]];
    } else {
      t.weights = null;
      t.kernel = kernelSel.value;
      if (!upsampling() && t.f == null) t.f = info.preset_f;
    }
    render();
    changed();
  });
  bindNumber("t-f", "f");
  bindNumber("t-stride", "stride");
  bindNumber("t-pad", "pad");
  bindNumber("t-op", "output_padding");
  bindNumber("t-dilation", "dilation");
  bindNumber("t-bias", "bias", { float: true });
  $("#t-weights").addEventListener("input", (ev) => {
    const parsed = parseWeights(ev.target.value);
    if (parsed.error) {
      showError([parsed.error]);
      return;
    }
    state.transpose.weights = parsed.weights;
    changed();
  });

  function showError(messages) {
    $("#convt-error-text").textContent = messages.join(" ");
    $("#convt-stale").hidden = !shown;
    errorBox.hidden = false;
    $("#convt-formula").classList.add("stale");
  }

  async function compute() {
    clearTimeout(timer);
    if (!on()) return;
    if (controller) controller.abort();
    const ac = new AbortController();
    controller = ac;
    const sent = requestSettings();
    app.$("#status").textContent = "Computing…";
    let answer;
    try {
      answer = await postTranspose(sent, state.file, { signal: ac.signal });
    } catch (err) {
      if (err.name === "AbortError") return;
      const messages = err.messages || [String(err.message || err)];
      app.$("#status").textContent = "";
      if (!shown && !fellBack && err.status < 500) {
        // the address's settings were refused before anything was drawn: the defaults
        // instead, and the line above the output says what went and why
        fellBack = true;
        state.transpose = { weights: null, ...clone(info.defaults) };
        app.dropped.add([`the address's transposed-convolution settings were dropped for the defaults: ${messages.join(" ")}`]);
        render();
        app.url.sync();
        compute();
        return;
      }
      showError(messages);
      return;
    }
    if (controller !== ac || !on()) return;
    errorBox.hidden = true;
    $("#convt-formula").classList.remove("stale");
    install(answer, sent);
    app.$("#status").textContent = `Server: decode ${answer.timing_ms.decode.toFixed(0)} ms, compute ${answer.timing_ms.compute.toFixed(0)} ms.`;
  }

  function install(answer, sent) {
    if (shown) shown.store.close();
    const image = { id: answer.id, settings: sent, file: state.file };
    const store = new StepStore(image, {
      pageSize: boot.limits.first_page_steps,
      fetch: fetchTransposeSteps,
      onArrive: () => app.view && app.view.refresh(),
      onError: (err) => showError(err.messages || [String(err)]),
    });
    store.seed(STAGE, answer.steps);
    shown = { answer, store };
    const g = answer.geometry;
    $("#convt-formula").textContent = `${g.formula_H}\n${g.formula_W}`;
    $("#convt-shapes").textContent = `A_prev ${g.n_H_prev} × ${g.n_W_prev} × ${g.n_C} → kernel ${g.f} × ${g.f}, stride ${g.stride}, pad ${g.pad}, output_padding ${g.output_padding[0]}, dilation ${g.dilation} → Z ${g.n_H} × ${g.n_W} × ${g.n_C}`;
    render();
    if (app.view) app.view.destroy();
    const view = createConvtView({
      answer,
      arrays: { input: decodeArray(answer.arrays.input), Z_full: decodeArray(answer.arrays.Z_full) },
      store,
      fmt: () => app.fmt,
      cellFmt: (v) => app.fmt(v),
      jump: (k) => app.bar.jump(k),
    });
    app.view = view;
    view.setZoom(state.ui.zoom);
    const box = $("#view");
    box.replaceChildren(view.el);
    box.dataset.stage = STAGE;
    box.removeAttribute("aria-labelledby");
    app.bar.show(view, Math.max(0, Math.min(view.total - 1, state.ui.step || 0)));
    app.hooks.drawn(answer.id);
    app.hooks.arrays({ complete: true, exact: true });
  }

  /** What "Download animation" exports: core's conv_transpose loop, one frame per input cell. */
  function describeDownload() {
    if (!shown) return null;
    const g = shown.answer.geometry;
    const side = Math.max(2, Math.floor(EXAMPLE / g.stride));
    const big = Math.max(g.n_H_prev, g.n_W_prev) > side;
    const h = big ? side : g.n_H_prev;
    const w = big ? side : g.n_W_prev;
    const where = big
      ? `on a ${h} × ${w} input with your settings (your ${g.n_H_prev} × ${g.n_W_prev} image has too many cells to draw one by one)`
      : `on your ${g.n_H_prev} × ${g.n_W_prev} image's grid`;
    return {
      params: { op: "conv_transpose", h, w, f: g.f, stride: g.stride, pad: g.pad, dilation: g.dilation, output_padding: g.output_padding[0] },
      step: big ? 0 : Math.floor(state.ui.step / g.n_C),
      note: `The transposed convolution's loop, one frame per input cell spreading into its window of the output, ${where}, in the classic colours (the numbers are a fixed example, not your image's).`,
    };
  }

  return { on, render, compute, describeDownload };
}
