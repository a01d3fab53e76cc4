// One conv or pool layer of the network, step by step, on its real input: the step records
// come from core's traces through POST /api/network/steps (a page of 64 at a time), the
// arrays with them. The view draws them; every number on it is the server's. Forward steps are
// drawn by the kit's stage-view pieces (kit/views/common.js's maps, conv.js's products and sum,
// pool.js's window and mask), the code Explore draws its conv and pool stages with; backward
// steps by the number grids below. The kit's player walks the steps, with the kit's keys.

import { byIds, el, finder } from "../kit/dom.js";
import { bindPlayerKeys } from "../kit/keyboard.js";
import { Player, showPlaying } from "../kit/player.js";
import { channelView as channel } from "../kit/arrays.js";
import { networkSteps as fetchSteps } from "../kit/api.js";
import { channelData, channelMaps, currentCell, cursor, maskMarks, outputMaps } from "../kit/views/common.js";
import { convProductRows, convSumLine } from "../kit/views/conv.js";
import { poolStepParts } from "../kit/views/pool.js";
import { fmt4, numberGrid, paintCells, plain, scaleFor } from "./maps.js";

const PAGE = 64;

const PX = 18; // CSS px per cell of a map shown alone (14 when its channels are side by side)

/** A number grid with its name written over it. */
function named(name, map, scale, options = {}) {
  const box = el("div", "sv-grid");
  box.append(el("span", "", name), numberGrid(map, scale, { ...options, label: name }));
  return box;
}

/** Channel c of the gradient arriving at the output, the step's cell outlined. */
function outputMap(values, c, step, title) {
  const map = channel(values, c);
  const fig = el("figure", "sv-fig");
  fig.append(el("figcaption", "", title));
  const cv = el("canvas", "sv-canvas");
  paintCells(cv, map, scaleFor(values), PX, {
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

/** The step view's three columns (left, mid, right), empty. */
function columns() {
  return { left: el("div", "sv-col"), mid: el("div", "sv-col sv-mid"), right: el("div", "sv-col") };
}

/**
 * A forward conv or pool layer drawn by the kit's stage-view pieces, as Explore draws it: the
 * input's maps with the step's window, the output's maps filling in behind it (a click on an
 * output cell jumps to its step), and between them the step record written out (conv: a_slice
 * ⊙ W = products and their sum; pool: the window, its maximum and mask). The maps are built
 * once per opened layer; show(step) moves the window and returns the step's equation line.
 */
function windowFrame(kind, A, g, jump) {
  const conv = kind === "conv_forward";
  const input = conv ? A.A_prev_pad : A.A_prev;
  const out = A.output;
  const C = input[0][0].length;
  const pad = conv ? g.pad : 0;
  const inName = conv ? "A_prev_pad" : "A_prev";
  const inner = pad > 0 ? { top: pad, left: pad, rows: input.length - 2 * pad, cols: input[0].length - 2 * pad } : null;
  const inScale = scaleFor(input);
  const ctx = { cellFmt: fmt4, jump };
  const pos = cursor([out.length, out[0].length, out[0][0].length]);
  const size = (n) => ({ maxHeight: 300, maxCell: n > 1 ? 18 : 24 });
  const inputs = channelMaps(ctx, {
    title: conv ? `A_prev padded (${input.length} × ${input[0].length}), the window on every channel`
      : "A_prev, the window on channel c",
    n: C,
    name: (c) => `${inName}[:, :, ${c}]`,
    data: (c) => channelData(input, c, { scale: inScale, name: inName, inner }),
    ...size(C),
  });
  const outputs = outputMaps(ctx, pos, {
    title: conv ? "Z, one map per filter, filling in (click a cell for its step)"
      : "A, the pooled maps, filling in (click a cell for its step)",
    name: conv ? "Z" : "A",
    arr: out,
    scale: scaleFor(out),
    reveal: true,
    ...size(pos.shape[2]),
  });
  const cols = columns();
  cols.left.classList.add("sv-maps");
  cols.right.classList.add("sv-maps");
  cols.mid.classList.add("sv-below");
  cols.left.append(inputs.el);
  cols.right.append(outputs.el);
  const maps = [...inputs.maps, ...outputs.maps];
  return {
    ...cols,
    order: [cols.left, cols.right, cols.mid], // the maps side by side, the step's numbers below
    destroy: () => maps.forEach((m) => m.destroy()),
    show(step) {
      const win = { kind: "window", r0: step.vert_start, c0: step.horiz_start,
        r1: step.vert_end, c1: step.horiz_end, dilation: 1 };
      inputs.maps.forEach((m, c) => {
        const on = conv || c === step.c;
        m.setOverlays(!on ? [] : conv || !step.mask ? [win] : [win, ...maskMarks(step.mask, win)]);
        m.el.classList.toggle("current", !conv && C > 1 && c === step.c);
      });
      outputs.maps.forEach((m, c) => {
        m.setStep(step.index);
        m.setOverlays(currentCell(c, step));
        m.el.classList.toggle("current", pos.shape[2] > 1 && c === step.c);
      });
      const where = `${step.vert_start}:${step.vert_end}, ${step.horiz_start}:${step.horiz_end}`;
      if (conv) {
        cols.mid.replaceChildren(el("h4", "", `a_slice_prev ⊙ W[:, :, :, ${step.c}] = products`),
          convProductRows(step, { fmt: fmt4, aScale: inScale }), convSumLine(step, fmt4));
        return `Z[${step.h}, ${step.w}, ${step.c}] = Σ (A_prev_pad[${where}, :] ⊙ W[:, :, :, ${step.c}]) + b[${step.c}] = ${fmt4(step.z)}`;
      }
      const mode = step.argmax ? "max" : "average"; // core's records: argmax is None for the mean
      const { row, line } = poolStepParts(step, { fmt: fmt4, scale: scaleFor(step.window), mode, tieRule: "first", f: g.f });
      cols.mid.replaceChildren(el("h4", "", mode === "max" ? "the window, its maximum marked, and the mask kept for the backward pass" : "the window and its mean"), row, line);
      return `A[${step.h}, ${step.w}, ${step.c}] = ${mode}(A_prev[${where}, ${step.c}]) = ${fmt4(step.value)}`;
    },
  };
}

/** A backward kind drawn anew at every step from BACKWARD's nodes. */
function redrawn(kind, A, g) {
  const cols = columns();
  return {
    ...cols,
    order: [cols.left, cols.mid, cols.right],
    destroy() {},
    show(step) {
      const { left, mid, right, eq } = BACKWARD[kind](A, g, step);
      cols.left.replaceChildren(...left);
      cols.mid.replaceChildren(...mid);
      cols.right.replaceChildren(...right);
      return eq;
    },
  };
}

/**
 * What each kind of backward step shows, from the answer's arrays A, its geometry g and the
 * step record: {left, mid, right} (lists of nodes, the columns) and eq (the step's equation).
 */
const BACKWARD = {
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
      left: [outputMap(A.d_out, step.c, step,
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
      left: [outputMap(A.d_out, step.c, step,
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

  let frame = null; // the columns drawn for the layer opened (`token`)
  function draw(step) {
    const kind = data.page.kind;
    if (!frame || frame.token !== token) {
      if (frame) frame.destroy();
      frame = kind.endsWith("_forward")
        ? windowFrame(kind, data.arrays, data.geometry, (i) => player.jump(i))
        : redrawn(kind, data.arrays, data.geometry);
      frame.token = token;
      body.replaceChildren(...frame.order);
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
