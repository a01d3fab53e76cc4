// What the page dropped from its address, said in words: a value out of the page's limits
// (read by state.js's URL table, "stride 99 dropped: at most 64"), or a setting that does not
// fit the image (the server's /api/geometry advice on the first load, "f 31 dropped: at most
// 10 for this image"). The page then runs on valid settings instead of staying empty; the
// line above the output size says what went and why, until the person dismisses it.

// /api/geometry's advice names (LimitOut.setting) -> where the setting is in the state
const ADVICE_PATHS = { f: ["f"], pad: ["pad"], dilation: ["dilation"], stride: ["stride"], pool_f: ["pool", "f"], size: ["size"] };
const OPS = { "<=": "at most", ">=": "at least" };

const clone = (x) => JSON.parse(JSON.stringify(x));

/** "stride 99 dropped: at most 64" for a {key, value, why} entry of state.js's URL table. */
export const droppedWords = (e) => `${e.key} ${e.value} dropped: ${e.why}`;

/**
 * The note and the first-load fallback: add(lines) shows lines of text;
 * fallback(refusal) drops the address's settings that the refusal names (or all of them
 * when it names none) and says so: true when something changed and the page should ask
 * again. Only the address's own settings are dropped, only before anything was drawn.
 */
export function createDroppedNote(app, defaults) {
  const box = app.$("#url-dropped");
  const list = app.$("#url-dropped-text");
  const given = new URLSearchParams(window.location.search);
  let fellBack = 0;

  function add(lines) {
    if (!lines.length) return;
    list.textContent = [list.textContent, ...lines].filter(Boolean).join("; ");
    box.hidden = false;
  }

  function fallback(refusal) {
    if (app.lastGood || fellBack >= 2 || !given.toString()) return false;
    fellBack += 1;
    const s = app.state.settings;
    const named = fellBack === 1 ? refusal.advice.filter((a) => given.has(a.setting) && ADVICE_PATHS[a.setting]) : [];
    if (named.length) {
      // one setting put back is enough when the advice lists several (each alone would fit)
      const a = named[0];
      const path = ADVICE_PATHS[a.setting];
      const fresh = path.reduce((o, k) => o[k], defaults);
      const parent = path.slice(0, -1).reduce((o, k) => o[k], s);
      parent[path[path.length - 1]] = fresh;
      add([droppedWords({ key: a.setting, value: given.get(a.setting), why: `${OPS[a.op]} ${a.value} for this image` })]);
      return true;
    }
    app.state.settings = clone(defaults);
    app.state.ui.step = 0;
    add([`the address's settings were dropped for the defaults: ${refusal.message}`]);
    return true;
  }

  app.$("#url-dropped-close").addEventListener("click", () => {
    box.hidden = true;
  });
  return { add, fallback };
}
