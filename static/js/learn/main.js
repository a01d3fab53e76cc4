// Learn mode: boots from the lesson the server embedded (app/learn/lesson.py, built with core),
// walks one function of the exercise at a time, one step at a time. Opens paused at the
// step the URL names (step 1 by default); the view, the arithmetic and the code are drawn
// from the same step record in one render, so the panel never lags the counter.
// createLearn builds the page's one object `page` (the state, the player, the hooks) and
// hands it to the named parts below: render, the controls, mistake mode and the checker.

import { el } from "../kit/dom.js";
import { createDownloadMenu } from "../kit/download.js";
import { bindPlayerKeys } from "../kit/keyboard.js";
import { Player, showPlaying } from "../kit/player.js";
import { learnHooks } from "../kit/testhooks.js";
import { NUMBER, TEXT, writeProps } from "../kit/urlstate.js";
import { LESSONS, variantOf, yoursFirst } from "./lessons.js";
import { keepInSight, renderListing } from "./listing.js";
import { createMistakeMode, firstDifferenceText } from "./mistake.js";
import { createUploadCheck } from "./upload.js";

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
  };
  const page = {
    root,
    $,
    boot,
    lesson,
    state,
    hooks: learnHooks($("#main"), $("#upload-field")),
    // a probe case (mistake mode, a checker's link) replaces the path for its function
    caseActive: () => Boolean(boot.case && boot.case.fn === state.fn && state.caseName === boot.case.name),
    data: () => (page.caseActive() ? boot.case.data : variantOf(lesson, state.fn, state)),
    render: () => render(page),
  };
  page.player = new Player({ // at a reading pace, the speed menu's (not Explore's sweep)
    stepsPerSecond: 0.5,
    onStep: (k) => {
      state.k = k;
      page.render();
    },
    onPlayChange: (on) => showPlaying($("#btn-play"), on),
  });
  state.k = localStep(page.data(), open.step);
  const urlPage = {
    caseActive: page.caseActive,
    openedCase: open.case,
    urlStep() {
      const d = page.data();
      const s = d.steps[Math.min(state.k, d.steps.length - 1)];
      return s && page.caseActive() ? s.index : state.k;
    },
  };
  page.urlFor = () => `/learn?${writeProps(PROPS, state, urlPage)}`;
  page.openFn = (fn) => openFn(page, fn);
  page.download = createDownloadMenu($("#download"), () => describeAnimation(page));

  bindControls(page);
  bindPlayerKeys(document, { player: page.player });
  page.mistakes = bindMistakes(page);
  page.upload = bindUpload(page);
  $("#fn-title").tabIndex = -1;
  bindExplainFit(page);
  page.render();
  page.mistakes.start().then(() => page.upload.start(page.mistakes.list));
}

/** The local step whose record is loop step `step` (the URL's and the checker's count). */
function localStep(d, step) {
  const k = d.steps.findIndex((s) => s.index === step);
  return k >= 0 ? k : Math.max(0, Math.min(d.steps.length - 1, step - (d.step_offset || 0)));
}

/** Where the first difference is in the walk of `fn`: a local step, or null (another image). */
function diffStep(fn, d, first) {
  if (!first) return null;
  if (first.phase === "crop") return d.steps.findIndex((s) => s.kind === "crop");
  if (first.step !== null && first.step !== undefined) {
    const k = d.steps.findIndex((s) => s.index === first.step && s.kind !== "crop");
    return k >= 0 ? k : null;
  }
  if (fn === "zero_pad" && first.cell && first.cell[0] === 0) return Math.min(first.cell[1], d.steps.length - 1);
  return d.steps.length - 1; // one call: the output is whole at the last step
}

