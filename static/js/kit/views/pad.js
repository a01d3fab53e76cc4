// Stage "pad": the input A_prev and the padded input A_prev_pad side by side, the padding
// tinted and outlined, the rows and columns no window reaches marked in red. Its player
// steps through the padded rows: where row r of A_prev_pad comes from (a padding row, or
// row r - pad of A_prev between pad cells), with the row's numbers from the server.

import { el } from "../dom.js";
import { MapCanvas } from "../grid.js";
import { makeScale } from "../colors.js";
import { sourceIndex } from "../geometry.js";
import { channelData, channelName, imageData, mapsLifecycle, viewFrame } from "./common.js";
import { padRowPlayer } from "./pad_rows.js";

export function createPadView(ctx) {
  const { arrays, geometry, settings } = ctx;
  const input = arrays.get("input");
  const padded = arrays.get("padded");
  const g = geometry.conv;
  const p = g.pad;
  const [H, W, C] = input.shape;
  const mode = settings.pad_mode;

  const { root, maps } = viewFrame("pad-view", "maps two");
  let inMap;
  let padMap;
  const link = (which, r, s) => {
    if (which === "pad") {
      const sr = sourceIndex(r, H, p, mode);
      const sc = sourceIndex(s, W, p, mode);
      inMap.setOverlays(sr === null || sc === null ? [] : [{ kind: "link", r: sr, c: sc }]);
    } else {
      padMap.setOverlays([{ kind: "link", r: r + p, c: s + p }]);
    }
  };
  inMap = new MapCanvas({
    title: "A_prev (input)",
    fmt: ctx.cellFmt,
    onHover: (cell) => (cell ? link("in", cell.r, cell.c) : padMap.setOverlays([])),
  });
  padMap = new MapCanvas({
    title: `A_prev_pad (pad = ${p}, ${mode === "constant" ? `constant ${settings.pad_value}` : mode})`,
    fmt: ctx.cellFmt,
    onHover: (cell) => (cell ? link("pad", cell.r, cell.c) : inMap.setOverlays([])),
  });
  // the top-left corner, magnified, with its numbers: the padding cell by cell
  const corner = Math.min(padded.shape[0], padded.shape[1], 10);
  const cornerMap = new MapCanvas({
    title: `A_prev_pad[:${corner}, :${corner}, 0]${C === 3 ? ` (${channelName(C, 0)})` : ""}, magnified`,
    fmt: ctx.cellFmt,
    maxHeight: 420,
    fixedCells: corner,
    className: "corner",
    onHover: (cell) => (cell ? link("pad", cell.r, cell.c) : inMap.setOverlays([])),
  });
  maps.append(inMap.el, padMap.el, cornerMap.el);
  inMap.setData(imageData(input, { name: "A_prev" }));
  const dropped = { rows: g.dropped_rows || [], cols: g.dropped_cols || [] };
  padMap.setData(
    imageData(padded, {
      name: "A_prev_pad",
      inner: p > 0 ? { top: p, left: p, rows: H, cols: W } : null,
      dropped,
      describe: (r, s) => {
        const inside = r >= p && r < p + H && s >= p && s < p + W;
        if (inside) return `inside: A_prev[${r - p}, ${s - p}]`;
        const sr = sourceIndex(r, H, p, mode);
        const sc = sourceIndex(s, W, p, mode);
        if (sr === null || sc === null) return `padding (constant ${settings.pad_value})`;
        return `padding, copied from A_prev[${sr}, ${sc}] (${mode})`;
      },
    }),
  );

  cornerMap.setData({
    ...channelData(padded, 0, {
      scale: makeScale("grey", Math.min(0, padded.min), Math.max(padded.max, 1e-12)),
      name: "A_prev_pad",
      inner: p > 0 ? { top: p, left: p, rows: H, cols: W } : null,
      dropped,
    }),
    shapeText: `${corner} × ${corner}`, // the cells shown, as the title's [:corner, :corner] says
  });
  cornerMap.setFocus(0, 0);

  const detail = el("aside", "detail");
  detail.setAttribute("aria-label", "About padding");
  const h = el("h3", "", "zero_pad(X, pad)");
  const code = el("pre", "code");
  const cv = mode === "constant" ? `'constant', constant_values=(${settings.pad_value}, ${settings.pad_value})` : `'${mode}'`;
  code.textContent = `X_pad = np.pad(X, ((0, 0), (${p}, ${p}), (${p}, ${p}), (0, 0)), ${cv})`;
  const sizes = el("p", "", `${H} × ${W} × ${C} becomes ${H + 2 * p} × ${W + 2 * p} × ${C}: ${p} row${p === 1 ? "" : "s"} and column${p === 1 ? "" : "s"} on every side.`);
  const key = el("ul", "key");
  if (p > 0) key.append(el("li", "", "Tinted cells, outside the dashed yellow line: the padding."));
  if (mode === "reflect") key.append(el("li", "", "reflect mirrors the image without repeating its edge row (…3 2 | 1 2 3 | 2 1…)."));
  if (mode === "edge") key.append(el("li", "", "edge repeats the outermost row and column."));
  if (mode === "constant") key.append(el("li", "", `constant fills with ${settings.pad_value}; with 0 this is the exercise's zero_pad.`));
  if (dropped.rows.length || dropped.cols.length) {
    key.append(el("li", "dropped-key", `Red: padded rows ${dropped.rows.join(", ") || "none"} and columns ${dropped.cols.join(", ") || "none"} are never reached by a window: the floor in the size formula drops them.`));
  }
  key.append(el("li", "", "Hover a cell to see where its value comes from."));
  if (p === 0) key.append(el("li", "", "pad is 0: the padded input is the input itself."));
  detail.append(h, code, sizes, key);
  maps.append(detail); // beside the magnified corner
  root.append(maps);

  const rows = padRowPlayer(ctx, { input, padded, p, mode, maps: { inMap, padMap, cornerMap }, corner });
  detail.insertBefore(rows.el, key);

  return {
    el: root,
    stage: "pad",
    total: rows.total,
    maps: [inMap, padMap, cornerMap],
    render: (k) => rows.render(k),
    refresh() {},
    describe: (k) => rows.describe(k),
    position: (k) => rows.position(k),
    ...mapsLifecycle(() => [inMap, padMap, cornerMap]),
  };
}
