// The API client, the only module that knows the server's URLs (docs/CONTRACT.md section 2):
// Explore's image, arrays, steps and geometry, Learn's mistakes and diagnosis, the gallery's
// animations and the network page's /api/network... requests. Errors come back as ApiError.

export class ApiError extends Error {
  /** status: HTTP status; messages: list of learner-readable strings; code: server code. */
  constructor(status, messages, code, fields) {
    super(messages.join(" "));
    this.status = status;
    this.messages = messages;
    this.code = code || null;
    this.fields = fields || [];
  }
}

/** The server's 4xx/5xx answer as an ApiError. */
export async function readError(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  const detail = body ? body.detail : null;
  if (Array.isArray(detail)) {
    const messages = detail.map((d) => {
      const loc = (d.loc || []).filter((p) => p !== "body").join(".");
      const msg = String(d.msg || "").replace(/^Value error, /, "");
      return loc && !msg.includes(loc) ? `${loc}: ${msg}` : msg;
    });
    const fields = detail.map((d) => (d.loc || []).filter((p) => p !== "body").join("."));
    return new ApiError(res.status, messages, body.code, fields);
  }
  const text = typeof detail === "string" ? detail : `${res.status} ${res.statusText}`;
  return new ApiError(res.status, [text], body ? body.code : null);
}

/** Thumbnail / full file of a built-in sample. */
export function sampleUrl(name) {
  return `/api/samples/${encodeURIComponent(name)}`;
}

/** The URLs the "Use it yourself" snippets show. */
export function endpoints() {
  const origin = window.location.origin;
  return { image: `${origin}/api/image`, steps: `${origin}/api/steps`, docs: `${origin}/docs` };
}

/**
 * POST /api/geometry: would /api/image accept `settings`? Always 200 (a refusal the page
 * can foresee is never sent, so no 4xx reaches the console): {fits, message, status, code,
 * advice: [{setting, op, value, text}], n_H_prev, n_W_prev}. `image`: {source: [width,
 * height]} of an upload, or {shape: [n_H_prev, n_W_prev]}, or {} for settings.sample.
 */
export async function checkGeometry(settings, image, { signal } = {}) {
  const res = await fetch("/api/geometry", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ settings, ...image }),
    signal,
  });
  if (!res.ok) throw await readError(res);
  return res.json();
}

/**
 * POST /api/image: the whole layer for one image and settings.
 * `file` (a Blob) is the upload, or null to use settings.sample.
 */
export async function postImage(settings, file, { signal, display = true, arrays = null } = {}) {
  const form = new FormData();
  form.append("settings", JSON.stringify(settings));
  if (file) form.append("file", file, file.name || "upload");
  // display encoding: one byte per value for the image-shaped arrays (colours), a quarter
  // of the bytes; numbers people read come from float32 (fetchArrays) or step records.
  // `arrays` (a list of names) asks for only those; the rest come from fetchArrays.
  const query = [];
  if (display) query.push("encoding=display");
  if (arrays) query.push(`arrays=${arrays.map(encodeURIComponent).join(",")}`);
  const url = query.length ? `/api/image?${query.join("&")}` : "/api/image";
  const res = await fetch(url, { method: "POST", body: form, signal });
  if (!res.ok) throw await readError(res);
  return res.json();
}

/** POST /api/explore/transpose: Explore's transposed-convolution op on `file` or settings.sample. */
export async function postTranspose(settings, file, { signal } = {}) {
  const form = new FormData();
  form.append("settings", JSON.stringify(settings));
  if (file) form.append("file", file, file.name || "upload");
  const res = await fetch("/api/explore/transpose", { method: "POST", body: form, signal });
  if (!res.ok) throw await readError(res);
  return res.json();
}

// Re-sends: behind a balancer that alternates requests between workers a re-sent image
// can land on one worker and the retried request on another, so try a few times.
const RESENDS = 3;

