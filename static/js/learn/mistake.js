// Mistake mode: one classic mistake of the exercise on the probe case the server opened.
// The right and the buggy outputs side by side with the differing cells marked, the buggy
// line beside the right one, and where the two first part (GET /api/learn/...). The server
// decided everything (core/mistakes.py); here it is only laid out.

import { el } from "../kit/dom.js";
import { fetchMistakeRun, fetchMistakes } from "../kit/api.js";
import { arrayTable, num, scaleFor } from "./table.js";

const sliceAxes = (name) => (name === "dW" ? [2, 3] : [0, 3]);

function shapeOf(arr) {
  return arr ? arr.shape : null;
}

/** A 2-D view of an ARR {shape, values} for a table: (i, c) or (ch, c) fixed for 4-D. */
function plane(arr, name, fixed) {
  const v = arr.values;
  const sh = arr.shape;
  if (sh.length === 0) return { rows: [[v]], label: "" };
  if (sh.length === 1) return { rows: [v], label: "" };
  if (sh.length === 2) return { rows: v, label: "" };
  if (sh.length === 3) {
    const c = Math.min(fixed[1], sh[2] - 1);
    return { rows: v.map((row) => row.map((cell) => cell[c])), label: `[:, :, ${c}]` };
  }
  if (name === "db") return { rows: [v[0][0][0]], label: "[0, 0, 0, :]" };
  const [a, b] = [Math.min(fixed[0], sh[sliceAxes(name)[0]] - 1), Math.min(fixed[1], sh[3] - 1)];
  if (name === "dW") return { rows: v.map((row) => row.map((cell) => cell[a][b])), label: `[:, :, ${a}, ${b}]` };
  return { rows: v[a].map((row) => row.map((cell) => cell[b])), label: `[${a}, :, :, ${b}]` };
}

/** The fixed indices to show for an output: those of the first differing cell. */
function fixedFor(name, first, differs) {
  let cell = first && first.output === name && first.cell ? first.cell : null;
  if (!cell && differs && differs.shape.length === 4) {
    const sh = differs.shape;
    const d = differs.values;
    for (let i = 0; i < sh[0] && !cell; i += 1) {
      for (let r = 0; r < sh[1] && !cell; r += 1) {
        for (let q = 0; q < sh[2] && !cell; q += 1) {
          for (let c = 0; c < sh[3] && !cell; c += 1) if (d[i][r][q][c]) cell = [i, r, q, c];
        }
      }
    }
  }
  if (!cell || cell.length !== 4) return [0, 0];
  return name === "dW" ? [cell[2], cell[3]] : [cell[0], cell[3]];
}

function differsPlane(differs, name, fixed) {
  return differs ? plane(differs, name, fixed).rows : null;
}

const T = (x) => `(${x.join(", ")})`;

const BUGGY = { code: "The buggy code", output: (o) => `The buggy ${o}`, one: "the buggy one" };

/**
 * The sentence that says where right and buggy first part; `who` names the other side
 * (default the buggy code; an upload says "yours").
 */
export function firstDifferenceText(first, who = BUGGY) {
  if (!first) return `On this case ${who.code.toLowerCase()} gives the right numbers.`;
  const where = first.position ? ` after step ${first.step + 1} of ${first.total_steps} (i, h, w, c = ${first.position.join(", ")})` : "";
  if (first.kind === "error") return errorSentence(who.code, first.error, where);
  if (first.kind === "timeout") return `${who.code} does not finish in time.`;
  if (first.kind === "shape") {
    return `${who.output(first.output || "output")} has shape ${T(first.got_shape)} instead of ${T(first.expected_shape)}${where}.`;
  }
  const cell = first.cell && first.cell.length ? `${first.output}[${first.cell.join(", ")}]` : first.output;
  const crop = first.phase === "crop" ? " (at the crop)" : "";
  return `They first differ${where}${crop}: ${cell} is ${num(first.expected)} in the right code and ${num(first.got)} in ${who.one}.`;
}

