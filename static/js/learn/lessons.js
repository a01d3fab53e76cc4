// One lesson per function of the exercise: what to look at, the lines a step runs, the
// exercise's variables written out with their numbers, and the arrays to draw. Every number
// comes from the lesson the server built with core (app/learn/lesson.py); here they are only
// picked by index and written into text.

import { el } from "../kit/dom.js";
import { maskMarks, sliceChannel as channel } from "../kit/views/common.js";
import { arrayTable, filterSlice, num, scaleFor, windowItem } from "./table.js";
import { arithmeticRows } from "./upload.js";

const T = (x) => `(${x.join(", ")})`;
const ix = (...a) => `[${a.join(", ")}]`;
const par = (v) => (v < 0 ? `(${num(v)})` : num(v));

/** "a_prev_pad[2:5, 4:7, :]" with the window's real numbers (", dilation" taps when > 1). */
function sliceText(name, s, dilation, tail = ":") {
  const by = dilation > 1 ? `:${dilation}` : "";
  return `${name}[${s.vert_start}:${s.vert_end}${by}, ${s.horiz_start}:${s.horiz_end}${by}, ${tail}]`;
}

/** The corner lines every windowed function shares. */
function cornerLines(s, stride, f, dilation) {
  const endV = dilation > 1
    ? `vert_end = vert_start + dilation * (f - 1) + 1 = ${s.vert_start} + ${dilation} * (${f} - 1) + 1 = ${s.vert_end}`
    : `vert_end = vert_start + f = ${s.vert_start} + ${f} = ${s.vert_end}`;
  const endH = dilation > 1
    ? `horiz_end = horiz_start + dilation * (f - 1) + 1 = ${s.horiz_start} + ${dilation} * (${f} - 1) + 1 = ${s.horiz_end}`
    : `horiz_end = horiz_start + f = ${s.horiz_start} + ${f} = ${s.horiz_end}`;
  return [
    { id: "vs", text: `vert_start = h * stride = ${s.h} * ${stride} = ${s.vert_start}` },
    { id: "ve", text: endV },
    { id: "hs", text: `horiz_start = w * stride = ${s.w} * ${stride} = ${s.horiz_start}` },
    { id: "he", text: endH },
  ];
}

function loopNotes(s, sizes) {
  const notes = { fori: `# i = ${s.i}` };
  if (sizes) {
    notes.forh = `# h = ${s.h} (0 to ${sizes.n_H - 1})`;
    notes.forw = `# w = ${s.w} (0 to ${sizes.n_W - 1})`;
    notes.forc = `# c = ${s.c} (0 to ${sizes.n_C - 1})`;
  }
  return notes;
}

/** Which cells of an output (n_H, n_W) of channel c the steps 0..k have written. */
function reached(steps, k, c) {
  const seen = new Set();
  for (let j = 0; j <= k && j < steps.length; j += 1) {
    const s = steps[j];
    if (s.h !== undefined && (c === undefined || s.c === c)) seen.add(`${s.h},${s.w}`);
  }
  return seen;
}

/** "channel 0 of 4" when an array has several channels (only one is drawn). */
function chNote(C, ch) {
  return C > 1 ? `channel ${ch} of ${C} shown` : "";
}

/** "image 6 of 10, i = 5": which image of m is drawn, counted from 1 as the steps are, with
 * its index; "" for a single image. inImage: the same in brackets after a title. */
const imageOf = (i, m) => (m > 1 ? `image ${i + 1} of ${m}, i = ${i}` : "");
const inImage = (i, m) => (m > 1 ? ` (${imageOf(i, m)})` : "");

const nCh = (a4) => a4[0][0][0].length; // the last axis of a (1, H, W, C) nested list
const img = (d) => d.image ?? 0;

/** The unpadded part of a padded array (a map's `inner`): the cells outside it are the pad. */
function inner(pad, nH, nW) {
  return { top: pad, left: pad, rows: nH, cols: nW };
}

/** Cell (r, c) as a map's overlay item ("cell": the current one). */
const cellItem = (r, c) => ({ kind: "cell", r, c });

function group(title, ...figs) {
  const g = el("section", "arr-group");
  if (title) g.append(el("h3", "arr-group-title", title));
  const row = el("div", "arr-row");
  row.append(...figs.filter(Boolean));
  g.append(row);
  return g;
}

const padNote = (pad, mode) => (pad > 0
  ? `shaded border: the ${pad}-cell padding${mode === "constant" ? " (zeros)" : ` (${mode})`}`
  : "pad 0: no border");

// ---------------------------------------------------------------------------------------
// 1. zero_pad

const zeroPad = {
  title: "zero_pad",
  variant: "pad",
  what: "Pad the height and width of every image with zeros, so windows can sit on the border.",
  callout(d) {
    if (d.pad === 0) {
      return "Look here: at pad 0, X_pad is X itself. Nothing is added, and a later crop written [pad:-pad] would keep nothing at all.";
    }
    return "Look here: only height and width are padded: ((0, 0), (pad, pad), (pad, pad), (0, 0)). Padding the batch axis m or the channel axis n_C as well gives every later shape the wrong size.";
  },
  stepLabel: (d, s) => `row ${s.row} of X_pad`,
  arith(d, s) {
    const X = d.X_shape;
    const P = d.X_pad_shape;
    const p = d.pad;
    const lines = [
      { id: "pad", text: `X.shape = ${T(X)}, pad = ${p}` },
      { id: "pad", text: `X_pad.shape = (m, n_H + 2 * pad, n_W + 2 * pad, n_C) = (${X[0]}, ${X[1]} + 2 * ${p}, ${X[2]} + 2 * ${p}, ${X[3]}) = ${T(P)}` },
      { id: "pad", text: `pad widths per axis: ((0, 0), (${p}, ${p}), (${p}, ${p}), (0, 0)): m and n_C are not padded` },
      { id: "pad", text: `X_pad[0, ${s.row}, :, 0] = [${s.values.map(num).join(", ")}]` },
    ];
    if (!s.inside && d.pad_mode === "constant") {
      lines.push({ id: "pad2", text: `row ${s.row} is padding: every value is the constant 0` });
    } else if (!s.inside) {
      lines.push({ id: "pad", text: `row ${s.row} is padding: mode '${d.pad_mode}' copies row ${s.source_row} of X` });
    } else if (p > 0) {
      lines.push({ id: "pad", text: `= [${d.pad_mode === "constant" ? "0" : "…"}] * ${p} + X[0, ${s.source_row}, :, 0] + [${d.pad_mode === "constant" ? "0" : "…"}] * ${p}` });
    } else {
      lines.push({ id: "pad", text: `= X[0, ${s.source_row}, :, 0]` });
    }
    return lines;
  },
  highlight: () => ({ ids: ["pad", "pad2"], notes: {} }),
  view(d, s) {
    const X = channel(d.X[0], 0);
    const P = channel(d.X_pad[0], 0);
    const nH = X.length;
    const nW = X[0].length;
    const scale = scaleFor(d.ranges.X_pad);
    return [
      group("the input and the padded input",
        arrayTable({
          name: "X[0, :, :, 0]", values: X, scale, field: "X",
          label: (r, c) => `X[0, ${r}, ${c}, 0]`, note: [imageOf(0, d.X_shape[0]), chNote(d.X_shape[3], 0)].filter(Boolean).join(", "),
          // the row of X this row of X_pad copies, outlined as the row written is
          overlays: Number.isInteger(s.source_row) ? [{ kind: "window", r0: s.source_row, r1: s.source_row + 1, c0: 0, c1: nW }] : [],
        }),
        arrayTable({
          name: "X_pad[0, :, :, 0]", values: P, scale, field: "X_pad",
          label: (r, c) => `X_pad[0, ${r}, ${c}, 0]`,
          note: padNote(d.pad, d.pad_mode),
          inner: inner(d.pad, nH, nW), reached: (r) => r <= s.row,
          overlays: [{ kind: "window", r0: s.row, r1: s.row + 1, c0: 0, c1: P[0].length }], // the row written
        })),
    ];
  },
};

