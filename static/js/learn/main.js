// Learn mode: boots from the lesson the server embedded (app/learn/lesson.py, built with core),
// walks one function of the exercise at a time, one step at a time. Opens paused at the
// step the URL names (step 1 by default); the view, the arithmetic and the code are drawn
// from the same step record in one render, so the panel never lags the counter.

import { el } from "../kit/dom.js";
import { bindPlayerKeys } from "../kit/keyboard.js";
import { Player, showPlaying } from "../kit/player.js";
import { learnHooks } from "../kit/testhooks.js";
import { NUMBER, TEXT, writeProps } from "../kit/urlstate.js";
import { LESSONS, variantOf } from "./lessons.js";
import { createMistakeMode, firstDifferenceText } from "./mistake.js";
import { createUploadCheck } from "./upload.js";
import { createDownloadMenu } from "../kit/download.js";

// The functions with a loop the server animates (GET /api/animation's ops).
const ANIMATED = ["conv_forward", "conv_backward", "pool_forward", "pool_backward"];

const EXTRAS = [ // the "More" settings: URL key, element id, default (the server's too)
  ["dilation", "dilation", "1"],
  ["pad_mode", "pad-mode", "constant"],
  ["tie", "tie", "all"],
  ["upstream", "upstream", "probe"],
];

/**
 * Learn's keys in the URL, in the kit's table (../kit/urlstate.js); the server reads them
 * (app/ LearnQuery) and opens the page there. `page`: {caseActive(), urlStep(), openedCase}.
 */
const PROPS = [
  { key: "fn", path: ["fn"], type: TEXT },
  { key: "step", get: (st, page) => page.urlStep(), type: NUMBER }, // the loop's step in a probe case
  { key: "mistake", path: ["mistake"], type: TEXT },
  { key: "flavour", path: ["flavour"], type: TEXT, when: (st) => Boolean(st.mistake) },
  { key: "case", path: ["caseName"], type: TEXT, when: (st, page) => page.caseActive() && Boolean(page.openedCase || !st.mistake) },
  { key: "pad", path: ["pad"], type: NUMBER, default: 1 },
  { key: "mode", path: ["mode"], type: TEXT, default: "max" },
  ...EXTRAS.map(([key, , def]) => ({ key, path: ["extras", key], type: TEXT, default: def })),
];

