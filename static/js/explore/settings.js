// The settings form: image source and size, the convolution's hyperparameters, the filters
// (a preset or an editable f x f grid per filter, per channel for RGB, and a bias), ReLU,
// pooling and the upstream gradient. Each control writes into state.settings and calls
// onChange(); the form shows the server's weights W once a result arrives, in float64 (the
// step records' weights, never the float32 W array), so editing one weight keeps the others
// exactly as the preset made them.

import { weightsView } from "../kit/arrays.js";
import { sampleUrl } from "../kit/api.js";
import { elAttrs as mk } from "../kit/dom.js";

const PRESET_TITLES = {
  identity: "identity", box_blur: "box blur", gaussian_blur: "Gaussian blur", sharpen: "sharpen",
  sobel_x: "Sobel x (vertical edges)", sobel_y: "Sobel y (horizontal edges)", laplacian: "Laplacian",
  emboss: "emboss", outline: "outline",
};
const CH = ["R", "G", "B"];

const CYCLE = ["sobel_x", "sobel_y", "laplacian", "gaussian_blur", "sharpen", "emboss", "outline", "box_blur"];

/** Resize an (f0, f0[, C]) nested list to (f, f[, C]) around its centre (zeros added). */
function resizeWeights(w, f) {
  const f0 = w.length;
  const off = Math.floor((f0 - f) / 2);
  const perChannel = Array.isArray(w[0][0]);
  const zero = perChannel ? w[0][0].map(() => 0) : 0;
  const out = [];
  for (let i = 0; i < f; i += 1) {
    const row = [];
    for (let j = 0; j < f; j += 1) {
      const si = i + off;
      const sj = j + off;
      const v = si >= 0 && si < f0 && sj >= 0 && sj < f0 ? w[si][sj] : zero;
      row.push(Array.isArray(v) ? v.slice() : v);
    }
    out.push(row);
  }
  return out;
}

/** Switch custom weights between one grid for all channels and one grid per channel. */
function reshapeChannels(w, C, perChannel) {
  const isPer = Array.isArray(w[0][0]);
  if (perChannel && !isPer) return w.map((row) => row.map((v) => Array(C).fill(v)));
  if (!perChannel && isPer) return w.map((row) => row.map((cell) => cell[0]));
  if (perChannel && isPer && w[0][0].length !== C) {
    return w.map((row) => row.map((cell) => Array.from({ length: C }, (_, i) => cell[Math.min(i, cell.length - 1)])));
  }
  return w;
}

/**
 * The form inside `root`, writing into state.settings. onChange() after each valid change,
 * onInvalid(message) for a value the browser refuses, onSample(name) for a sample's button.
 * Returns {render(W, exactW)}: every control put in line with the state (and the server's
 * W for the filter grids, when given). The parts below share one object `form`.
 */
export function createSettingsForm({ root, boot, state, onChange, onSample, onInvalid }) {
  const form = {
    root,
    boot,
    state,
    onChange,
    $: (sel) => root.querySelector(sel),
    s: () => state.settings,
    lastW: null, // the server's W for the shown settings (float32: its shape is read)
    lastExact: null, // W[:, :, :, c] per filter in float64 (nested (f, f, C) lists)
  };
  Object.assign(form, numberReaders(root, onInvalid));
  sampleButtons(form, onSample);
  form.filters = filterEditor(form);
  bindLayerControls(form);
  bindPoolControls(form);
  return { render: (W, exactW) => putControls(form, W, exactW) };
}

/** One button per built-in sample, its thumbnail and title. */
function sampleButtons(form, onSample) {
  const box = form.$("#samples");
  for (const smp of form.boot.samples) {
    const b = mk("button", { type: "button", class: "sample", "data-sample": smp.name, "aria-pressed": "false", title: `${smp.title} (${smp.width} × ${smp.height}, ${smp.licence})` });
    const img = mk("img", { src: sampleUrl(smp.name), alt: "", width: 56, height: 56, loading: "lazy" });
    b.append(img, mk("span", {}, smp.title));
    b.addEventListener("click", () => onSample(smp.name));
    box.append(b);
  }
}

/**
 * Numbers read from inputs the browser validates: intOf / numOf (null, with onInvalid(the
 * field's name and why), when refused) and bindInt(input, apply) (apply the value, then
 * onChange, at each valid input).
 */
