// Stage "relu": A = max(0, Z) cell by cell in loop order. Both numbers come from the server's
// Z and A arrays; the page only shows them side by side.

import { el } from "../dom.js";
import { signedScale } from "../colors.js";
import { at } from "../arrays.js";

import { currentCell, cursor, detailPanel, outputMaps, scalar, stepView, viewFrame } from "./common.js";

export function createReluView(ctx) {
  const { arrays } = ctx;
  const Z = arrays.get("Z");
  const A = arrays.get("A");
  const [nH, nW, nC] = Z.shape;
  const scale = signedScale(Z); // one scale: zeroed cells turn white
  const pos = cursor([nH, nW, nC]);
  let hover = null;

  const { root, maps } = viewFrame("relu-view");
  const group = (title, name, arr, reveal) => outputMaps(ctx, pos, {
    title,
    name,
    arr,
    scale,
    reveal,
    maxHeight: nC > 1 ? 300 : 520,
    onHover: (cell, c) => {
      hover = cell ? { ch: c, r: cell.r, col: cell.c } : null;
      draw();
    },
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
        const items = currentCell(c, pos);
        if (hover && hover.ch === c) items.push({ kind: "link", r: hover.r, c: hover.col });
        m.setOverlays(items);
        m.setFocus(pos.h, pos.w);
      }),
    );
  }

  function renderDetail() {
    const fmt = ctx.fmt();
    const z = at(Z, pos.h, pos.w, pos.c);
    const a = at(A, pos.h, pos.w, pos.c);
    const line = el("div", "sum-line");
    line.append(
      el("span", "", `A[${pos.h}, ${pos.w}, ${pos.c}] = max(0, `),
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
    pos,
    maps: () => allMaps,
    reveal: () => aGroup.maps,
    outline: () => allMaps,
    draw,
    detail: renderDetail,
    describe(step, p, total) {
      const fmt = ctx.fmt();
      return `ReLU step ${step + 1} of ${total}: A[${p.h}, ${p.w}, ${p.c}] = max(0, ${fmt(at(Z, p.h, p.w, p.c))}) = ${fmt(at(A, p.h, p.w, p.c))}.`;
    },
  });
}
