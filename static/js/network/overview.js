// The whole network at a glance: one column per layer (input first), each channel a small
// map; forward maps or, in backward mode, the loss's gradient on each layer's output, with
// dW and db under the layers that have weights. The probabilities as bars.

import { el } from "../kit/dom.js";
import { channelView as channel } from "../kit/arrays.js";
import { INK, extent, fmt4, paint, plain, scaleFor, unpaint } from "./maps.js";
import { buildLegend, makeScale } from "../kit/colors.js";

const LAST_STEP = 2 ** 31 - 1; // past any layer's last step: Explore clamps it to that

const CELL = { 8: 6, 4: 10, 2: 16 }; // CSS px per cell, by map size

function shapeText(shape) {
  return `(${shape.join(", ")})`;
}

/** A column's maps box, made once: C canvases for a (h, w, C) map, one strip for a vector
 * (flatten (64,) or dense (10,)), with their labels. */
function mapsBox(shape) {
  const box = el("div", "maps");
  if (shape.length === 1) {
    const n = shape[0];
    const strip = el("canvas", "cells strip");
    strip.setAttribute("role", "img");
    box.append(strip);
    if (n <= 16) {
      box.classList.add("with-labels");
      const labels = el("div", "strip-labels");
      for (let i = 0; i < n; i += 1) labels.append(el("span", "", String(i)));
      box.append(labels);
    }
    return { box, canvases: [strip] };
  }
  const C = shape[2];
  box.classList.add(C > 8 ? "many" : "few");
  const canvases = [];
  for (let c = 0; c < C; c += 1) {
    const cv = el("canvas", "cells");
    cv.setAttribute("role", "img");
    canvases.push(cv);
    box.append(cv);
  }
  return { box, canvases };
}

/** Paint a column's values (the server's nested list) on the canvases mapsBox made. */
function paintMaps(canvases, values, scale, name, label, onCell) {
  if (!Array.isArray(values[0])) { // a vector
    const map = { rows: values.length, cols: 1, get: (r) => values[r] };
    paint(canvases[0], map, scale, { cell: values.length > 16 ? 3 : 14, cellWidth: 14,
      onCell: (p) => onCell(p && `${name} ${label}[${p.r}] = ${fmt4(p.value)}`) });
    canvases[0].setAttribute("aria-label", `${name} ${label}, ${values.length} values`);
    return;
  }
  const n = values.length;
  canvases.forEach((cv, c) => {
    paint(cv, channel(values, c), scale, { cell: CELL[n] || 5,
      onCell: (p) => onCell(p && `${name} ${label}[${p.r}, ${p.c}, ${c}] = ${fmt4(p.value)}`) });
    cv.setAttribute("aria-label", `${name} ${label} channel ${c}`);
  });
}

/** dW (f, f, n_C_prev, n_C) on one mosaic canvas: a row per input channel, a column per
 * filter; a dense layer's (n_in, n_out) as it is. */
function paintMosaic(cv, dW, scale, name, onCell) {
  if (!Array.isArray(dW[0][0])) {
    paint(cv, plain(dW), scale, { cell: 2,
      onCell: (p) => onCell(p && `${name} dW[${p.r}, ${p.c}] = ${fmt4(p.value)}`) });
    return;
  }
  const f = dW.length;
  const Cp = dW[0][0].length;
  const C = dW[0][0][0].length;
  const map = {
    rows: Cp * (f + 1) - 1, cols: C * (f + 1) - 1,
    get(r, q) {
      const i = r % (f + 1);
      const j = q % (f + 1);
      if (i === f || j === f) return NaN; // the gaps between filters
      return dW[i][j][(r - i) / (f + 1)][(q - j) / (f + 1)];
    },
  };
  paint(cv, map, scale, { cell: Cp > 1 ? 2 : 4, onCell: (p) => {
    if (!p || Number.isNaN(p.value)) return onCell(null);
    const i = p.r % (f + 1);
    const j = p.c % (f + 1);
    onCell(`${name} dW[${i}, ${j}, ${(p.r - i) / (f + 1)}, ${(p.c - j) / (f + 1)}] = ${fmt4(p.value)}`);
  } });
}

