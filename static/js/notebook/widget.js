// The notebook widget's front end: show(conv_forward) in Jupyter (cli/notebook.py, anywidget).
// It draws one learner function's state as widget_state() wrote it: the exercise's steps
// beside the learner's traced ones (a looped function) or the two outputs (the others).
// Every number, window, text and "differs" flag comes from Python; this module only picks
// them by index and draws them with the kit. anywidget loads it from a blob: URL, so it is
// served as one module with the kit inlined (cli/esm.py); in a checkout it also runs as it
// is (tests/browser/test_widget.py imports the inlined module, as Jupyter does).

import { el } from "../kit/dom.js";
import { fmtShort } from "../kit/arrays.js";
import { channelToRgba, cssColor, makeScale, rgbOf, textColorOn } from "../kit/colors.js";
import { MapCanvas } from "../kit/grid.js";
import { bindPlayerKeys } from "../kit/keyboard.js";
import { Player, showPlaying } from "../kit/player.js";

const span = (w) => (w ? `rows ${w[0][0]}:${w[0][1]}, columns ${w[1][0]}:${w[1][1]}` : "no window");
const winText = (w) => (w ? `${w[0][0]}:${w[0][1]},${w[1][0]}:${w[1][1]}` : "");
const scaleOf = ([lo, hi]) => makeScale(lo < 0 ? "diverging" : "sequential", Math.min(0, lo), hi);

/** A numbers table of a 2-D list; cell(r, c) -> {v, shown, marks[]} (a blank cell when not shown). */
function numbers(caption, rows, cols, cell, scale, field) {
  const t = el("table", "cw-mat");
  t.dataset.field = field;
  t.append(el("caption", null, caption));
  const body = el("tbody");
  for (let r = 0; r < rows; r += 1) {
    const tr = el("tr");
    for (let c = 0; c < cols; c += 1) {
      const { v, shown, marks } = cell(r, c);
      const td = el("td", null, shown ? fmtShort(v) : "");
      td.dataset.r = String(r);
      td.dataset.c = String(c);
      if (shown) {
        td.dataset.v = String(v);
        td.style.background = cssColor(scale, v);
        td.style.color = textColorOn(...rgbOf(scale, v));
      } else td.classList.add("unreached");
      for (const m of marks || []) td.classList.add(m);
      tr.append(td);
    }
    body.append(tr);
  }
  t.append(body);
  return t;
}

/** A MapCanvas of a 2-D list with a fixed scale. */
function mapData(values, name, scale) {
  const view = { rows: values.length, cols: values[0].length, get: (r, c) => values[r][c] };
  return {
    rows: view.rows,
    cols: view.cols,
    rgba: channelToRgba(view, scale),
    value: (r, c) => values[r][c],
    label: (r, c) => `${name}[${r}, ${c}]`,
    scale,
  };
}

function header(d) {
  const head = el("div", "cw-head");
  const verdict = el("p", `cw-verdict ${d.ok ? "ok" : "bad"}`);
  verdict.append(el("strong", null, d.ok ? "ok" : "FAIL"), " ", el("code", null, d.function), `: ${d.message}`);
  head.append(verdict, el("p", "cw-case", `Probe case ${d.case}: ${d.case_title}.`));
  if (d.difference) head.append(el("p", "cw-diff", `First difference: ${d.difference}.`));
  return head;
}

// ---------------------------------------------------------------------------------------
// The looped functions: the player over the exercise's steps.

