// The terms behind an accumulated cell of a backward map: hovering dA_prev[r, s, ch] lists
// every window that added into it, the two factors of each addition and the addition
// itself, then the cell's value. Every number is the server's: the additions are the step
// records' (da_add, added), the factors and the total the server's arrays.

import { el } from "../dom.js";
import { scalar } from "./common.js";

/**
 * A box in the detail panel; show(label, load) lists the terms that load() resolves to:
 * {terms: [{name, factors: [text, text], value}], total, windows?, note?} (windows: how many
 * windows the terms come from, when a window gives several terms). say(...nodes) shows
 * other text; clear() puts the hint back.
 */
export function termsBox(ctx, hint) {
  const box = el("div", "terms");
  box.dataset.field = "terms";
  let token = 0;
  const clear = () => {
    token += 1;
    box.replaceChildren(el("p", "hint", hint));
  };
  clear();

  function render(label, { terms, total, windows = terms.length, note }) {
    const fmt = ctx.fmt();
    const n = terms.length;
    const head = el("p", "terms-head");
    const per = n > windows ? ` (${n} terms: one per filter)` : "";
    head.append(el("b", "", label), ` collects from ${windows} window${windows === 1 ? "" : "s"}${per}`);
    head.dataset.windows = String(windows);
    const names = el("p", "formula terms-names", `${label} = ${n ? terms.map((t) => t.name).join(" + ") : "0 (no window reaches it)"}`);
    const parts = [head, names];
    if (n) {
      parts.push(el("p", "formula terms-factors", `= ${terms.map((t) => t.factors.join(" × ")).join(" + ")}`));
      const sum = el("p", "formula terms-values");
      sum.append("= ");
      terms.forEach((t, i) => {
        if (i) sum.append(" + ");
        sum.append(scalar(t.value, fmt, null, "term"));
      });
      parts.push(sum);
    }
    const res = el("p", "formula terms-total");
    res.append(`${label}, every window in = `, scalar(total, fmt, "terms-total", "result"));
    parts.push(res);
    if (note) parts.push(el("p", "hint", note));
    box.replaceChildren(...parts);
  }

  return {
    el: box,
    clear,
    say(...nodes) {
      token += 1;
      box.replaceChildren(...nodes);
    },
    async show(label, load) {
      const mine = ++token;
      box.replaceChildren(el("p", "loading", `${label}: fetching its windows' step records…`));
      let res;
      try {
        res = await load();
      } catch (err) {
        if (mine === token) box.replaceChildren(el("p", "error", `Could not fetch the steps (${err.message}).`));
        return;
      }
      if (mine === token) render(label, res);
    },
  };
}
