// Filters from weights: a .safetensors / .npz file (POST /api/filters) or the network's
// weights (?net_filters=<weights id>&layer=conv1, GET /api/network/filters). The server
// reads the conv tensors and gives each as Explore's filters in float64; applying one sets
// the colour mode (1 input channel: gray, 3: RGB), f, the number of filters, every filter's
// weights and bias, exactly as the file has them, and the view recomputes. A file with
// several conv tensors (or one whose layout is ambiguous) lists them to choose from; the
// ones Explore cannot use are shown with the server's reason. Errors go to the same status
// line; the page keeps its settings.

import { fetchFilters, fetchNetworkFilters } from "../kit/api.js";

const LAYOUT_WORDS = { exercise: "exercise layout", pytorch: "PyTorch layout" };
const x = (shape) => shape.join(" x ");

/** "conv1.weight (PyTorch layout 8 x 1 x 3 x 3) -> 8 filters 3 x 3, gray" */
export function describeEntry(e) {
  const n = e.n_C === 1 ? "1 filter" : `${e.n_C} filters`;
  const colour = e.color === "rgb" ? "RGB" : e.color || `${e.n_C_prev} channels`;
  return `${e.name} (${LAYOUT_WORDS[e.layout]} ${x(e.file_shape)}) -> ${n} ${e.f} x ${e.f}, ${colour}`;
}

function mk(tag, attrs = {}, text) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") el.className = v;
    else el.setAttribute(k, v);
  }
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Returns {loadFile(file), loadFromUrl()}: loadFromUrl is true when the URL names network
 * filters (it then computes). */
export function bindFilterFile(app) {
  const { $, state } = app;
  const input = $("#filter-file");
  const status = $("#filter-file-status");
  const list = $("#filter-file-list");
  let seq = 0; // a newer upload supersedes an older one still in flight

  function say(text, bad = false) {
    status.textContent = text;
    status.classList.toggle("error", bad);
    status.classList.toggle("hint", !bad);
    status.hidden = !text;
  }

  function apply(e, source) {
    const st = state.settings;
    const before = st.color;
    st.color = e.color;
    st.f = e.f;
    st.filters = e.filters.map((fl) => ({ weights: JSON.parse(JSON.stringify(fl.weights)), bias: fl.bias }));
    const channels = e.n_C_prev === 1 ? "1 input channel" : `${e.n_C_prev} input channels`;
    const mode = e.color === "rgb" ? "RGB" : "gray";
    const colourLine = before === e.color
      ? `The colour mode stays ${mode}: the tensor has ${channels}.`
      : `The colour mode is now ${mode}: the tensor has ${channels}.`;
    const biasLine = e.bias ? `Biases from ${e.bias}.` : "No bias tensor: every bias is 0.";
    say(`${source}: ${describeEntry(e)}. ${colourLine} ${biasLine}`);
    list.querySelectorAll("[data-key]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.key === e.key)));
    app.hooks.filtersLoaded(e.key);
    app.form.render();
    app.url.sync();
    app.use.render();
    app.loader.compute();
  }

  function showChoice(answer) {
    list.replaceChildren();
    list.hidden = answer.tensors.length < 2;
    if (list.hidden) return;
    const usable = answer.tensors.filter((e) => e.fits);
    for (const e of [...usable, ...answer.tensors.filter((t) => !t.fits)]) { // usable first
      const li = mk("li", { class: e.fits ? "ff-item" : "ff-item ff-unfit" });
      const text = describeEntry(e) + (e.ambiguous ? " (ambiguous: both layouts fit)" : "");
      if (e.fits) {
        const b = mk("button", { type: "button", class: "button ff-use", "data-key": e.key, "aria-pressed": "false" }, `Use ${text}`);
        b.addEventListener("click", () => apply(e, answer.source));
        li.append(b);
      } else {
        li.append(mk("span", { class: "ff-name" }, text));
        li.append(mk("span", { class: "ff-why" }, e.reasons.join(" ")));
      }
      list.append(li);
    }
  }

  function show(answer) {
    showChoice(answer);
    const fitting = answer.tensors.filter((e) => e.fits);
    const n = answer.tensors.length;
    if (n === 1) {
      const e = answer.tensors[0];
      if (e.fits) apply(e, answer.source);
      else say(`${answer.source}: ${describeEntry(e)}: Explore cannot use it. ${e.reasons.join(" ")}`, true);
      return;
    }
    const names = new Set(answer.tensors.map((e) => e.name));
    const both = [...new Set(answer.tensors.filter((e) => e.ambiguous).map((e) => e.name))];
    const count = `${names.size} conv tensor${names.size === 1 ? "" : "s"}${both.length ? ` (${both.join(", ")} can be read in both layouts)` : ""}`;
    if (fitting.length) say(`${answer.source}: ${count}; ${fitting.length} of the ${n} choices below fit Explore: pick one.`);
    else say(`${answer.source}: ${count}; none fits Explore (reasons below).`, true);
  }

  async function loadFile(file) {
    const mine = (seq += 1);
    say(`Reading ${file.name}…`);
    list.hidden = true;
    try {
      const answer = await fetchFilters(file);
      if (mine === seq) show(answer);
    } catch (err) {
      if (mine === seq) say(`${file.name}: ${err.message}`, true);
    }
  }

  input.addEventListener("change", () => {
    const file = input.files[0];
    input.value = "";
    if (file) loadFile(file);
  });

  /** ?net_filters=<weights id>&layer=conv1: the network's filters (true: it computes). */
  function loadFromUrl() {
    const q = new URLSearchParams(window.location.search);
    const weights = q.get("net_filters");
    if (!weights) return false;
    const layer = q.get("layer") || "conv1";
    const mine = (seq += 1);
    say(`Reading the network's ${layer} filters…`);
    fetchNetworkFilters(weights, layer).then((answer) => {
      if (mine !== seq) return;
      const e = answer.tensors[0];
      if (e.fits) apply(e, `The network's ${layer} (weights ${weights})`);
      else {
        say(`The network's ${layer}: ${e.reasons.join(" ")}`, true);
        app.loader.compute();
      }
    }).catch((err) => {
      if (mine !== seq) return;
      say(`The network's ${layer} filters (weights ${weights}): ${err.message}`, true);
      app.loader.compute();
    });
    return true;
  }

  return { loadFile, loadFromUrl };
}
