// One conv or pool layer of the network, step by step, on its real input: the step records
// come from core's traces through POST /api/network/steps (a page of 64 at a time), the
// arrays with them. The view draws them; every number on it is the server's. The maps, the
// window and the output filling in are the kit's stage-view pieces (kit/views/common.js), and so
// is the step written out (conv.js's products and sum, pool.js's window and mask,
// pool_backward.js's route × da, conv_backward.js's W × dz, a_slice × dz and db lines): the
// code Explore draws its stages with. The kit's player walks the steps.

import { byIds, el, finder } from "../kit/dom.js";
import { bindPlayerKeys } from "../kit/keyboard.js";
import { Player, showPlaying } from "../kit/player.js";
import { networkSteps as fetchSteps } from "../kit/api.js";
import { channelData, channelMaps, currentCell, cursor, maskMarks, outputMaps } from "../kit/views/common.js";
import { convProductRows, convSumLine } from "../kit/views/conv.js";
import { convBackwardStepLines } from "../kit/views/conv_backward.js";
import { poolStepParts } from "../kit/views/pool.js";
import { poolBackwardRow } from "../kit/views/pool_backward.js";
import { fmt4, scaleFor } from "./maps.js";

const PAGE = 64;

/**
 * conv_backward's step written out by the kit's helper, the lines Explore's stage draws (W × dz
 * into dA_prev_pad, a_slice × dz into dW, db's running sum): the answer carries the layer's
 * W and A_prev_pad, the slice is read off A_prev_pad at the step's window.
 */
function convBackwardParts(A, step) {
  const C = step.da_add[0][0].length;
  const f = step.da_add.length;
  const win = { r0: step.vert_start, r1: step.vert_end, c0: step.horiz_start, c1: step.horiz_end };
  const rowsOf = (get) => Array.from({ length: f }, (_, r) => Array.from({ length: f }, (__, s) => get(r, s)));
  return convBackwardStepLines({
    pos: step, rec: step, win, C, fmt: fmt4,
    weight: (ch) => rowsOf((r, s) => A.W[r][s][ch][step.c]),
    slice: (ch) => rowsOf((r, s) => A.A_prev_pad[win.r0 + r][win.c0 + s][ch]),
    aScale: scaleFor(A.A_prev_pad),
  });
}

/**
 * What each kind of step shows: the map beside the window (`win`: its name, the array of the
 * answer, the title, whether every channel shows the window, the pad its coordinates are
 * offset by), the map at the output (`at`: name, array, title, whether it fills in), the step
 * written out (`parts`, nodes) and the step's equation line (`eq`).
 */
const KINDS = {
  conv_forward: {
    win: (A, g) => ({ name: "A_prev_pad", arr: A.A_prev_pad, every: true, pad: g.pad, inner: g.pad,
      title: `A_prev padded (${A.A_prev_pad.length} × ${A.A_prev_pad[0].length}), the window on every channel` }),
    at: (A) => ({ name: "Z", arr: A.output, reveal: true,
      title: "Z, one map per filter, filling in (click a cell for its step)" }),
    parts: (A, g, step) => [el("h4", "", `a_slice_prev ⊙ W[:, :, :, ${step.c}] = products`),
      convProductRows(step, { fmt: fmt4, aScale: scaleFor(A.A_prev_pad) }), convSumLine(step, fmt4)],
    eq: (A, step, where) => `Z${at(step)} = Σ (A_prev_pad[${where}, :] ⊙ W[:, :, :, ${step.c}]) + b[${step.c}] = ${fmt4(step.z)}`,
  },
  pool_forward: {
    win: (A) => ({ name: "A_prev", arr: A.A_prev, every: false, pad: 0, title: "A_prev, the window on channel c" }),
    at: (A) => ({ name: "A", arr: A.output, reveal: true,
      title: "A, the pooled maps, filling in (click a cell for its step)" }),
    parts(A, g, step) {
      const mode = modeOf(step);
      const { row, line } = poolStepParts(step, { fmt: fmt4, scale: scaleFor(step.window), mode, tieRule: "first", f: g.f });
      return [el("h4", "", mode === "max" ? "the window, its maximum marked, and the mask kept for the backward pass" : "the window and its mean"), row, line];
    },
    eq: (A, step, where) => `A${at(step)} = ${modeOf(step)}(A_prev[${where}, ${step.c}]) = ${fmt4(step.value)}`,
  },
  conv_backward: {
    win: (A, g) => ({ name: "dA_prev", arr: A.dA_prev, every: true, pad: g.pad,
      title: "dA_prev when every step is done (the window where it overlaps)" }),
    at: (A) => ({ name: "dZ", arr: A.d_out, reveal: false,
      title: "dZ, the gradient arriving, this step's dz outlined (click a cell for its step)" }),
    parts: (A, g, step) => convBackwardParts(A, step),
    eq: (A, step) => `dz = dZ${at(step)} = ${fmt4(step.dz)}; db[${step.c}] so far = ${fmt4(step.db_running)} (all steps: ${fmt4(A.db[step.c])})`,
  },
  pool_backward: {
    win: (A) => ({ name: "dA_prev", arr: A.dA_prev, every: false, pad: 0,
      title: "dA_prev when every step is done, the window on channel c" }),
    at: (A) => ({ name: "dA", arr: A.d_out, reveal: false,
      title: "dA, the gradient arriving, this step's da outlined (click a cell for its step)" }),
    parts: (A, g, step) => [el("h4", "", "route (where the window's gradient goes) × da = added"),
      poolBackwardRow(step, { fmt: fmt4, mode: "max", tieRule: "first" })], // the network's pools are max pools (core/net.py)
    eq: (A, step) => `dA_prev[window, ${step.c}] += route · ${fmt4(step.da)}`,
  },
};