function numberReaders(root, onInvalid) {
  const invalid = (input) => {
    input.setAttribute("aria-invalid", "true");
    const section = input.closest("section");
    const head = section ? section.querySelector("h2") : null;
    const label = root.querySelector(`label[for="${input.id}"]`);
    const name = `${head ? `${head.textContent} ` : ""}${label ? label.textContent.replace(/\(.*\)/, "").trim() : input.getAttribute("aria-label") || ""}`;
    const why = input.value === "" ? "needs a number." : input.validationMessage || "is out of range.";
    if (onInvalid) onInvalid(`${name}: ${why}`);
    return null;
  };
  const intOf = (input) => {
    if (input.value === "" || !input.checkValidity()) return invalid(input);
    input.removeAttribute("aria-invalid");
    return Math.round(Number(input.value));
  };
  const numOf = (input) => {
    const v = Number(input.value);
    if (input.value === "" || !Number.isFinite(v) || !input.checkValidity()) return invalid(input);
    input.removeAttribute("aria-invalid");
    return v;
  };
  return { intOf, numOf };
}

/** bindInt(form, input, apply): apply(the whole number), then onChange, at each valid input. */
function bindInt(form, input, apply) {
  input.addEventListener("input", () => {
    const v = form.intOf(input);
    if (v === null) return;
    apply(v);
    form.onChange();
  });
}

/** Which rows show: the constant's value, the pooling's parameters, tie rule and seed. */
function syncVisibility(form) {
  const { $ } = form;
  const st = form.s();
  $("#pad-value-row").hidden = st.pad_mode !== "constant";
  const pooled = Boolean(st.pool);
  $("#pool-params").hidden = !pooled;
  $("#tie-row").hidden = !pooled || st.pool.mode !== "max";
  $("#seed-row").hidden = st.upstream.kind !== "random";
}

/** The image's size and colour, the convolution's f, stride, pad (mode, value), dilation, filters. */
function bindLayerControls(form) {
  const { $, root, s, onChange } = form;
  const size = $("#size");
  size.addEventListener("input", () => {
    $("#size-out").textContent = size.value;
    s().size = Number(size.value);
    onChange();
  });
  root.querySelectorAll('input[name="color"]').forEach((r) =>
    r.addEventListener("change", () => {
      s().color = r.value;
      const C = r.value === "rgb" ? 3 : 1;
      s().filters.forEach((fl) => {
        if (fl.weights && Array.isArray(fl.weights[0][0])) fl.weights = reshapeChannels(fl.weights, C, C > 1);
      });
      form.filters.render();
      onChange();
    }),
  );
  bindInt(form, $("#f"), (v) => {
    s().f = v;
    s().filters.forEach((fl) => {
      if (fl.weights) fl.weights = resizeWeights(fl.weights, v);
    });
    form.lastW = null;
    form.lastExact = null;
    form.filters.render();
  });
  bindInt(form, $("#stride"), (v) => (s().stride = v));
  bindInt(form, $("#pad"), (v) => (s().pad = v));
  bindInt(form, $("#dilation"), (v) => (s().dilation = v));
  const padMode = $("#pad-mode");
  padMode.addEventListener("change", () => {
    s().pad_mode = padMode.value;
    syncVisibility(form);
    onChange();
  });
  const padValue = $("#pad-value");
  padValue.addEventListener("input", () => {
    const v = form.numOf(padValue);
    if (v === null) return;
    s().pad_value = v;
    onChange();
  });
  const nFilters = $("#n-filters");
  bindInt(form, nFilters, (v) => {
    const list = s().filters;
    const n = Math.max(1, Math.min(Number(nFilters.max), v));
    while (list.length < n) list.push({ preset: CYCLE[list.length % CYCLE.length], bias: 0 });
    list.length = n;
    form.filters.render();
  });
}

/** ReLU, the pooling (mode, f, stride, tie rule) and the upstream gradient (kind, seed). */
function bindPoolControls(form) {
  const { $, s, onChange } = form;
  const relu = $("#relu");
  relu.addEventListener("change", () => {
    s().relu = relu.checked;
    onChange();
  });
  const [poolMode, poolF, poolStride, tie] = ["#pool-mode", "#pool-f", "#pool-stride", "#tie-rule"].map($);
  poolMode.addEventListener("change", () => {
    if (poolMode.value === "none") s().pool = null;
    else {
      s().pool = {
        mode: poolMode.value,
        f: form.intOf(poolF) || 2,
        stride: form.intOf(poolStride) || 2,
        tie_rule: tie.value,
      };
    }
    syncVisibility(form);
    onChange();
  });
  bindInt(form, poolF, (v) => {
    if (s().pool) s().pool.f = v;
  });
  bindInt(form, poolStride, (v) => {
    if (s().pool) s().pool.stride = v;
  });
  tie.addEventListener("change", () => {
    if (s().pool) s().pool.tie_rule = tie.value;
    onChange();
  });
  const upstream = $("#upstream");
  upstream.addEventListener("change", () => {
    s().upstream.kind = upstream.value;
    syncVisibility(form);
    onChange();
  });
  bindInt(form, $("#seed"), (v) => (s().upstream.seed = v));
}

