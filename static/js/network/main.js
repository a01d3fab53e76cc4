// The network page: boot wiring. createNetworkPage builds the page's one object `page` (the
// state, the hooks, the URL, the parts) inside its root and hands it to the named parts
// below: the runner (asks the server, draws the answer), the inputs (drawing, held-out
// digits, a photo), the views (forward or backward, the loss's class, a layer's step view),
// the weights (shipped, uploaded, a training job's) and the view the URL asks for. No
// module-level state. One state object: where the digit comes from, which weights, which
// view, which class's loss, mirrored in the URL (urlstate.js). Every number drawn comes from
// the server.

import { el, finder } from "../kit/dom.js";
import { bindTabKeys } from "../kit/keyboard.js";
import { networkHooks } from "../kit/testhooks.js";
import { heldOutDigits, networkRun as postRun, networkRunPhoto as runPhoto, uploadWeights, weightSet } from "../kit/api.js";
import { INK, fmt4, paint, plain, unpaint } from "./maps.js";
import { createLayers, renderInput, renderProbs } from "./overview.js";
import { createPad } from "./draw.js";
import { createStepView } from "./stepview.js";
import { createTraining } from "./training.js";
import { readView, viewSync } from "./urlstate.js";

// A demo "2" already on the pad, so the network has something to show at once.
const DEMO = [[0.3, 0.3], [0.42, 0.18], [0.6, 0.18], [0.7, 0.3], [0.68, 0.45], [0.5, 0.62],
  [0.32, 0.82], [0.72, 0.82]];
const LIVE_GAP_MS = 50;
const SOURCES = ["draw", "digit", "photo"]; // the input's tabs

function createNetworkPage(root, boot) {
  const $ = finder(root);
  const arch = boot.architecture;
  const asked = readView(window.location.search, arch); // the view the URL asks for
  const page = {
    root,
    $,
    arch,
    classes: arch.classes,
    state: { source: "draw", digit: 0, photo: null, weights: "shipped", mode: "forward",
      target: null, run: null, demo: true },
    hooks: networkHooks(root, $("steps-panel")),
    restoring: null, // an uploaded weights id from the URL, until the server confirms it
    onCell: (text) => {
      $("readout").textContent = text || "Hover a cell to read its exact value.";
    },
    showError: (e) => {
      const box = $("input-error");
      box.hidden = !e;
      box.textContent = e ? e.message : "";
    },
  };
  const { state } = page;
  // the view into the URL (urlstate.js)
  const url = viewSync(() => ({ source: state.source, digit: state.digit,
    weights: page.restoring || state.weights, mode: state.mode, target: state.target,
    layer: page.steps.layer, direction: page.steps.direction, step: page.steps.layer ? page.steps.step : 0,
    job: page.training && page.training.job ? page.training.job.id : null }));
  page.remember = () => url.sync();
  Object.assign(page, createRunner(page));
  page.layers = createLayers($("layers"), arch, { onOpen: (name) => page.openSteps(name), onCell: page.onCell });
  bindInputs(page);
  bindViews(page);
  bindWeights(page);
  openAsked(page, asked);
  page.hooks.busy(false);
}

// ---------------------------------------------------------------- running the network

/** How a photo or a drawing sent as pixels was redrawn (core/net_input.py's redraw_ink). */
function redrawn(pre) {
  if (pre.stroke == null) return "";
  const width = `strokes ${Math.round(pre.stroke)} px wide`;
  return pre.redrawn
    ? `${width}, thinned and redrawn with a ${Math.round(pre.pen)} px pen (its size × ${fmt4(pre.pen / pre.size)}), `
    : `${width}, read as they are (a thick pen filled its loops in), `;
}

/**
 * Asking the server and drawing its answer: refresh({live}) runs the network on the input
 * shown, draw() draws the last answer, request() / photoRequest() are the step view's input.
 */
