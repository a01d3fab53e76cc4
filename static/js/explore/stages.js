// The stages of the layer: which view draws each, which arrays it reads, the stage tabs,
// and putting a stage's view in place (or a "fetching" note while its arrays travel).

import { createPadView } from "../kit/views/pad.js";
import { createConvView } from "../kit/views/conv.js";
import { createReluView } from "../kit/views/relu.js";
import { createPoolView } from "../kit/views/pool.js";
import { createPoolBackwardView } from "../kit/views/pool_backward.js";
import { createConvBackwardView } from "../kit/views/conv_backward.js";
import { createBackwardTransposeView } from "../kit/views/backward_transpose.js";
import { indexOf, positionOf } from "../kit/geometry.js";

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
  backward_transpose: { label: "As transposed conv", make: createBackwardTransposeView, uses: ["dZ_up", "dA_prev"] },
};
// W: the filter form shows it, and its shape gives the channel counts for the shapes panel
const ALWAYS = ["W"];
// every array the server may answer with (docs/CONTRACT.md), fetched after the first draw
export const ALL_ARRAYS = ["input", "padded", "W", "b", "Z", "A", "pooled", "pool_mask", "dA", "dA_pool", "dZ", "dA_prev", "dW", "db", "dZ_up"];

/** The arrays the first /api/image asks for when `stage` is to be opened. */
export function firstArrays(stage) {
  const uses = (STAGES[stage] || STAGES.conv_forward).uses;
  return ALL_ARRAYS.filter((n) => ALWAYS.includes(n) || uses.includes(n));
}

/**
 * The (n_H, n_W, n_C) that a stage's steps run over in loop order, from an /api/image
 * answer's geometry (null for a stage without steps): the output of the convolution (its
 * ReLU and backward pass too) or of the pooling; the Pad stage steps through the padded rows.
 */
export function stageShape(raw, stage) {
  const g = raw.geometry;
  const nC = raw.settings.filters.length;
  if (stage === "pad") return [g.conv.n_H_pad, 1, 1];
  if (stage === "conv_forward" || stage === "relu" || stage === "conv_backward") return [g.conv.n_H, g.conv.n_W, nC];
  if ((stage === "pool_forward" || stage === "pool_backward") && g.pool) return [g.pool.n_H, g.pool.n_W, nC];
  if (stage === "backward_transpose" && g.transpose) return [g.transpose.conv.n_H, g.transpose.conv.n_W, g.transpose.n_C];
  return null;
}

/**
 * Step k of a stage over `from` (n_H, n_W, n_C) as the step at the same output position
 * (h, w, c), each clamped to `to`: what a geometry change keeps (index arithmetic only).
 */
export function sameStep(k, from, to) {
  if (!from || !to) return k;
  const p = positionOf(Math.max(0, Math.min(k, from[0] * from[1] * from[2] - 1)), ...from);
  const clamp = (v, n) => Math.max(0, Math.min(v, n - 1));
  return indexOf(clamp(p.h, to[0]), clamp(p.w, to[1]), clamp(p.c, to[2]), to[1], to[2]);
}

/** The stage tabs and the view area; returns {renderTabs, show, redrawIfUses}. */
export function createStages(app) {
  const { $, state } = app;
  const viewBox = $("#view");
  const tabs = () => [...$("#stage-tabs").querySelectorAll("[role=tab]")];

  /** The context a view is built with: the result's arrays and steps, the number format, jumps. */
  function viewContext() {
    const cur = app.current;
    return {
      arrays: cur.arrays,
      geometry: cur.raw.geometry,
      settings: cur.raw.settings,
      store: cur.store,
      fmt: () => app.fmt,
      cellFmt: (v) => app.fmt(v),
      jump: (k) => app.bar.jump(k),
      isPlaying: () => app.bar.player.playing,
    };
  }

  function renderTabs(stages) {
    const box = $("#stage-tabs");
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
      b.addEventListener("click", (ev) => {
        // a click with the pointer hands the keys to the view: the arrows step the player
        // (from the keyboard, Enter or Space, the focus stays on the tab: the arrows move
        // between the tabs, as the ARIA tabs pattern has it)
        if (ev.detail > 0) viewBox.focus({ preventScroll: true });
        if (state.ui.stage === st) return;
        app.bar.player.pause();
        show(st, 0);
        app.url.sync();
      });
      box.append(b);
    });
  }

  function selectTab(stage) {
    tabs().forEach((b) => {
      const on = b.dataset.stage === stage;
      b.setAttribute("aria-selected", String(on));
      b.tabIndex = on ? 0 : -1;
    });
  }

  function place(stage, content) {
    viewBox.replaceChildren(content);
    viewBox.dataset.stage = stage;
    viewBox.setAttribute("aria-labelledby", `tab-${stage}`);
    selectTab(stage);
  }

  /** A stage whose arrays are still on their way: a note, no player; drawn when they arrive. */
  function showPending(stage, step) {
    const note = document.createElement("p");
    note.className = "loading";
    note.textContent = `Fetching the arrays of ${STAGES[stage].label}…`;
    place(stage, note);
    viewBox.dataset.pending = "1";
    app.bar.clear();
    state.ui.step = step || 0;
    app.current.pending = { stage, step: step || 0 };
  }

  /** Open `stage` at `step` (clamped to its steps). */
  function show(stage, step) {
    if (app.view) app.view.destroy();
    app.view = null;
    state.ui.stage = stage;
    if (!STAGES[stage].uses.every((n) => app.current.arrays.has(n))) {
      showPending(stage, step);
      return;
    }
    app.current.pending = null;
    delete viewBox.dataset.pending;
    const view = STAGES[stage].make(viewContext());
    app.view = view;
    view.setZoom(state.ui.zoom);
    place(stage, view.el);
    app.bar.show(view, Math.max(0, Math.min(view.total - 1, step || 0)));
  }

  /** Redraws the current stage (keeping the step and playing) if it reads any of `names`. */
  function redrawIfUses(names) {
    const wasPlaying = app.bar.player.playing;
    const cur = app.current;
    if (cur.pending) show(cur.pending.stage, cur.pending.step);
    else if (STAGES[state.ui.stage].uses.some((n) => names.includes(n))) show(state.ui.stage, state.ui.step);
    else return;
    if (wasPlaying) app.bar.player.play();
  }

  return { renderTabs, show, redrawIfUses, tabs };
}
