// The whole network at a glance: one column per layer (input first), each channel a small
// map; forward maps or, in backward mode, the loss's gradient on each layer's output, with
// dW and db under the layers that have weights. The probabilities as bars.

import { INK, channel, el, extent, fmt4, paint, plain, scaleFor } from "./maps.js";
import { buildLegend, makeScale } from "../colors.js";

const TITLES = {
  conv: "conv", relu: "ReLU", pool: "max pool", flatten: "flatten", dense: "dense",
};
const CELL = { 8: 6, 4: 10, 2: 16 }; // CSS px per cell, by map size

function shapeText(shape) {
  return `(${shape.join(", ")})`;
}

function layerNote(info) {
  if (info.kind === "conv") return `${info.f}×${info.f}, pad ${info.pad}, ${info.n_C} filters`;
  if (info.kind === "pool") return `f ${info.f}, stride ${info.stride}`;
  if (info.kind === "dense") return `${info.input_shape[0]} → ${info.n_out}`;
  if (info.kind === "flatten") return "(h, w, c) order";
  return "max(Z, 0)";
}

/** A column's maps: a (h, w, C) array as C small canvases, or a vector as one strip. */
function mapsOf(values, scale, name, label, onCell) {
  const box = el("div", "maps");
  if (!Array.isArray(values[0])) { // a vector: flatten (64,) or dense (10,)
    const strip = el("canvas", "cells strip");
    const map = { rows: values.length, cols: 1, get: (r) => values[r] };
    paint(strip, map, scale, { cell: values.length > 16 ? 3 : 14, cellWidth: 14,
      onCell: (p) => onCell(p && `${name} ${label}[${p.r}] = ${fmt4(p.value)}`) });
    strip.setAttribute("role", "img");
    strip.setAttribute("aria-label", `${name} ${label}, ${values.length} values`);
    if (values.length <= 16) box.classList.add("with-labels");
    box.append(strip);
    if (values.length <= 16) {
      const labels = el("div", "strip-labels");
      values.forEach((_, i) => labels.append(el("span", "", String(i))));
      box.append(labels);
    }
    return box;
  }
  const C = values[0][0].length;
  const n = values.length;
  box.classList.add(C > 8 ? "many" : "few");
  for (let c = 0; c < C; c += 1) {
    const cv = el("canvas", "cells");
    paint(cv, channel(values, c), scale, { cell: CELL[n] || 5,
      onCell: (p) => onCell(p && `${name} ${label}[${p.r}, ${p.c}, ${c}] = ${fmt4(p.value)}`) });
    cv.setAttribute("role", "img");
    cv.setAttribute("aria-label", `${name} ${label} channel ${c}`);
    box.append(cv);
  }
  return box;
}