// ---------------------------------------------------------------------------------------
// 2. conv_single_step

const singleStep = {
  title: "conv_single_step",
  variant: "pad",
  what: "One window of the input times one filter, summed, plus the filter's bias: one number of Z.",
  callout() {
    return "Look here: b is added once, after the sum. Adding it inside np.multiply(...) + b (as some copies of this exercise do) adds it to every one of the f * f * n_C_prev products.";
  },
  stepLabel(d, s) {
    if (s.kind === "product") return `product s[${s.r}, ${s.s}, ${s.ch}]`;
    return s.kind === "sum" ? "the sum" : "plus the bias";
  },
  arith(d, s) {
    const w = d.window;
    const A = d.a_slice_prev;
    const shape = `(${A.length}, ${A[0].length}, ${A[0][0].length})`;
    const lines = [w
      ? { id: "def", text: `a_slice_prev = a_prev_pad[${w.vert_start}:${w.vert_end}, ${w.horiz_start}:${w.horiz_end}, :]   (the window of Z[0, ${w.h}, ${w.w}, 0] in conv_forward), W = W[:, :, :, 0], b = b[:, :, :, 0] = ${num(d.b)}` }
      : { id: "def", text: `a_slice_prev and W of shape ${shape}, b = ${num(d.b)}` }];
    if (s.kind === "product") {
      lines.push({ id: "s", text: `s[${s.r}, ${s.s}, ${s.ch}] = a_slice_prev[${s.r}, ${s.s}, ${s.ch}] * W[${s.r}, ${s.s}, ${s.ch}] = ${num(s.a)} * ${par(s.w)} = ${num(s.p)}` });
    } else {
      const terms = d.steps.filter((t) => t.kind === "product").map((t) => par(t.p));
      lines.push({ id: "sum", text: `Z = np.sum(s) = ${terms.join(" + ")} = ${num(s.total)}` });
      if (s.kind === "bias") lines.push({ id: "bias", text: `Z = Z + b.item() = ${num(s.total)} + ${par(s.b)} = ${num(s.z)}` });
    }
    return lines;
  },
  highlight(d, s) {
    return { ids: [s.kind === "product" ? "s" : s.kind], notes: {} };
  },
  view(d, s, ctx) {
    const ch = s.kind === "product" ? s.ch : 0;
    const C = d.a_slice_prev[0][0].length;
    const F = d.a_slice_prev[0].length;
    const a = channel(d.a_slice_prev, ch);
    const Wc = channel(d.W, ch);
    const prods = channel(d.products, ch);
    const k = s.index;
    const cur = s.kind === "product" ? [cellItem(s.r, s.s)] : [];
    const done = (r, c) => !(s.kind === "product" && (r * F + c) * C + ch > k);
    const figs = [];
    const w = d.window;
    const fw = w && ctx.lesson ? ctx.lesson.functions.conv_forward[String(ctx.pad)] : null;
    if (fw) {
      const nH = fw.A_prev[0].length;
      const nW = fw.A_prev[0][0].length;
      figs.push(group("where the window is",
        arrayTable({
          name: "a_prev_pad[:, :, 0]", values: channel(fw.A_prev_pad[0], 0), scale: scaleFor(fw.ranges.A_prev_pad), field: "a_prev_pad",
          label: (r, c) => `a_prev_pad[${r}, ${c}, 0]`, note: padNote(fw.pad, fw.pad_mode),
          inner: inner(fw.pad, nH, nW), overlays: [windowItem(w, fw.dilation)],
        })));
    }
    figs.push(group("s = np.multiply(a_slice_prev, W)",
      arrayTable({ name: `a_slice_prev[:, :, ${ch}]`, values: a, scale: scaleFor(d.ranges.a_slice_prev), field: "a_slice_prev",
        label: (r, c) => `a_slice_prev[${r}, ${c}, ${ch}]`, overlays: cur, note: chNote(C, ch) }),
      arrayTable({ name: `W[:, :, ${ch}]`, values: Wc, scale: scaleFor(d.ranges.W), field: "W",
        label: (r, c) => `W[${r}, ${c}, ${ch}]`, overlays: cur }),
      arrayTable({ name: `s[:, :, ${ch}]`, values: prods, scale: scaleFor(d.ranges.products), field: "s",
        label: (r, c) => `s[${r}, ${c}, ${ch}]`, overlays: cur, reached: done })));
    if (s.kind !== "product") {
      const out = el("p", "scalar");
      out.append(el("span", null, s.kind === "sum" ? "Z = np.sum(s) = " : "Z = np.sum(s) + b.item() = "));
      const o = el("output", "num", num(s.kind === "sum" ? s.total : s.z));
      o.dataset.field = "Z";
      o.dataset.v = String(s.kind === "sum" ? s.total : s.z);
      out.append(o);
      figs.push(out);
    }
    return figs;
  },
};