// core's error texts (core/learn/outcomes.py): an exception is "ValueError: ..."; a wrong
// return is said in words ("returned a tuple of 3 ...", "dW is not an array: ...")
const EXCEPTION = /^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b/;

/**
 * "The buggy code raises ValueError: ...", "The buggy code returned None for dW ...": an
 * error of `whoCode` as one sentence, `where` (", after step 3 of 24 ...") before its text.
 */
export function errorSentence(whoCode, error, where = "") {
  if (/^returned\b/.test(error)) return `${whoCode} ${error}${where}.`;
  if (EXCEPTION.test(error)) return where ? `${whoCode} raises${where}: ${error}` : `${whoCode} raises ${error}`;
  return `${whoCode} gives what cannot be checked${where}: ${error}`;
}

/** The variant's buggy line beneath the right one. */
export function linePair(variant) {
  const box = el("div", "linediff");
  const right = el("div", "ld-right");
  right.append(el("span", "ld-tag", "right"), el("code", null, variant.right_line));
  const buggy = el("div", "ld-buggy");
  buggy.append(el("span", "ld-tag", "buggy"), el("code", null, variant.buggy_line));
  box.append(right, buggy);
  return box;
}

/**
 * Output `name` of a run: the right array beside the other one (`theirs`: "buggy", or
 * "yours" for an upload), one 2-D slice each, the differing cells marked.
 */
export function outputPair(name, run, first, ranges, theirs = "buggy") {
  const right = run.right.outputs ? run.right.outputs[name] : null;
  const buggy = run.buggy.outputs ? run.buggy.outputs[name] : null;
  const differs = run.differs ? run.differs[name] : null;
  const fixed = fixedFor(name, first, differs);
  const g = el("section", "arr-group");
  g.dataset.output = name;
  const sameShape = right && buggy && T(right.shape) === T(buggy.shape);
  g.append(el("h3", "arr-group-title", sameShape || !buggy ? name : `${name}: right ${T(right.shape)}, ${theirs} ${T(buggy.shape)}`));
  const row = el("div", "arr-row");
  const rp = right ? plane(right, name, fixed) : null;
  const bp = buggy ? plane(buggy, name, fixed) : null;
  // colours on the right output's range from the lesson (a buggy value outside it takes the
  // end colour; its number is written in the cell anyway)
  const range = ranges[name];
  const scale = range ? scaleFor(range) : null;
  const dmask = sameShape ? differsPlane(differs, name, fixed) : null;
  const mark = (r, c) => [dmask && dmask[r] && dmask[r][c] ? "differs" : null];
  if (rp) row.append(arrayTable({ name: `right ${name}${rp.label}`, values: rp.rows, scale, field: `right-${name}`, marks: mark, label: (r, c) => `right ${name}${rp.label} [${r}, ${c}]` }));
  if (bp) row.append(arrayTable({ name: `${theirs} ${name}${bp.label}`, values: bp.rows, scale, field: `${theirs}-${name}`, marks: mark, label: (r, c) => `${theirs} ${name}${bp.label} [${r}, ${c}]` }));
  g.append(row);
  if (dmask) {
    const n = dmask.flat().filter(Boolean).length;
    const total = [differs.values].flat(Infinity).filter(Boolean).length;
    const cells = (k) => `${k} ${k === 1 ? "cell" : "cells"}`;
    const note = n ? `${cells(n)} differing, marked ≠ in this slice`
      : total ? `this slice agrees; ${cells(total)} differ in other slices`
        : "every cell agrees";
    g.append(el("p", "arr-note", note));
  }
  return g;
}

/**
 * Mistake mode for a page: fills the mistake picker, and for an open mistake the compare
 * panel. `page` gives current() -> {fn, mistake, flavour, caseName}, ranges() (the
 * lesson's value ranges by name), onPick(id, flavour), onJump(first) and onRun(run).
 */