/** The step shown: its view, arithmetic, code, label, the case's notes and what comes next. */
function render(page) {
  const { $, state, player, lesson } = page;
  const fn = state.fn;
  const L = LESSONS[fn];
  const d = page.data();
  const n = d.steps.length;
  if (player.total !== n) player.setTotal(n);
  state.k = Math.max(0, Math.min(n - 1, state.k));
  player.k = state.k;
  const s = d.steps[state.k];
  const order = lesson.order.indexOf(fn);

  $("#fn-title").textContent = `${order + 1}. ${L.title}`;
  $("#fn-what").textContent = L.what;
  // in mistake mode the tip is the open mistake's (its right line and what goes wrong),
  // never the function's general one
  const open = state.mistake && state.run && state.run.function === fn ? state.run : null;
  page.root.querySelector(".explain").classList.toggle("mistake-open", Boolean(open));
  const oneLine = (code) => code.trim().split("\n").map((x) => x.trim()).join("; ");
  $("#callout").textContent = open
    ? `Look here: ${oneLine(open.variant.right_line)} (right), not ${oneLine(open.variant.buggy_line)}. ${open.variant.what_goes_wrong}`
    : L.callout(d);
  const label = stepLabel(page, d, s);
  const ctx = { lesson, pad: state.pad, mode: state.mode, ...yoursFor(page, d) };
  $("#view").replaceChildren(...L.view(d, s, ctx));
  page.download.refresh();
  const arith = L.arith(d, s);
  $("#arith").replaceChildren(...arith.map((line) => {
    const li = el("li", null);
    li.dataset.line = line.id;
    li.append(el("code", null, line.text));
    return li;
  }));
  // the exercise's code as the server derived it (core/learn/source.py): the path's
  // listing for its extras, or the probe case's (the exercise's own settings)
  renderListing($("#code"), { fn, d, s, lines: (page.caseActive() ? page.boot.case.code : lesson.code)[fn],
    run: page.caseActive() ? state.run : null });
  $("#live").textContent = `${label}. ${arith.map((l) => l.text).slice(-1)[0]}`;

  for (const a of page.root.querySelectorAll("#fn-list a")) {
    if (a.dataset.fn === fn) a.setAttribute("aria-current", "step");
    else a.removeAttribute("aria-current");
  }
  renderCaseNotes(page, d);
  renderNext(page, n, order);
  page.hooks.shown({ fn, step: state.k, steps: n });
  history.replaceState(null, "", page.urlFor());
  page.upload.sync();
}

/**
 * Your loop, from `convstep check FILE --open` (cli/tracer.py): the checker puts the trace
 * in the link's fragment (#trace=base64url JSON), which the browser never sends to the
 * server. Read once; null when absent or unreadable (the page is then as it always was).
 */
