// The keys of every page, one map: Space plays or pauses, the arrows step (Shift: ten),
// Home and End jump to the first and last step; on a focused tab of a tab list the arrows
// move between the tabs (the ARIA tabs pattern). Keys typed into a field stay the field's.

export const EDITABLE = new Set(["INPUT", "SELECT", "TEXTAREA"]);

/** Controls that Space presses by itself. */
const PRESSED_BY_SPACE = new Set(["BUTTON", "A", "SUMMARY"]);

/**
 * On a focused tab, ArrowLeft / ArrowRight focus and click the previous / next of `tabs()`
 * (wrapping around). Returns true when the key was used.
 */
export function tabKey(ev, tabs) {
  const t = ev.target;
  if (!t || !t.getAttribute || t.getAttribute("role") !== "tab") return false;
  if (ev.key !== "ArrowLeft" && ev.key !== "ArrowRight") return false;
  const list = tabs();
  const i = list.indexOf(t);
  if (i < 0) return false;
  const next = list[(i + (ev.key === "ArrowRight" ? 1 : list.length - 1)) % list.length];
  next.focus();
  next.click();
  ev.preventDefault();
  return true;
}

/** ARIA tabs: the arrows move between `tabs()` on keys pressed inside `root`. */
export function bindTabKeys(root, tabs) {
  root.addEventListener("keydown", (ev) => tabKey(ev, tabs));
}

/**
 * The player's keys on keydown inside `root`: player is a kit/player.js Player; `ready()`
 * says whether there are steps to walk; `tabs()` (optional) lists a tab list's tabs.
 * Space on a focused slider plays or pauses too (a slider has no use for it).
 */
export function bindPlayerKeys(root, { player, ready = () => player.total > 0, tabs = null }) {
  root.addEventListener("keydown", (ev) => {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (tabs && tabKey(ev, tabs)) return;
    const t = ev.target;
    const tag = t && t.tagName;
    const isRange = tag === "INPUT" && t.type === "range";
    if ((EDITABLE.has(tag) && !(isRange && ev.key === " ")) || (t && t.isContentEditable)) return;
    if (!ready()) return;
    if (ev.key === " " || ev.key === "Spacebar") {
      if (PRESSED_BY_SPACE.has(tag)) return;
      player.toggle();
    } else if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
      player.stepBy((ev.key === "ArrowRight" ? 1 : -1) * (ev.shiftKey ? 10 : 1));
    } else if (ev.key === "Home") {
      player.jump(0);
    } else if (ev.key === "End") {
      player.jump(player.total - 1);
    } else return;
    ev.preventDefault();
  });
}