/** dW (f, f, n_C_prev, n_C) as one mosaic: a row per input channel, a column per filter. */
function weightMosaic(dW, scale, name, onCell) {
  const isDense = !Array.isArray(dW[0][0]);
  const cv = el("canvas", "cells mosaic");
  if (isDense) { // (n_in, n_out): as it is, one row per input
    paint(cv, plain(dW), scale, { cell: 2,
      onCell: (p) => onCell(p && `${name} dW[${p.r}, ${p.c}] = ${fmt4(p.value)}`) });
  } else {
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
  cv.setAttribute("role", "img");
  cv.setAttribute("aria-label", `${name} dW`);
  return cv;
}

/**
 * Render the columns into `root`. run: the /run answer; arch: the architecture; mode:
 * "forward" | "backward"; onOpen(layerName) for conv and pool columns; onCell(text|null).
 */
export function renderLayers(root, arch, run, mode, { onOpen, onCell }) {
  root.replaceChildren();
  const backward = mode === "backward" && run.backward;
  const cols = [{ name: "input", kind: "input", output_shape: arch.input_shape,
    values: backward ? run.backward.saliency : run.input.X }];
  arch.layers.forEach((info, k) => {
    const values = backward ? run.backward.layers[k].d_out : run.forward.layers[k].output;
    cols.push({ ...info, values, grads: backward ? run.backward.layers[k] : null });
  });
  cols.forEach((col, k) => {
    if (k > 0) root.append(el("span", "flow-arrow", "→"));
    const card = el("article", `layer layer-${col.kind}`);
    card.dataset.layer = col.name;
    const head = el("header", "layer-head");
    const title = el("h3", "", col.kind === "input" ? "input" : col.name);
    head.append(title);
    const sub = col.kind === "input" ? (backward ? "saliency dX" : "X = pixels / 16")
      : `${TITLES[col.kind]} · ${layerNote(col)}`;
    head.append(el("p", "layer-sub", sub));
    card.append(head);
    let label = col.kind === "conv" || col.kind === "dense" ? "Z" : "A";
    if (col.kind === "input") label = "X";
    if (backward) label = col.kind === "input" ? "dX" : `d${label}`;
    const signed = backward || col.kind === "conv" || col.kind === "dense";
    const scale = col.kind === "input" && !backward
      ? makeScale("sequential", 0, 1) : scaleFor(col.values, { signed: signed ? true : null });
    card.append(el("p", "layer-shape", `${label} ${shapeText(col.output_shape)}`));
    card.append(mapsOf(col.values, scale, col.name, label, onCell));
    if (col.grads && col.grads.dW) {
      const w = el("div", "layer-grads");
      w.append(el("p", "layer-shape", `dW ${shapeText(col.params.W)}`));
      w.append(weightMosaic(col.grads.dW, scaleFor(col.grads.dW, { signed: true }), col.name, onCell));
      const [lo, hi] = extent(col.grads.db);
      w.append(el("p", "layer-shape", `db: ${fmt4(lo)} … ${fmt4(hi)}`));
      card.append(w);
    }
    if (col.kind === "conv" || col.kind === "pool") {
      const open = el("button", "button ghost open-steps", "Steps ▸");
      open.type = "button";
      open.setAttribute("aria-label", `Open ${col.name} step by step`);
      open.addEventListener("click", () => onOpen(col.name));
      card.append(open);
      card.classList.add("openable");
      card.addEventListener("click", (e) => {
        if (e.target.closest("button, a") === null) onOpen(col.name);
      });
    }
    if (col.name === "conv1") { // these weights' filters on a photo, in the single-layer view
      const link = el("a", "explore-link", "see these filters on a photo in Explore");
      link.href = `/explore?${new URLSearchParams({ net_filters: run.weights || "shipped", layer: "conv1" })}`;
      card.append(link);
    }
    const legend = buildLegend(scale.kind ? scale : makeScale("sequential", 0, 1), fmt4);
    legend.classList.add("layer-legend");
    card.append(legend);
    root.append(card);
  });
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

/** The probability bars and the predicted class. */
export function renderProbs(list, predictionEl, run, classes) {
  const { probs, prediction } = run.forward;
  list.replaceChildren();
  probs.forEach((p, k) => {
    const li = el("li", k === prediction ? "prob is-top" : "prob");
    li.dataset.cls = String(k);
    const name = el("span", "prob-class", classes[k]);
    const bar = el("span", "prob-bar");
    const fill = el("span", "prob-fill");
    fill.style.width = `${(p * 100).toFixed(2)}%`;
    bar.append(fill);
    const value = el("span", "prob-value", p >= 0.0995 ? `${(p * 100).toFixed(1)}%` : `${(p * 100).toPrecision(2)}%`);
    li.title = `p(${classes[k]}) = ${p}`;
    li.append(name, bar, value);
    list.append(li);
  });
  const label = run.input.label;
  predictionEl.replaceChildren();
  predictionEl.append(el("span", "pred-class", classes[prediction]));
  const words = el("span", "pred-words", ` with p = ${(probs[prediction] * 100).toFixed(2)}%`);
  predictionEl.append(words);
  if (label !== null && label !== undefined) {
    predictionEl.append(el("span", label === prediction ? "pred-right" : "pred-wrong",
      label === prediction ? ` · right (label ${classes[label]})` : ` · wrong: the label is ${classes[label]}`));
  }
  predictionEl.dataset.prediction = String(prediction);
}