/**
 * The filters: per filter a kernel menu (a preset or custom), its bias, and an f x f grid
 * (per channel for RGB custom weights). A preset's grid shows the server's W. Returns
 * {render()}.
 */
function filterEditor(form) {
  const box = form.$("#filters");
  const s = form.s;

  /** Values shown in filter c's grid: its custom weights, or the server's W for a preset. */
  function gridValue(c, fl, i, j, ch) {
    if (fl.weights) {
      const v = fl.weights[i][j];
      return Array.isArray(v) ? v[ch] : v;
    }
    const { lastW, lastExact } = form;
    if (lastW && lastW.shape[0] === s().f && lastW.shape[3] > c && lastW.shape[2] > ch) {
      const exact = lastExact && lastExact[c];
      if (exact && exact.length === s().f) return exact[i][j][ch];
      return weightsView(lastW, ch, c).get(i, j);
    }
    return null;
  }

  /** Custom weights starting from what the grid shows (the server's W for presets). */
  function currentGrid(c, fl, fs, C) {
    const perChannel = C > 1 && form.lastW && !fl.weights && !isUniform(c, fs, C);
    const out = [];
    for (let i = 0; i < fs; i += 1) {
      const row = [];
      for (let j = 0; j < fs; j += 1) {
        if (perChannel) row.push(Array.from({ length: C }, (_, ch) => gridValue(c, fl, i, j, ch) ?? 0));
        else row.push(gridValue(c, fl, i, j, 0) ?? (i === j && i === (fs >> 1) ? 1 : 0));
      }
      out.push(row);
    }
    return out;
  }

  function isUniform(c, fs, C) {
    for (let ch = 1; ch < C; ch += 1) {
      for (let i = 0; i < fs; i += 1) {
        for (let j = 0; j < fs; j += 1) {
          if (gridValue(c, {}, i, j, ch) !== gridValue(c, {}, i, j, 0)) return false;
        }
      }
    }
    return true;
  }

  /** Filter c's kernel menu and bias; `sel` is the menu (a grid edit sets it to custom). */
  function filterHead(c, fl, C) {
    const row = mk("div", { class: "filter-row" });
    const selId = `filter-${c}-preset`;
    const lab = mk("label", { for: selId }, "Kernel");
    const sel = mk("select", { id: selId });
    for (const p of form.boot.presets) sel.append(mk("option", { value: p }, PRESET_TITLES[p] || p));
    sel.append(mk("option", { value: "__custom" }, "custom (edit the grid)"));
    sel.value = fl.preset || "__custom";
    sel.addEventListener("change", () => {
      if (sel.value === "__custom") {
        fl.weights = currentGrid(c, fl, s().f, C);
        delete fl.preset;
      } else {
        fl.preset = sel.value;
        delete fl.weights;
        form.lastW = null;
        form.lastExact = null;
      }
      render();
      form.onChange();
    });
    const { bias: biasRange } = form.boot.limits;
    const bId = `filter-${c}-bias`;
    const bl = mk("label", { for: bId }, "bias b");
    const bias = mk("input", { id: bId, type: "number", step: "0.1", min: biasRange.min, max: biasRange.max, value: String(fl.bias || 0), inputmode: "decimal" });
    bias.addEventListener("input", () => {
      const v = form.numOf(bias);
      if (v === null) return;
      fl.bias = v;
      form.onChange();
    });
    row.append(lab, sel, bl, bias);
    return { row, sel };
  }

  /** For RGB custom weights: the "a separate grid per channel" switch. */
  function perChannelSwitch(c, fl, C, perChannel) {
    const pcId = `filter-${c}-perchannel`;
    const pc = mk("input", { id: pcId, type: "checkbox" });
    pc.checked = perChannel;
    pc.addEventListener("change", () => {
      fl.weights = reshapeChannels(fl.weights, C, pc.checked);
      render();
      form.onChange();
    });
    const pcl = mk("label", { for: pcId, class: "inline" }, "a separate grid per channel (R, G, B)");
    const pr = mk("div", { class: "check-row" });
    pr.append(pc, pcl);
    return pr;
  }

  /** Filter c's weight grid(s): one number input per weight; editing a preset makes it custom. */
  function weightGrids(c, fl, C, perChannel, sel) {
    const { weight } = form.boot.limits;
    const f = s().f;
    const grids = mk("div", { class: "grids" });
    const nGrids = perChannel ? C : 1; // a preset is the same on every channel
    const showCh = perChannel;
    for (let ch = 0; ch < nGrids; ch += 1) {
      const g = mk("div", { class: "kgrid", role: "group", "aria-label": `Filter ${c} weights${showCh ? `, channel ${CH[ch]}` : ""}` });
      g.style.gridTemplateColumns = `repeat(${f}, minmax(2.6rem, 1fr))`;
      grids.append(mk("span", { class: "kgrid-cap" }, showCh ? `W[:, :, ${CH[ch]}, ${c}]` : `W[:, :, ${C > 1 ? "each of the 3 channels" : "0"}, ${c}]`));
      for (let i = 0; i < f; i += 1) {
        for (let j = 0; j < f; j += 1) {
          const v = gridValue(c, fl, i, j, ch);
          const inp = mk("input", {
            type: "number", step: "0.1", min: weight.min, max: weight.max, inputmode: "decimal",
            "aria-label": `Filter ${c} weight row ${i} column ${j}${showCh ? ` channel ${CH[ch]}` : ""}`,
            value: v === null ? "" : String(Number(v.toPrecision(4))),
            placeholder: v === null ? "…" : "",
            title: v === null ? null : String(v), // the exact float64 value
          });
          inp.addEventListener("input", () => {
            const x = form.numOf(inp);
            if (x === null) return;
            if (!fl.weights) {
              // editing a preset turns it into custom weights, starting from the server's W
              fl.weights = currentGrid(c, fl, f, C);
              delete fl.preset;
              sel.value = "__custom";
            }
            const cell = fl.weights[i][j];
            if (Array.isArray(cell)) cell[showCh ? ch : 0] = x;
            else fl.weights[i][j] = x;
            form.onChange();
          });
          g.append(inp);
        }
      }
      grids.append(g);
    }
    return grids;
  }

  function render() {
    const st = s();
    const C = st.color === "rgb" ? 3 : 1;
    form.$("#n-filters").value = String(st.filters.length);
    box.replaceChildren();
    st.filters.forEach((fl, c) => {
      const fieldset = mk("fieldset", { class: "filter" });
      fieldset.append(mk("legend", {}, `Filter ${c}`));
      const { row, sel } = filterHead(c, fl, C);
      fieldset.append(row);
      const perChannel = Boolean(fl.weights && Array.isArray(fl.weights[0][0]));
      if (C > 1 && fl.weights) fieldset.append(perChannelSwitch(c, fl, C, perChannel));
      const grids = weightGrids(c, fl, C, perChannel, sel);
      if (!fl.weights) {
        fieldset.append(mk("p", { class: "hint" }, C > 1
          ? `The preset divided by C = ${C}, the same on every channel. Edit any number to make it custom.`
          : "Edit any number to make it custom."));
      }
      fieldset.append(grids);
      box.append(fieldset);
    });
  }

  return { render, box };
}