function createLearn(root) {
  const $ = (q) => root.querySelector(q);
  const boot = JSON.parse($("#boot").textContent);
  const { lesson } = boot;
  const open = boot.open;
  const state = {
    fn: open.fn,
    k: 0,
    pad: open.pad,
    mode: open.mode,
    mistake: open.mistake, // mistake mode: the mistake, its flavour, the probe case opened
    flavour: open.flavour,
    caseName: boot.case ? boot.case.name : open.case,
    run: null,
    extras: { dilation: String(open.dilation), pad_mode: open.pad_mode, tie: open.tie, upstream: open.upstream },
    speed: "0.5",
  };
  const hooks = learnHooks($("#main"), $("#upload-field"));

  const player = new Player({ // at a reading pace, the speed menu's (not Explore's sweep)
    stepsPerSecond: 0.5,
    onStep: (k) => {
      state.k = k;
      render();
    },
    onPlayChange: (on) => showPlaying($("#btn-play"), on),
  });

  // a probe case (mistake mode, a checker's link) replaces the path for its function
  const caseActive = () => Boolean(boot.case && boot.case.fn === state.fn && state.caseName === boot.case.name);
  const data = () => (caseActive() ? boot.case.data : variantOf(lesson, state.fn, state));

  /** The local step whose record is loop step `step` (the URL's and the checker's count). */
  function localStep(d, step) {
    const k = d.steps.findIndex((s) => s.index === step);
    return k >= 0 ? k : Math.max(0, Math.min(d.steps.length - 1, step - (d.step_offset || 0)));
  }
  state.k = localStep(data(), open.step);

  /** Where the first difference is in the walk: a local step, or null (another image). */
  function diffStep(d, first) {
    if (!first) return null;
    if (first.phase === "crop") return d.steps.findIndex((s) => s.kind === "crop");
    if (first.step !== null && first.step !== undefined) {
      const k = d.steps.findIndex((s) => s.index === first.step && s.kind !== "crop");
      return k >= 0 ? k : null;
    }
    if (state.fn === "zero_pad" && first.cell && first.cell[0] === 0) return Math.min(first.cell[1], d.steps.length - 1);
    return d.steps.length - 1; // one call: the output is whole at the last step
  }

  /** The exercise's code for `fn` as the server derived it (core/learn/source.py): the
   * path's listing for its extras, or the probe case's (the exercise's own settings). */
  function codeLines(fn) {
    return (caseActive() ? boot.case.code : lesson.code)[fn];
  }

  function renderCode(fn, d, s) {
    const lesson_ = LESSONS[fn];
    const { ids, notes } = lesson_.highlight(d, s);
    const on = new Set(ids);
    const pre = $("#code");
    pre.replaceChildren();
    const mode = d.mode;
    const run = caseActive() ? state.run : null;
    // mistake mode: the right lines the variant changes are marked and its buggy lines
    // shown beneath them (the server's marks, by line id)
    const marks = run ? run.variant.marks : [];
    const bugIds = new Set(marks.flatMap((m) => m.lines));
    const after = new Map(marks.map((m) => [m.lines[m.lines.length - 1], m]));
    const lines = codeLines(fn);
    lines.forEach((line) => {
      const row = el("span", "cl");
      row.dataset.line = line.id;
      if (on.has(line.id)) row.classList.add("hl");
      if (fn.startsWith("pool") && mode && ((mode === "max" && ["ifavg", "mean", "da", "fshape", "addavg"].includes(line.id))
        || (mode === "average" && ["ifmax", "max", "slice", "mask", "mask2", "addmax"].includes(line.id) && fn === "pool_backward")
        || (mode === "average" && ["ifmax", "max"].includes(line.id) && fn === "pool_forward"))) {
        row.classList.add("dim");
      }
      if (bugIds.has(line.id)) row.classList.add("bug-right");
      row.append(document.createTextNode(line.text));
      if (notes[line.id]) row.append(el("span", "note", `   ${notes[line.id]}`));
      pre.append(row, "\n");
      const mark = after.get(line.id);
      if (mark) { // the mistake's line(s), beneath the right one(s)
        const where = mark.via ? `, in ${mark.via}` : "";
        const texts = mark.buggy.length ? mark.buggy : [line.text.match(/^ */)[0]];
        for (const text of texts) {
          const bug = el("span", "cl bug", text);
          bug.append(el("span", "note", mark.buggy.length ? `   # the mistake${where}` : `# the mistake: this line is left out${where}`));
          bug.dataset.line = "bug";
          pre.append(bug, "\n");
        }
      }
    });
    // keep the marked lines in sight inside the code box (it scrolls on its own)
    const first = pre.querySelector(".cl.hl");
    if (first && pre.scrollHeight > pre.clientHeight) {
      const last = [...pre.querySelectorAll(".cl.hl")].pop();
      const top = first.offsetTop; // pre is the lines' offsetParent (position: relative)
      const bottom = last.offsetTop + last.offsetHeight;
      if (top < pre.scrollTop || bottom > pre.scrollTop + pre.clientHeight) {
        pre.scrollTop = Math.max(0, top - 2 * first.offsetHeight);
      }
    }
  }

  function renderArith(fn, d, s) {
    const ol = $("#arith");
    ol.replaceChildren(...LESSONS[fn].arith(d, s).map((line) => {
      const li = el("li", null);
      li.dataset.line = line.id;
      li.append(el("code", null, line.text));
      return li;
    }));
  }

  const urlPage = {
    caseActive,
    openedCase: open.case,
    urlStep() {
      const d = data();
      const s = d.steps[Math.min(state.k, d.steps.length - 1)];
      return s && caseActive() ? s.index : state.k;
    },
  };
  const urlFor = () => `/learn?${writeProps(PROPS, state, urlPage)}`;

  function syncUrl() {
    history.replaceState(null, "", urlFor());
  }

  /** "Download animation": this function's loop on this case's geometry, at this step. */
  function describeAnimation() {
    if (!ANIMATED.includes(state.fn)) return null;
    const d = data();
    // pool_backward's record carries no geometry: its input's and dA's shapes say it
    const g = d.geometry || { n_H_prev: d.A_prev[0].length, n_W_prev: d.A_prev[0][0].length, n_W: d.dA[0][0].length };
    const pool = state.fn.startsWith("pool");
    const params = { op: state.fn, h: g.n_H_prev, w: g.n_W_prev, f: pool ? d.f : g.f, stride: d.stride };
    if (!pool) Object.assign(params, { pad: d.pad, dilation: d.dilation || 1 });
    const s = d.steps[Math.min(state.k, d.steps.length - 1)];
    const frame = s && Number.isInteger(s.h) && Number.isInteger(s.w) ? s.h * g.n_W + s.w : 0;
    return {
      params,
      step: frame,
      note: `${state.fn}'s loop on this ${g.n_H_prev} × ${g.n_W_prev} input, one frame per window position, in the classic colours (one channel of a fixed example, not this case's numbers).`,
    };
  }
  const download = createDownloadMenu($("#download"), describeAnimation);

  function render() {
    const fn = state.fn;
    const L = LESSONS[fn];
    const d = data();
    const n = d.steps.length;
    if (player.total !== n) player.setTotal(n);
    state.k = Math.max(0, Math.min(n - 1, state.k));
    player.k = state.k;
    const s = d.steps[state.k];
    const order = lesson.order.indexOf(fn);

    $("#fn-title").textContent = `${order + 1}. ${L.title}`;
    $("#fn-what").textContent = L.what;
    $("#callout").textContent = L.callout(d);
    const multi = d.m > 1 && s.index !== undefined;
    const label = multi
      ? `Step ${Math.min(s.index, d.total_steps - 1) + 1} of ${d.total_steps} (image ${d.image} of ${d.m}): ${L.stepLabel(d, s)}`
      : `Step ${state.k + 1} of ${n}: ${L.stepLabel(d, s)}`;
    $("#step-label").textContent = label;
    const scrub = $("#scrub");
    scrub.max = String(n - 1);
    scrub.value = String(state.k);
    scrub.setAttribute("aria-valuetext", label);
    $("#btn-prev").disabled = state.k === 0;
    $("#btn-next").disabled = state.k === n - 1;
    $("#view").replaceChildren(...L.view(d, s, { lesson, pad: state.pad, mode: state.mode }));
    download.refresh();
    renderArith(fn, d, s);
    renderCode(fn, d, s);
    $("#live").textContent = `${label}. ${LESSONS[fn].arith(d, s).map((l) => l.text).slice(-1)[0]}`;

    for (const a of root.querySelectorAll("#fn-list a")) {
      if (a.dataset.fn === fn) a.setAttribute("aria-current", "step");
      else a.removeAttribute("aria-current");
    }
    const inCase = caseActive();
    $("#pad-field").hidden = inCase || L.variant !== "pad";
    $("#mode-field").hidden = inCase || L.variant !== "mode";
    const caseLine = $("#case-line");
    caseLine.hidden = !inCase;
    caseLine.textContent = inCase ? `On the probe case "${boot.case.name}": ${boot.case.title}.` : "";
    const first = inCase && state.run ? state.run.first_difference : null;
    const note = $("#diff-note");
    const at = first ? diffStep(d, first) : null;
    note.hidden = !(first && at === state.k);
    note.textContent = !note.hidden ? `Here the buggy code parts from the right one. ${firstDifferenceText(first)}` : "";
    hooks.mistake(inCase && state.mistake ? state.mistake : "", at);
    const next = lesson.order[order + 1];
    const nf = $("#next-fn");
    nf.hidden = state.k !== n - 1;
    if (state.k === n - 1) {
      nf.replaceChildren(next ? "Last step. Next: " : "Last step of the last function. ");
      if (next) {
        const b = el("button", "lbtn primary", `${order + 2}. ${next} →`);
        b.type = "button";
        b.addEventListener("click", () => openFn(next));
        nf.append(b);
      } else {
        const a = el("a", null, "Try your own image in Explore");
        a.href = "/explore";
        nf.append(a);
      }
    }
    hooks.shown({ fn, step: state.k, steps: n });
    syncUrl();
    upload.sync();
  }

  function openFn(fn) {
    player.pause();
    if (fn !== state.fn) { // mistake mode and a probe case are about one function
      state.mistake = null;
      state.flavour = null;
      state.run = null;
      state.caseName = null;
    }
    state.fn = fn;
    state.k = 0;
    mistakes.fnChanged(fn);
    render();
    $("#fn-title").focus({ preventScroll: true });
  }

  // controls
  $("#btn-prev").addEventListener("click", () => player.stepBy(-1));
  $("#btn-next").addEventListener("click", () => player.stepBy(1));
  $("#btn-play").addEventListener("click", () => player.toggle());
  $("#scrub").addEventListener("input", (ev) => player.jump(Number(ev.target.value)));
  for (const a of root.querySelectorAll("#fn-list a")) {
    a.addEventListener("click", (ev) => {
      if (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
      ev.preventDefault();
      openFn(a.dataset.fn);
    });
  }
  for (const r of root.querySelectorAll("input[name=pad]")) {
    r.checked = Number(r.value) === state.pad;
    r.addEventListener("change", () => {
      state.pad = Number(r.value);
      render();
    });
  }
  for (const r of root.querySelectorAll("input[name=mode]")) {
    r.checked = r.value === state.mode;
    r.addEventListener("change", () => {
      state.mode = r.value;
      render();
    });
  }
  for (const [key, id] of EXTRAS) {
    const sel = $(`#${id}`);
    sel.value = state.extras[key];
    sel.addEventListener("change", () => {
      state.extras[key] = sel.value;
      player.pause();
      window.location.assign(urlFor()); // the server builds the lesson anew
    });
  }
  const speed = $("#speed");
  speed.addEventListener("change", () => {
    player.stepsPerSecond = Number(speed.value);
    $("#btn-play").title = `Play / pause (Space): ${speed.options[speed.selectedIndex].text}`;
  });
  if (Object.entries(state.extras).some(([key, v]) => EXTRAS.find((e) => e[0] === key)[2] !== v)) {
    $("#more").open = true;
  }

  bindPlayerKeys(document, { player });

  const mistakes = createMistakeMode(root, {
    current: () => ({ fn: state.fn, mistake: caseActive() ? state.mistake : null, flavour: state.flavour, caseName: state.caseName }),
    ranges: () => data().ranges,
    onPick(id, flavour) {
      player.pause();
      if (!id) { // back to the path, no reload: the path is in the boot data
        state.mistake = null;
        state.flavour = null;
        state.run = null;
        state.caseName = null;
        state.k = 0;
        mistakes.fnChanged(state.fn);
        render();
        return;
      }
      state.mistake = id;
      state.flavour = flavour;
      const q = new URLSearchParams(urlFor().split("?")[1]);
      q.set("mistake", id);
      q.set("flavour", flavour);
      q.set("step", "0");
      q.delete("case");
      window.location.assign(`/learn?${q}`); // the server opens the mistake's probe case
    },
    onJump(first) {
      const k = diffStep(data(), first);
      if (k === null) { // in another image of the case: the server opens that one
        const q = new URLSearchParams(urlFor().split("?")[1]);
        q.set("step", String(first.step));
        q.set("case", state.caseName);
        window.location.assign(`/learn?${q}`);
        return;
      }
      player.jump(k);
    },
    onRun(run) {
      state.run = run;
      render();
    },
  });

  // the probe case on screen (mistake mode, a checker's link, or the path's own case)
  function shownCase() {
    if (caseActive()) return state.caseName;
    const byKey = lesson.cases[state.fn];
    const kind = LESSONS[state.fn].variant;
    return byKey ? byKey[kind === "pad" ? String(state.pad) : state.mode] || null : null;
  }

  const upload = createUploadCheck(root, {
    hooks,
    current: () => ({ fn: state.fn, caseName: shownCase(), mode: LESSONS[state.fn].variant === "mode" ? state.mode : null }),
  });

  $("#fn-title").tabIndex = -1;
  render();
  mistakes.start().then(() => upload.start(mistakes.list));
}

createLearn(document);