async function resendOn404(image, send) {
  for (let attempt = 0; attempt <= RESENDS; attempt += 1) {
    const res = await send();
    if (res.ok) return res.json();
    const err = await readError(res);
    if (res.status === 404 && err.code === "unknown_image" && attempt < RESENDS) {
      // only the id is wanted: ask for the smallest array
      const again = await postImage(image.requestSettings || image.settings, image.file, { arrays: ["b"] });
      image.id = again.id;
      continue;
    }
    throw err;
  }
  throw new ApiError(404, ["The server could not find this image."], "unknown_image");
}

/**
 * POST /api/arrays: arrays of the current image, float32 (exact numbers) or, with
 * `display`, one byte per value as in postImage.
 */
export function fetchArrays(image, names, { signal, display = false } = {}) {
  return resendOn404(image, () => fetch(display ? "/api/arrays?encoding=display" : "/api/arrays", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ id: image.id, settings: image.settings, names }),
    signal,
  }));
}

/**
 * POST /api/steps for one page of step records. `image` = {id, settings, file} is the
 * current image; if the server has forgotten it (404 "unknown_image") the image is re-sent
 * once, transparently, and `image.id` updated.
 */
export function fetchSteps(image, body, { signal } = {}) {
  return resendOn404(image, () => fetch("/api/steps", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ id: image.id, settings: image.settings, ...body }),
    signal,
  }));
}

/** POST /api/filters: a weight file's conv tensors as Explore's filters (float64). */
export async function fetchFilters(file, { signal } = {}) {
  const form = new FormData();
  form.append("file", file, file.name || "weights");
  const res = await fetch("/api/filters", { method: "POST", body: form, signal });
  if (!res.ok) throw await readError(res);
  return res.json();
}

/** GET /api/network/filters: a conv layer of the network's weights, as fetchFilters. */
export async function fetchNetworkFilters(weights, layer, { signal } = {}) {
  const q = new URLSearchParams({ weights, layer });
  const res = await fetch(`/api/network/filters?${q}`, { signal });
  if (!res.ok) throw await readError(res);
  return res.json();
}

/** Learn mode: GET /api/learn/mistakes (every mistake, its lines, functions and variants). */
export async function fetchMistakes({ signal } = {}) {
  const res = await fetch("/api/learn/mistakes", { signal });
  if (!res.ok) throw await readError(res);
  return res.json();
}

/**
 * Learn mode: GET /api/learn/{fn}/mistakes/{id}: the right and the buggy outputs on a probe
 * case, the differing cells and the first differing step.
 */
export async function fetchMistakeRun(fn, mistake, { caseName = null, flavour = null, signal } = {}) {
  const q = new URLSearchParams();
  if (caseName) q.set("case", caseName);
  if (flavour) q.set("flavour", flavour);
  const tail = q.toString() ? `?${q}` : "";
  const res = await fetch(`/api/learn/${encodeURIComponent(fn)}/mistakes/${encodeURIComponent(mistake)}${tail}`, { signal });
  if (!res.ok) throw await readError(res);
  return res.json();
}

/**
 * Learn mode: POST /api/learn/{fn}/diagnose?case=&output=, the learner's output (an .npy
 * File) on a probe case, diagnosed as the checker does.
 */
export async function postDiagnosis(fn, caseName, output, file, { signal } = {}) {
  const q = new URLSearchParams({ case: caseName });
  if (output) q.set("output", output);
  const body = new FormData();
  body.append("file", file);
  const res = await fetch(`/api/learn/${encodeURIComponent(fn)}/diagnose?${q}`, { method: "POST", body, signal });
  if (!res.ok) throw await readError(res);
  return res.json();
}

/**
 * GET /api/animation's URL: a step animation as GIF or APNG. `params`: {op, h, w, f, stride,
 * pad, dilation, output_padding, format, numbers, delay_ms}; fields left undefined or null
 * take the server's defaults.
 */
export function animationUrl(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null) q.set(k, String(v));
  }
  return `/api/animation?${q}`;
}

/**
 * GET /api/animation/plan: what that animation would be, without drawing it: {op, frames,
 * formula, grids, width, height, filenames: {gif, apng}, transposed: the query of the
 * transposed convolution that gives the input size back, or null}. A query the server
 * would refuse (it answers 200 with fits false) throws an ApiError with its status,
 * message and field; so does a 4xx.
 */