const at = (step) => `[${step.h}, ${step.w}, ${step.c}]`;
const modeOf = (step) => (step.argmax ? "max" : "average"); // core's records: argmax is None for the mean

/**
 * A layer's steps drawn by the kit's stage-view pieces, as Explore draws its stages: the maps
 * beside the window (every channel, or channel c) with the step's window, the maps at the
 * output (filling in behind the window going forward; the gradient arriving going back), a
 * click on an output cell jumping to its step, and below them the step record written out.
 * The maps are built once per opened layer; show(step) moves the window and returns the
 * step's equation line.
 */
function stepFrame(kind, A, g, jump) {
  const spec = KINDS[kind];
  const w = spec.win(A, g);
  const o = spec.at(A);
  const C = w.arr[0][0].length;
  const rows = w.arr.length;
  const cols = w.arr[0].length;
  const inner = w.inner ? { top: w.inner, left: w.inner, rows: rows - 2 * w.inner, cols: cols - 2 * w.inner } : null;
  const ctx = { cellFmt: fmt4, jump };
  const pos = cursor([o.arr.length, o.arr[0].length, o.arr[0][0].length]);
  // cells of at least 18 CSS px (24 for a map alone), and small maps at least 7.5rem wide, so
  // the kit's legend under each map has room for its numbers
  const size = (n, cols) => ({ maxHeight: 300, maxCell: Math.max(n > 1 ? 18 : 24, Math.ceil(120 / cols)) });
  const wScale = scaleFor(w.arr);
  const beside = channelMaps(ctx, {
    title: w.title,
    n: C,
    name: (c) => `${w.name}[:, :, ${c}]`,
    data: (c) => channelData(w.arr, c, { scale: wScale, name: w.name, inner }),
    ...size(C, cols),
  });
  const output = outputMaps(ctx, pos, { title: o.title, name: o.name, arr: o.arr, scale: scaleFor(o.arr),
    reveal: o.reveal, ...size(pos.shape[2], o.arr[0].length) });
  const left = el("div", "sv-col sv-maps");
  const right = el("div", "sv-col sv-maps");
  const below = el("div", "sv-col sv-mid sv-below");
  const forward = kind.endsWith("_forward");
  (forward ? left : right).append(beside.el);
  (forward ? right : left).append(output.el);
  const maps = [...beside.maps, ...output.maps];
  return {
    nodes: [left, right, below],
    destroy: () => maps.forEach((m) => m.destroy()),
    show(step) {
      const win = { kind: "window", r0: step.vert_start - w.pad, c0: step.horiz_start - w.pad,
        r1: step.vert_end - w.pad, c1: step.horiz_end - w.pad, dilation: 1 };
      const mask = step.mask || step.route;
      beside.maps.forEach((m, c) => {
        const on = w.every || c === step.c;
        m.setOverlays(!on ? [] : w.every || !mask ? [win] : [win, ...maskMarks(mask, win)]);
        m.el.classList.toggle("current", !w.every && C > 1 && c === step.c);
      });
      output.maps.forEach((m, c) => {
        if (o.reveal) m.setStep(step.index);
        m.setOverlays(currentCell(c, step));
        m.el.classList.toggle("current", pos.shape[2] > 1 && c === step.c);
      });
      below.replaceChildren(...spec.parts(A, g, step));
      return spec.eq(A, step, `${step.vert_start}:${step.vert_end}, ${step.horiz_start}:${step.horiz_end}`);
    },
  };
}