function createRunner(page) {
  const { $, state, hooks } = page;
  let seq = 0;
  let running = null; // the run under way: { control (its AbortController), key }
  let pending = false; // a live redraw asked for while a run was under way
  let liveTimer = null; // the next live redraw, LIVE_GAP_MS after the last run ended

  function inputBody() {
    if (state.source === "digit") return { kind: "digit", index: state.digit };
    if (state.source === "draw") return page.pad.input(); // the strokes, or null: nothing drawn
    return null;
  }

  function request() {
    return { input: inputBody(), weights: state.weights, target: state.target };
  }

  // photos are sent once; their 8 x 8 pixels (from the answer) drive the step view
  function photoRequest() {
    if (!state.run) return null;
    return { input: { kind: "pixels", pixels: state.run.input.pixels }, weights: state.weights,
      target: state.target };
  }

  // A new input (a stroke began or ended, another digit, target or weights) aborts the run
  // under way, whose answer would be stale, unless that run is for this very input. A live
  // redraw while drawing ({ live: true }, every pointer move) never aborts: it runs once the
  // run under way has ended and LIVE_GAP_MS more have passed, with the ink as it is by then,
  // so that the live redraws leave the server and the page room for the stroke's final run.
  function refresh({ live = false } = {}) {
    if (live && (running || liveTimer)) {
      pending = true;
      return;
    }
    clearTimeout(liveTimer);
    liveTimer = null;
    pending = false;
    let send;
    let key = null; // the request's JSON, to know a run under way for the same input
    if (state.source === "photo") {
      if (!state.photo) return;
      const photo = state.photo;
      const settings = { weights: state.weights, target: state.target };
      send = (signal) => runPhoto(photo, settings, signal);
    } else {
      const input = inputBody();
      if (!input) return;
      const body = { input, weights: state.weights, target: state.target, backward: true };
      key = JSON.stringify(body);
      send = (signal) => postRun(body, signal);
    }
    if (running) {
      if (key !== null && running.key === key) return; // its answer is this input's
      running.control.abort();
    }
    start(send, key);
  }

  async function start(send, key) {
    const mine = (seq += 1);
    const t0 = performance.now();
    const run = { control: new AbortController(), key };
    running = run;
    hooks.busy(true);
    try {
      const answer = await send(run.control.signal);
      if (mine !== seq) return;
      page.showError(null);
      state.run = answer;
      draw();
      hooks.drawMs(Math.round(performance.now() - t0));
      const { steps } = page;
      if (steps.layer) {
        const req = state.source === "photo" ? photoRequest() : request();
        if (req) steps.open(steps.layer, steps.direction, req, { keep: true });
      }
    } catch (e) {
      if (e.name !== "AbortError" && mine === seq) page.showError(e); // an aborted run says nothing
    } finally {
      if (running === run) { // the last run asked for: the page is ready again
        running = null;
        hooks.busy(false);
        if (pending) {
          liveTimer = setTimeout(() => {
            liveTimer = null;
            refresh({ live: true });
          }, LIVE_GAP_MS);
        }
      }
    }
  }

  /** A new stroke (or Clear): the answer under way would be stale, so the live redraws and
   * the run are dropped, and nothing is sent yet. */
  function cancel() {
    state.demo = false;
    pending = false;
    clearTimeout(liveTimer);
    liveTimer = null;
    if (running) running.control.abort();
  }

  function draw() {
    const r = state.run;
    const { classes } = page;
    renderInput($("input-map"), $("saliency-map"), r, page.onCell);
    renderProbs($("probs"), $("prediction"), r, classes);
    page.layers.render(r, state.mode);
    const pre = r.input.preprocess;
    const cells = pre && `scaled into ${fmt4(pre.placed[2])} × ${fmt4(pre.placed[3])} cells`;
    $("input-note").textContent = pre && pre.strokes
      ? `${pre.strokes} stroke${pre.strokes > 1 ? "s" : ""}, ${Math.round(pre.size)} px of the ${$("pad").width} px pad, redrawn with a ${pre.pen.toFixed(1)} px pen (its size × ${fmt4(pre.pen / pre.size)}), ${cells}`
      : pre ? `ink box ${pre.box[2] - pre.box[0]} × ${pre.box[3] - pre.box[1]} px of ${pre.source_shape.join(" × ")}, ${redrawn(pre)}${cells}`
        : r.input.label !== null ? `held-out digit #${r.input.index}, label ${r.input.label}` : "";
    const b = r.backward;
    $("saliency-note").textContent = b ? `loss of class ${b.target}: −log p = ${fmt4(b.loss)}` : "";
    $("loss").textContent = b ? `loss = −log p(${b.target}) = ${fmt4(b.loss)}` : "";
    $("targets").querySelectorAll("button").forEach((btn) => {
      const v = btn.dataset.target;
      btn.setAttribute("aria-checked", String(v === "auto" ? state.target === null : Number(v) === state.target));
      btn.classList.toggle("is-loss", b && v !== "auto" && Number(v) === b.target);
    });
    const verdict = $("verdict");
    const p = `${(r.forward.probs[r.forward.prediction] * 100).toFixed(2)}%`;
    const like = r.digit_like;
    verdict.classList.toggle("is-ood", !like.digit_like);
    if (like.digit_like) {
      verdict.replaceChildren(`The network reads `, el("b", "", classes[r.forward.prediction]),
        ` with p = ${p}.` + (state.demo ? " This 2 is a demo: Clear, then draw your own." : ""));
    } else {
      verdict.replaceChildren(el("b", "", "This does not look like a digit"),
        ` (distance ${fmt4(like.distance)} from the digits; 99% of real and drawn digits are within ${fmt4(like.threshold)}). The network must still pick a class (${classes[r.forward.prediction]}, p = ${p}), but here that means little.`);
    }
    hooks.drawn(r.forward.prediction, state.mode, like.digit_like);
  }

  return { refresh, draw, cancel, request, photoRequest };
}