export async function fetchAnimationPlan(params, { signal } = {}) {
  const url = animationUrl(params).replace("/api/animation?", "/api/animation/plan?");
  const res = await fetch(url, { signal });
  if (!res.ok) throw await readError(res);
  const plan = await res.json();
  if (!plan.fits) {
    const r = plan.refusal;
    throw new ApiError(r.status, [r.message], r.code, r.field ? [r.field] : []);
  }
  return plan;
}

/** GET /api/animation/frame.{png|svg}: one frame (`step`, from 0) of that animation. */
export function animationFrameUrl(params, step, ext) {
  return animationUrl({ ...params, step }).replace("/api/animation?", `/api/animation/frame.${ext}?`);
}

// ---------------------------------------------------------------- the network page: /api/network...

/** The network page's requests: JSON in, JSON out (null for 204), 4xx as ApiError. */
async function json(url, options = {}) {
  const res = await fetch(url, options);
  if (!res.ok) throw await readError(res);
  return res.status === 204 ? null : res.json();
}

function post(url, body, signal) {
  return json(url, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify(body), signal,
  });
}

/** POST /api/explore/transpose/steps: a page ({offset, limit}) of the op's steps for `image` = {id, settings}. */
export const fetchTransposeSteps = (image, { offset, limit }, { signal } = {}) =>
  post("/api/explore/transpose/steps", { id: image.id, settings: image.settings, offset, limit }, signal);

export const heldOutDigits = () => json("/api/network/digits");

/** Forward (and backward) pass: body = {input, target?, weights, backward}. */
export const networkRun = (body, signal) => post("/api/network/run", body, signal);

/** The same for an uploaded photo (a File). */
export function networkRunPhoto(file, settings, signal) {
  const form = new FormData();
  form.append("file", file, file.name || "photo");
  form.append("settings", JSON.stringify(settings));
  return json("/api/network/run/photo", { method: "POST", body: form, signal });
}

/** A page of step records of one layer: body = {input, weights, target, layer, direction,
 * offset, limit}. */
export const networkSteps = (body, signal) => post("/api/network/steps", body, signal);

/** Every parameter of a weight set ("shipped" or an uploaded id); 404 once it is forgotten. */
export const weightSet = (id) => json(`/api/network/weights?weights=${encodeURIComponent(id)}`);

export function uploadWeights(file) {
  const form = new FormData();
  form.append("file", file, file.name || "weights");
  return json("/api/network/weights", { method: "POST", body: form });
}

export const startTraining = (body) => post("/api/network/train", body);
/** Pause, resume, stop, pace or delete a job: only with the control_token its start answered. */
export const controlTraining = (id, action, token) =>
  json(`/api/network/train/${encodeURIComponent(id)}/${action}`,
    { method: "POST", headers: { "X-Control-Token": token } });
export const paceTraining = (id, stepsPerSecond, token) =>
  json(`/api/network/train/${encodeURIComponent(id)}/pace`, {
    method: "POST", headers: { "content-type": "application/json", "X-Control-Token": token },
    body: JSON.stringify({ steps_per_second: stepsPerSecond }),
  });
export const deleteTraining = (id, token) =>
  json(`/api/network/train/${encodeURIComponent(id)}`,
    { method: "DELETE", headers: { "X-Control-Token": token } });
export const trainingProgress = (id, since) =>
  json(`/api/network/train/${encodeURIComponent(id)}?since=${since}`);

/** Server-sent events of a job: onProgress(snapshot) per point, onEnd() at the end. */
export function watchTraining(id, since, { onProgress, onEnd, onError }) {
  const source = new EventSource(`/api/network/train/${encodeURIComponent(id)}/events?since=${since}`);
  source.addEventListener("progress", (e) => onProgress(JSON.parse(e.data)));
  source.addEventListener("end", () => {
    source.close();
    onEnd();
  });
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) return;
    source.close();
    onError();
  };
  return () => source.close();
}
