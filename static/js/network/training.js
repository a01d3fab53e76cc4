// Live training: start a job from random weights, follow its points by server-sent events
// (polling if EventSource fails), pause / resume / stop / reset, and draw the curves and
// conv1's filters as the server reports them. The control token of each job this tab started
// is kept in sessionStorage; a job opened from a shared link (?job=) has none here, and is
// shown read-only (its controls disabled, #train-owner saying why).

import { byIds, el, finder } from "../kit/dom.js";
import { paint, scaleFor } from "./maps.js";
import { controlTraining, deleteTraining, paceTraining, startTraining, trainingProgress,
  watchTraining } from "../kit/api.js";

function chart(canvas, series, { xMax, yMax, yLabel, yFmt, empty = "" }) {
  const dpr = window.devicePixelRatio || 1;
  const W = canvas.clientWidth || 360;
  const H = canvas.clientHeight || 180;
  canvas.width = Math.round(W * dpr);
  canvas.height = Math.round(H * dpr);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  const L = 44;
  const B = 22;
  const x = (v) => L + (v / (xMax || 1)) * (W - L - 8);
  const y = (v) => H - B - (Math.min(v, yMax) / yMax) * (H - B - 8);
  ctx.strokeStyle = "#c3c9d4";
  ctx.fillStyle = "#5b6272";
  ctx.font = "11px system-ui, sans-serif";
  ctx.lineWidth = 1;
  for (let t = 0; t <= 4; t += 1) {
    const v = (yMax * t) / 4;
    ctx.beginPath();
    ctx.moveTo(L, y(v));
    ctx.lineTo(W - 8, y(v));
    ctx.stroke();
    ctx.fillText(yFmt(v), 4, y(v) + 4);
  }
  ctx.fillText(yLabel, L + 4, 12);
  if (empty) {
    ctx.font = "13px system-ui, sans-serif";
    ctx.fillStyle = "#30384a";
    ctx.fillText(empty, L + (W - L - 8 - ctx.measureText(empty).width) / 2, (H - B) / 2 + 4);
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#5b6272";
    return;
  }
  ctx.fillText("step 0", L, H - 6);
  const end = `step ${xMax}`;
  ctx.fillText(end, W - 8 - ctx.measureText(end).width, H - 6);
  for (const s of series) {
    const pts = s.points.filter((p) => p[1] !== null && p[1] !== undefined);
    if (!pts.length) continue;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    pts.forEach(([a, b], i) => (i ? ctx.lineTo(x(a), y(b)) : ctx.moveTo(x(a), y(b))));
    ctx.stroke();
    const [la, lb] = pts[pts.length - 1];
    ctx.fillStyle = s.color;
    ctx.beginPath();
    ctx.arc(x(la), y(lb), 3, 0, 2 * Math.PI);
    ctx.fill();
  }
}

const TOKEN_KEY = "convstep.training.token."; // + job id, in sessionStorage
const tokenOf = (id) => {
  try {
    return window.sessionStorage.getItem(TOKEN_KEY + id);
  } catch {
    return null; // storage refused (a private window's policy): the job is then not ours
  }
};
function keepToken(id, token) {
  try {
    window.sessionStorage.setItem(TOKEN_KEY + id, token);
  } catch {
    // without storage the controls still work in this tab: `job.control_token` holds it
  }
}

