// The page's keys: Space plays or pauses, the arrows step (Shift: ten), Home and End jump;
// on a focused stage tab the arrows move between the tabs (the ARIA tabs pattern).

export const EDITABLE = new Set(["INPUT", "SELECT", "TEXTAREA"]);

export function bindKeyboard(app) {
  const { player, jump } = app.bar;
  app.root.addEventListener("keydown", (ev) => {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const t = ev.target;
    const tag = t && t.tagName;
    if (t && t.getAttribute && t.getAttribute("role") === "tab" && (ev.key === "ArrowLeft" || ev.key === "ArrowRight")) {
      const tabs = app.stages.tabs();
      const i = tabs.indexOf(t);
      if (i >= 0) {
        const next = tabs[(i + (ev.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
        next.focus();
        next.click();
        ev.preventDefault();
        return;
      }
    }
    const isRange = tag === "INPUT" && t.type === "range";
    if ((EDITABLE.has(tag) && !(isRange && ev.key === " ")) || (t && t.isContentEditable)) return;
    if (!app.view || !app.view.total) return;
    if (ev.key === " " || ev.key === "Spacebar") {
      if (tag === "BUTTON" || tag === "A" || tag === "SUMMARY") return; // Space presses those
      player.toggle();
    } else if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
      player.stepBy((ev.key === "ArrowRight" ? 1 : -1) * (ev.shiftKey ? 10 : 1));
    } else if (ev.key === "Home") {
      jump(0);
    } else if (ev.key === "End") {
      jump(player.total - 1);
    } else return;
    ev.preventDefault();
  });
}
