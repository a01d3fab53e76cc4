// "Check your own output": the learner runs their function on a probe case, saves what it
// returns with np.save and uploads the .npy (POST /api/learn/{fn}/diagnose). The server
// reads it (never any code) and diagnoses it as the checker does (core/mistakes.py); here
// the answer is only laid out: the verdict, the mistake it matches, where it first parts
// from the right output and the right and the uploaded arrays with the differing cells marked.

import { el } from "../kit/dom.js";
import { postDiagnosis } from "../kit/api.js";
import { firstDifferenceText, linePair, outputPair } from "./mistake.js";
import { num } from "./table.js";

// What each function returns, as the exercise's code names it (the saved output among them).
const RETURNS = {
  conv_forward: "Z, cache",
  conv_backward: "dA_prev, dW, db",
  pool_forward: "A, cache",
};

/** The lines a learner runs to save `output` of their `fn` on probe case `caseName`. */
export function saveLines(fn, caseName, output, outputs) {
  const lhs = RETURNS[fn] || outputs.join(", ");
  return [
    "from core.probes import arguments, get_case",
    `${lhs} = ${fn}(*arguments(get_case("${fn}", "${caseName}")))`,
    `np.save("${output}.npy", ${output})`,
  ];
}

/** [min, max] of the numbers in nested lists (the colour range only); booleans: none. */
function rangeOf(values) {
  let lo = Infinity;
  let hi = -Infinity;
  const walk = (v) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === "number") {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  };
  walk(values);
  return lo <= hi ? [lo, hi] : null;
}

// who the first difference is about: the upload itself, or the matched mistake's loops
const YOURS = { code: "Your code", output: (o) => `Your ${o}`, one: "yours" };
const MISTAKE = { code: "Code with this mistake", output: (o) => `With this mistake ${o}`, one: "the code with this mistake" };

/**
 * The upload form of the mistake/checker area. `page.current()` -> {fn, caseName, mode}: the
 * function shown and its probe case (null on a path step that is no probe case); start(list)
 * fills it from GET /api/learn/mistakes (cases and outputs per function, the mistakes'
 * titles and lines); sync() follows the page when it shows another function or case.
 * `page.hooks`: the page's test hooks (kit/testhooks.js learnHooks).
 */
export function createUploadCheck(root, page) {
  const $ = (q) => root.querySelector(q);
  const [form, caseSel, outSel, outLabel, file, go, status, box] = ["field", "case", "output",
    "output-label", "file", "go", "status"].map((id) => $(`#upload-${id}`)).concat($("#diagnosis"));
  let list = null;
  let shown = "";
  let pending = null;

  const fn = () => page.current().fn;

  function setStatus(text, kind = "") {
    status.textContent = text;
    status.className = `upload-status ${kind}`.trim();
  }

  function clearResult() {
    if (pending) pending.abort();
    pending = null;
    box.hidden = true;
    box.replaceChildren();
    page.hooks.upload("");
  }

  function renderHow() {
    const f = fn();
    const outputs = list.outputs[f];
    $("#upload-how").textContent = `Run your ${f} on probe case "${caseSel.value}", save ${outSel.value} with np.save and upload the file:`;
    $("#save-code").textContent = saveLines(f, caseSel.value, outSel.value, outputs).join("\n");
    const a = $("#upload-inputs");
    a.href = `/api/learn/${encodeURIComponent(f)}/cases`;
    a.textContent = `GET /api/learn/${f}/cases`;
  }

  /** The case to offer first: the one on screen, else one of the pool mode, else the first. */
  function defaultCase(f, cur) {
    const names = list.cases[f];
    if (cur.caseName && names.includes(cur.caseName)) return cur.caseName;
    return names.find((n) => cur.mode && n.endsWith(`_${cur.mode}`)) || names[0];
  }

  function fill() {
    const cur = page.current();
    const f = cur.fn;
    caseSel.replaceChildren(...list.cases[f].map((n) => el("option", null, n)));
    caseSel.value = defaultCase(f, cur);
    const outputs = list.outputs[f];
    outSel.replaceChildren(...outputs.map((n) => el("option", null, n)));
    outSel.value = outputs[0];
    outSel.hidden = outputs.length < 2;
    outLabel.hidden = outputs.length < 2;
    file.value = "";
    go.disabled = true;
    setStatus("");
    clearResult();
    renderHow();
  }

  function mistakeBlock(f, d) {
    const frag = [];
    const many = d.mistakes.length > 1;
    d.mistakes.forEach((id) => {
      const m = list.mistakes.find((x) => x.id === id);
      const v = m.variants.find((x) => x.function === f && d.variants.includes(x.flavour))
        || m.variants.find((x) => x.function === f);
      frag.push(el("p", "compare-what", many ? `${m.title}: ${v.what_goes_wrong}` : v.what_goes_wrong), linePair(v));
    });
    return frag;
  }

  function render(d) {
    const f = fn();
    const head = el("div", "compare-head");
    const verdict = d.ok
      ? `Your ${d.output} is right on case "${d.case}".`
      : d.mistakes.length
        ? `Your ${d.output} is what ${d.mistakes.length > 1 ? "two classic mistakes give" : "a classic mistake gives"}: ${d.mistakes.map((id) => list.mistakes.find((m) => m.id === id).title).join(" and ")}.`
        : `Your ${d.output} differs from the right one${d.count ? ` in ${d.count} ${d.count === 1 ? "cell" : "cells"}` : ""}; no classic mistake gives exactly it.`;
    const h = el("h3", null, verdict);
    h.id = "diag-verdict";
    head.append(h);
    box.replaceChildren(head);
    box.classList.toggle("right", d.ok);
    if (!d.ok) box.append(...mistakeBlock(f, d));
    const first = d.first_difference;
    if (first) {
      // a matched mistake's first difference is its loops' (the buggy code's); otherwise it
      // is read from the uploaded output
      const fd = el("div", "first-diff");
      const text = el("p", null, firstDifferenceText(first, first.basis === "output" ? YOURS : MISTAKE));
      text.id = "diag-first";
      fd.append(text);
      const a = el("a", "lbtn primary", d.mistakes.length ? "Open the mistake at that step" : "Walk the case to that step");
      a.href = d.link;
      a.id = "diag-link";
      fd.append(a);
      box.append(fd);
    }
    const run = {
      right: { outputs: { [d.output]: d.expected } },
      buggy: { outputs: { [d.output]: d.got } },
      differs: { [d.output]: d.differs },
    };
    const ranges = { [d.output]: rangeOf(d.expected.values) };
    box.append(outputPair(d.output, run, first, ranges, "yours"));
    box.hidden = false;
  }

  async function check() {
    const chosen = file.files && file.files[0];
    if (!chosen) return;
    clearResult();
    const ctl = new AbortController();
    pending = ctl;
    page.hooks.upload("busy");
    setStatus(`Checking ${chosen.name}…`);
    const f = fn();
    try {
      const d = await postDiagnosis(f, caseSel.value, outSel.value, chosen, { signal: ctl.signal });
      if (pending !== ctl) return;
      render(d);
      setStatus(`${chosen.name}: ${d.output} of shape (${d.got_shape.join(", ")}) read on case "${d.case}".`, d.ok ? "ok" : "");
      page.hooks.upload(d.ok ? "right" : "wrong");
    } catch (err) {
      if (ctl.signal.aborted) return;
      setStatus(`${chosen.name}: ${err.message}`, "error");
      page.hooks.upload("refused");
    } finally {
      if (pending === ctl) pending = null;
    }
  }

  caseSel.addEventListener("change", () => {
    clearResult();
    setStatus("");
    renderHow();
  });
  outSel.addEventListener("change", () => {
    clearResult();
    setStatus("");
    renderHow();
  });
  // choosing the same file again (saved anew) is a change too
  file.addEventListener("click", () => {
    file.value = "";
  });
  file.addEventListener("change", () => {
    go.disabled = !(file.files && file.files[0]);
    check();
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    check();
  });

  return {
    start(mistakeList) {
      if (!mistakeList) return; // no mistakes API: no diagnosis either
      list = mistakeList;
      form.hidden = false;
      this.sync();
    },
    sync() {
      if (!list) return;
      const cur = page.current();
      const key = `${cur.fn}|${cur.caseName || ""}|${cur.mode || ""}`;
      if (key === shown) return;
      shown = key;
      fill();
    },
  };
}