function renderLoop(d, root) {
  const steps = d.steps;
  const n = steps.length;
  const $ = {};
  const bar = el("div", "cw-player");
  $.prev = el("button", null, "◀ Prev");
  $.play = el("button", null, "Play");
  $.next = el("button", null, "Next ▶");
  for (const b of [$.prev, $.play, $.next]) b.type = "button";
  $.scrub = el("input");
  Object.assign($.scrub, { type: "range", min: "0", max: String(n - 1), step: "1" });
  $.scrub.setAttribute("aria-label", "step");
  $.label = el("span", "cw-label");
  $.label.setAttribute("aria-live", "polite");
  bar.append($.prev, $.play, $.next, $.scrub, $.label);
  if (d.first !== null) {
    $.jump = el("button", "cw-jump", `Jump to step ${d.first + 1}: first difference`);
    $.jump.type = "button";
    bar.append($.jump);
  }

  const body = el("div", "cw-body");
  const gridScale = scaleOf(d.grid.range);
  const map = new MapCanvas({ title: d.grid.name || "", maxHeight: 320, className: "cw-map" });
  const legend = el("p", "cw-legend");
  legend.append(el("span", "lg-right", "the right window"), el("span", "lg-yours", "your window (dashed)"));
  const left = el("section", "cw-grid");
  left.append(map.el, legend);
  if (d.grid.values) map.setData(mapData(d.grid.values, d.grid.name, gridScale));

  const right = el("section", "cw-side cw-right");
  const yours = el("section", "cw-side cw-yours");
  body.append(left, right, yours);
  const first = el("p", "cw-first");
  root.append(bar, body, first);
  const outScale = d.output ? scaleOf(d.output.range) : null;

  const player = new Player({
    stepsPerSecond: 1,
    onStep: (k) => draw(k),
    onPlayChange: (on) => showPlaying($.play, on),
  });
  player.setTotal(n);

  function outputTables(k, s) {
    const o = d.output;
    const c = s.position[3];
    const nH = o.right.length;
    const nW = o.right[0].length;
    const cellOf = (p) => `${p[1]},${p[2]}`;
    // the right output as the exercise's loop fills it: steps 0..k of channel c
    const done = new Set(steps.slice(0, k + 1).filter((t) => t.position[3] === c).map((t) => cellOf(t.position)));
    const rightTable = numbers(`right ${o.name}[${d.image}, :, :, ${c}]`, nH, nW, (r, q) => ({
      v: o.right[r][q][c],
      shown: done.has(`${r},${q}`),
      marks: [r === s.position[1] && q === s.position[2] ? "current" : null].filter(Boolean),
    }), outScale, `right-${o.name}`);
    // yours as your loop fills it: your steps up to the one at this cell, in your order
    const mine = new Map();
    const upto = s.yours === null ? -1 : s.yours;
    for (let j = 0; j <= upto; j += 1) {
      const t = d.yours[j];
      if (t.position[3] === c && t.value !== null) mine.set(cellOf(t.position), t);
    }
    const yoursTable = numbers(`your ${o.name}[${d.image}, :, :, ${c}]`, nH, nW, (r, q) => {
      const t = mine.get(`${r},${q}`);
      return {
        v: t ? t.value : 0,
        shown: Boolean(t),
        marks: [t && t.differs ? "differs" : null, r === s.position[1] && q === s.position[2] ? "current" : null].filter(Boolean),
      };
    }, outScale, `yours-${o.name}`);
    return [rightTable, yoursTable];
  }

  function draw(k) {
    const s = steps[k];
    const t = s.yours === null ? null : d.yours[s.yours];
    const here = d.first === k;
    $.label.textContent = `Step ${k + 1} of ${n}: ${s.label}${here ? " (first difference)" : ""}`;
    $.scrub.value = String(k);
    $.scrub.setAttribute("aria-valuetext", $.label.textContent);
    $.prev.disabled = k === 0;
    $.next.disabled = k === n - 1;
    if (s.grid) {
      map.setTitle(s.grid.name);
      map.setData(mapData(s.grid.values, s.grid.name, gridScale));
    }
    const overlays = [{ kind: "window", r0: s.window[0][0], r1: s.window[0][1], c0: s.window[1][0], c1: s.window[1][1] }];
    if (t && t.window) overlays.push({ kind: "link", r0: t.window[0][0], r1: t.window[0][1], c0: t.window[1][0], c1: t.window[1][1] });
    map.setOverlays(overlays);
    root.dataset.step = String(k);
    root.dataset.rightWindow = winText(s.window);
    root.dataset.yoursWindow = t ? winText(t.window) : "";

    const code = (text) => el("code", null, text);
    const rightLines = el("ol", "cw-lines");
    for (const line of s.lines) {
      const li = el("li");
      li.append(code(line));
      rightLines.append(li);
    }
    const value = d.backward ? "" : ` = ${fmtShort(s.value)}`;
    right.replaceChildren(el("h3", null, "The exercise"),
      el("p", "cw-win right", `right window: ${span(s.window)}${d.backward ? "" : ` → ${s.label}${value}`}`),
      rightLines);
    const yourLines = el("ul", "cw-lines");
    if (t) {
      yourLines.append(el("li", null, `line ${t.line}: `));
      yourLines.lastChild.append(code(t.code));
      if (t.write_line !== t.line) {
        yourLines.append(el("li", null, `line ${t.write_line}: `));
        yourLines.lastChild.append(code(t.write_code));
      }
    }
    const said = t
      ? `your window: ${span(t.window)}${t.source ? ` of your ${t.source}` : ""}${d.backward ? "" : ` → ${s.label} = ${t.value === null ? "?" : fmtShort(t.value)}`}`
      : `your loop never ${d.backward ? "reads" : "writes"} ${s.label}`;
    yours.replaceChildren(el("h3", null, "Your loop"), el("p", `cw-win yours${s.differs ? " differs" : ""}`, said), yourLines);
    if (d.output) {
      const [rt, yt] = outputTables(k, s);
      right.append(rt);
      yours.append(yt);
    } else if (s.yours_grid) { // backward: your running gradient, as your writes left it
      const g = s.yours_grid;
      yours.append(numbers(g.name, g.values.length, g.values[0].length, (r, q) => ({
        v: g.values[r][q],
        shown: g.values[r][q] !== null,
        marks: g.differs[r][q] ? ["differs"] : [],
      }), gridScale, "yours-grid"));
    }
    first.className = here ? "cw-first here" : "cw-first";
    let note;
    if (d.first !== null) note = `${here ? "Here" : `At step ${d.first + 1}`} your loop first parts from the exercise's.`;
    else if (d.ok || !d.difference) note = "Your loop matches the exercise's at every step.";
    else note = `Your loop's steps match the exercise's here; the first difference: ${d.difference}.`;
    first.textContent = d.trace_note ? `${note} ${d.trace_note}` : note;
  }

  $.prev.addEventListener("click", () => player.stepBy(-1));
  $.next.addEventListener("click", () => player.stepBy(1));
  $.play.addEventListener("click", () => player.toggle());
  $.scrub.addEventListener("input", () => player.jump(Number($.scrub.value)));
  if ($.jump) $.jump.addEventListener("click", () => player.jump(d.first));
  bindPlayerKeys(root, { player });
  // the keys the player used stay the widget's (the notebook has its own for arrows, Space)
  root.addEventListener("keydown", (ev) => {
    if (ev.defaultPrevented) ev.stopPropagation();
  });
  player.jump(d.start);
  return () => {
    player.pause();
    map.destroy();
  };
}