function readTrace() {
  const m = /(?:^#|&)trace=([A-Za-z0-9_-]+)/.exec(window.location.hash);
  if (!m) return null;
  try {
    const b64 = m[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (ch) => ch.charCodeAt(0));
    const t = JSON.parse(new TextDecoder().decode(bytes));
    return t && t.version === 1 && Array.isArray(t.steps) ? t : null;
  } catch {
    return null;
  }
}

const TRACE = readTrace();
// the output a step writes and its value's field (backward: the array windows add into; no value)
const OUTPUT_OF = { conv_forward: ["Z", "z"], pool_forward: ["A", "value"],
  conv_backward: ["da_prev_pad", null], pool_backward: ["dA_prev", null] };

/** The view's `yours` and `yoursFirst` when the trace is of this function, case and image. */
function yoursFor(page, d) {
  const { state } = page;
  // yours when the checker sent it; else, in mistake mode, the buggy code's own steps
  const run = state.mistake && state.run && state.run.function === state.fn ? state.run : null;
  const mine = TRACE && TRACE.function === state.fn && TRACE.case === state.caseName;
  const t = mine ? TRACE : run && run.buggy_steps;
  if (!t || t.function !== state.fn || t.case !== state.caseName || !page.caseActive()
      || (d.image ?? 0) !== t.image || !OUTPUT_OF[state.fn]) return {};
  const [name, value] = OUTPUT_OF[state.fn];
  const ctx = mine ? { yours: t } : { yours: t, buggyLine: run.variant.buggy_line };
  ctx.backward = value === null;
  ctx.yoursFirst = yoursFirst(ctx, d, name, value);
  return ctx;
}

/** "Download animation": this function's loop on this case's geometry, at this step. */
function describeAnimation(page) {
  const { state } = page;
  if (!ANIMATED.includes(state.fn)) return null;
  const d = page.data();
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

/** "Step k of n: ..." on the label, the scrubber and the buttons; returns the text. */
function stepLabel(page, d, s) {
  const { $, state } = page;
  const L = LESSONS[state.fn];
  const n = d.steps.length;
  const multi = d.m > 1 && s.index !== undefined;
  const label = multi
    ? `Step ${Math.min(s.index, d.total_steps - 1) + 1} of ${d.total_steps} (image ${d.image + 1} of ${d.m}): ${L.stepLabel(d, s)}`
    : `Step ${state.k + 1} of ${n}: ${L.stepLabel(d, s)}`;
  $("#step-label").textContent = label;
  const scrub = $("#scrub");
  scrub.max = String(n - 1);
  scrub.value = String(state.k);
  scrub.setAttribute("aria-valuetext", label);
  $("#btn-prev").disabled = state.k === 0;
  $("#btn-next").disabled = state.k === n - 1;
  return label;
}

/** On a probe case: which case, and the step where the buggy code parts from the right one. */
function renderCaseNotes(page, d) {
  const { $, state } = page;
  const L = LESSONS[state.fn];
  const inCase = page.caseActive();
  $("#pad-field").hidden = inCase || L.variant !== "pad";
  $("#mode-field").hidden = inCase || L.variant !== "mode";
  const caseLine = $("#case-line");
  caseLine.hidden = !inCase;
  caseLine.textContent = inCase ? `On the probe case "${page.boot.case.name}": ${page.boot.case.title}.` : "";
  const first = inCase && state.run ? state.run.first_difference : null;
  const note = $("#diff-note");
  const at = first ? diffStep(state.fn, d, first) : null;
  note.hidden = !(first && at === state.k);
  note.textContent = !note.hidden ? `Here the buggy code parts from the right one. ${firstDifferenceText(first)}` : "";
  page.hooks.mistake(inCase && state.mistake ? state.mistake : "", at);
}

/** At the last step: the next function's button (or, after the last, Explore's link). */
function renderNext(page, n, order) {
  const { $, state } = page;
  const next = page.lesson.order[order + 1];
  const nf = $("#next-fn");
  nf.hidden = state.k !== n - 1;
  if (state.k !== n - 1) return;
  nf.replaceChildren(next ? "Last step. Next: " : "Last step of the last function. ");
  if (next) {
    const b = el("button", "lbtn primary", `${order + 2}. ${next} →`);
    b.type = "button";
    b.addEventListener("click", () => page.openFn(next));
    nf.append(b);
  } else {
    const a = el("a", null, "Try your own image in Explore");
    a.href = "/explore";
    nf.append(a);
  }
}

function openFn(page, fn) {
  const { state } = page;
  page.player.pause();
  if (fn !== state.fn) { // mistake mode and a probe case are about one function
    state.mistake = null;
    state.flavour = null;
    state.run = null;
    state.caseName = null;
  }
  state.fn = fn;
  state.k = 0;
  page.mistakes.fnChanged(fn);
  page.render();
  page.$("#fn-title").focus({ preventScroll: true });
}

/** The player's buttons, the functions' list, pad / mode, the "More" settings and the speed. */
function bindControls(page) {
  const { $, root, state, player } = page;
  $("#btn-prev").addEventListener("click", () => player.stepBy(-1));
  $("#btn-next").addEventListener("click", () => player.stepBy(1));
  $("#btn-play").addEventListener("click", () => player.toggle());
  $("#scrub").addEventListener("input", (ev) => player.jump(Number(ev.target.value)));
  for (const a of root.querySelectorAll("#fn-list a")) {
    a.addEventListener("click", (ev) => {
      if (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
      ev.preventDefault();
      page.openFn(a.dataset.fn);
    });
  }
  for (const r of root.querySelectorAll("input[name=pad]")) {
    r.checked = Number(r.value) === state.pad;
    r.addEventListener("change", () => {
      state.pad = Number(r.value);
      page.render();
    });
  }
  for (const r of root.querySelectorAll("input[name=mode]")) {
    r.checked = r.value === state.mode;
    r.addEventListener("change", () => {
      state.mode = r.value;
      page.render();
    });
  }
  for (const [key, id] of EXTRAS) {
    const sel = $(`#${id}`);
    sel.value = state.extras[key];
    sel.addEventListener("change", () => {
      state.extras[key] = sel.value;
      player.pause();
      window.location.assign(page.urlFor()); // the server builds the lesson anew
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
}

/** Mistake mode (mistake.js): picking a mistake, jumping to where it parts, its run. */
function bindMistakes(page) {
  const { state, player } = page;
  /** This page's URL with `changes` made to its query ({key: value, or null to drop}). */
  const urlWith = (changes) => {
    const q = new URLSearchParams(page.urlFor().split("?")[1]);
    for (const [key, v] of Object.entries(changes)) {
      if (v === null) q.delete(key);
      else q.set(key, v);
    }
    return `/learn?${q}`;
  };
  const mistakes = createMistakeMode(page.root, {
    current: () => ({ fn: state.fn, mistake: page.caseActive() ? state.mistake : null, flavour: state.flavour, caseName: state.caseName }),
    ranges: () => page.data().ranges,
    onPick(id, flavour) {
      player.pause();
      if (!id) { // back to the path, no reload: the path is in the boot data
        state.mistake = null;
        state.flavour = null;
        state.run = null;
        state.caseName = null;
        state.k = 0;
        mistakes.fnChanged(state.fn);
        page.render();
        return;
      }
      state.mistake = id;
      state.flavour = flavour;
      // the server opens the mistake's probe case
      window.location.assign(urlWith({ mistake: id, flavour, step: "0", case: null }));
    },
    onJump(first) {
      const k = diffStep(state.fn, page.data(), first);
      if (k === null) { // in another image of the case: the server opens that one
        window.location.assign(urlWith({ step: String(first.step), case: state.caseName }));
        return;
      }
      player.jump(k);
      // the stage (both windows) and the buggy line under it in view, not the panel's top
      const stage = page.$("#view");
      if (stage && typeof stage.scrollIntoView === "function") stage.scrollIntoView({ block: "start" });
    },
    onRun(run) {
      state.run = run;
      page.render();
    },
  });
  return mistakes;
}

/**
 * On a wide screen the explanation column sticks beside the stage: its height is kept to
 * the window's (from its top, or from the sticky 0.5rem once the page scrolls), so its code
 * box, which scrolls on its own, keeps the marked lines on screen. Narrow: no cap.
 */
function bindExplainFit(page) {
  const box = page.root.querySelector(".explain");
  const wide = window.matchMedia("(min-width: 1000px)");
  let queued = false;
  const fit = () => {
    queued = false;
    if (!wide.matches) {
      box.style.maxHeight = "";
      return;
    }
    const top = Math.max(8, box.getBoundingClientRect().top);
    const cap = `${Math.max(240, window.innerHeight - top - 8)}px`;
    if (box.style.maxHeight !== cap) {
      box.style.maxHeight = cap;
      keepInSight(page.$("#code"));
    }
  };
  const later = () => {
    if (!queued) {
      queued = true;
      requestAnimationFrame(fit);
    }
  };
  window.addEventListener("scroll", later, { passive: true });
  window.addEventListener("resize", later);
  fit();
}

/** The checker's upload (upload.js), on the probe case on screen. */
function bindUpload(page) {
  const { state, lesson } = page;
  // the probe case on screen (mistake mode, a checker's link, or the path's own case)
  function shownCase() {
    if (page.caseActive()) return state.caseName;
    const byKey = lesson.cases[state.fn];
    const kind = LESSONS[state.fn].variant;
    return byKey ? byKey[kind === "pad" ? String(state.pad) : state.mode] || null : null;
  }
  return createUploadCheck(page.root, {
    hooks: page.hooks,
    current: () => ({ fn: state.fn, caseName: shownCase(), mode: LESSONS[state.fn].variant === "mode" ? state.mode : null }),
  });
}

createLearn(document);
