// The Pad stage's player: one step per row of A_prev_pad, top to bottom. Step r outlines
// row r on the padded map and the row of A_prev it copies on the input (none for a constant
// padding row), and writes where it comes from, the np.pad line that makes it, and its
// first numbers (the server's padded array; only indexing here, see ../geometry.js).

import { el } from "../dom.js";
import { makeScale } from "../colors.js";
import { sourceIndex } from "../geometry.js";
import { matrixTable } from "./common.js";

/** Cells of a row shown in the table: the left pad cells and a few of the image after them. */
const SHOWN_AFTER_PAD = 4;

/** A padded array's row r: where it comes from, in words (index arithmetic only). */
export function padRowSource(r, H, p, mode) {
  const inside = r >= p && r < p + H;
  const src = sourceIndex(r, H, p, mode);
  if (inside) return { kind: "inside", src };
  return { kind: mode === "constant" ? "constant" : "copy", src, side: r < p ? "top" : "bottom" };
}

/**
 * {el, total, render(k), position(k), describe(k)} for the padded rows of `padded`
 * (H + 2p, W + 2p, C); maps = {inMap, padMap, cornerMap} get the row outlines.
 */
export function padRowPlayer(ctx, { input, padded, p, mode, maps, corner }) {
  const [H, W, C] = input.shape;
  const [HP, WP] = padded.shape;
  const { settings } = ctx;
  const shown = Math.min(WP, p + SHOWN_AFTER_PAD);
  const box = el("section", "pad-row");
  box.setAttribute("aria-label", "This step's row");
  const scale = makeScale("grey", Math.min(0, padded.min), Math.max(padded.max, 1e-12));
  const value = (r, s, c) => padded.data[(r * WP + s) * C + c];

  function words(r) {
    const src = padRowSource(r, H, p, mode);
    if (src.kind === "inside") {
      return `row ${r} of A_prev_pad is row ${src.src} of A_prev${p ? ` with ${p} padding cell${p === 1 ? "" : "s"} on each side` : ""}`;
    }
    if (src.kind === "constant") return `row ${r} of A_prev_pad is a ${src.side} padding row: all ${WP} cells are ${settings.pad_value}`;
    return `row ${r} of A_prev_pad is a ${src.side} padding row: it copies row ${src.src} of A_prev (${mode}), padded the same way`;
  }

  function render(r) {
    const src = padRowSource(r, H, p, mode);
    maps.padMap.setOverlays([{ kind: "window", r0: r, c0: 0, r1: r + 1, c1: WP, dilation: 1 }]);
    maps.padMap.setFocus(r, Math.floor(WP / 2));
    maps.inMap.setOverlays(src.src === null ? [] : [{ kind: "window", r0: src.src, c0: 0, r1: src.src + 1, c1: W, dilation: 1 }]);
    maps.cornerMap.setOverlays(r < corner ? [{ kind: "window", r0: r, c0: 0, r1: r + 1, c1: corner, dilation: 1 }] : []);
    const fmt = ctx.fmt();
    const head = el("p", "where", `Step ${r + 1} of ${HP}: ${words(r)}.`);
    const code = el("pre", "code");
    if (src.kind === "inside") {
      code.textContent = `X_pad[0, ${r}, ${p}:${p + W}, :] = X[0, ${src.src}, :, :]${p ? `  # columns 0:${p} and ${p + W}:${WP}: padding` : ""}`;
    } else if (src.kind === "constant") {
      code.textContent = `X_pad[0, ${r}, :, :] = ${settings.pad_value}`;
    } else {
      code.textContent = `X_pad[0, ${r}, :, :] = X_pad[0, ${src.src + p}, :, :]  # ${mode}: row ${src.src} of X, padded`;
    }
    const rowsOut = [];
    for (let c = 0; c < C; c += 1) {
      const row = [];
      for (let s = 0; s < shown; s += 1) row.push(value(r, s, c));
      rowsOut.push(row);
    }
    const marks = rowsOut.map((row) => row.map((_, s) => s < p || src.kind !== "inside"));
    const table = matrixTable(rowsOut, {
      fmt, scale, field: "pad_row", marks,
      caption: `A_prev_pad[${r}, 0:${shown}, ${C > 1 ? "c" : "0"}]${C > 1 ? " (one line per channel)" : ""}${shown < WP ? `, of ${WP} columns` : ""}`,
    });
    box.replaceChildren(head, code, table);
  }

  return {
    el: box,
    total: HP,
    render,
    position: (r) => `row ${r}`,
    describe: (r) => `Padding step ${r + 1} of ${HP}: ${words(r)}.`,
  };
}