/** Put every control in line with state.settings (after load, URL restore, or a result). */
function putControls(form, W, exactW) {
  const { $, root, state } = form;
  if (W !== undefined) {
    form.lastW = W;
    form.lastExact = exactW || null;
  }
  const st = form.s();
  $("#size").value = String(st.size);
  $("#size-out").textContent = String(st.size);
  root.querySelectorAll('input[name="color"]').forEach((r) => (r.checked = r.value === st.color));
  $("#f").value = String(st.f);
  $("#stride").value = String(st.stride);
  $("#pad").value = String(st.pad);
  $("#pad-mode").value = st.pad_mode;
  $("#pad-value").value = String(Array.isArray(st.pad_value) ? st.pad_value[0] : st.pad_value);
  $("#dilation").value = String(st.dilation);
  $("#relu").checked = Boolean(st.relu);
  $("#pool-mode").value = st.pool ? st.pool.mode : "none";
  if (st.pool) {
    $("#pool-f").value = String(st.pool.f);
    $("#pool-stride").value = String(st.pool.stride);
    $("#tie-rule").value = st.pool.tie_rule || "first";
  }
  $("#upstream").value = st.upstream.kind;
  $("#seed").value = String(st.upstream.seed || 0);
  for (const b of $("#samples").querySelectorAll("button")) {
    b.setAttribute("aria-pressed", String(!state.file && b.dataset.sample === st.sample));
  }
  root.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  syncVisibility(form);
  const box = form.filters.box;
  if (!document.activeElement || !box.contains(document.activeElement)) form.filters.render();
}
