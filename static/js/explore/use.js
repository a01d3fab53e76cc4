// The "Use it yourself" panel (the current settings as core, curl and PyTorch code, with
// Copy) and the "Copy link to this view" button.

import { curlSnippet, pythonSnippet, torchSnippet } from "./snippets.js";
import { positionOf } from "../kit/geometry.js";
import { stageShape } from "./stages.js";

/** Returns {render}: redraws the snippet for the current settings. */
export function createUsePanel(app) {
  const { $, root, state } = app;
  const code = $("#snippet-code");
  const tabs = [...root.querySelectorAll("#snippet-tabs [role=tab]")];
  let kind = "python";

  /**
   * The step the page shows, {stage, step, h, w, c, nWPad, outputPadding}, when it shows these
   * settings (outputPadding: the backward_transpose stage's [rows, columns], else null).
   */
  function shown() {
    const cur = app.current;
    if (!cur || JSON.stringify(cur.image.requestSettings) !== JSON.stringify(state.settings)) return null;
    const shape = stageShape(cur.raw, state.ui.stage);
    if (!shape) return null;
    const step = Math.max(0, Math.min(state.ui.step, shape[0] * shape[1] * shape[2] - 1));
    return { stage: state.ui.stage, step, ...positionOf(step, ...shape), nWPad: cur.raw.geometry.conv.n_W_pad,
      outputPadding: cur.raw.geometry.transpose ? cur.raw.geometry.transpose.output_padding : null };
  }

  function render() {
    const st = state.settings;
    const name = state.file ? state.file.name || "image.png" : null;
    if (kind === "python") code.textContent = pythonSnippet(st, name, shown());
    else if (kind === "curl") code.textContent = curlSnippet(st, name, shown());
    else code.textContent = torchSnippet(st, name);
    tabs.forEach((b) => {
      const on = b.dataset.kind === kind;
      b.setAttribute("aria-selected", String(on));
      b.tabIndex = on ? 0 : -1;
    });
  }

  tabs.forEach((b) => b.addEventListener("click", () => {
    kind = b.dataset.kind;
    $("#copy-status").textContent = "";
    render();
  }));
  $("#copy-snippet").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(code.textContent);
      $("#copy-status").textContent = "Copied.";
    } catch {
      const range = document.createRange();
      range.selectNodeContents(code);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      const ok = document.execCommand && document.execCommand("copy");
      $("#copy-status").textContent = ok ? "Copied." : "Selected: press Ctrl+C to copy.";
    }
  });
  $("#copy-link").addEventListener("click", async () => {
    app.url.flush();
    try {
      await navigator.clipboard.writeText(window.location.href);
      $("#copy-link-status").textContent = "Link copied.";
    } catch {
      $("#copy-link-status").textContent = "Copy the address bar: it holds this view.";
    }
  });

  return { render };
}
