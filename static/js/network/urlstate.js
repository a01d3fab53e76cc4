// The network page's view in its URL, so that a reload or a shared link opens the same view:
//   ?src=digit&digit=17&w=u3fa9&mode=backward&target=3&layer=conv2&dir=backward&step=40&job=9f..
// Defaults are left out. A drawing is not kept (a reload shows the demo "2"), nor a photo (a
// reload starts from the drawing). `job` is the training job shown: a shared link opens it
// read-only (its controls need the token that only the starting tab keeps). Every value read
// is checked; a bad one is dropped for its default, never an error.

const DEFAULTS = { source: "draw", digit: 0, weights: "shipped", mode: "forward", target: null,
  layer: null, direction: "forward", step: 0, job: null };

const UPLOADED = /^u[0-9a-f]{1,39}$/; // an uploaded weight set's id (app/network/schemas.py)
const JOB = /^[0-9a-f]{32}$/; // a training job's id (app/network/store.py)

function index(text, below) { // a whole number in 0 .. below - 1, or null
  if (!/^\d{1,6}$/.test(text || "")) return null;
  const n = Number(text);
  return n < below ? n : null;
}

function oneOf(text, allowed) {
  return allowed.includes(text) ? text : null;
}

/** The view a query string asks for, each field checked against the architecture `arch`. */
export function readView(search, arch) {
  const q = new URLSearchParams(search);
  const layers = arch.layers.filter((l) => l.steppable).map((l) => l.name);
  const view = { ...DEFAULTS };
  const digit = index(q.get("digit"), arch.data.held_out);
  if (q.get("src") === "digit" && digit !== null) {
    view.source = "digit";
    view.digit = digit;
  }
  if (UPLOADED.test(q.get("w") || "")) view.weights = q.get("w");
  if (JOB.test(q.get("job") || "")) view.job = q.get("job");
  view.mode = oneOf(q.get("mode"), ["forward", "backward"]) || DEFAULTS.mode;
  view.target = index(q.get("target"), arch.classes.length);
  view.layer = oneOf(q.get("layer"), layers);
  if (view.layer) {
    view.direction = oneOf(q.get("dir"), ["forward", "backward"]) || DEFAULTS.direction;
    view.step = index(q.get("step"), 1e6) ?? 0;
  }
  return view;
}

/** The query string of a view (defaults left out; "" for the default view). */
export function viewQuery(view) {
  const q = new URLSearchParams();
  if (view.source === "digit") {
    q.set("src", "digit");
    q.set("digit", String(view.digit));
  }
  if (UPLOADED.test(view.weights)) q.set("w", view.weights);
  if (view.mode !== DEFAULTS.mode) q.set("mode", view.mode);
  if (view.target !== null) q.set("target", String(view.target));
  if (view.layer) {
    q.set("layer", view.layer);
    if (view.direction !== DEFAULTS.direction) q.set("dir", view.direction);
    if (view.step) q.set("step", String(view.step));
  }
  if (view.job && JOB.test(view.job)) q.set("job", view.job);
  const text = q.toString();
  return text ? `?${text}` : "";
}

/** Write the view into the address bar without a new history entry. */
export function writeView(view) {
  const url = `${window.location.pathname}${viewQuery(view)}${window.location.hash}`;
  if (url !== `${window.location.pathname}${window.location.search}${window.location.hash}`) {
    window.history.replaceState(null, "", url);
  }
}