// ---------------------------------------------------------------------------------------
// Your loop beside the exercise's: the learner's traced steps (`convstep check FILE --open`,
// cli/tracer.py) drawn over the same arrays. ctx.yours is that trace, only when it was taken
// on this function, case and image.

/** The learner's step that wrote (forward: the last) or started from (backward: the first)
 * the cell of step s; null when their loop never did. */
export function yoursAt(ctx, s, backward = false) {
  const y = ctx && ctx.yours;
  if (!y || s.h === undefined || s.kind === "crop") return null;
  const same = (t) => t.position && t.position[1] === s.h && t.position[2] === s.w && t.position[3] === s.c;
  return backward ? y.steps.find(same) || null : y.steps.filter(same).pop() || null;
}

/** The learner's window as a map's link overlay: a dashed outline just inside the right
 * window's; none when their loop has no window here. */
function yoursItems(t) {
  if (!t || !t.window) return [];
  const [[r0, r1], [c0, c1]] = t.window;
  return [{ kind: "link", r0, r1, c0, c1 }];
}

const span = (w) => (w ? `rows ${w[0][0]}:${w[0][1]}, columns ${w[1][0]}:${w[1][1]}` : "no window");

/** The legend beside a map that carries both windows. */
function legend(ctx) {
  const p = el("p", "win-legend");
  p.append(el("span", "lg-right", "the right window"), el("span", "lg-yours", `${who(ctx).own} window`));
  return p;
}

/** Whose loop is drawn beside the right one: yours (convstep check --open) or the buggy
 * code's (mistake mode). */
function who(ctx) {
  return ctx.buggyLine !== undefined
    ? { own: "the buggy", tag: "buggy", loop: "the buggy code's loop", Loop: "The buggy code's loop", table: "buggy" }
    : { own: "your", tag: "yours", loop: "your loop", Loop: "Your loop", table: "your" };
}

/** The output as the learner's loop fills it: their values, in their loop's order, up to
 * their step at this position (blank before it). */
function yoursOutput(ctx, d, s, c, name) {
  const y = ctx.yours;
  const rows = channel(d[name][0], c).map((row) => row.map(() => null));
  const upto = yoursAt(ctx, s);
  const last = upto ? y.steps.indexOf(upto) : -1;
  for (let k = 0; k <= last; k += 1) {
    const t = y.steps[k];
    if (t.position[3] === c && t.value !== null && rows[t.position[1]] && t.position[2] < rows[0].length) {
      rows[t.position[1]][t.position[2]] = t.value;
    }
  }
  return rows;
}

/** "your loop" group: your output filling in, your line, your window and value. */
function yoursGroup(ctx, d, s, name, right) {
  if (ctx.backward) return { lines: backwardLines(ctx, s, name), table: null };
  const t = yoursAt(ctx, s);
  const c = s.c;
  const I = img(d);
  const mine = yoursOutput(ctx, d, s, c, name);
  const reachedCell = (r, q) => mine[r][q] !== null;
  const first = ctx.yoursFirst;
  const table = arrayTable({
    name: `${who(ctx).table} ${name}[${I}, :, :, ${c}]`, values: mine.map((row) => row.map((v) => (v === null ? 0 : v))),
    scale: scaleFor(d.ranges[name]), field: `yours-${name}`, className: "yours",
    label: (r, q) => `${who(ctx).table} ${name}[${I}, ${r}, ${q}, ${c}]`,
    reached: reachedCell, overlays: [cellItem(s.h, s.w)],
    marks: (r, q) => [reachedCell(r, q) && Math.abs(mine[r][q] - channel(d[name][0], c)[r][q]) > 1e-6 * (1 + Math.abs(channel(d[name][0], c)[r][q])) ? "differs" : null],
  });
  const lines = el("div", "yours-lines");
  const say = (tag, text, cls) => {
    const row = el("div", cls);
    row.append(el("span", "ld-tag", tag), el("code", null, text));
    lines.append(row);
  };
  const w = who(ctx);
  if (t && ctx.buggyLine !== undefined) {
    say("buggy", ctx.buggyLine, "ld-yours");
    say("buggy window", `${span(t.window)} → ${name}${ix(s.i, s.h, s.w, s.c)} = ${t.value === null ? "?" : num(t.value)}`, "ld-yours");
  } else if (t) {
    say(`yours (line ${t.line})`, t.code, "ld-yours");
    if (t.write_line !== t.line) say(`yours (line ${t.write_line})`, t.write_code, "ld-yours");
    say("your window", `${span(t.window)}${t.source ? ` (of your ${t.source})` : ""} → ${name}${ix(s.i, s.h, s.w, s.c)} = ${t.value === null ? "?" : num(t.value)}`, "ld-yours");
  } else {
    say(w.tag, `${w.loop} never wrote ${name}${ix(s.i, s.h, s.w, s.c)}`, "ld-yours");
  }
  say("right", `${span([[s.vert_start, s.vert_end], [s.horiz_start, s.horiz_end]])} → ${name}${ix(s.i, s.h, s.w, s.c)} = ${num(right)}`, "ld-right");
  if (t && t.arithmetic) lines.append(...arithmeticRows(t.arithmetic, ctx.buggyLine !== undefined ? "buggy" : "your"));
  const g = el("section", "arr-group yours-group");
  g.append(el("h3", "arr-group-title", `${w.loop}, beside the right one`), lines);
  const read = t && Array.isArray(t.a_slice) ? sliceRows(t.a_slice) : null;
  if (read) { // the values it really read, beside the right slice
    const rightRead = sliceRows(s.a_slice || s.window);
    const row = el("div", "arr-row");
    const sc = scaleFor(d.ranges.A_prev_pad || d.ranges.A_prev);
    row.append(arrayTable({ name: `${w.table} slice (channel 0)`, values: read, scale: sc, field: "yours-slice",
      label: (r, q) => `${w.table} slice [${r}, ${q}]` }));
    if (rightRead) row.append(arrayTable({ name: "right slice (channel 0)", values: rightRead, scale: sc, field: "right-slice",
      label: (r, q) => `right slice [${r}, ${q}]` }));
    g.append(row);
  }
  if (first) {
    const here = first.index === s.index;
    g.append(el("p", here ? "yours-first here" : "yours-first",
      `${here ? "Here" : `At step ${first.index + 1}`} ${w.loop} first parts from the exercise's: ${first.why}.`));
  }
  return { lines: g, table };
}