// ---------------------------------------------------------------------------------------
// A step's arithmetic as the learner's code did it, beside the right step's: the numbers
// come from the checker's trace (cli/tracer.py step_arithmetic, which read them through the
// tracer and took the right ones from core); here they are only written out.

const term = (v) => (v < 0 ? `(${num(v)})` : num(v));

/** One side ("yours", "buggy" or "right") as a code element: its terms (a·w, or the
 * window's values), those that differ from the other side's in <mark class="ar-diff">. */
function arithmeticCode(side, differs) {
  const code = el("code");
  const parts = [];
  if (side.terms) {
    side.terms.forEach((t, k) => {
      const text = side.kind === "conv" ? `${term(t[0])}·${term(t[1])}` : num(t);
      parts.push(differs && differs[k] ? el("mark", "ar-diff", text) : text);
    });
  }
  const joined = [];
  const sep = side.kind === "conv" ? " + " : ", ";
  parts.forEach((p, k) => joined.push(...(k ? [sep, p] : [p])));
  if (side.kind === "pool") {
    const list = side.terms ? joined : [`the ${side.count} values of the window`];
    code.append(`${side.op}(`, ...list, `) = ${side.value === null ? "?" : num(side.value)}`);
    return code;
  }
  const sum = side.terms ? joined : [`Σ of ${side.count} products a·w`];
  const bias = side.bias === null ? "" : ` + ${term(side.bias)}`;
  const value = side.value === null ? "?" : num(side.value);
  let tail = ` = ${num(side.total)}${bias} = ${value}`;
  if (side.bias === null) tail = ` = ${num(side.total)}; with b the code wrote ${value}`;
  else if (side.adds_up === false) tail = ` = ${num(side.total)}${bias}, but the code wrote ${value}`;
  code.append(...sum, tail);
  return code;
}

/** The rows "your Σ: 1·0.5 + 2·(−1) + … = −1.5" and "right Σ: … = −0.5" (pool: "your max:
 * max(…) = 4") of a traced step's `arithmetic` ({yours, right, differs}); `who` names the
 * learner's side ("your", or "buggy" in mistake mode). */
export function arithmeticRows(arithmetic, who) {
  const rows = [];
  const { yours, right, differs } = arithmetic || {};
  for (const [side, name, cls] of [[yours, who, "ld-yours"], [right, "right", "ld-right"]]) {
    if (!side) continue;
    const row = el("div", `${cls} ar-row`);
    row.dataset.side = cls === "ld-right" ? "right" : "yours";
    row.append(el("span", "ld-tag", `${name} ${side.kind === "pool" ? side.op : "Σ"}`), arithmeticCode(side, differs));
    rows.push(row);
  }
  return rows;
}