export function createMistakeMode(root, page) {
  const $ = (q) => root.querySelector(q);
  const select = $("#mistake");
  const field = $("#mistake-field");
  const panel = $("#compare");
  let list = null;
  let run = null;

  function fillPicker(fn) {
    if (!list) return;
    select.replaceChildren(el("option", null, "none: the right code"));
    select.options[0].value = "";
    for (const m of list.mistakes) {
      for (const v of m.variants.filter((x) => x.function === fn)) {
        const many = m.variants.filter((x) => x.function === fn).length > 1;
        const o = el("option", null, `${m.title}${many ? ` (${v.flavour.split("/")[1]})` : ""}${v.via ? ` (in ${v.via})` : ""}`);
        o.value = `${m.id}|${v.flavour}`;
        select.append(o);
      }
    }
    const cur = page.current();
    const key = cur.mistake ? `${cur.mistake}|${cur.flavour || ""}` : "";
    const match = [...select.options].find((o) => o.value === key)
      || [...select.options].find((o) => cur.mistake && o.value.startsWith(`${cur.mistake}|`));
    select.value = match ? match.value : "";
    const count = select.options.length - 1;
    $("#mistake-note").textContent = count
      ? `${count} classic ${count === 1 ? "mistake changes" : "mistakes change"} ${fn}.`
      : `No classic mistake changes ${fn}.`;
    field.hidden = false;
  }

  function render() {
    if (!run) {
      panel.hidden = true;
      panel.replaceChildren();
      return;
    }
    const first = run.first_difference;
    panel.replaceChildren();
    const head = el("div", "compare-head");
    head.append(el("h3", null, `Mistake mode: ${run.title}`));
    const off = el("button", "lbtn", "Back to the right code");
    off.type = "button";
    off.addEventListener("click", () => page.onPick(null, null));
    head.append(off);
    panel.append(head);
    panel.append(el("p", "compare-what", run.variant.what_goes_wrong));
    panel.append(linePair(run.variant));
    panel.append(el("p", "hint", `Probe case "${run.case.name}": ${run.case.title}.`));
    const fd = el("div", "first-diff");
    const text = el("p", null, firstDifferenceText(first));
    text.id = "first-diff-text";
    fd.append(text);
    if (first) {
      const jump = el("button", "lbtn primary", first.step !== null && first.step !== undefined ? `Jump to step ${first.step + 1}` : "Jump to where it differs");
      jump.type = "button";
      jump.id = "jump-diff";
      jump.addEventListener("click", () => page.onJump(first));
      fd.append(jump);
    }
    panel.append(fd);
    if (run.buggy.error) {
      const e = el("p", "error", `${errorSentence(BUGGY.code, run.buggy.error).replace(/\.?$/, ".")} The right code returns:`);
      e.id = "buggy-error";
      panel.append(e);
    }
    const names = Object.keys(run.right.outputs || {});
    for (const name of names) panel.append(outputPair(name, run, first, page.ranges()));
    panel.hidden = false;
  }

  async function open() {
    const cur = page.current();
    if (!cur.mistake) {
      run = null;
      render();
      return;
    }
    panel.hidden = false;
    panel.replaceChildren(el("p", "hint", "Running the buggy code on the probe case…"));
    try {
      run = await fetchMistakeRun(cur.fn, cur.mistake, { caseName: cur.caseName, flavour: cur.flavour });
    } catch (err) {
      run = null;
      panel.replaceChildren(el("p", "error", `Mistake mode could not open: ${err.message}`));
      return;
    }
    render();
    page.onRun(run);
  }

  select.addEventListener("change", () => {
    const [id, flavour] = select.value ? select.value.split("|") : [null, null];
    page.onPick(id, flavour);
  });

  return {
    async start() {
      try {
        list = await fetchMistakes();
      } catch (err) {
        if (err.status === 404) return; // a server without the mistakes API: no picker
        field.hidden = false;
        select.disabled = true;
        $("#mistake-note").textContent = `The list of mistakes did not load: ${err.message}`;
        return;
      }
      fillPicker(page.current().fn);
      await open();
    },
    fnChanged(fn) {
      run = null;
      render();
      fillPicker(fn);
    },
    get run() {
      return run;
    },
    /** GET /api/learn/mistakes's answer once start() has it (null without the API). */
    get list() {
      return list;
    },
  };
}
