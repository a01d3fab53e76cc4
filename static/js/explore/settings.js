// The settings form: image source and size, the convolution's hyperparameters, the filters
// (a preset or an editable f x f grid per filter, per channel for RGB, and a bias), ReLU,
// pooling and the upstream gradient. Each control writes into state.settings and calls
// onChange(); the form shows the server's weights W once a result arrives, in float64 (the
// step records' weights, never the float32 W array), so editing one weight keeps the others
// exactly as the preset made them.

import { weightsView } from "../kit/arrays.js";
import { sampleUrl } from "../kit/api.js";

const PRESET_TITLES = {
  identity: "identity", box_blur: "box blur", gaussian_blur: "Gaussian blur", sharpen: "sharpen",
  sobel_x: "Sobel x (vertical edges)", sobel_y: "Sobel y (horizontal edges)", laplacian: "Laplacian",
  emboss: "emboss", outline: "outline",
};
const CH = ["R", "G", "B"];

function $(root, sel) {
  return root.querySelector(sel);
}

function mk(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (v !== false && v !== null && v !== undefined) e.setAttribute(k, v === true ? "" : v);
  }
  if (text !== undefined) e.textContent = text;
  return e;
}

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

export function createSettingsForm({ root, boot, state, onChange, onSample, onInvalid }) {
  const { weight, bias: biasRange } = boot.limits;
  const presets = boot.presets;
  const s = () => state.settings;
  let lastW = null; // the server's W for the shown settings (float32: its shape is read)
  let lastExact = null; // W[:, :, :, c] per filter in float64 (nested (f, f, C) lists)

  // --- samples
  const sampleBox = $(root, "#samples");
  for (const smp of boot.samples) {
    const b = mk("button", { type: "button", class: "sample", "data-sample": smp.name, "aria-pressed": "false", title: `${smp.title} (${smp.width} × ${smp.height}, ${smp.licence})` });
    const img = mk("img", { src: sampleUrl(smp.name), alt: "", width: 56, height: 56, loading: "lazy" });
    b.append(img, mk("span", {}, smp.title));
    b.addEventListener("click", () => onSample(smp.name));
    sampleBox.append(b);
  }

  // --- simple controls
  const size = $(root, "#size");
  const sizeOut = $(root, "#size-out");
  const f = $(root, "#f");
  const stride = $(root, "#stride");
  const pad = $(root, "#pad");
  const padMode = $(root, "#pad-mode");
  const padValue = $(root, "#pad-value");
  const dilation = $(root, "#dilation");
  const nFilters = $(root, "#n-filters");
  const relu = $(root, "#relu");
  const poolMode = $(root, "#pool-mode");
  const poolF = $(root, "#pool-f");
  const poolStride = $(root, "#pool-stride");
  const tie = $(root, "#tie-rule");
  const upstream = $(root, "#upstream");
  const seed = $(root, "#seed");
  const filtersBox = $(root, "#filters");

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
  const bindInt = (input, apply) => {
    input.addEventListener("input", () => {
      const v = intOf(input);
      if (v === null) return;
      apply(v);
      onChange();
    });
  };

  size.addEventListener("input", () => {
    sizeOut.textContent = size.value;
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
      renderFilters();
      onChange();
    }),
  );
  bindInt(f, (v) => {
    s().f = v;
    s().filters.forEach((fl) => {
      if (fl.weights) fl.weights = resizeWeights(fl.weights, v);
    });
    lastW = null;
    lastExact = null;
    renderFilters();
  });
  bindInt(stride, (v) => (s().stride = v));
  bindInt(pad, (v) => (s().pad = v));
  bindInt(dilation, (v) => (s().dilation = v));
  padMode.addEventListener("change", () => {
    s().pad_mode = padMode.value;
    syncVisibility();
    onChange();
  });
  padValue.addEventListener("input", () => {
    const v = numOf(padValue);
    if (v === null) return;
    s().pad_value = v;
    onChange();
  });
  bindInt(nFilters, (v) => {
    const list = s().filters;
    const n = Math.max(1, Math.min(Number(nFilters.max), v));
    const cycle = ["sobel_x", "sobel_y", "laplacian", "gaussian_blur", "sharpen", "emboss", "outline", "box_blur"];
    while (list.length < n) list.push({ preset: cycle[list.length % cycle.length], bias: 0 });
    list.length = n;
    renderFilters();
  });
  relu.addEventListener("change", () => {
    s().relu = relu.checked;
    onChange();
  });
  poolMode.addEventListener("change", () => {
    if (poolMode.value === "none") s().pool = null;
    else {
      s().pool = {
        mode: poolMode.value,
        f: intOf(poolF) || 2,
        stride: intOf(poolStride) || 2,
        tie_rule: tie.value,
      };
    }
    syncVisibility();
    onChange();
  });
  bindInt(poolF, (v) => {
    if (s().pool) s().pool.f = v;
  });
  bindInt(poolStride, (v) => {
    if (s().pool) s().pool.stride = v;
  });
  tie.addEventListener("change", () => {
    if (s().pool) s().pool.tie_rule = tie.value;
    onChange();
  });
  upstream.addEventListener("change", () => {
    s().upstream.kind = upstream.value;
    syncVisibility();
    onChange();
  });
  bindInt(seed, (v) => (s().upstream.seed = v));

  function syncVisibility() {
    $(root, "#pad-value-row").hidden = s().pad_mode !== "constant";
    const pooled = Boolean(s().pool);
    $(root, "#pool-params").hidden = !pooled;
    $(root, "#tie-row").hidden = !pooled || s().pool.mode !== "max";
    $(root, "#seed-row").hidden = s().upstream.kind !== "random";
  }

  /** Values shown in filter c's grid: its custom weights, or the server's W for a preset. */
  function gridValue(c, fl, i, j, ch) {
    if (fl.weights) {
      const v = fl.weights[i][j];
      return Array.isArray(v) ? v[ch] : v;
    }
    if (lastW && lastW.shape[0] === s().f && lastW.shape[3] > c && lastW.shape[2] > ch) {
      const exact = lastExact && lastExact[c];
      if (exact && exact.length === s().f) return exact[i][j][ch];
      return weightsView(lastW, ch, c).get(i, j);
    }
    return null;
  }

  function renderFilters() {
    const st = s();
    const C = st.color === "rgb" ? 3 : 1;
    nFilters.value = String(st.filters.length);
    filtersBox.replaceChildren();
    st.filters.forEach((fl, c) => {
      const box = mk("fieldset", { class: "filter" });
      box.append(mk("legend", {}, `Filter ${c}`));
      const row = mk("div", { class: "filter-row" });
      const selId = `filter-${c}-preset`;
      const lab = mk("label", { for: selId }, "Kernel");
      const sel = mk("select", { id: selId });
      for (const p of presets) sel.append(mk("option", { value: p }, PRESET_TITLES[p] || p));
      sel.append(mk("option", { value: "__custom" }, "custom (edit the grid)"));
      sel.value = fl.preset || "__custom";
      sel.addEventListener("change", () => {
        if (sel.value === "__custom") {
          fl.weights = currentGrid(c, fl, st.f, C);
          delete fl.preset;
        } else {
          fl.preset = sel.value;
          delete fl.weights;
          lastW = null;
          lastExact = null;
        }
        renderFilters();
        onChange();
      });
      const bId = `filter-${c}-bias`;
      const bl = mk("label", { for: bId }, "bias b");
      const bias = mk("input", { id: bId, type: "number", step: "0.1", min: biasRange.min, max: biasRange.max, value: String(fl.bias || 0), inputmode: "decimal" });
      bias.addEventListener("input", () => {
        const v = numOf(bias);
        if (v === null) return;
        fl.bias = v;
        onChange();
      });
      row.append(lab, sel, bl, bias);
      box.append(row);
      const perChannel = Boolean(fl.weights && Array.isArray(fl.weights[0][0]));
      if (C > 1 && fl.weights) {
        const pcId = `filter-${c}-perchannel`;
        const pc = mk("input", { id: pcId, type: "checkbox" });
        pc.checked = perChannel;
        pc.addEventListener("change", () => {
          fl.weights = reshapeChannels(fl.weights, C, pc.checked);
          renderFilters();
          onChange();
        });
        const pcl = mk("label", { for: pcId, class: "inline" }, "a separate grid per channel (R, G, B)");
        const pr = mk("div", { class: "check-row" });
        pr.append(pc, pcl);
        box.append(pr);
      }
      const grids = mk("div", { class: "grids" });
      const nGrids = perChannel ? C : 1; // a preset is the same on every channel
      const showCh = perChannel;
      for (let ch = 0; ch < nGrids; ch += 1) {
        const g = mk("div", { class: "kgrid", role: "group", "aria-label": `Filter ${c} weights${showCh ? `, channel ${CH[ch]}` : ""}` });
        g.style.gridTemplateColumns = `repeat(${st.f}, minmax(2.6rem, 1fr))`;
        if (showCh) {
          const cap = mk("span", { class: "kgrid-cap" }, `W[:, :, ${CH[ch]}, ${c}]`);
          grids.append(cap);
        } else {
          grids.append(mk("span", { class: "kgrid-cap" }, `W[:, :, ${C > 1 ? "each of the 3 channels" : "0"}, ${c}]`));
        }
        for (let i = 0; i < st.f; i += 1) {
          for (let j = 0; j < st.f; j += 1) {
            const v = gridValue(c, fl, i, j, ch);
            const inp = mk("input", {
              type: "number", step: "0.1", min: weight.min, max: weight.max, inputmode: "decimal",
              "aria-label": `Filter ${c} weight row ${i} column ${j}${showCh ? ` channel ${CH[ch]}` : ""}`,
              value: v === null ? "" : String(Number(v.toPrecision(4))),
              placeholder: v === null ? "…" : "",
              title: v === null ? null : String(v), // the exact float64 value
            });
            inp.addEventListener("input", () => {
              const x = numOf(inp);
              if (x === null) return;
              if (!fl.weights) {
                // editing a preset turns it into custom weights, starting from the server's W
                fl.weights = currentGrid(c, fl, st.f, C);
                delete fl.preset;
                sel.value = "__custom";
              }
              const cell = fl.weights[i][j];
              if (Array.isArray(cell)) cell[showCh ? ch : 0] = x;
              else fl.weights[i][j] = x;
              onChange();
            });
            g.append(inp);
          }
        }
        grids.append(g);
      }
      if (!fl.weights) {
        box.append(mk("p", { class: "hint" }, C > 1
          ? `The preset divided by C = ${C}, the same on every channel. Edit any number to make it custom.`
          : "Edit any number to make it custom."));
      }
      box.append(grids);
      filtersBox.append(box);
    });
  }

  /** Custom weights starting from what the grid shows (the server's W for presets). */
  function currentGrid(c, fl, fs, C) {
    const perChannel = C > 1 && lastW && !fl.weights && !isUniform(c, fs, C);
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

  /** Put every control in line with state.settings (after load, URL restore, or a result). */
  function render(W, exactW) {
    if (W !== undefined) {
      lastW = W;
      lastExact = exactW || null;
    }
    const st = s();
    size.value = String(st.size);
    sizeOut.textContent = String(st.size);
    root.querySelectorAll('input[name="color"]').forEach((r) => (r.checked = r.value === st.color));
    f.value = String(st.f);
    stride.value = String(st.stride);
    pad.value = String(st.pad);
    padMode.value = st.pad_mode;
    padValue.value = String(Array.isArray(st.pad_value) ? st.pad_value[0] : st.pad_value);
    dilation.value = String(st.dilation);
    relu.checked = Boolean(st.relu);
    poolMode.value = st.pool ? st.pool.mode : "none";
    if (st.pool) {
      poolF.value = String(st.pool.f);
      poolStride.value = String(st.pool.stride);
      tie.value = st.pool.tie_rule || "first";
    }
    upstream.value = st.upstream.kind;
    seed.value = String(st.upstream.seed || 0);
    for (const b of sampleBox.querySelectorAll("button")) {
      b.setAttribute("aria-pressed", String(!state.file && b.dataset.sample === st.sample));
    }
    root.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
    syncVisibility();
    if (!document.activeElement || !filtersBox.contains(document.activeElement)) renderFilters();
  }

  return { render };
}
