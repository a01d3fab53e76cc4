// One conv or pool layer of the network, step by step, on its real input: the step records
// come from core's traces through POST /api/network/steps (a page of 64 at a time), the
// arrays with them. The view draws them; every number on it is the server's. The kit's
// player walks the steps, with the kit's keys (Space, the arrows, Home and End).

import { byIds, el, finder } from "../kit/dom.js";
import { bindPlayerKeys } from "../kit/keyboard.js";
import { Player, showPlaying } from "../kit/player.js";
import { channel, fmt4, numberGrid, paintCells, plain, scaleFor } from "./maps.js";
import { networkSteps as fetchSteps } from "../kit/api.js";

const PAGE = 64;

const PX = 18; // CSS px per cell of a map shown alone (14 when its channels are side by side)

/** A number grid with its name written over it. */
function named(name, map, scale, options = {}) {
  const box = el("div", "sv-grid");
  box.append(el("span", "", name), numberGrid(map, scale, { ...options, label: name }));
  return box;
}

/** Channel c of an output map filling in up to `step`, its cell outlined. */
function outputMap(values, c, step, title) {
  const n_C = values[0][0].length;
  const n_W = values[0].length;
  const map = channel(values, c);
  const fig = el("figure", "sv-fig");
  fig.append(el("figcaption", "", title));
  const cv = el("canvas", "sv-canvas");
  paintCells(cv, map, scaleFor(values), PX, {
    blank: (r, q) => (r * n_W + q) * n_C + c > step.index,
    boxes: [{ r0: step.h, c0: step.w, r1: step.h + 1, c1: step.w + 1 }],
  });
  fig.append(cv);
  return fig;
}

/** An input's channels (or channel `only`) with the step's window outlined; padding dimmed. */
function inputMaps(values, step, { padded, pad, title, only = null }) {
  const fig = el("figure", "sv-fig");
  fig.append(el("figcaption", "", title));
  const wrap = el("div", "sv-channels");
  const C = values[0][0].length;
  const rows = values.length;
  const cols = values[0].length;
  const px = C > 1 && only === null ? 14 : PX;
  const scale = scaleFor(values);
  for (let c = 0; c < C; c += 1) {
    if (only !== null && c !== only) continue;
    const cv = el("canvas", "sv-canvas");
    const off = padded ? 0 : pad;
    paintCells(cv, channel(values, c), scale, px, {
      dim: padded ? (r, q) => r < pad || q < pad || r >= rows - pad || q >= cols - pad : null,
      boxes: [{ r0: step.vert_start - off, c0: step.horiz_start - off,
        r1: step.vert_end - off, c1: step.horiz_end - off }],
    });
    const box = el("div", "sv-ch");
    box.append(cv, el("span", "hint", C > 1 ? `c_prev ${c}` : ""));
    wrap.append(box);
  }
  fig.append(wrap);
  return fig;
}

/**
 * One row per input channel of number grids and operators in turn, e.g. a_slice ⊙ W =
 * products: parts are [name, (f, f, C) nested list, scale] or an operator string. The
 * names are written over the first row's grids.
 */
function channelRows(parts, C) {
  const box = el("div", "sv-triples");
  for (let ch = 0; ch < C; ch += 1) {
    const row = el("div", "sv-triple");
    if (C > 1) row.append(el("span", "sv-ch-label", `c_prev ${ch}`));
    for (const part of parts) {
      if (typeof part === "string") {
        row.append(el("span", "op", part));
        continue;
      }
      const [name, values, scale] = part;
      row.append(ch === 0 ? named(name, channel(values, ch), scale)
        : numberGrid(channel(values, ch), scale, { label: name }));
    }
    box.append(row);
  }
  return box;
}


/** A step view's column: a div of class `cls` holding `nodes`. */
function sv(cls, nodes) {
  const col = el("div", cls);
  col.append(...nodes);
  return col;
}

/**
 * What each kind of layer step shows, from the answer's arrays A, its geometry g and the step
 * record: {left, mid, right} (lists of nodes, the columns) and eq (the step's equation).
 */
