// The sticky player bar: play/pause, step, first/last, the scrubber, speed, zoom and digits,
// the step counter, and the live region that reads the step out when the player rests.

import { Player, showPlaying } from "../kit/player.js";
import { makeFormatter } from "../kit/arrays.js";

const STEP_CONTROLS = ["#player-buttons", "#scrub-row", "#speed-group"];

/** Wires the bar to app (its state.ui, view, url, hooks); returns {player, show, clear, announce}. */
export function createPlayerBar(app) {
  const { $, state } = app;
  const playBtn = $("#btn-play");
  const scrub = $("#scrub");
  const stepLabel = $("#step-label");
  const speed = $("#speed");
  const speedOut = $("#speed-out");
  let announceTimer = 0;

  function announce() {
    if (app.view) $("#live").textContent = app.view.describe(state.ui.step) || "";
  }

  const player = new Player({
    onStep(k, playing) {
      const { view } = app;
      state.ui.step = k;
      if (view) view.render(k, playing);
      scrub.value = String(k);
      stepLabel.textContent = view && view.total ? `step ${k + 1} of ${view.total} · ${view.position(k)}` : "";
      app.hooks.step(k);
      if (!playing) {
        app.url.sync();
        if (app.use) app.use.render(); // the snippets print this step's numbers
        if (app.download) app.download.refresh(); // the step it exports
        if (app.transpose) app.transpose.refresh(); // shown under Conv backward only
        clearTimeout(announceTimer);
        announceTimer = setTimeout(announce, 200);
      }
    },
    onPlayChange(playing) {
      showPlaying(playBtn, playing);
      app.hooks.playing(playing);
      if (!playing) {
        app.url.sync();
        announce();
      } else {
        $("#live").textContent = "Playing.";
      }
    },
  });

  function speedText() {
    const r = player.rate();
    const sweep = app.view && app.view.total ? app.view.total / r : 0;
    const rate = r >= 100 ? `${Math.round(r).toLocaleString("en")}` : r >= 10 ? r.toFixed(0) : r.toFixed(1);
    const whole = sweep >= 120 ? `${Math.round(sweep / 60)} min` : `${Math.max(1, Math.round(sweep))} s`;
    return `${rate} steps/s${sweep ? ` · whole stage in ${whole}` : ""}`;
  }

  const jump = (k) => player.jump(k);

  playBtn.addEventListener("click", () => player.toggle());
  $("#btn-back").addEventListener("click", () => player.stepBy(-1));
  $("#btn-fwd").addEventListener("click", () => player.stepBy(1));
  $("#btn-first").addEventListener("click", () => jump(0));
  $("#btn-last").addEventListener("click", () => jump(player.total - 1));
  scrub.addEventListener("input", () => jump(Number(scrub.value)));
  speed.value = String(Math.round(state.ui.speed * 1000));
  player.setSpeed(state.ui.speed);
  speed.addEventListener("input", () => {
    state.ui.speed = Number(speed.value) / 1000;
    player.setSpeed(state.ui.speed);
    speedOut.textContent = speedText();
    app.url.sync();
  });
  const zoomSel = $("#zoom");
  zoomSel.value = String(state.ui.zoom);
  if (zoomSel.value === "") zoomSel.value = "1";
  zoomSel.addEventListener("change", () => {
    state.ui.zoom = Number(zoomSel.value);
    if (app.view) {
      app.view.setZoom(state.ui.zoom);
      app.view.render(state.ui.step, false);
    }
    app.url.sync();
  });
  const digitsSel = $("#digits");
  digitsSel.value = state.ui.digits;
  if (digitsSel.value === "") digitsSel.value = "4";
  digitsSel.addEventListener("change", () => {
    state.ui.digits = digitsSel.value;
    app.fmt = makeFormatter(state.ui.digits);
    if (app.view) app.view.render(state.ui.step, false);
    app.url.sync();
  });

  return {
    player,
    jump,
    announce,
    /** A view was put in place: its steps and step k. */
    show(view, k) {
      const has = view.total > 0;
      // a view without steps keeps zoom, digits and the sizes; its player controls go
      for (const sel of STEP_CONTROLS) $(sel).hidden = !has;
      scrub.max = String(Math.max(0, view.total - 1));
      player.setTotal(view.total);
      speedOut.textContent = speedText();
      state.ui.step = has ? k : 0;
      if (has) player.seek(k);
      else {
        stepLabel.textContent = "";
        announce();
      }
    },
    /** No view (its arrays are on their way): no player. */
    clear() {
      for (const sel of STEP_CONTROLS) $(sel).hidden = true;
      player.setTotal(0);
      stepLabel.textContent = "";
    },
  };
}