/** A read window as rows of numbers: (f, f, C) -> channel 0; (f, f) as it is. */
function sliceRows(a) {
  if (!Array.isArray(a) || !Array.isArray(a[0])) return null;
  return Array.isArray(a[0][0]) ? a.map((row) => row.map((cell) => cell[0])) : a;
}

/** Backward: where your (or the buggy) step adds its gradient, beside the right window. */
function backwardLines(ctx, s, name) {
  const w = who(ctx);
  const t = yoursAt(ctx, s, true);
  const lines = el("div", "yours-lines");
  const say = (tag, text, cls) => {
    const row = el("div", cls);
    row.append(el("span", "ld-tag", tag), el("code", null, text));
    lines.append(row);
  };
  const at = `output (i, h, w, c) = (${s.i}, ${s.h}, ${s.w}, ${s.c})`;
  if (t && ctx.buggyLine !== undefined) say("buggy", ctx.buggyLine, "ld-yours");
  else if (t) say(`yours (line ${t.line})`, t.code, "ld-yours");
  say(`${w.tag === "yours" ? "your" : "buggy"} window`, t ? `adds the gradient of ${at} into ${span(t.window)} of ${name}` : `${w.loop} never reads ${at}`, "ld-yours");
  say("right", `adds it into ${span([[s.vert_start, s.vert_end], [s.horiz_start, s.horiz_end]])} of ${name}`, "ld-right");
  const g = el("section", "arr-group yours-group");
  g.append(el("h3", "arr-group-title", `${w.loop}, beside the right one`), lines);
  const first = ctx.yoursFirst;
  if (first) {
    const here = first.index === s.index;
    g.append(el("p", here ? "yours-first here" : "yours-first",
      `${here ? "Here" : `At step ${first.index + 1}`} ${w.loop} first parts from the exercise's: ${first.why}.`));
  }
  return g;
}

