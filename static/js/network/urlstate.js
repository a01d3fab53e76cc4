// The network page's view in its URL, so that a reload or a shared link opens the same view:
//   ?src=digit&digit=17&w=u3fa9&mode=backward&target=3&layer=conv2&dir=backward&step=40&job=9f..
// Its keys are the rows of PROPS, read and written by the kit's URL-state table
// (../kit/urlstate.js). Defaults are left out. A drawing is not kept (a reload shows the
// demo "2"), nor a photo (a reload starts from the drawing). `job` is the training job
// shown: a shared link opens it read-only (its controls need the token that only the
// starting tab keeps). Every value read is checked against the architecture; a bad one is
// dropped for its default, never an error.

import { oneOf, readProps, urlSync, writeProps } from "../kit/urlstate.js";

const DEFAULTS = { source: "draw", digit: 0, weights: "shipped", mode: "forward", target: null,
  layer: null, direction: "forward", step: 0, job: null };

const UPLOADED = /^u[0-9a-f]{1,39}$/; // an uploaded weight set's id (app/network/schemas.py)
const JOB = /^[0-9a-f]{32}$/; // a training job's id (app/network/store.py)

/** A whole number in 0 .. below(arch) - 1 (else undefined: the default stays). */
const index = (below) => ({
  parse(text, arch) {
    if (!/^\d{1,6}$/.test(text || "")) return undefined;
    const n = Number(text);
    return n < below(arch) ? n : undefined;
  },
  format: String,
});

const DIRECTION = oneOf("forward", "backward");

/** The layers with a step view (the architecture says which), by name. */
const stepLayers = (arch) => arch.layers.filter((l) => l.steppable).map((l) => l.name);

const PROPS = [
  { // src=digit&digit=17: a held-out digit (only with a valid index)
    key: "src",
    read(q, view, arch) {
      const digit = index((a) => a.data.held_out).parse(q.get("digit"), arch);
      if (q.get("src") === "digit" && digit !== undefined) Object.assign(view, { source: "digit", digit });
    },
    write(q, view) {
      if (view.source !== "digit") return;
      q.set("src", "digit");
      q.set("digit", String(view.digit));
    },
  },
  { // an uploaded weight set (never the shipped one, nor a training job's)
    key: "w",
    type: { parse: (t) => (UPLOADED.test(t) ? t : undefined), format: String },
    get: (view) => (UPLOADED.test(view.weights) ? view.weights : null),
    set: (view, id) => Object.assign(view, { weights: id }),
  },
  { key: "mode", path: ["mode"], type: DIRECTION, default: DEFAULTS.mode },
  { key: "target", path: ["target"], type: index((arch) => arch.classes.length) },
  { key: "layer", path: ["layer"], type: { parse: (t, arch) => (stepLayers(arch).includes(t) ? t : undefined), format: String } },
  { key: "dir", path: ["direction"], type: DIRECTION, default: DEFAULTS.direction, when: (view) => Boolean(view.layer) },
  { key: "step", path: ["step"], type: index(() => 1e6), default: 0, when: (view) => Boolean(view.layer) },
  { key: "job", path: ["job"], type: { parse: (t) => (JOB.test(t) ? t : undefined), format: String } },
];

/** The view a query string asks for, each field checked against the architecture `arch`. */
export function readView(search, arch) {
  return readProps(PROPS, search, { ...DEFAULTS }, arch);
}

/** The address bar following view() (at most every 200 ms: playing steps at 64 / s would
 * otherwise rewrite it 64 times a second), without a new history entry. */
export function viewSync(view) {
  return urlSync(() => writeProps(PROPS, view()), { ms: 200 });
}
