// The animation loop of every page (Explore's stages, Learn's walk, Network's step view):
// play, pause, step, seek and speed, on requestAnimationFrame. Speed is either a 0..1
// slider on a log scale (0 is one step a second, 1 sweeps the whole stage in SWEEP_SECONDS)
// or, when `stepsPerSecond` is set, a fixed reading pace. Each frame's drawing time is
// recorded as a "convstep-frame" measure.

const SWEEP_SECONDS = 3;

export class Player {
  /**
   * onStep(k, playing) draws step k; onPlayChange(playing) when play starts or stops;
   * stepsPerSecond: a fixed pace (null: the log-scale `speed` slider's).
   */
  constructor({ onStep, onPlayChange, stepsPerSecond = null }) {
    this.onStep = onStep;
    this.onPlayChange = onPlayChange || (() => {});
    this.total = 0;
    this.k = 0;
    this.speed = 0.7;
    this.stepsPerSecond = stepsPerSecond;
    this.playing = false;
    this.acc = 0;
    this.last = 0;
    this.raf = 0;
    this.frame = this.frame.bind(this);
  }

  /** Steps per second: the fixed pace, or the slider's for a value t in 0..1. */
  rate(t = this.speed) {
    if (this.stepsPerSecond) return this.stepsPerSecond;
    const top = Math.max(2, this.total / SWEEP_SECONDS);
    return 10 ** (t * Math.log10(top));
  }

  setTotal(n) {
    this.total = n;
    if (n <= 0) this.pause();
    if (this.k > n - 1) this.k = Math.max(0, n - 1);
  }

  setSpeed(t) {
    this.speed = Math.min(1, Math.max(0, t));
  }

  play() {
    if (this.total <= 1 || this.playing) return;
    if (this.k >= this.total - 1) this.seek(0);
    this.playing = true;
    this.acc = 0;
    this.last = performance.now();
    this.raf = requestAnimationFrame(this.frame);
    this.onPlayChange(true);
  }

  pause() {
    if (!this.playing) return;
    this.playing = false;
    cancelAnimationFrame(this.raf);
    this.onPlayChange(false);
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  seek(k) {
    const n = Math.max(0, Math.min(this.total - 1, Math.round(k)));
    this.k = n;
    this.draw();
  }

  stepBy(d) {
    this.pause();
    this.seek(this.k + d);
  }

  /** Pause and show step k (clamped): the first/last buttons, the scrubber, Home and End. */
  jump(k) {
    this.pause();
    this.seek(k);
  }

  draw() {
    const t0 = performance.now();
    this.onStep(this.k, this.playing);
    const t1 = performance.now();
    if (this.playing) {
      performance.measure("convstep-frame", { start: t0, end: t1 });
      if (performance.getEntriesByName("convstep-frame").length > 4000) {
        performance.clearMeasures("convstep-frame");
      }
    }
  }

  frame(now) {
    if (!this.playing) return;
    const dt = Math.min(0.25, (now - this.last) / 1000);
    this.last = now;
    this.acc += dt * this.rate();
    const n = Math.floor(this.acc);
    if (n > 0) {
      this.acc -= n;
      this.k = Math.min(this.total - 1, this.k + n);
      this.draw();
    }
    if (this.k >= this.total - 1) {
      this.pause();
      this.draw();
      return;
    }
    this.raf = requestAnimationFrame(this.frame);
  }
}

/**
 * A play/pause button showing the player's state: its text, the "playing" class, and
 * aria-pressed when the button carries it (a toggle), else its aria-label.
 */
export function showPlaying(button, playing) {
  button.textContent = playing ? "Pause" : "Play";
  button.classList.toggle("playing", playing);
  if (button.hasAttribute("aria-pressed")) button.setAttribute("aria-pressed", String(playing));
  else button.setAttribute("aria-label", playing ? "Pause" : "Play");
}