const KINDS = {
  conv_forward(A, g, step) {
    const pos = `[${step.h}, ${step.w}, ${step.c}]`;
    const C = step.a_slice[0][0].length;
    return {
      left: [inputMaps(A.A_prev_pad, step, { padded: true, pad: g.pad,
        title: `A_prev padded (${A.A_prev_pad.length} × ${A.A_prev_pad[0].length}), window rows ${step.vert_start}:${step.vert_end}, cols ${step.horiz_start}:${step.horiz_end}` })],
      mid: [el("h4", "", `a_slice_prev ⊙ W[:, :, :, ${step.c}] = products`),
        channelRows([["a_slice_prev", step.a_slice, scaleFor(step.a_slice)], "⊙",
          [`W[:, :, :, ${step.c}]`, step.weights, scaleFor(step.weights, { signed: true })], "=",
          ["products", step.products, scaleFor(step.products, { signed: true })]], C)],
      right: [outputMap(A.output, step.c, step, `Z[:, :, ${step.c}] filling in`)],
      eq: `Z${pos} = Σ products + b[${step.c}] = ${fmt4(step.total)} + ${fmt4(step.bias)} = ${fmt4(step.z)}`,
    };
  },
  pool_forward(A, g, step) {
    const pos = `[${step.h}, ${step.w}, ${step.c}]`;
    return {
      left: [inputMaps(A.A_prev, step, { padded: false, pad: 0, only: step.c,
        title: `A_prev[:, :, ${step.c}], window rows ${step.vert_start}:${step.vert_end}, cols ${step.horiz_start}:${step.horiz_end}` })],
      mid: [el("h4", "", "the window, its maximum marked"),
        named("a_prev_slice", plain(step.window), scaleFor(step.window), {
          mark: (r, q) => (step.mask[r][q] > 0 ? "hit" : "") })],
      right: [outputMap(A.output, step.c, step, `A[:, :, ${step.c}] filling in`)],
      eq: `A${pos} = max(window) = ${fmt4(step.value)} at window cell (${step.argmax.join(", ")})`,
    };
  },
  conv_backward(A, g, step) {
    const pos = `[${step.h}, ${step.w}, ${step.c}]`;
    const C = step.da_add[0][0].length;
    const wIn = A.W.map((row) => row.map((cell) => cell.map((f) => f[step.c])));
    const toInput = el("div");
    toInput.append(el("h4", "", `dA_prev_pad[window] += W[:, :, :, ${step.c}] · dz`),
      channelRows([[`W[:, :, :, ${step.c}]`, wIn, scaleFor(wIn, { signed: true })],
        `· ${fmt4(step.dz)} =`, ["added", step.da_add, scaleFor(step.da_add, { signed: true })]], C));
    const toWeights = el("div");
    toWeights.append(el("h4", "", `dW[:, :, :, ${step.c}] += a_slice · dz`),
      channelRows([["added", step.dw_add, scaleFor(step.dw_add, { signed: true })]], C));
    return {
      left: [outputMap(A.d_out, step.c, { ...step, index: Infinity },
        `dZ[:, :, ${step.c}] (the gradient arriving), this step's dz`)],
      mid: [sv("sv-blocks", [toInput, toWeights])],
      right: [inputMaps(A.dA_prev, step, { padded: false, pad: g.pad,
        title: "dA_prev when every step is done (window shown where it overlaps)" })],
      eq: `dz = dZ${pos} = ${fmt4(step.dz)}; db[${step.c}] so far = ${fmt4(step.db_running)} (all steps: ${fmt4(A.db[step.c])})`,
    };
  },
  pool_backward(A, g, step) {
    const row = el("div", "sv-triple");
    row.append(named("route", plain(step.route), scaleFor(step.route)),
      el("span", "op", `· ${fmt4(step.da)} =`),
      named("added", plain(step.added), scaleFor(step.added, { signed: true })));
    return {
      left: [outputMap(A.d_out, step.c, { ...step, index: Infinity },
        `dA[:, :, ${step.c}] (the gradient arriving), this step's da`)],
      mid: [el("h4", "", "route (the max mask) · da = added"), row],
      right: [inputMaps(A.dA_prev, step, { padded: false, pad: 0, only: step.c,
        title: `dA_prev[:, :, ${step.c}] when every step is done` })],
      eq: `dA_prev[window, ${step.c}] += route · ${fmt4(step.da)}`,
    };
  },
};

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

  function draw(step) {
    const { left, mid, right, eq: text } = KINDS[data.page.kind](data.arrays, data.geometry, step);
    body.replaceChildren(sv("sv-col", left), sv("sv-col sv-mid", mid), sv("sv-col", right));
    eq.textContent = text;
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
