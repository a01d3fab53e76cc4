// What the two backward views share: a map shown either as "revealed" (each cell drawn from
// the server's final array once every window that adds into it has been visited) or as the
// server's running totals after the step the player rests on (`totals_at` in /api/steps).
// The page adds nothing up itself.

/**
 * The server's running totals once the player rests on a step (not for every key repeat):
 * the returned (step, playing) => void first calls restore() (back to the revealed final
 * arrays), then asks store.totals(stage, step) 180 ms after a paused step and hands the
 * answer to show(t, step) if that step is still current() and the player still paused.
 * Before the last step only: at the last step the final arrays are the totals.
 */
export function restingTotals({ ctx, store, stage, total, current, show, restore }) {
  let timer = 0;
  async function fetchAndShow(step) {
    let t = null;
    try {
      t = await store.totals(stage, step);
    } catch {
      t = null;
    }
    if (!t || step !== current() || ctx.isPlaying()) return;
    show(t, step);
  }
  return (step, playing) => {
    restore();
    clearTimeout(timer);
    if (!playing && step < total - 1) timer = setTimeout(() => fetchAndShow(step), 180);
  };
}

/**
 * A group title that says which of the two a map shows: titles = {reveal, running}.
 * running(true) switches to the running totals, running(false) back; shown() says which.
 */
export function revealTitle(titleEl, titles) {
  let on = false;
  titleEl.textContent = titles.reveal;
  return {
    running(yes) {
      on = yes;
      titleEl.textContent = yes ? titles.running : titles.reveal;
    },
    shown: () => on,
  };
}
