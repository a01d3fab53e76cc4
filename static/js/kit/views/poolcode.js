// What a max-pool or average-pool step computes, written the way it is computed: the tie
// rule decides between np.argmax ("first"), create_mask_from_window ("all") and the mask's
// equal shares ("split"); average pooling is distribute_value. The cells and the numbers
// are the step record's (`maxima`: every cell equal to the window's maximum, from core's
// create_mask_from_window; `argmax`, `mask`, `route`, `added`, `da`).

const cellText = (rc) => `(${rc[0]}, ${rc[1]})`;
// np.argmax's cell: forward records carry it; backward ones have the maxima, row-major,
// whose first is the one np.argmax finds
const argmaxOf = (rec) => rec.argmax || rec.maxima[0];

/** Where the maximum of a window is, never claiming one cell where several tie. */
export function maximaText(rec, tieRule) {
  const maxima = rec.maxima || (rec.argmax ? [rec.argmax] : []);
  if (maxima.length <= 1) return `at ${cellText(argmaxOf(rec))} of the window`;
  const all = maxima.map(cellText).join(", ");
  const n = maxima.length;
  if (tieRule === "first") return `at ${all}: ${n} cells tie; np.argmax takes the first, ${cellText(argmaxOf(rec))}`;
  if (tieRule === "split") return `at ${all}: ${n} cells tie and share the gradient, 1/${n} each`;
  return `at ${all}: ${n} cells tie and each takes the whole gradient`;
}

/** The caption of the mask a tie rule makes. */
export function maskCaption(tieRule) {
  return { first: "argmax mask", all: "mask: x == max(x)", split: "mask / mask.sum()" }[tieRule] || "mask";
}

/** pool_backward's code for one step, with the step's own indices (a list of lines). */
export function poolBackwardCode(rec, { mode, tieRule, f }) {
  const win = `${rec.vert_start}:${rec.vert_end}, ${rec.horiz_start}:${rec.horiz_end}, ${rec.c}`;
  const da = `dA[${rec.h}, ${rec.w}, ${rec.c}]`;
  if (mode === "average") {
    return [`da = ${da}`, `dA_prev[${win}] += distribute_value(da, (${f}, ${f}))`];
  }
  const slice = `a_prev_slice = A_prev[${win}]`;
  if (tieRule === "first") {
    return [
      slice,
      `i, j = np.unravel_index(np.argmax(a_prev_slice), a_prev_slice.shape)  # ${cellText(argmaxOf(rec))}`,
      `dA_prev[${win}][i, j] += ${da}`,
    ];
  }
  const lines = [slice, "mask = create_mask_from_window(a_prev_slice)  # x == np.max(x)"];
  if (tieRule === "split") lines.push("mask = mask / np.sum(mask)  # tied maxima share");
  lines.push(`dA_prev[${win}] += mask * ${da}`);
  return lines;
}

/** pool_forward's code for one step, and the mask the backward pass will use (lines). */
export function poolForwardCode(rec, { mode, tieRule }) {
  const win = `${rec.vert_start}:${rec.vert_end}, ${rec.horiz_start}:${rec.horiz_end}, ${rec.c}`;
  const out = `A_pool[${rec.h}, ${rec.w}, ${rec.c}]`;
  const lines = [`a_prev_slice = A_prev[${win}]`];
  if (mode === "average") return [...lines, `${out} = np.mean(a_prev_slice)`];
  lines.push(`${out} = np.max(a_prev_slice)`);
  if (tieRule === "first") {
    lines.push(`i, j = np.unravel_index(np.argmax(a_prev_slice), a_prev_slice.shape)  # ${cellText(argmaxOf(rec))}, for the backward pass`);
  } else {
    lines.push("mask = create_mask_from_window(a_prev_slice)  # x == np.max(x), for the backward pass");
    if (tieRule === "split") lines.push("mask = mask / np.sum(mask)");
  }
  return lines;
}