// ---------------------------------------------------------------- inputs

/** The input's tabs: the drawing pad, the held-out digits, a photo. */
function bindInputs(page) {
  const { $, state, root } = page;
  // A new stroke aborts a run under way (its answer would be stale) and sends nothing yet:
  // the moves redraw live, and its end runs the whole drawing.
  page.pad = createPad($("pad"), { onStart: () => page.cancel(), onStroke: () => page.refresh(),
    onChange: () => page.refresh({ live: true }) });
  // Clear empties the pad and every view of the last drawing: the maps, the probabilities,
  // the verdict and an open step view would otherwise still show the digit that is gone.
  $("clear").addEventListener("click", () => {
    page.pad.clear();
    page.cancel(); // the cleared drawing's answer would only be stale
    state.run = null;
    page.showError(null);
    blank(page);
  });

  page.selectSource = (name) => {
    for (const t of SOURCES) {
      const tab = $(`tab-${t}`);
      tab.setAttribute("aria-selected", String(t === name));
      tab.tabIndex = t === name ? 0 : -1;
      $(`src-${t}`).hidden = t !== name;
    }
    state.source = name;
    page.remember();
    if (name !== "photo" || state.photo) page.refresh();
  };
  SOURCES.forEach((t) => $(`tab-${t}`).addEventListener("click", () => page.selectSource(t)));
  bindTabKeys(root.querySelector(".src-tabs"), () => SOURCES.map((t) => $(`tab-${t}`)));

  bindDigits(page);

  $("photo").addEventListener("change", () => {
    const file = $("photo").files[0];
    if (!file) return;
    state.photo = file;
    const img = $("photo-preview");
    if (img.src) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(file);
    img.hidden = false;
    page.refresh();
  });
}

/** Every view of the last drawing blank, and the verdict back to its invitation. */
function blank(page) {
  const { $ } = page;
  unpaint($("input-map"));
  unpaint($("saliency-map"));
  $("probs").replaceChildren();
  $("prediction").replaceChildren();
  for (const id of ["input-note", "saliency-note", "loss"]) $(id).textContent = "";
  page.layers.clear();
  if (page.steps.layer) $("steps-close").click();
  const verdict = $("verdict");
  verdict.classList.remove("is-ood");
  verdict.textContent = "Draw one digit, any size.";
  page.hooks.drawn(null);
}

