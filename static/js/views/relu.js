// Stage "relu": A = max(0, Z) cell by cell in loop order. Both numbers come from the server's
// Z and A arrays; the page only shows them side by side.

import { makeScale } from "../colors.js";
import { at } from "../arrays.js";
import { indexOf, rowMajorSteps } from "../geometry.js";
import { channelData, channelMaps, currentCell, detailPanel, el, markCurrentChannel, scalar, stepView } from "./common.js";

export function createReluView(ctx) {
  const { arrays } = ctx;
  const Z = arrays.get("Z");
  const A = arrays.get("A");
  const [nH, nW, nC] = Z.shape;
  const scale = makeScale("diverging", Z.min, Z.max); // one scale: zeroed cells turn white
  let cur = { h: 0, w: 0, c: 0 };
  let hover = null;

  const root = el("div", "stage-view relu-view");
  const maps = el("div", "maps");
  const group = (title, name, arr, reveal) => channelMaps(ctx, {
    title,
    n: nC,
    name: (c) => `${name}[:, :, ${c}]`,
    data: (c) => channelData(arr, c, { scale, name, cellStep: reveal ? rowMajorSteps(nH, nW, nC, c) : null }),
    maxHeight: nC > 1 ? 300 : 520,
    onHover: (cell, c) => {
      hover = cell ? { ch: c, r: cell.r, col: cell.c } : null;
      draw();
    },
    onClick: (cell, c) => ctx.jump(indexOf(cell.r, cell.c, c, nW, nC)),
  });
  const zGroup = group("Z (before the activation)", "Z", Z, false);
  const aGroup = group("A = relu(Z)", "A", A, true);
  maps.append(zGroup.el, aGroup.el);

  const { el: detail, body } = detailPanel({
    label: "This step",
    title: "ReLU",
    intro: el("p", "formula", "A[h, w, c] = max(0, Z[h, w, c])"),
    notes: [el("p", "hint", "Negative values become 0 (white); the backward pass lets gradient through only where Z > 0.")],
  });
  root.append(maps, detail);

  function draw() {
    [zGroup, aGroup].forEach((grp) =>
      grp.maps.forEach((m, c) => {
        const items = currentCell(c, cur);
        if (hover && hover.ch === c) items.push({ kind: "link", r: hover.r, c: hover.col });
        m.setOverlays(items);
        m.setFocus(cur.h, cur.w);
      }),
    );
  }

  function renderDetail() {
    const fmt = ctx.fmt();
    const z = at(Z, cur.h, cur.w, cur.c);
    const a = at(A, cur.h, cur.w, cur.c);
    const line = el("div", "sum-line");
    line.append(
      el("span", "", `A[${cur.h}, ${cur.w}, ${cur.c}] = max(0, `),
      scalar(z, fmt, "z"),
      el("span", "", ") = "),
      scalar(a, fmt, "a", "result"),
    );
    const parts = [line];
    if (!Z.exact || !A.exact) parts.push(el("p", "loading", "(numbers rounded to their colours until the exact ones arrive)"));
    body.replaceChildren(...parts);
  }

  const allMaps = [...zGroup.maps, ...aGroup.maps];
  return stepView({
    el: root,
    stage: "relu",
    shape: [nH, nW, nC],
    maps: () => allMaps,
    onStep(step, p, playing) {
      cur = p;
      aGroup.maps.forEach((m) => m.setStep(step));
      markCurrentChannel(allMaps, cur.c, nC, playing);
      draw();
      renderDetail();
    },
    describe(step, p, total) {
      const fmt = ctx.fmt();
      return `ReLU step ${step + 1} of ${total}: A[${p.h}, ${p.w}, ${p.c}] = max(0, ${fmt(at(Z, p.h, p.w, p.c))}) = ${fmt(at(A, p.h, p.w, p.c))}.`;
    },
  });
}
