// Stage "relu": A = max(0, Z) cell by cell in loop order. Both numbers come from the server's
// Z and A arrays; the page only shows them side by side.

import { MapCanvas } from "../grid.js";
import { makeScale } from "../colors.js";
import { at } from "../arrays.js";
import {
  channelData, currentCell, detailPanel, el, indexOf, mapGroup, mapsLifecycle, markCurrentChannel, positionOf,
  positionText, rowMajorSteps, scalar,
} from "./common.js";

export function createReluView(ctx) {
  const { arrays } = ctx;
  const Z = arrays.get("Z");
  const A = arrays.get("A");
  const [nH, nW, nC] = Z.shape;
  const total = nH * nW * nC;
  const scale = makeScale("diverging", Z.min, Z.max); // one scale: zeroed cells turn white
  let cur = { h: 0, w: 0, c: 0 };
  let hover = null;

  const root = el("div", "stage-view relu-view");
  const maps = el("div", "maps");
  const mk = (name, arr, reveal) => (c) => {
    const m = new MapCanvas({
      title: `${name}[:, :, ${c}]`,
      fmt: ctx.cellFmt,
      maxHeight: nC > 1 ? 300 : 520,
      onHover: (cell) => {
        hover = cell ? { ch: c, r: cell.r, col: cell.c } : null;
        draw();
      },
      onClick: (cell) => ctx.jump(indexOf(cell.r, cell.c, c, nW, nC)),
    });
    m.setData(channelData(arr, c, { scale, name, cellStep: reveal ? rowMajorSteps(nH, nW, nC, c) : null }));
    return m;
  };
  const zGroup = mapGroup("Z (before the activation)", nC, mk("Z", Z, false));
  const aGroup = mapGroup("A = relu(Z)", nC, mk("A", A, true));
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
  return {
    el: root,
    stage: "relu",
    total,
    maps: allMaps,
    render(step, playing) {
      cur = positionOf(step, nH, nW, nC);
      aGroup.maps.forEach((m) => m.setStep(step));
      markCurrentChannel(allMaps, cur.c, nC, playing);
      draw();
      renderDetail();
    },
    refresh() {},
    position(step) {
      return positionText(step, nH, nW, nC);
    },
    describe(step) {
      const p = positionOf(step, nH, nW, nC);
      const fmt = ctx.fmt();
      return `ReLU step ${step + 1} of ${total}: A[${p.h}, ${p.w}, ${p.c}] = max(0, ${fmt(at(Z, p.h, p.w, p.c))}) = ${fmt(at(A, p.h, p.w, p.c))}.`;
    },
    ...mapsLifecycle(() => allMaps),
  };
}