/** One column's card, built once; update(col, run, backward) repaints it in place. */
function layerCard(info, { onOpen, onCell }) {
  const card = el("article", `layer layer-${info.kind}`);
  card.dataset.layer = info.name;
  const head = el("header", "layer-head");
  head.append(el("h3", "", info.kind === "input" ? "input" : info.name));
  const sub = el("p", "layer-sub");
  head.append(sub);
  const shape = el("p", "layer-shape");
  const maps = mapsBox(info.output_shape);
  card.append(head, shape, maps.box);
  let grads = null;
  if (info.params && info.params.W) {
    const box = el("div", "layer-grads");
    grads = { box, mosaic: el("canvas", "cells mosaic"), db: el("p", "layer-shape") };
    grads.mosaic.setAttribute("role", "img");
    grads.mosaic.setAttribute("aria-label", `${info.name} dW`);
    box.append(el("p", "layer-shape", `dW ${shapeText(info.params.W)}`), grads.mosaic, grads.db);
    card.append(box);
  }
  if (info.steppable) {
    const open = el("button", "button ghost open-steps", "Steps ▸");
    open.type = "button";
    open.setAttribute("aria-label", `Open ${info.name} step by step`);
    open.addEventListener("click", () => onOpen(info.name));
    card.append(open);
    card.classList.add("openable");
    card.addEventListener("click", (e) => {
      if (e.target.closest("button, a") === null) onOpen(info.name);
    });
  }
  let link = null;
  if (info.name === "conv1") { // these weights' filters on a photo, in the single-layer view
    link = el("a", "explore-link", "see these filters on a photo in Explore");
    card.append(link);
  }
  let legend = el("div", "legend layer-legend");
  card.append(legend);

  function update(values, layerGrads, run, backward) {
    const input = info.kind === "input";
    sub.textContent = input ? (backward ? "saliency dX" : "X = pixels / 16")
      : `${info.title} · ${info.note}`;
    let label = input ? "X" : info.output;
    if (backward) label = `d${label}`;
    const signed = backward || info.output === "Z";
    const scale = input && !backward
      ? makeScale("sequential", 0, 1) : scaleFor(values, { signed: signed ? true : null });
    shape.textContent = `${label} ${shapeText(info.output_shape)}`;
    paintMaps(maps.canvases, values, scale, info.name, label, onCell);
    if (grads) {
      grads.box.hidden = !layerGrads;
      if (layerGrads) {
        paintMosaic(grads.mosaic, layerGrads.dW, scaleFor(layerGrads.dW, { signed: true }),
          info.name, onCell);
        const [lo, hi] = extent(layerGrads.db);
        grads.db.textContent = `db: ${fmt4(lo)} … ${fmt4(hi)}`;
      }
    }
    if (link) {
      // opened at the convolution's last step (Explore clamps the step), so the eight
      // feature maps are already whole on the photo
      link.href = `/explore?${new URLSearchParams({ net_filters: run.weights || "shipped", layer: "conv1", step: String(LAST_STEP) })}`;
    }
    const fresh = buildLegend(scale.kind ? scale : makeScale("sequential", 0, 1), fmt4);
    fresh.classList.add("layer-legend");
    legend.replaceWith(fresh);
    legend = fresh;
  }
  /** the maps and gradients blank, the legend gone */
  function clear() {
    [...maps.canvases, ...(grads ? [grads.mosaic] : [])].forEach(unpaint);
    if (grads) grads.box.hidden = true;
    legend.replaceChildren();
  }
  return { card, update, clear };
}

/**
 * The columns in `root`, built at the first run and repainted in place on every later one
 * (the same canvases and elements): render(run, mode), run the /run answer, mode
 * "forward" | "backward". onOpen(layerName) for conv and pool columns; onCell(text|null).
 */
export function createLayers(root, arch, handlers) {
  let cards = null;
  function build() {
    const cols = [{ name: "input", kind: "input", output_shape: arch.input_shape },
      ...arch.layers];
    cards = cols.map((info) => layerCard(info, handlers));
    root.replaceChildren();
    cards.forEach(({ card }, k) => {
      if (k > 0) root.append(el("span", "flow-arrow", "→"));
      root.append(card);
    });
  }
  return {
    /** every map blank (no input to show) */
    clear() {
      if (!cards) return;
      cards.forEach(({ clear }) => clear());
    },
    render(run, mode) {
      if (!cards) build();
      const backward = mode === "backward" && run.backward;
      cards[0].update(backward ? run.backward.saliency : run.input.X, null, run, backward);
      arch.layers.forEach((_, k) => {
        const values = backward ? run.backward.layers[k].d_out : run.forward.layers[k].output;
        const grads = backward && run.backward.layers[k].dW ? run.backward.layers[k] : null;
        cards[k + 1].update(values, grads, run, backward);
      });
    },
  };
}

/** The 8 x 8 input (ink) and the saliency map on the side panel. */
export function renderInput(inputCanvas, salCanvas, run, onCell) {
  paint(inputCanvas, plain(run.input.pixels), INK, { cell: 20,
    onCell: (p) => onCell(p && `pixel [${p.r}, ${p.c}] = ${p.value} of 16 (X = ${fmt4(p.value / 16)})`) });
  if (run.backward) {
    const sal = channel(run.backward.saliency, 0);
    const scale = scaleFor(run.backward.saliency, { signed: true });
    paint(salCanvas, sal, scale, { cell: 20,
      onCell: (p) => onCell(p && `∂loss/∂X[${p.r}, ${p.c}] = ${fmt4(p.value)}`) });
  }
}

/** The probability bars (made once, then updated in place) and the predicted class. */
export function renderProbs(list, predictionEl, run, classes) {
  const { probs, prediction } = run.forward;
  if (list.children.length !== probs.length) {
    list.replaceChildren(...probs.map((_, k) => {
      const li = el("li", "prob");
      li.dataset.cls = String(k);
      const bar = el("span", "prob-bar");
      bar.append(el("span", "prob-fill"));
      li.append(el("span", "prob-class", classes[k]), bar, el("span", "prob-value"));
      return li;
    }));
  }
  probs.forEach((p, k) => {
    const li = list.children[k];
    li.className = k === prediction ? "prob is-top" : "prob";
    li.querySelector(".prob-fill").style.width = `${(p * 100).toFixed(2)}%`;
    li.querySelector(".prob-value").textContent = p >= 0.0995 ? `${(p * 100).toFixed(1)}%` : `${(p * 100).toPrecision(2)}%`;
    li.title = `p(${classes[k]}) = ${p}`;
  });
  const label = run.input.label;
  const parts = [el("span", "pred-class", classes[prediction]),
    el("span", "pred-words", ` with p = ${(probs[prediction] * 100).toFixed(2)}%`)];
  if (label !== null && label !== undefined) {
    parts.push(el("span", label === prediction ? "pred-right" : "pred-wrong",
      label === prediction ? ` · right (label ${classes[label]})` : ` · wrong: the label is ${classes[label]}`));
  }
  predictionEl.replaceChildren(...parts);
  predictionEl.dataset.prediction = String(prediction);
}
