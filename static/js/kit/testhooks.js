// The page's test hooks, in one place: what the browser tests (tests/browser), the hardening
// tests and bench/browser_bench.py wait for and read, written as data attributes on <body>
// (document.body.dataset.<name>) and nowhere else. Each method says when it is called.

export function createTestHooks(el) {
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