export function createTraining(root, { onWeights, onError, hooks }) {
  const $ = finder(root);
  const ownerNote = $("train-owner");
  const [start, pause, stopBtn, reset, stateEl, err] = byIds(root, "train-start", "train-pause",
    "train-stop", "train-reset", "train-state", "train-error");
  let job = null; // the last snapshot, with every point so far
  let points = [];
  let unwatch = null;

  let token = null; // the job's control token when this tab started it

  function buttons() {
    const active = job && (job.state === "running" || job.state === "paused");
    start.disabled = Boolean(active && token);
    pause.disabled = !active || !token;
    pause.textContent = job && job.state === "paused" ? "Resume" : "Pause";
    stopBtn.disabled = !active || !token;
    reset.disabled = !job;
    ownerNote.hidden = !job || Boolean(token);
    hooks.trainingOwned(job ? Boolean(token) : null);
  }

  function draw() {
    if (!job) {
      const empty = "Press Start: the curve draws here";
      chart($("chart-loss"), [], { xMax: 1, yMax: 2.4, yLabel: "cross-entropy", yFmt: (v) => v.toFixed(1), empty });
      chart($("chart-acc"), [], { xMax: 1, yMax: 1, yLabel: "accuracy", yFmt: (v) => `${Math.round(v * 100)}%`, empty });
      $("train-filters").replaceChildren(el("p", "hint", "Start a job to watch them change: "
        + "its random start, then five times an epoch."));
      return;
    }
    const lossMax = Math.max(0.5, ...points.map((p) => Math.max(p.test_loss, p.train_loss || 0)));
    chart($("chart-loss"), [
      { color: "#d6604d", points: points.map((p) => [p.step, p.train_loss]) },
      { color: "#1d4ed8", points: points.map((p) => [p.step, p.test_loss]) },
    ], { xMax: job.total_steps, yMax: Math.ceil(lossMax / 0.4) * 0.4, // ticks at multiples of 0.1
      yLabel: "cross-entropy", yFmt: (v) => v.toFixed(1) });
    chart($("chart-acc"), [{ color: "#0a8f3c", points: points.map((p) => [p.step, p.test_accuracy]) }],
      { xMax: job.total_steps, yMax: 1, yLabel: "held-out accuracy", yFmt: (v) => `${Math.round(v * 100)}%` });
    const box = $("train-filters");
    box.replaceChildren();
    const scale = scaleFor(job.filters, { signed: true });
    for (let c = 0; c < job.filters[0][0][0].length; c += 1) {
      const fig = el("div", "filter-cell");
      const cv = el("canvas", "cells");
      const W = job.filters;
      paint(cv, { rows: W.length, cols: W[0].length, get: (r, q) => W[r][q][0][c] }, scale, { cell: 12 });
      cv.setAttribute("role", "img");
      cv.setAttribute("aria-label", `filter ${c}`);
      fig.append(cv, el("span", "hint", String(c)));
      box.append(fig);
    }
    const last = points[points.length - 1];
    const acc = last ? `${(last.test_accuracy * 100).toFixed(1)}% held out` : "";
    const words = { running: "training", paused: "paused", done: "done", stopped: "stopped", failed: "failed", diverged: "diverged" };
    const pace = job.state === "running" && job.steps_per_second ? ` · ${job.steps_per_second} steps/s` : "";
    stateEl.textContent = `${words[job.state]}${pace} · epoch ${job.epoch.toFixed(2)} of ${job.config.epochs} · step ${job.step} of ${job.total_steps} · ${acc}${job.reason && job.state !== "done" ? ` (${job.reason.replace("_", " ")})` : ""}`;
    hooks.training(job, points.length);
  }

  function take(snap) {
    if (!job || snap.id !== job.id) return;
    points = points.slice(0, snap.points_from).concat(snap.points);
    const before = job.state;
    job = snap;
    buttons();
    draw();
    onWeights(job, before !== job.state);
  }

  function poll() { // the fallback when the event stream breaks
    const id = job && job.id;
    const tick = async () => {
      if (!job || job.id !== id) return;
      try {
        take(await trainingProgress(id, points.length));
      } catch (e) {
        return onError(e);
      }
      if (job.state === "running" || job.state === "paused") setTimeout(tick, 500);
    };
    tick();
  }

  function watch() {
    if (unwatch) unwatch();
    unwatch = watchTraining(job.id, points.length, {
      onProgress: take, onEnd: () => { unwatch = null; }, onError: poll,
    });
  }

  function showError(e) {
    err.hidden = !e;
    err.textContent = e ? e.message : "";
  }

  start.addEventListener("click", async () => {
    showError(null);
    try {
      job = await startTraining({ epochs: Number($("train-epochs").value),
        steps_per_second: speed() });
    } catch (e) {
      return showError(e);
    }
    if (unwatch) unwatch();
    token = job.control_token;
    keepToken(job.id, token);
    points = job.points;
    buttons();
    draw();
    onWeights(job, true);
    watch();
  });
  // the pace: minibatches a second (null: full speed), for the next job and the one running
  const speed = () => ($("train-speed").value ? Number($("train-speed").value) : null);
  $("train-speed").addEventListener("change", async () => {
    // someone else's job (a shared link): the speed is for this tab's next job only
    if (!job || !token || !(job.state === "running" || job.state === "paused")) return;
    try {
      take(await paceTraining(job.id, speed(), token));
    } catch (e) {
      showError(e);
    }
  });
  pause.addEventListener("click", async () => {
    try {
      take(await controlTraining(job.id, job.state === "paused" ? "resume" : "pause", token));
    } catch (e) {
      showError(e);
    }
  });
  stopBtn.addEventListener("click", async () => {
    try {
      take(await controlTraining(job.id, "stop", token));
    } catch (e) {
      showError(e);
    }
  });
  reset.addEventListener("click", async () => {
    const id = job.id;
    const mine = token;
    if (unwatch) unwatch();
    unwatch = null;
    job = null;
    token = null;
    points = [];
    buttons();
    draw();
    stateEl.textContent = "from random weights, on the 1437 training digits";
    hooks.training(null);
    onWeights(null, true);
    if (!mine) return; // someone else's job: stop watching it, nothing more
    try {
      await deleteTraining(id, mine);
    } catch (e) {
      if (e.status !== 404) showError(e);
    }
  });

  /** Show the job `id` (a link's ?job=): controls only with this tab's token for it. */
  async function follow(id) {
    showError(null);
    let snap;
    try {
      snap = await trainingProgress(id, 0);
    } catch (e) {
      return showError(e.status === 404 ? new Error("The training job of this link has "
        + "ended and been forgotten (or the server restarted); start one of your own.") : e);
    }
    token = tokenOf(id);
    job = snap;
    points = snap.points;
    buttons();
    draw();
    onWeights(job, true);
    if (job.state === "running" || job.state === "paused") watch();
  }
  window.addEventListener("resize", () => draw());
  buttons();
  draw();
  return { get job() { return job; }, follow };
}
