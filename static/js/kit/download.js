// "Download animation": a <details> menu that exports what a view shows as the server draws
// it (GET /api/animation as GIF or APNG, the current step as PNG or SVG from
// /api/animation/frame), for the view's op and geometry. The page says what that is through
// `describe()`: {params: /api/animation's query, step: the frame shown (from 0), note: one
// line saying what will be drawn} or null when the view has no loop to animate (then the
// menu hides). The plan (GET /api/animation/plan) checks the query first, so a refusal is
// shown in the menu with the server's words and no link points at it.

import { animationFrameUrl, animationUrl, fetchAnimationPlan } from "./api.js";

export function createDownloadMenu(details, describe) {
  const $ = (q) => details.querySelector(q);
  const note = $(".download-note");
  const error = $(".download-error");
  const links = $(".download-links");
  let controller = null;

  async function refresh() {
    const what = describe();
    details.hidden = !what;
    if (!what || !details.open) return;
    if (controller) controller.abort();
    controller = new AbortController();
    note.textContent = what.note;
    try {
      const plan = await fetchAnimationPlan(what.params, { signal: controller.signal });
      const step = Math.max(0, Math.min(what.step, plan.frames - 1));
      const stem = plan.filenames.gif.replace(/\.gif$/, "");
      for (const a of links.querySelectorAll("a")) {
        const kind = a.dataset.kind;
        if (kind === "gif" || kind === "apng") {
          a.href = animationUrl({ ...what.params, format: kind });
          a.download = plan.filenames[kind];
        } else {
          a.href = animationFrameUrl(what.params, step, kind);
          a.download = `${stem}-step${step + 1}.${kind}`;
        }
      }
      links.hidden = false;
      error.hidden = true;
      details.dataset.frames = String(plan.frames);
    } catch (err) {
      if (err.name === "AbortError") return;
      error.textContent = err.messages ? err.messages.join(" ") : String(err);
      error.hidden = false;
      links.hidden = true;
    }
  }

  details.addEventListener("toggle", refresh);
  return { refresh };
}
