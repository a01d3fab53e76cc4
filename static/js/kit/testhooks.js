// Every page's test hooks, in one place: what the browser tests (tests/browser), the
// hardening tests and the bench (bench/browser_bench.py) wait for and read, written as data
// attributes (element.dataset.<name>) here and nowhere else. Each page builds its own set on
// its own element; each method says when it is called.

/** Explore, on <body>. */
export function exploreHooks(el) {
  const d = el.dataset;
  return {
    /** A result of /api/image is drawn: its id, and `renders` counts them. */
    drawn(imageId) {
      d.imageId = imageId;
      d.renders = String(Number(d.renders || 0) + 1);
    },
    /** Milliseconds from asking /api/image (or choosing the upload) to the drawn result. */
    drawnMs(ms) {
      d.drawnMs = String(ms);
    },
    /** The follow-up arrays: `complete` once every stage's arrays are here, `exact` once
     * every display-encoded array has its float32 copy. */
    arrays({ complete, exact }) {
      if (complete !== undefined) d.complete = complete ? "1" : "0";
      if (exact !== undefined) d.exact = exact ? "1" : "0";
    },
    /** The step the player shows. */
    step(k) {
      d.step = String(k);
    },
    playing(on) {
      d.playing = on ? "1" : "0";
    },
    /** Filters from a weight file or the network were applied: the tensor's key. */
    filtersLoaded(key) {
      d.filtersLoaded = key;
    },
  };
}

/** Learn, on <main id="main">; `upload` on the checker's form. */
export function learnHooks(el, upload) {
  const d = el.dataset;
  return {
    /** A step is drawn: the function, the step shown (local) and how many it has; `ready`
     * from the first one on. */
    shown({ fn, step, steps }) {
      d.fn = fn;
      d.step = String(step);
      d.steps = String(steps);
      d.ready = "1";
    },
    /** Mistake mode: the mistake on screen ("" for none) and the local step where the buggy
     * code parts from the right one (null: not in this walk). */
    mistake(id, diffStep) {
      d.mistake = id || "";
      d.diffStep = diffStep === null || diffStep === undefined ? "" : String(diffStep);
    },
    /** The checker's upload: "" (nothing checked), busy, right, wrong or refused. */
    upload(state) {
      upload.dataset.state = state;
    },
  };
}

/** Network, on <main id="main">; `panel` is the step view's panel. */
export function networkHooks(el, panel) {
  const d = el.dataset;
  return {
    /** A run is under way (busy) or the last one has ended (ready). */
    busy(on) {
      d.state = on ? "busy" : "ready";
    },
    /** A run's answer is drawn (or drawn again in another mode): the predicted class, and
     * whether the input looks like a digit; drawn(null) when Clear blanks the views. */
    drawn(prediction, mode, digitLike) {
      if (prediction === null) {
        delete d.prediction;
        delete d.digitLike;
        return;
      }
      d.digitLike = String(digitLike);
      d.prediction = String(prediction);
      d.mode = mode;
    },
    /** Milliseconds from asking for a run to its answer drawn. */
    drawMs(ms) {
      d.drawMs = String(ms);
    },
    /** The step view shows step k of a layer whose steps are of `kind` (conv_forward, ...). */
    step(k, kind) {
      panel.dataset.step = String(k);
      panel.dataset.kind = kind;
    },
    /** Whether this tab holds the training job's control token (null: no job). */
    trainingOwned(owned) {
      d.trainOwned = owned === null ? "" : String(owned);
    },
    /** A training job's state, step and points received (null: no job any more). */
    training(job, points) {
      if (!job) {
        delete d.trainState;
        delete d.trainStep;
        delete d.trainPoints;
        return;
      }
      d.trainState = job.state;
      d.trainStep = String(job.step);
      d.trainPoints = String(points);
    },
  };
}
