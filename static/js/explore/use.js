// The "Use it yourself" panel (the current settings as core, curl and PyTorch code, with
// Copy) and the "Copy link to this view" button.

import { curlSnippet, pythonSnippet, torchSnippet } from "../snippets.js";

/** Returns {render}: redraws the snippet for the current settings. */
export function createUsePanel(app) {
  const { $, root, state } = app;
  const code = $("#snippet-code");
  const tabs = [...root.querySelectorAll("#snippet-tabs [role=tab]")];
  let kind = "python";

  function render() {
    const st = state.settings;
    const name = state.file ? state.file.name || "image.png" : null;
    if (kind === "python") code.textContent = pythonSnippet(st, name);
    else if (kind === "curl") code.textContent = curlSnippet(st, name, app.current ? app.current.image.id : null);
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