// ---------------------------------------------------------------------------------------
// The others: the two outputs side by side.

function renderArrays(d, root) {
  const scale = scaleOf(d.range);
  const row = el("div", "cw-body cw-arrays");
  const table = (a, marks, field) => numbers(`${a.name} ${a.shape.length > 2 ? "(first image, first channel)" : ""}`.trim(),
    a.values.length, a.values[0].length, (r, c) => ({
      v: a.values[r][c], shown: true, marks: marks && marks[r][c] ? ["differs"] : [],
    }), scale, field);
  row.append(table(d.right, null, "right"));
  if (d.yours) row.append(table(d.yours, d.differs, "yours"));
  root.append(row);
  if (d.note) root.append(el("p", "cw-first here", d.note));
  return () => {};
}

function render({ model, el: host }) {
  let cleanup = () => {};
  const draw = () => {
    cleanup();
    const d = model.get("data");
    const root = el("div", "convstep-widget");
    root.tabIndex = 0;
    root.dataset.function = d.function;
    root.append(header(d));
    cleanup = d.kind === "loop" ? renderLoop(d, root) : renderArrays(d, root);
    host.replaceChildren(root);
  };
  draw();
  model.on("change:data", draw);
  return () => {
    model.off("change:data", draw);
    cleanup();
  };
}

export default { render };
