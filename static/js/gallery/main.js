// The gallery page (templates/gallery.html): one card per geometry of the well-known set
// (the server's list, in the boot data), each showing the convolution and the transposed
// convolution that gives its input size back (also drawn as a convolution over the input
// with zeros inserted), as animations the server draws
// (GET /api/animation), with the formula and the transposed query from
// GET /api/animation/plan. The page does no arithmetic of its own beyond the definitions
// of half padding (pad = floor(f / 2)) and full padding (pad = f - 1).

import { animationUrl, fetchAnimationPlan } from "../kit/api.js";

const FIELDS = ["h", "f", "stride", "pad", "dilation"];

function createGallery(root) {
  const $ = (q) => root.querySelector(q);
  const boot = JSON.parse(document.getElementById("boot").textContent);
  const numbers = $("#numbers");
  const cards = [];

  function padFor(rule, f) {
    if (rule === "half") return Math.floor(f / 2);
    if (rule === "full") return f - 1;
    return null;
  }

  function showFigure(fig, plan, params) {
    const img = fig.querySelector("img");
    const formula = fig.querySelector(".formula");
    const [hPart, wPart] = plan.formula.split("; ");
    formula.textContent = plan.grids[0].n_rows === plan.grids[0].n_cols ? hPart : `${hPart}; ${wPart}`;
    img.width = plan.width;
    img.height = plan.height;
    img.src = animationUrl({ ...params, numbers: numbers.checked });
    img.alt = `${plan.op} animation, ${plan.frames} frames: ${formula.textContent}`;
    for (const a of fig.querySelectorAll(".downloads a")) {
      const format = a.dataset.format;
      a.href = animationUrl({ ...params, numbers: numbers.checked, format });
      a.download = plan.filenames[format];
    }
    fig.hidden = false;
  }

  function createCard(entry) {
    const node = document.getElementById("card-template").content.firstElementChild.cloneNode(true);
    node.dataset.key = entry.key;
    node.querySelector(".card-title").textContent = entry.title;
    node.querySelector(".card-note").textContent = entry.note;
    const inputs = {};
    for (const name of FIELDS) {
      const input = node.querySelector(`[data-field="${name}"]`);
      const b = boot.bounds[name];
      input.min = String(b.min);
      input.max = String(b.max);
      input.value = String(entry[name]);
      inputs[name] = input;
    }
    if (entry.pad_rule) {
      inputs.pad.disabled = true;
      inputs.pad.title = entry.pad_rule === "half" ? "pad = floor(f / 2)" : "pad = f - 1";
    }
    const error = node.querySelector(".card-error");
    const conv = node.querySelector('[data-kind="conv"]');
    const transposed = node.querySelector('[data-kind="transposed"]');
    const directFig = node.querySelector('[data-kind="direct"]');
    let controller = null;
    let timer = null;

    async function refresh() {
      if (controller) controller.abort();
      controller = new AbortController();
      const signal = controller.signal;
      const values = {};
      for (const name of FIELDS) values[name] = Number(inputs[name].value);
      // the server's bounds (boot data): a number outside them is never sent
      const out = FIELDS.find((name) => !inputs[name].disabled && !inputs[name].checkValidity());
      if (out) {
        const b = boot.bounds[out];
        showError({ messages: [`${out === "h" ? "input n" : out} must be a whole number from ${b.min} to ${b.max}.`], fields: [out] });
        return;
      }
      const rulePad = padFor(entry.pad_rule, values.f);
      if (rulePad !== null) {
        values.pad = rulePad;
        inputs.pad.value = String(rulePad);
      }
      const params = { op: "conv_forward", h: values.h, w: values.h, f: values.f,
        stride: values.stride, pad: values.pad, dilation: values.dilation };
      node.dataset.state = "loading";
      try {
        const plan = await fetchAnimationPlan(params, { signal });
        showFigure(conv, plan, params);
        if (plan.transposed) {
          const direct = { ...plan.transposed, op: "conv_transpose_direct" };
          const [tplan, dplan] = await Promise.all([
            fetchAnimationPlan(plan.transposed, { signal }), fetchAnimationPlan(direct, { signal })]);
          showFigure(transposed, tplan, plan.transposed);
          showFigure(directFig, dplan, direct);
        } else {
          transposed.hidden = true;
          directFig.hidden = true;
        }
        error.hidden = true;
        for (const input of Object.values(inputs)) input.removeAttribute("aria-invalid");
        node.dataset.state = "ready";
      } catch (err) {
        if (err.name === "AbortError") return;
        showError(err);
      }
    }

    function showError(err) {
      error.textContent = err.messages ? err.messages.join(" ") : String(err);
      error.hidden = false;
      conv.hidden = true;
      transposed.hidden = true;
      directFig.hidden = true;
      for (const input of Object.values(inputs)) input.removeAttribute("aria-invalid");
      for (const field of err.fields || []) {
        const name = field.replace(/^query\./, "");
        if (inputs[name]) inputs[name].setAttribute("aria-invalid", "true");
      }
      node.dataset.state = "error";
    }

    for (const input of Object.values(inputs)) {
      input.addEventListener("input", () => {
        clearTimeout(timer);
        timer = setTimeout(refresh, 350);
      });
    }
    $("#cards").append(node);
    return { refresh };
  }

  for (const entry of boot.entries) cards.push(createCard(entry));
  numbers.addEventListener("change", () => cards.forEach((c) => c.refresh()));
  Promise.all(cards.map((c) => c.refresh())).then(() => {
    root.dataset.state = "ready";
  });
}

createGallery(document.getElementById("main"));