/** The held-out digits, as small pictures to pick from (a class filter above them). */
function bindDigits(page) {
  const { $, state } = page;
  let digits = null;
  function fillDigits() {
    const grid = $("digit-grid");
    grid.replaceChildren();
    const only = $("digit-class").value;
    digits.images.forEach((img, i) => {
      if (only !== "all" && String(digits.labels[i]) !== only) return;
      const btn = el("button", "digit");
      btn.type = "button";
      btn.setAttribute("role", "option");
      btn.setAttribute("aria-selected", String(i === state.digit));
      btn.setAttribute("aria-label", `held-out digit ${i}, label ${digits.labels[i]}`);
      btn.dataset.index = String(i);
      const cv = el("canvas", "cells");
      paint(cv, plain(img), INK, { cell: 3 });
      btn.append(cv);
      btn.addEventListener("click", () => {
        state.digit = i;
        page.remember();
        grid.querySelectorAll(".digit").forEach((d) => d.setAttribute("aria-selected", String(d === btn)));
        page.refresh();
      });
      grid.append(btn);
    });
    const chosen = grid.querySelector("[aria-selected='true']");
    if (chosen) grid.scrollTop = chosen.offsetTop - 4; // a digit from the URL may sit far down
  }
  $("digit-class").addEventListener("change", fillDigits);
  heldOutDigits().then((d) => {
    digits = d;
    fillDigits();
  }).catch(page.showError);
}

// ---------------------------------------------------------------- views

/** Forward or backward, the loss's class, and a layer's step view. */
function bindViews(page) {
  const { $, state, root } = page;
  const targets = $("targets");
  const auto = el("button", "target", "label / predicted");
  auto.type = "button";
  auto.dataset.target = "auto";
  auto.setAttribute("role", "radio");
  targets.append(auto);
  page.classes.forEach((c, k) => {
    const b = el("button", "target", c);
    b.type = "button";
    b.dataset.target = String(k);
    b.setAttribute("role", "radio");
    b.setAttribute("aria-label", `loss of class ${c}`);
    targets.append(b);
  });
  targets.addEventListener("click", (e) => {
    const b = e.target.closest("button");
    if (!b) return;
    state.target = b.dataset.target === "auto" ? null : Number(b.dataset.target);
    page.remember();
    page.refresh();
  });

  page.setMode = (mode) => {
    state.mode = mode;
    $("show-forward").setAttribute("aria-checked", String(mode === "forward"));
    $("show-backward").setAttribute("aria-checked", String(mode === "backward"));
    $("target-row").hidden = mode !== "backward";
    page.remember();
    if (state.run) page.draw();
    if (page.steps.layer) page.openSteps(page.steps.layer, mode);
  };
  $("show-forward").addEventListener("click", () => page.setMode("forward"));
  $("show-backward").addEventListener("click", () => page.setMode("backward"));

  const steps = createStepView($("steps-panel"), { onError: page.showError, onStep: page.remember, hooks: page.hooks });
  page.steps = steps;
  page.openSteps = (name, direction = null, at = 0) => {
    const dir = direction || state.mode;
    $("steps-forward").setAttribute("aria-checked", String(dir === "forward"));
    $("steps-backward").setAttribute("aria-checked", String(dir === "backward"));
    const req = state.source === "photo" ? page.photoRequest() : page.request();
    if (!req || !req.input) return;
    $("h-steps").textContent = `${name} step by step`;
    steps.open(name, dir, req, { at }).then(() => {
      $("steps-panel").scrollIntoView({ behavior: "smooth", block: "nearest" });
    });
    root.querySelectorAll(".layer").forEach((c) => c.classList.toggle("is-open", c.dataset.layer === name));
  };
  $("steps-forward").addEventListener("click", () => steps.layer && page.openSteps(steps.layer, "forward"));
  $("steps-backward").addEventListener("click", () => steps.layer && page.openSteps(steps.layer, "backward"));
  $("steps-close").addEventListener("click", () => {
    steps.close();
    page.remember();
    root.querySelectorAll(".layer").forEach((c) => c.classList.remove("is-open"));
  });
}