/** The first step (in the exercise's order) where the learner's window or value differs. */
export function yoursFirst(ctx, d, name, value) {
  if (!ctx.yours) return null;
  for (const s of d.steps) {
    if (s.kind === "crop" || s.h === undefined) continue;
    const t = yoursAt(ctx, s, ctx.backward);
    const rw = [[s.vert_start, s.vert_end], [s.horiz_start, s.horiz_end]];
    if (!t) return { index: s.index, why: `${who(ctx).loop} never writes ${name}${ix(s.i, s.h, s.w, s.c)}` };
    if (JSON.stringify(t.window) !== JSON.stringify(rw) && ctx.backward) {
      return { index: s.index, why: `the gradient of output (i, h, w, c) = (${s.i}, ${s.h}, ${s.w}, ${s.c}) goes into ${span(t.window)} of ${name}, the right window is ${span(rw)}` };
    }
    if (JSON.stringify(t.window) !== JSON.stringify(rw)) {
      return { index: s.index, why: `for ${name}${ix(s.i, s.h, s.w, s.c)} it reads ${span(t.window)}, the right window is ${span(rw)}` };
    }
    if (!ctx.backward && (t.value === null || Math.abs(t.value - s[value]) > 1e-6 * (1 + Math.abs(s[value])))) {
      return { index: s.index, why: `${name}${ix(s.i, s.h, s.w, s.c)} is ${t.value === null ? "?" : num(t.value)}, the right value ${num(s[value])}` };
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// 3. conv_forward

function sizeLines(d) {
  const g = d.geometry;
  const f = g.f;
  if (d.dilation > 1) {
    return [
      { id: "nH", text: `n_H = int((n_H_prev + 2 * pad - dilation * (f - 1) - 1) / stride) + 1 = int((${g.n_H_prev} + 2 * ${d.pad} - ${d.dilation} * (${f} - 1) - 1) / ${d.stride}) + 1 = ${g.n_H}` },
      { id: "nW", text: `n_W = int((n_W_prev + 2 * pad - dilation * (f - 1) - 1) / stride) + 1 = int((${g.n_W_prev} + 2 * ${d.pad} - ${d.dilation} * (${f} - 1) - 1) / ${d.stride}) + 1 = ${g.n_W}` },
    ];
  }
  return [
    { id: "nH", text: `n_H = int((n_H_prev - f + 2 * pad) / stride) + 1 = int((${g.n_H_prev} - ${f} + 2 * ${d.pad}) / ${d.stride}) + 1 = ${g.n_H}` },
    { id: "nW", text: `n_W = int((n_W_prev - f + 2 * pad) / stride) + 1 = int((${g.n_W_prev} - ${f} + 2 * ${d.pad}) / ${d.stride}) + 1 = ${g.n_W}` },
  ];
}

const convForward = {
  title: "conv_forward",
  variant: "pad",
  what: "Slide every filter over the padded input with the stride; each window gives one number of Z.",
  callout(d) {
    return `Look here: vert_start = h * stride. With stride ${d.stride} the window moves ${d.stride} rows for each h (and ${d.stride} columns for each w); writing vert_start = h slides it one cell and reads the wrong slice. The slice is taken from a_prev_pad, the padded input.`;
  },
  stepLabel: (d, s) => `Z[${s.i}, ${s.h}, ${s.w}, ${s.c}]`,
  arith(d, s) {
    const f = d.geometry.f;
    return [
      ...sizeLines(d),
      { id: "forc", text: `i = ${s.i}, h = ${s.h}, w = ${s.w}, c = ${s.c}` },
      ...cornerLines(s, d.stride, f, d.dilation),
      { id: "slice", text: `a_slice_prev = ${sliceText("a_prev_pad", s, d.dilation)}` },
      { id: "z", text: `Z${ix(s.i, s.h, s.w, s.c)} = conv_single_step(a_slice_prev, W[:, :, :, ${s.c}], b[:, :, :, ${s.c}])` },
      { id: "z", text: `= np.sum(a_slice_prev * W[:, :, :, ${s.c}]) + b[0, 0, 0, ${s.c}] = ${num(s.total)} + ${par(s.bias)} = ${num(s.z)}` },
    ];
  },
  highlight(d, s) {
    const g = d.geometry;
    return {
      ids: ["vs", "ve", "hs", "he", "slice", "z"],
      notes: { ...loopNotes(s, { n_H: g.n_H, n_W: g.n_W, n_C: d.W[0][0][0].length }), nH: `# = ${g.n_H}`, nW: `# = ${g.n_W}` },
    };
  },
  view(d, s, ctx) {
    const mine = yoursAt(ctx, s);
    const A = channel(d.A_prev_pad[0], 0);
    const nH = d.A_prev[0].length;
    const nW = d.A_prev[0][0].length;
    const nC = d.W[0][0][0].length;
    const I = img(d);
    const zscale = scaleFor(d.ranges.Z);
    const yours = ctx && ctx.yours ? yoursGroup(ctx, d, s, "Z", s.z) : null;
    const figs = [
      group(`the window on the padded input${inImage(I, d.m)}`,
        arrayTable({
          name: "a_prev_pad[:, :, 0]", values: A, scale: scaleFor(d.ranges.A_prev_pad), field: "a_prev_pad",
          label: (r, c) => `a_prev_pad[${r}, ${c}, 0]`, note: [padNote(d.pad, d.pad_mode), chNote(nCh(d.A_prev), 0)].filter(Boolean).join("; "),
          inner: inner(d.pad, nH, nW), overlays: [windowItem(s, d.dilation), ...yoursItems(mine)],
        }),
        ctx && ctx.yours ? legend(ctx) : null),
      yours ? yours.lines : null,
      group(null,
        arrayTable({ name: `W[:, :, 0, ${s.c}]`, values: filterSlice(d.W, 0, s.c), scale: scaleFor(d.ranges.W), field: "W",
          label: (r, c) => `W[${r}, ${c}, 0, ${s.c}]` })),
    ];
    const outs = [];
    for (let c = 0; c < nC; c += 1) {
      const seen = reached(d.steps, s.index, c);
      outs.push(arrayTable({
        name: `Z[${I}, :, :, ${c}]`, values: channel(d.Z[0], c), scale: zscale, field: `Z${c}`,
        className: c === s.c ? "active" : null,
        label: (r, q) => `Z[${I}, ${r}, ${q}, ${c}]`,
        reached: (r, q) => seen.has(`${r},${q}`), overlays: c === s.c ? [cellItem(s.h, s.w)] : [],
      }));
    }
    figs.push(group("the output, filling in", ...outs, yours ? yours.table : null));
    return figs.filter(Boolean);
  },
};

// ---------------------------------------------------------------------------------------
// 4. conv_backward

const convBackward = {
  title: "conv_backward",
  variant: "pad",
  what: "Send each dZ back: into the window of da_prev_pad (through W), into dW (through the input slice) and into db.",
  callout(d) {
    return `Look here: += on all three lines. Windows overlap (f 3, stride ${d.stride}), so cells of da_prev_pad collect several windows; = would keep only the last. dW adds a_slice * dZ, the input the filter touched. At the end the border is cropped with [pad:pad + n_H_prev]: the exercise's [pad:-pad] is empty at pad 0.`;
  },
  stepLabel: (d, s) => (s.kind === "crop" ? "the crop" : `dZ[${s.i}, ${s.h}, ${s.w}, ${s.c}]`),
  arith(d, s) {
    const g = d.geometry;
    if (s.kind === "crop") {
      const nH = g.n_H_prev;
      const nW = g.n_W_prev;
      const p = d.pad;
      const lines = [
        { id: "crop", text: `dA_prev[0, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :] = da_prev_pad[${p}:${p} + ${nH}, ${p}:${p} + ${nW}, :]` },
        { id: "crop", text: `dA_prev.shape = (${nH}, ${nW}) per image: the ${p}-cell border of da_prev_pad is dropped (it belongs to the padding, not to A_prev)` },
      ];
      if (p === 0) lines.push({ id: "crop", text: "the exercise writes da_prev_pad[pad:-pad, pad:-pad, :]: at pad 0 that is [0:-0] = [0:0], an empty slice" });
      else lines.push({ id: "crop", text: `the exercise's da_prev_pad[pad:-pad, pad:-pad, :] is the same here (pad ${p}), but empty at pad 0` });
      if (d.pad_mode !== "constant") lines.push({ id: "crop", text: `pad mode '${d.pad_mode}': each border cell's gradient is added to the input cell it copied before the crop` });
      return lines;
    }
    const dz = `dZ${ix(s.i, s.h, s.w, s.c)}`;
    return [
      { id: "forc", text: `i = ${s.i}, h = ${s.h}, w = ${s.w}, c = ${s.c}, ${dz} = ${num(s.dz)}` },
      ...cornerLines(s, d.stride, g.f, d.dilation),
      { id: "slice", text: `a_slice = ${sliceText("a_prev_pad", s, d.dilation)}` },
      { id: "da", text: `${sliceText("da_prev_pad", s, d.dilation)} += W[:, :, :, ${s.c}] * ${dz}   (= W[:, :, :, ${s.c}] * ${par(s.dz)})` },
      { id: "dw", text: `dW[:, :, :, ${s.c}] += a_slice * ${dz}   (= a_slice * ${par(s.dz)})` },
      { id: "db", text: `db[:, :, :, ${s.c}] += ${dz}   → db[0, 0, 0, ${s.c}] = ${num(s.db_running)}` },
    ];
  },
  highlight(d, s) {
    if (s.kind === "crop") return { ids: ["crop"], notes: {} };
    const g = d.geometry;
    return { ids: ["vs", "ve", "hs", "he", "slice", "da", "dw", "db"],
      notes: loopNotes(s, { n_H: g.n_H, n_W: g.n_W, n_C: d.W[0][0][0].length }) };
  },
  view(d, s, ctx) {
    const g = d.geometry;
    const nH = g.n_H_prev;
    const nW = g.n_W_prev;
    const last = d.steps[d.steps.length - 2];
    const cur = s.kind === "crop" ? last : s;
    const c = cur.c;
    const seen = reached(d.steps, s.kind === "crop" ? d.steps.length : s.index, c);
    const win = s.kind !== "crop" ? [windowItem(s, d.dilation)] : [];
    const I = img(d);
    const nC = d.W[0][0][0].length;
    const mine = s.kind !== "crop" ? yoursAt(ctx, s, true) : null;
    const yours = ctx && ctx.yours && s.kind !== "crop" ? yoursGroup(ctx, d, s, "da_prev_pad", null) : null;
    const upNote = { ones: "dZ = ones", output: "dZ = Z (as the exercise's test calls conv_backward(Z, cache))",
      probe: "dZ: the probe case's own, as the checker passes it" }[d.upstream] || "";
    const figs = [
      group(`the upstream gradient${inImage(I, d.m)}`,
        arrayTable({ name: `dZ[${I}, :, :, ${c}]`, values: channel(d.dZ[0], c), scale: scaleFor(d.ranges.dZ), field: "dZ",
          label: (r, q) => `dZ[${I}, ${r}, ${q}, ${c}]`,
          note: upNote,
          overlays: s.kind !== "crop" ? [cellItem(s.h, s.w)] : [], marks: (r, q) => [seen.has(`${r},${q}`) ? "done" : null] })),
    ];
    if (s.kind === "crop") {
      figs.push(group("the crop",
        arrayTable({ name: "da_prev_pad[:, :, 0]", values: channel(s.dA_prev_pad[0], 0), scale: scaleFor(d.ranges.dA_prev_pad), field: "da_prev_pad",
          label: (r, q) => `da_prev_pad[${r}, ${q}, 0]`, note: d.pad > 0 ? "greyed: the border the crop drops" : "pad 0: nothing to drop",
          inner: inner(d.pad, nH, nW), discard: true }),
        arrayTable({ name: `dA_prev[${I}, :, :, 0]`, values: channel(s.dA_prev[0], 0), scale: scaleFor(d.ranges.dA_prev), field: "dA_prev",
          label: (r, q) => `dA_prev[${I}, ${r}, ${q}, 0]`, note: chNote(nCh(d.A_prev), 0) })));
      const dws = [];
      for (let f = 0; f < nC; f += 1) {
        dws.push(arrayTable({ name: `dW[:, :, 0, ${f}]`, values: filterSlice(s.dW, 0, f), scale: scaleFor(d.ranges.dW), field: `dW${f}`, label: (r, q) => `dW[${r}, ${q}, 0, ${f}]` }));
      }
      dws.push(arrayTable({ name: "db[0, 0, 0, :]", values: [s.db[0][0][0]], scale: scaleFor(d.ranges.db), field: "db", label: (r, q) => `db[0, 0, 0, ${q}]` }));
      figs.push(group("the weights' and biases' gradients", ...dws));
      return figs;
    }
    figs.push(group(`into da_prev_pad: W[:, :, :, ${c}] * dZ`,
      arrayTable({ name: `W[:, :, 0, ${c}] * ${num(s.dz)}`, values: channel(s.da_add, 0), scale: scaleFor(d.ranges.da_add), field: "da_add",
        label: (r, q) => `W[${r}, ${q}, 0, ${c}] * dZ` }),
      arrayTable({ name: "da_prev_pad[:, :, 0]", values: channel(s.dA_prev_pad[0], 0), scale: scaleFor(d.ranges.dA_prev_pad), field: "da_prev_pad",
        label: (r, q) => `da_prev_pad[${r}, ${q}, 0]`, note: `after ${s.index + 1} of ${d.total_steps || d.steps.length - 1} steps; ${padNote(d.pad, d.pad_mode)}`,
        inner: inner(d.pad, nH, nW), overlays: [...win, ...yoursItems(mine)] }),
      yours ? legend(ctx) : null));
    if (yours) figs.push(yours.lines);
    figs.push(group(`into dW and db: a_slice * dZ`,
      arrayTable({ name: `a_slice[:, :, 0] * ${num(s.dz)}`, values: channel(s.dw_add, 0), scale: scaleFor(d.ranges.dw_add), field: "dw_add",
        label: (r, q) => `a_slice[${r}, ${q}, 0] * dZ` }),
      arrayTable({ name: `dW[:, :, 0, ${c}]`, values: filterSlice(s.dW, 0, c), scale: scaleFor(d.ranges.dW), field: "dW",
        label: (r, q) => `dW[${r}, ${q}, 0, ${c}]` }),
      arrayTable({ name: "db[0, 0, 0, :]", values: [s.db[0][0][0]], scale: scaleFor(d.ranges.db), field: "db",
        label: (r, q) => `db[0, 0, 0, ${q}]`, overlays: [cellItem(0, c)] })));
    return figs;
  },
};

// ---------------------------------------------------------------------------------------
// 5. pool_forward

const poolForward = {
  title: "pool_forward",
  variant: "mode",
  what: "Slide an f x f window with the stride and keep its maximum (or its mean); no weights, no padding.",
  callout(d) {
    return `Look here: f ${d.f} with stride ${d.stride}: the windows overlap, so one input cell is in several windows. The slice is A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]: one channel at a time.`;
  },
  stepLabel: (d, s) => `A[${s.i}, ${s.h}, ${s.w}, ${s.c}]`,
  arith(d, s) {
    const g = d.geometry;
    const lines = [
      { id: "nH", text: `n_H = int(1 + (n_H_prev - f) / stride) = int(1 + (${g.n_H_prev} - ${d.f}) / ${d.stride}) = ${g.n_H}` },
      { id: "nW", text: `n_W = int(1 + (n_W_prev - f) / stride) = int(1 + (${g.n_W_prev} - ${d.f}) / ${d.stride}) = ${g.n_W}` },
      { id: "forc", text: `i = ${s.i}, h = ${s.h}, w = ${s.w}, c = ${s.c}` },
      ...cornerLines(s, d.stride, d.f, 1),
      { id: "slice", text: `a_prev_slice = A_prev[${s.i}, ${s.vert_start}:${s.vert_end}, ${s.horiz_start}:${s.horiz_end}, ${s.c}]` },
    ];
    if (d.mode === "max") {
      lines.push({ id: "max", text: `A${ix(s.i, s.h, s.w, s.c)} = np.max(a_prev_slice) = ${num(s.value)}${s.ties > 1 ? `   (${s.ties} cells of this window hold ${num(s.value)}: a tie)` : ""}` });
    } else {
      lines.push({ id: "mean", text: `A${ix(s.i, s.h, s.w, s.c)} = np.mean(a_prev_slice) = ${num(s.window_sum)} / ${s.count} = ${num(s.value)}` });
    }
    return lines;
  },
  highlight(d, s) {
    const g = d.geometry;
    return { ids: ["vs", "ve", "hs", "he", "slice", d.mode === "max" ? "ifmax" : "ifavg", d.mode === "max" ? "max" : "mean"],
      notes: { ...loopNotes(s, { n_H: g.n_H, n_W: g.n_W, n_C: nCh(d.A) }), nH: `# = ${g.n_H}`, nW: `# = ${g.n_W}` } };
  },
  view(d, s, ctx) {
    const mine = yoursAt(ctx, s);
    const yours = ctx && ctx.yours ? yoursGroup(ctx, d, s, "A", s.value) : null;
    const c0 = s.c;
    const I = img(d);
    const A = channel(d.A_prev[0], c0);
    const seen = reached(d.steps, s.index, c0);
    const win = s.window;
    // the window's maxima as a map's marks, the window's corner at `at`
    const maxes = (at) => (d.mode === "max" ? maskMarks(s.is_max, at) : []);
    return [
      group("the window on the input",
        arrayTable({ name: `A_prev[${I}, :, :, ${c0}]`, values: A, scale: scaleFor(d.ranges.A_prev), field: "A_prev",
          label: (r, c) => `A_prev[${I}, ${r}, ${c}, ${c0}]`,
          overlays: [windowItem(s), ...maxes({ r0: s.vert_start, c0: s.horiz_start }), ...yoursItems(mine)] }),
        ctx && ctx.yours ? legend(ctx) : null,
        arrayTable({ name: "a_prev_slice", values: win, scale: scaleFor(d.ranges.A_prev), field: "a_prev_slice",
          label: (r, c) => `a_prev_slice[${r}, ${c}]`, overlays: maxes({ r0: 0, c0: 0 }) })),
      yours ? yours.lines : null,
      group("the output, filling in",
        arrayTable({ name: `A[${I}, :, :, ${c0}]`, values: channel(d.A[0], c0), scale: scaleFor(d.ranges.A), field: "A",
          label: (r, c) => `A[${I}, ${r}, ${c}, ${c0}]`,
          reached: (r, c) => seen.has(`${r},${c}`), overlays: [cellItem(s.h, s.w)] }),
        yours ? yours.table : null),
    ].filter(Boolean);
  },
};

// ---------------------------------------------------------------------------------------
// 6. create_mask_from_window

const createMask = {
  title: "create_mask_from_window",
  variant: "max",
  what: "Which cells of a window hold its maximum: the cells max pooling's gradient goes back to.",
  callout(d) {
    const ties = d.steps.filter((s) => s.count > 1).map((s) => s.index + 1);
    const where = d.steps.length > 1 ? (ties.length ? ` (steps ${ties.join(", ")})` : "") : "";
    return `Look here: x == np.max(x) is True at every cell equal to the maximum, not at one cell. Where two cells tie${where}, both are True and both get the gradient.`;
  },
  stepLabel: (d, s) => (d.A_prev ? `window of A[${s.i}, ${s.h}, ${s.w}, ${s.c}]` : "the window x"),
  arith(d, s) {
    return [
      d.A_prev
        ? { id: "def", text: `x = A_prev[${s.i}, ${s.vert_start}:${s.vert_end}, ${s.horiz_start}:${s.horiz_end}, ${s.c}]   (the window of A[${s.i}, ${s.h}, ${s.w}, ${s.c}] in pool_forward)` }
        : { id: "def", text: `x of shape (${s.x.length}, ${s.x[0].length})` },
      { id: "mask", text: `np.max(x) = ${num(s.max)}` },
      { id: "mask", text: `mask = (x == ${num(s.max)}): ${s.count} ${s.count === 1 ? "cell is" : "cells are"} True${s.count > 1 ? " (a tie: all of them)" : ""}` },
    ];
  },
  highlight: () => ({ ids: ["mask"], notes: {} }),
  view(d, s) {
    const tables = [];
    if (d.A_prev) {
      tables.push(arrayTable({ name: `A_prev[${img(d)}, :, :, ${s.c}]`, values: channel(d.A_prev[0], s.c), scale: scaleFor(d.ranges.A_prev), field: "A_prev",
        label: (r, c) => `A_prev[${img(d)}, ${r}, ${c}, ${s.c}]`,
        overlays: [windowItem(s), ...maskMarks(s.mask, { r0: s.vert_start, c0: s.horiz_start })] }));
    }
    return [
      group("the window", ...tables,
        arrayTable({ name: "x", values: s.x, scale: scaleFor(d.ranges.x), field: "x", label: (r, c) => `x[${r}, ${c}]`,
          overlays: maskMarks(s.mask, { r0: 0, c0: 0 }) }),
        arrayTable({ name: "mask", values: s.mask, scale: null, field: "mask", label: (r, c) => `mask[${r}, ${c}]`,
          marks: (r, c) => [s.mask[r][c] ? "on" : "off"] })),
    ];
  },
};

// ---------------------------------------------------------------------------------------
// 7. distribute_value

const distribute = {
  title: "distribute_value",
  variant: "average",
  what: "Average pooling's backward: a window's gradient dz shared equally by its n_H * n_W cells.",
  callout() {
    return "Look here: average = dz / (n_H * n_W). Every cell of the window had the same weight in the mean, so each gets the same share of dz; a version that ignores dz, or divides by n_H + n_W, gives other numbers.";
  },
  stepLabel: (d, s) => (d.dA ? `dz = dA[${s.i}, ${s.h}, ${s.w}, ${s.c}]` : `dz = ${num(s.dz)}`),
  arith(d, s) {
    return [
      d.dA
        ? { id: "def", text: `dz = dA[${s.i}, ${s.h}, ${s.w}, ${s.c}] = ${num(s.dz)}, shape = (f, f) = (${s.n_H}, ${s.n_W})` }
        : { id: "def", text: `dz = ${num(s.dz)}, shape = (${s.n_H}, ${s.n_W})` },
      { id: "shape", text: `(n_H, n_W) = shape = (${s.n_H}, ${s.n_W})` },
      { id: "avg", text: `average = dz / (n_H * n_W) = ${num(s.dz)} / (${s.n_H} * ${s.n_W}) = ${num(s.average)}` },
      { id: "a", text: `a = np.ones(shape) * average: ${s.n_H} x ${s.n_W} cells of ${num(s.average)}` },
    ];
  },
  highlight: () => ({ ids: ["shape", "avg", "a"], notes: {} }),
  view(d, s) {
    const seen = reached(d.steps, s.index, 0);
    const tables = [];
    if (d.dA) {
      tables.push(arrayTable({ name: `dA[${img(d)}, :, :, 0]`, values: channel(d.dA[0], 0), scale: scaleFor(d.ranges.dA), field: "dA",
        label: (r, c) => `dA[${img(d)}, ${r}, ${c}, 0]`,
        overlays: [cellItem(s.h, s.w)], marks: (r, c) => [seen.has(`${r},${c}`) ? "done" : null] }));
    }
    return [
      group(d.dA ? "the gradient of each window, spread evenly" : "dz spread evenly", ...tables,
        arrayTable({ name: "a", values: s.a, scale: scaleFor(d.ranges.a), field: "a", label: (r, c) => `a[${r}, ${c}]` })),
    ];
  },
};

// ---------------------------------------------------------------------------------------
// 8. pool_backward

const poolBackward = {
  title: "pool_backward",
  variant: "mode",
  what: "Send each dA back into its window: to the max (through the mask) or spread evenly (average).",
  callout(d) {
    return `Look here: += into dA_prev. The windows overlap (f ${d.f}, stride ${d.stride}), so a cell that is the maximum of several windows collects each of their gradients; = would keep only the last one.`;
  },
  stepLabel: (d, s) => `dA[${s.i}, ${s.h}, ${s.w}, ${s.c}]`,
  arith(d, s) {
    const dz = `dA${ix(s.i, s.h, s.w, s.c)}`;
    const lines = [
      { id: "forc", text: `i = ${s.i}, h = ${s.h}, w = ${s.w}, c = ${s.c}, ${dz} = ${num(s.da)}` },
      ...cornerLines(s, d.stride, d.f, 1),
    ];
    const box = `dA_prev[${s.i}, ${s.vert_start}:${s.vert_end}, ${s.horiz_start}:${s.horiz_end}, ${s.c}]`;
    if (d.mode === "max") {
      lines.push({ id: "slice", text: `a_prev_slice = a_prev[${s.vert_start}:${s.vert_end}, ${s.horiz_start}:${s.horiz_end}, ${s.c}]` });
      const rule = { all: "create_mask_from_window(a_prev_slice): True where a_prev_slice == its max",
        first: "1 at the first maximum only (np.argmax)", split: "the tied maxima share 1 equally" }[d.tie_rule];
      lines.push({ id: "mask", text: `mask = ${rule}` });
      lines.push({ id: "addmax", text: `${box} += np.multiply(mask, ${dz})   (= mask * ${par(s.da)})` });
    } else {
      lines.push({ id: "da", text: `da = ${dz} = ${num(s.da)}` });
      lines.push({ id: "fshape", text: `shape = (f, f) = (${d.f}, ${d.f})` });
      lines.push({ id: "addavg", text: `${box} += distribute_value(da, shape)   (each cell + ${num(s.added[0][0])})` });
    }
    return lines;
  },
  highlight(d, s) {
    const ids = ["vs", "ve", "hs", "he"];
    if (d.mode === "max") ids.push("ifmax", "slice", "mask", "mask2", "addmax");
    else ids.push("ifavg", "da", "fshape", "addavg");
    return { ids, notes: loopNotes(s, { n_H: d.dA[0].length, n_W: d.dA[0][0].length, n_C: 1 }) };
  },
  view(d, s, ctx) {
    const c0 = s.c;
    const I = img(d);
    const seen = reached(d.steps, s.index, c0);
    const mine = yoursAt(ctx, s, true);
    const yours = ctx && ctx.yours ? yoursGroup(ctx, d, s, "dA_prev", null) : null;
    return [
      group(`the upstream gradient and the window${inImage(I, d.m)}`,
        arrayTable({ name: `dA[${I}, :, :, ${c0}]`, values: channel(d.dA[0], c0), scale: scaleFor(d.ranges.dA), field: "dA",
          label: (r, c) => `dA[${I}, ${r}, ${c}, ${c0}]`,
          overlays: [cellItem(s.h, s.w)], marks: (r, c) => [seen.has(`${r},${c}`) ? "done" : null] }),
        arrayTable({ name: `A_prev[${I}, :, :, ${c0}]`, values: channel(d.A_prev[0], c0), scale: scaleFor(d.ranges.A_prev), field: "A_prev",
          label: (r, c) => `A_prev[${I}, ${r}, ${c}, ${c0}]`,
          overlays: [windowItem(s), ...(d.mode === "max" ? maskMarks(s.route, { r0: s.vert_start, c0: s.horiz_start }) : [])] })),
      group("added into dA_prev",
        // max: the mask, then mask * da; average: distribute_value(da, shape) is da already
        // shared over the window (the code's line), so it is the one grid that is added
        ...(d.mode === "max" ? [
          arrayTable({ name: "mask", values: s.route, scale: scaleFor([0, 1]), field: "route",
            label: (r, c) => `mask[${r}, ${c}]` }),
          arrayTable({ name: `np.multiply(mask, ${num(s.da)})`, values: s.added, scale: scaleFor(d.ranges.added), field: "added",
            label: (r, c) => `added[${r}, ${c}]` }),
        ] : [
          arrayTable({ name: "distribute_value(da, shape)", values: s.added, scale: scaleFor(d.ranges.added), field: "added",
            label: (r, c) => `distribute_value(da, shape)[${r}, ${c}]`,
            note: `average = da / (n_H * n_W) = ${num(s.da)} / ${d.f * d.f} in every cell` }),
        ]),
        arrayTable({ name: `dA_prev[${I}, :, :, ${c0}]`, values: channel(s.dA_prev[0], c0), scale: scaleFor(d.ranges.dA_prev), field: "dA_prev",
          label: (r, c) => `dA_prev[${I}, ${r}, ${c}, ${c0}]`, note: `after ${s.index + 1} of ${d.total_steps || d.steps.length} steps`,
          overlays: [windowItem(s), ...yoursItems(mine)] }),
        yours ? legend(ctx) : null),
      yours ? yours.lines : null,
    ].filter(Boolean);
  },
};

export const LESSONS = {
  zero_pad: zeroPad,
  conv_single_step: singleStep,
  conv_forward: convForward,
  conv_backward: convBackward,
  pool_forward: poolForward,
  create_mask_from_window: createMask,
  distribute_value: distribute,
  pool_backward: poolBackward,
};

/** The variant of a function's data for the page's pad and pool mode. */
export function variantOf(lesson, fn, { pad, mode }) {
  const v = lesson.functions[fn];
  const kind = LESSONS[fn].variant;
  if (kind === "pad") return v[String(pad)];
  if (kind === "mode") return v[mode];
  return v[kind];
}
