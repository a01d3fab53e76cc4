// The network page's only module that knows URLs: /api/network... (see /docs).

import { readError } from "../kit/api.js";

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

export const heldOutDigits = () => json("/api/network/digits");

/** Forward (and backward) pass: body = {input, target?, weights, backward}. */
export const run = (body, signal) => post("/api/network/run", body, signal);

/** The same for an uploaded photo (a File). */
export function runPhoto(file, settings, signal) {
  const form = new FormData();
  form.append("file", file, file.name || "photo");
  form.append("settings", JSON.stringify(settings));
  return json("/api/network/run/photo", { method: "POST", body: form, signal });
}

/** A page of step records of one layer: body = {input, weights, target, layer, direction,
 * offset, limit}. */
export const steps = (body, signal) => post("/api/network/steps", body, signal);

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
