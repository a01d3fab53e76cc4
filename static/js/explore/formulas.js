// The "Output size" panel: the size formula with the numbers filled in (the server's
// Geometry), the shape of every array along the layer, the rows and columns the floor
// drops; and the one-line size summary in the player bar.

import { el } from "../kit/dom.js";
import { layerShapes } from "../kit/geometry.js";

function shape(sh) {
  return sh ? sh.join(" × ") : "";
}

function listText(xs) {
  if (xs.length <= 6) return xs.join(", ");
  return `${xs.slice(0, 3).join(", ")}, …, ${xs.slice(-2).join(", ")} (${xs.length} in all)`;
}

/** "n_H = generic = numbers = ... = 64" -> [generic formula, "n_H = numbers ... = 64"]. */
function splitFormula(text) {
  const parts = text.split(" = ");
  if (parts.length < 3) return [null, text];
  return [`${parts[0]} = ${parts[1]}`, `${parts[0]} = ${parts.slice(2).join(" = ")}`];
}

/** "n = generic = numbers = middle ... = result" without the middle steps (kept in the title). */
function shortFormula(text) {
  const parts = text.split(" = ");
  return parts.length > 4 ? [...parts.slice(0, 3), parts[parts.length - 1]].join(" = ") : text;
}

/** A formula line that wraps only at its " = " signs. */
function formulaLine(text, full) {
  const p = el("p", "formula");
  p.title = full;
  text.split(" = ").forEach((part, i) => {
    p.append(el("span", "eq-part", i ? `= ${part}` : part));
    p.append(" ");
  });
  return p;
}

function geometryBlock(title, g, what) {
  const box = el("div", "geo-block");
  const [genH, numH] = splitFormula(shortFormula(g.formula_H));
  const [genW, numW] = splitFormula(shortFormula(g.formula_W));
  const head = el("h3", "", title);
  box.append(head);
  if (genH) box.append(el("p", "formula generic", genH));
  const fH = formulaLine(numH, g.formula_H);
  fH.dataset.field = `${what}-formula-H`;
  const fW = formulaLine(numW, g.formula_W);
  fW.dataset.field = `${what}-formula-W`;
  box.append(fH, fW);
  const dr = g.dropped_rows || [];
  const dc = g.dropped_cols || [];
  if (dr.length || dc.length) {
    const parts = [];
    if (dr.length) parts.push(`row${dr.length > 1 ? "s" : ""} ${listText(dr)}`);
    if (dc.length) parts.push(`column${dc.length > 1 ? "s" : ""} ${listText(dc)}`);
    const where = what === "conv" ? "of the padded input" : "of A";
    const them = dr.length + dc.length > 1 ? "them" : "it";
    const why = g.dilation > 1
      ? `the dilated windows step over ${them} or the floor in the formula drops ${them}`
      : `the floor in the formula drops ${them}`;
    const view = what === "conv" ? "Pad and Convolution views" : "Pooling view";
    const p = el("p", "dropped", `No window reaches ${parts.join(" and ")} ${where}: ${why} (red in the ${view}).`);
    box.append(p);
  }
  const d = el("details", "explain");
  d.append(el("summary", "", "Why these numbers"), el("p", "", g.explanation));
  box.append(d);
  return box;
}

/** Fills `root` with the formula panel for an image response; `out` gets the output size line. */
export function renderGeometry(root, out, raw, W) {
  const g = raw.geometry;
  const s = raw.settings;
  root.replaceChildren();
  const chain = el("p", "chain");
  chain.dataset.field = "chain";
  const sh = layerShapes(g, W);
  const parts = [
    ["A_prev", shape(sh.input)],
    [`pad ${g.conv.pad}`, shape(sh.padded)],
    [`conv f ${g.conv.f}, stride ${g.conv.stride}${g.conv.dilation > 1 ? `, dilation ${g.conv.dilation}` : ""}`, shape(sh.Z)],
  ];
  if (s.relu) parts.push(["ReLU", shape(sh.A)]);
  if (g.pool) parts.push([`${s.pool.mode} pool f ${g.pool.f}, stride ${g.pool.stride}`, shape(sh.pooled)]);
  parts.forEach(([label, sh], i) => {
    if (i) chain.append(el("span", "arrow", " → "));
    const item = el("span", "chain-item");
    item.append(el("span", "chain-label", label), el("b", "", sh));
    chain.append(item);
  });
  out.textContent = `Z is ${g.conv.n_H} × ${g.conv.n_W} per filter${g.pool ? `; pooled ${g.pool.n_H} × ${g.pool.n_W}` : ""}.`;
  root.append(chain);
  const blocks = el("div", "geo-blocks");
  blocks.append(geometryBlock("Convolution output", g.conv, "conv"));
  if (g.pool) blocks.append(geometryBlock("Pooling output", g.pool, "pool"));
  root.append(blocks);
}

/** The sizes through the layer, kept in the sticky player bar so they stay on screen. */
export function renderSummary(box, raw, W) {
  const g = raw.geometry;
  const shapes = layerShapes(g, W);
  const sh = (name) => (shapes[name] ? shapes[name].join("×") : "");
  const parts = [`A_prev ${sh("input")}`, `pad ${g.conv.pad} → ${sh("padded")}`, `Z ${sh("Z")}`];
  if (g.pool) parts.push(`pool ${sh("pooled")}`);
  box.classList.remove("bad");
  box.textContent = `${parts.join(" → ")} · n_H = ${g.conv.formula_H.split(" = ").slice(2).join(" = ")}`;
  box.title = g.conv.formula_H;
}