export function createStepView(root, { onError, onStep = () => {}, hooks }) {
  const $ = finder(root);
  const [body, eq, scrub, label, playBtn, what] = byIds(root, "step-body", "step-eq",
    "st-scrub", "st-label", "st-play", "steps-what");
  let request = null; // {input, weights, target}
  let layer = null;
  let direction = "forward";
  let data = null; // the last answer: arrays, geometry, total
  const pages = new Map(); // offset -> steps
  let k = 0;
  let token = 0; // the layer opened: an answer for an older one is dropped
  let shown = 0; // the step asked for last: an older step's page arriving later is not drawn
  const player = new Player({
    stepsPerSecond: Number($("st-speed").value),
    onStep: (step) => show(step),
    onPlayChange: (on) => showPlaying(playBtn, on),
  });
  const stop = () => player.pause();

  async function page(offset) {
    if (pages.has(offset)) return pages.get(offset);
    const mine = token;
    const answer = await fetchSteps({ ...request, layer, direction, offset, limit: PAGE });
    if (mine !== token) return null;
    data = answer;
    pages.set(offset, answer.page.steps);
    return answer.page.steps;
  }

  async function show(index) {
    if (!data && !request) return;
    const total = data ? data.page.total : 1;
    k = Math.max(0, Math.min(index, total - 1));
    const mine = (shown += 1);
    const offset = Math.floor(k / PAGE) * PAGE;
    let list;
    try {
      list = await page(offset);
    } catch (err) {
      stop();
      onError(err);
      return;
    }
    if (!list || mine !== shown) return;
    player.setTotal(data.page.total);
    player.k = k;
    scrub.max = String(data.page.total - 1);
    scrub.value = String(k);
    const step = list[k - offset];
    label.textContent = `step ${k + 1} of ${data.page.total}`;
    draw(step);
    if (k + PAGE / 2 >= offset + PAGE && offset + PAGE < data.page.total) page(offset + PAGE);
    hooks.step(k, data.page.kind);
    onStep(k);
  }

  let frame = null; // the columns drawn for the layer opened (`token`)
  function draw(step) {
    const kind = data.page.kind;
    if (!frame || frame.token !== token) {
      if (frame) frame.destroy();
      frame = stepFrame(kind, data.arrays, data.geometry, (i) => player.jump(i));
      frame.token = token;
      body.replaceChildren(...frame.nodes);
    }
    eq.textContent = frame.show(step);
  }

  // the player's controls and keys (inside the panel)
  playBtn.addEventListener("click", () => player.toggle());
  $("st-speed").addEventListener("change", () => {
    player.stepsPerSecond = Number($("st-speed").value);
  });
  $("st-prev").addEventListener("click", () => player.stepBy(-1));
  $("st-next").addEventListener("click", () => player.stepBy(1));
  $("st-first").addEventListener("click", () => player.jump(0));
  $("st-last").addEventListener("click", () => player.jump(player.total - 1));
  scrub.addEventListener("input", () => player.jump(Number(scrub.value)));
  bindPlayerKeys(root, { player });

  return {
    /** Open `name` for the current input at step `at` (0 by default; with keep, the step
     * shown now, as when the input changes). */
    async open(name, dir, req, { keep = false, at = 0 } = {}) {
      stop();
      token += 1;
      pages.clear();
      data = null;
      layer = name;
      direction = dir;
      request = req;
      root.hidden = false;
      root.dataset.layer = name;
      const kindWord = name.startsWith("conv") ? "conv" : "pool";
      what.textContent = dir === "forward"
        ? `${name}'s forward loops on this digit's real ${name === "conv1" ? "input" : "activations"}, in the exercise's order (h, w, then ${kindWord === "conv" ? "filter" : "channel"} c): every step is one record of core's trace.`
        : `${name}'s backward loops: the gradient of the loss of class ${req.target ?? "(the label, or the predicted class for a drawing)"} arriving at ${name}'s output, spread back over each window.`;
      const mine = token;
      k = keep ? k : at; // the step wanted, kept if this layer has it (else the first)
      const want = k;
      let start = 0;
      try {
        if (await page(0) && want < data.page.total) start = want;
      } catch {
        // show(0) below asks again and reports the error
      }
      if (mine === token) await show(start);
    },
    close() {
      stop();
      if (frame) frame.destroy();
      frame = null;
      root.hidden = true;
      layer = null;
    },
    get layer() {
      return layer;
    },
    get direction() {
      return direction;
    },
    /** The step shown. */
    get step() {
      return k;
    },
  };
}
