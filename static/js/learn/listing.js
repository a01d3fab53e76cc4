// The exercise's code listing of one function, as the server derived it (core/learn/):
// the lines the step runs marked, each loop variable's value noted, the lines a pooling
// mode does not run dimmed, and in mistake mode the right lines the mistake changes marked
// with its buggy lines beneath them. Laid out only: every line and mark is the server's.

import { el } from "../kit/dom.js";
import { LESSONS } from "./lessons.js";

/**
 * The listing of `fn` into `pre` at step record `s` of the function's data `d`: `lines`
 * [{id, text}] the server's listing, `run` the mistake's run on the probe case (or null).
 */
export function renderListing(pre, { fn, d, s, lines, run }) {
  const { ids, notes } = LESSONS[fn].highlight(d, s);
  const on = new Set(ids);
  pre.replaceChildren();
  pre.classList.toggle("long", lines.length > 8); // a loop: the box keeps 7 lines at least
  const mode = d.mode;
  // mistake mode: the right lines the variant changes are marked and its buggy lines
  // shown beneath them (the server's marks, by line id)
  const marks = run ? run.variant.marks : [];
  const bugIds = new Set(marks.flatMap((m) => m.lines));
  const after = new Map(marks.map((m) => [m.lines[m.lines.length - 1], m]));
  lines.forEach((line) => {
    const row = el("span", "cl");
    row.dataset.line = line.id;
    if (on.has(line.id)) row.classList.add("hl");
    if (fn.startsWith("pool") && mode && ((mode === "max" && ["ifavg", "mean", "da", "fshape", "addavg"].includes(line.id))
      || (mode === "average" && ["ifmax", "max", "slice", "mask", "mask2", "addmax"].includes(line.id) && fn === "pool_backward")
      || (mode === "average" && ["ifmax", "max"].includes(line.id) && fn === "pool_forward"))) {
      row.classList.add("dim");
    }
    if (bugIds.has(line.id)) row.classList.add("bug-right");
    row.append(document.createTextNode(line.text));
    if (notes[line.id]) row.append(el("span", "note", `   ${notes[line.id]}`));
    pre.append(row, "\n");
    const mark = after.get(line.id);
    if (mark) { // the mistake's line(s), beneath the right one(s)
      const where = mark.via ? `, in ${mark.via}` : "";
      const texts = mark.buggy.length ? mark.buggy : [line.text.match(/^ */)[0]];
      for (const text of texts) {
        const bug = el("span", "cl bug", text);
        bug.append(el("span", "note", mark.buggy.length ? `   # the mistake${where}` : `# the mistake: this line is left out${where}`));
        bug.dataset.line = "bug";
        pre.append(bug, "\n");
      }
    }
  });
  keepInSight(pre);
}

/**
 * Keep the marked lines in sight inside the code box (it scrolls on its own): in mistake
 * mode the right line the mistake changes and its buggy line beneath it, else the lines this
 * step runs.
 */
export function keepInSight(pre) {
  const bug = pre.querySelector(".cl.bug-right");
  const marked = [...pre.querySelectorAll(bug ? ".cl.bug-right, .cl.bug" : ".cl.hl")];
  if (marked.length && pre.scrollHeight > pre.clientHeight) {
    const [first, last] = [marked[0], marked[marked.length - 1]];
    const top = first.offsetTop; // pre is the lines' offsetParent (position: relative)
    const bottom = last.offsetTop + last.offsetHeight;
    // the mistake's lines at the box's top, so that they are on screen with the stage
    // (the box can reach below the window's edge); the step's lines wherever they fit
    if (bug || top < pre.scrollTop || bottom > pre.scrollTop + pre.clientHeight) {
      pre.scrollTop = Math.max(0, top - 2 * first.offsetHeight);
    }
  }
}