// ---------------------------------------------------------------- weights

/** The weights menu: the shipped set, an uploaded file, a training job's weights. */
function bindWeights(page) {
  const { $, state, root } = page;
  const select = $("weights");
  select.addEventListener("change", () => {
    state.weights = select.value;
    page.restoring = null;
    page.remember();
    page.refresh();
  });
  /** The menu's option for `value` (added when new), its text set. */
  page.weightOption = (value, text) => {
    let opt = [...select.options].find((o) => o.value === value);
    if (!opt) {
      opt = el("option");
      opt.value = value;
      select.append(opt);
    }
    opt.textContent = text;
    return opt;
  };
  $("weights-file").addEventListener("change", async () => {
    const file = $("weights-file").files[0];
    const status = $("weights-status");
    if (!file) return;
    status.textContent = `reading ${file.name}…`;
    status.classList.remove("bad");
    try {
      const w = await uploadWeights(file);
      page.weightOption(w.id, `${file.name} (${(w.test_accuracy * 100).toFixed(1)}% held out)`);
      select.value = w.id;
      state.weights = w.id;
      page.restoring = null;
      page.remember();
      const layouts = w.replaced.map((t) => `${t.name} ← ${t.file_name} (${t.layout})`).join(", ");
      status.textContent = `Replaced ${layouts}${w.kept.length ? `; kept the shipped ${w.kept.join(", ")}` : ""}.`;
      page.refresh();
    } catch (e) {
      status.textContent = e.message;
      status.classList.add("bad");
    }
    $("weights-file").value = "";
  });

  let lastLive = 0;
  page.training = createTraining(root, {
    hooks: page.hooks,
    onError: page.showError,
    onWeights(job, changed) {
      if (changed) page.remember();
      const value = job ? `job:${job.id}` : null;
      [...select.options].filter((o) => o.value.startsWith("job:") && o.value !== value).forEach((o) => {
        if (select.value === o.value) {
          select.value = "shipped";
          state.weights = "shipped";
          page.refresh();
        }
        o.remove();
      });
      if (!job) return;
      const last = job.points[job.points.length - 1];
      const acc = last ? ` (${(last.test_accuracy * 100).toFixed(1)}% held out)` : "";
      page.weightOption(value, `training job, step ${job.step}${acc}`);
      // the network shown follows the job while "Run on" names it (at most every 0.7 s)
      if (state.weights === value && (changed || performance.now() - lastLive > 700)) {
        lastLive = performance.now();
        page.refresh();
      }
    },
  });
}

// ---------------------------------------------------------------- the view from the URL

/** Open the view the URL asks for (urlstate.js readView): `asked`. */
function openAsked(page, asked) {
  const { $, state } = page;
  state.digit = asked.digit;
  state.target = asked.target;
  page.setMode(asked.mode);
  page.pad.stroke(DEMO);
  if (asked.source !== "draw") page.selectSource(asked.source);
  if (asked.layer) page.openSteps(asked.layer, asked.direction, asked.step);
  if (asked.job) page.training.follow(asked.job);
  if (asked.weights === "shipped") return;
  // an uploaded set, if the server still has it
  page.restoring = asked.weights;
  const status = $("weights-status");
  weightSet(asked.weights).then(() => {
    if (page.restoring !== asked.weights) return; // the user chose other weights meanwhile
    page.restoring = null;
    page.weightOption(asked.weights, `uploaded set ${asked.weights} (from the link)`);
    $("weights").value = asked.weights;
    state.weights = asked.weights;
    page.refresh();
  }).catch((e) => {
    if (page.restoring !== asked.weights) return;
    page.restoring = null;
    page.remember();
    status.textContent = e.status === 404
      ? `The link's uploaded weights ${asked.weights} are no longer on the server (it keeps the last ${page.arch.limits.weight_sets}); running on the shipped weights.`
      : e.message;
    status.classList.add("bad");
  });
}

createNetworkPage(document.querySelector("#main"),
  JSON.parse(document.querySelector("#boot").textContent));
