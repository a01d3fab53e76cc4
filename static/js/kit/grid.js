// Canvas drawing of one 2-D map: crisp cells (no smoothing), numbers in cells when they are
// large enough, a legend, padding tint, dropped rows/columns, a reveal order ("filling in
// behind the window"), overlays (windows, cells, links), zoom that follows a focus cell, and
// hover/click hit-testing. Values are drawn as the server sent them.

import { buildLegend, textColorOn } from "./colors.js";
import { fmtShort } from "./arrays.js";

const NEVER = 0x7fffffff;
const MIN_NUMBER_CELL = 28; // CSS px a cell needs before its number is written in it
let tooltip = null;

function getTooltip() {
  if (!tooltip) {
    tooltip = document.createElement("div");
    tooltip.className = "tooltip";
    tooltip.hidden = true;
    tooltip.setAttribute("aria-hidden", "true"); // the live region reads the steps instead
    document.body.append(tooltip);
  }
  return tooltip;
}

/** A rectangle outlined in `color`, lw wide, on a dark rim lw + 2*dpr wide (seen on any cell colour). */
function strokeOnRim(ctx, x, y, w, h, color, lw, dpr) {
  ctx.strokeStyle = "#111";
  ctx.lineWidth = lw + 2 * dpr;
  ctx.strokeRect(x, y, w, h);
  ctx.strokeStyle = color;
  ctx.lineWidth = lw;
  ctx.strokeRect(x, y, w, h);
}

export class MapCanvas {
  /**
   * @param {object} o
   * @param {string} o.title      caption, e.g. "Z[:, :, 0]"
   * @param {string} [o.note]     short text under the caption
   * @param {number} [o.maxHeight] CSS px cap for the drawn height
   * @param {function} [o.onHover] ({r, c} | null) => void
   * @param {function} [o.onClick] ({r, c}) => void
   * @param {function} [o.fmt]     number formatter for tooltips and cells
   */
  constructor(o) {
    this.opts = o;
    this.fmt = o.fmt || fmtShort;
    this.el = document.createElement("figure");
    this.el.className = "map";
    if (o.className) this.el.classList.add(o.className);
    const cap = document.createElement("figcaption");
    this.titleEl = document.createElement("span");
    this.titleEl.className = "map-title";
    this.titleEl.textContent = o.title;
    this.shapeEl = document.createElement("span");
    this.shapeEl.className = "map-shape";
    cap.append(this.titleEl, this.shapeEl);
    this.stage = document.createElement("div");
    this.stage.className = "map-stage";
    this.base = document.createElement("canvas");
    this.base.className = "map-base";
    this.overlay = document.createElement("canvas");
    this.overlay.className = "map-overlay";
    this.base.setAttribute("role", "img");
    this.overlay.setAttribute("aria-hidden", "true");
    this.stage.append(this.base, this.overlay);
    this.legendSlot = document.createElement("div");
    this.legendSlot.className = "legend-slot";
    this.el.append(cap, this.stage, this.legendSlot);
    if (o.note) {
      const n = document.createElement("p");
      n.className = "map-note";
      n.textContent = o.note;
      this.el.append(n);
    }
    this.src = document.createElement("canvas");
    this.data = null;
    this.zoom = 1;
    this.focus = null;
    this.view = { r0: 0, c0: 0, rows: 0, cols: 0 };
    this.cellPx = 1;
    this.step = NEVER;
    this.shownStep = -1;
    this.overlays = [];
    this.hoverCell = null;
    this.width = 0;
    this.bindPointer();
    this.ro = new ResizeObserver(() => this.fit());
    this.ro.observe(this.el);
  }

  destroy() {
    this.ro.disconnect();
    if (tooltip) tooltip.hidden = true;
  }

  setTitle(t) {
    this.titleEl.textContent = t;
  }

  /**
   * d = {rows, cols, rgba, value(r, c), label(r, c), scale, inner?: {top, left, rows, cols},
   *      dropped?: {rows: [], cols: []}, discard?: true (the outside of `inner` greyed out),
   *      holding?: {rows: [], cols: []} (only the cells in these rows and columns hold the
   *      values of the array drawn; every other cell, inserted zeros and the border, is
   *      tinted like padding),
   *      cellStep?: Int32Array (reveal step of each cell),
   *      describe?(r, c) -> extra tooltip text}
   */
  setData(d) {
    this.data = d;
    this.src.width = d.cols;
    this.src.height = d.rows;
    const sctx = this.src.getContext("2d");
    sctx.putImageData(new ImageData(d.rgba, d.cols, d.rows), 0, 0);
    this.order = null;
    if (d.cellStep) {
      const n = d.rows * d.cols;
      const cs = d.cellStep;
      const idx = new Uint32Array(n);
      for (let i = 0; i < n; i += 1) idx[i] = i;
      if (!d.rowMajor) idx.sort((a, b) => cs[a] - cs[b]);
      this.order = idx;
    }
    this.shapeEl.textContent = d.shapeText || `${d.rows} × ${d.cols}`;
    this.base.setAttribute("aria-label", `${this.opts.title}, ${d.rows} by ${d.cols} map`);
    this.legendSlot.replaceChildren(d.scale ? buildLegend(d.scale, fmtShort) : "");
    this.fit(true);
  }

  setZoom(z) {
    this.zoom = z;
    this.fit(true);
  }

  setFocus(r, c) {
    this.focus = { r, c };
    if ((this.zoom > 1 || this.opts.fixedCells) && this.updateView()) this.redraw();
  }

  /** Reveal every cell whose cellStep <= k. */
  setStep(k) {
    this.step = k;
    if (!this.data || !this.data.cellStep) return;
    if (k >= this.shownStep && this.shownStep >= 0) this.paintRange(this.shownStep, k);
    else this.redraw();
  }

  setOverlays(items) {
    this.overlays = items;
    this.drawOverlay();
  }

  /** Size the canvases to the figure's width. */
  fit(force) {
    if (!this.data) return;
    const w = Math.floor(this.stage.clientWidth || this.el.clientWidth);
    if (!force && w === this.width) return;
    this.width = w;
    this.updateView(true);
    this.redraw();
  }

  updateView(resize) {
    const d = this.data;
    const z = this.zoom;
    const fixed = this.opts.fixedCells;
    const vr = fixed ? Math.min(d.rows, fixed) : Math.max(1, Math.min(d.rows, Math.ceil(d.rows / z)));
    const vc = fixed ? Math.min(d.cols, fixed) : Math.max(1, Math.min(d.cols, Math.ceil(d.cols / z)));
    let r0 = 0;
    let c0 = 0;
    if ((z > 1 || fixed) && this.focus) {
      r0 = Math.min(Math.max(0, this.focus.r - Math.floor(vr / 2)), d.rows - vr);
      c0 = Math.min(Math.max(0, this.focus.c - Math.floor(vc / 2)), d.cols - vc);
    }
    const v = this.view;
    const changed = resize || v.r0 !== r0 || v.c0 !== c0 || v.rows !== vr || v.cols !== vc;
    this.view = { r0, c0, rows: vr, cols: vc };
    if (resize || v.rows !== vr || v.cols !== vc) {
      const dpr = window.devicePixelRatio || 1;
      const avail = Math.max(40, this.width || 200);
      const maxH = this.opts.maxHeight || 560;
      let cssCell = Math.min(avail / vc, maxH / vr);
      if (this.opts.maxCell) cssCell = Math.min(cssCell, this.opts.maxCell);
      let px = cssCell * dpr;
      if (px >= 3) px = Math.floor(px); // whole device pixels per cell: crisp and even
      this.cellPx = px;
      const W = Math.max(1, Math.round(vc * px));
      const H = Math.max(1, Math.round(vr * px));
      for (const cv of [this.base, this.overlay]) {
        cv.width = W;
        cv.height = H;
        cv.style.width = `${W / dpr}px`;
        cv.style.height = `${H / dpr}px`;
      }
      this.stage.style.height = `${H / dpr}px`;
      this.legendSlot.style.maxWidth = `${W / dpr}px`; // never wider than the map it reads
      this.cssCell = px / dpr;
    }
    return changed;
  }

  revealed(i) {
    const cs = this.data.cellStep;
    return !cs || cs[i] <= this.step;
  }

  redraw() {
    const d = this.data;
    if (!d) return;
    const ctx = this.base.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    const { r0, c0, rows, cols } = this.view;
    const px = this.cellPx;
    // cells no step has reached yet (the page's --unreached colour; light: #e4e7ec)
    ctx.fillStyle = getComputedStyle(this.el).getPropertyValue("--unreached").trim() || "#e4e7ec";
    ctx.fillRect(0, 0, this.base.width, this.base.height);
    if (!d.cellStep) {
      ctx.drawImage(this.src, c0, r0, cols, rows, 0, 0, cols * px, rows * px);
    } else {
      for (let r = r0; r < r0 + rows; r += 1) {
        let run = -1;
        for (let c = c0; c <= c0 + cols; c += 1) {
          const on = c < c0 + cols && this.revealed(r * d.cols + c);
          if (on && run < 0) run = c;
          if (!on && run >= 0) {
            ctx.drawImage(this.src, run, r, c - run, 1, (run - c0) * px, (r - r0) * px, (c - run) * px, px);
            run = -1;
          }
        }
      }
    }
    if (d.inner) this.drawPadding(ctx);
    if (d.dropped) this.drawDropped(ctx);
    if (d.holding) this.drawInserted(ctx);
    if (this.cssCell >= MIN_NUMBER_CELL) {
      for (let r = r0; r < r0 + rows; r += 1) {
        for (let c = c0; c < c0 + cols; c += 1) if (this.revealed(r * d.cols + c)) this.drawNumber(ctx, r, c);
      }
    }
    this.shownStep = this.step;
    this.drawOverlay();
  }

  /** Paint the cells revealed by steps in (from, to]. */
  paintRange(from, to) {
    const d = this.data;
    const cs = d.cellStep;
    const order = this.order;
    const n = order.length;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cs[order[mid]] <= from) lo = mid + 1;
      else hi = mid;
    }
    const ctx = this.base.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    const { r0, c0, rows, cols } = this.view;
    const px = this.cellPx;
    const numbers = this.cssCell >= MIN_NUMBER_CELL;
    let runR = -1;
    let runC = -1;
    let runLen = 0;
    const flush = () => {
      if (runLen > 0) {
        ctx.drawImage(this.src, runC, runR, runLen, 1, (runC - c0) * px, (runR - r0) * px, runLen * px, px);
      }
      runLen = 0;
    };
    for (let k = lo; k < n; k += 1) {
      const i = order[k];
      if (cs[i] > to) break;
      const r = (i / d.cols) | 0;
      const c = i - r * d.cols;
      if (r < r0 || r >= r0 + rows || c < c0 || c >= c0 + cols) continue;
      if (r === runR && c === runC + runLen) runLen += 1;
      else {
        flush();
        runR = r;
        runC = c;
        runLen = 1;
      }
      if (numbers) {
        flush();
        this.drawNumber(ctx, r, c);
      }
    }
    flush();
    this.shownStep = to;
  }

  drawNumber(ctx, r, c) {
    const d = this.data;
    const { r0, c0 } = this.view;
    const px = this.cellPx;
    const o = (r * d.cols + c) * 4;
    ctx.fillStyle = textColorOn(d.rgba[o], d.rgba[o + 1], d.rgba[o + 2]);
    const dpr = window.devicePixelRatio || 1;
    const size = Math.max(9, Math.min(13, this.cssCell / 3.6)) * dpr;
    ctx.font = `${size}px ui-monospace, "SF Mono", Menlo, Consolas, monospace`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    const text = fmtShort(d.value(r, c));
    ctx.fillText(text, (c - c0 + 0.5) * px, (r - r0 + 0.5) * px, px - 2 * dpr);
  }

  drawPadding(ctx) {
    const { inner } = this.data;
    const { r0, c0, rows, cols } = this.view;
    const px = this.cellPx;
    const x0 = (inner.left - c0) * px;
    const y0 = (inner.top - r0) * px;
    const w = inner.cols * px;
    const h = inner.rows * px;
    ctx.save();
    // the padding tinted dark; a border that a crop drops (`discard`) greyed out instead
    ctx.fillStyle = this.data.discard ? "rgba(150, 150, 150, 0.8)" : "rgba(20, 30, 70, 0.45)";
    ctx.beginPath();
    ctx.rect(0, 0, cols * px, rows * px);
    ctx.rect(x0 + w, y0, -w, h); // hole (counter-wound)
    ctx.fill("evenodd");
    ctx.strokeStyle = "#f4b400";
    ctx.lineWidth = Math.max(1, Math.min(3, px / 4));
    ctx.setLineDash([Math.max(3, px / 2), Math.max(2, px / 3)]);
    ctx.strokeRect(x0, y0, w, h);
    ctx.restore();
  }

  drawInserted(ctx) {
    const { holding } = this.data;
    const { r0, c0, rows, cols } = this.view;
    const px = this.cellPx;
    const rowsIn = new Set(holding.rows);
    const colsOut = [];
    for (let c = c0; c < c0 + cols; c += 1) if (!holding.cols.includes(c)) colsOut.push(c);
    ctx.save();
    ctx.fillStyle = "rgba(20, 30, 70, 0.45)"; // the padding's tint: zeros that are not the data
    for (let r = r0; r < r0 + rows; r += 1) {
      if (!rowsIn.has(r)) ctx.fillRect(0, (r - r0) * px, cols * px, px);
      else for (const c of colsOut) ctx.fillRect((c - c0) * px, (r - r0) * px, px, px);
    }
    ctx.restore();
  }

  drawDropped(ctx) {
    const { dropped } = this.data;
    const { r0, c0, rows, cols } = this.view;
    const px = this.cellPx;
    ctx.save();
    ctx.fillStyle = "rgba(200, 20, 40, 0.45)";
    for (const r of dropped.rows || []) {
      if (r >= r0 && r < r0 + rows) ctx.fillRect(0, (r - r0) * px, cols * px, px);
    }
    for (const c of dropped.cols || []) {
      if (c >= c0 && c < c0 + cols) ctx.fillRect((c - c0) * px, 0, px, rows * px);
    }
    ctx.restore();
  }

  drawOverlay() {
    const ctx = this.overlay.getContext("2d");
    ctx.clearRect(0, 0, this.overlay.width, this.overlay.height);
    if (!this.data) return;
    const { r0, c0, rows, cols } = this.view;
    const px = this.cellPx;
    const dpr = window.devicePixelRatio || 1;
    const lw = Math.max(1.5 * dpr, Math.min(3 * dpr, px / 5));
    const items = this.hoverCell ? [...this.overlays, { kind: "hover", ...this.hoverCell }] : this.overlays;
    for (const it of items) {
      const ra = it.r0 ?? it.r;
      const ca = it.c0 ?? it.c;
      const rb = it.r1 ?? ra + 1;
      const cb = it.c1 ?? ca + 1;
      if (rb <= r0 || ra >= r0 + rows || cb <= c0 || ca >= c0 + cols) continue;
      const x = (ca - c0) * px;
      const y = (ra - r0) * px;
      const w = (cb - ca) * px;
      const h = (rb - ra) * px;
      ctx.save();
      if (it.kind === "window") {
        ctx.fillStyle = "rgba(255, 190, 0, 0.22)";
        ctx.fillRect(x, y, w, h);
        if (it.dilation > 1) {
          ctx.strokeStyle = "rgba(255, 190, 0, 0.95)";
          ctx.lineWidth = Math.max(1, lw / 2);
          for (let r = ra; r < rb; r += it.dilation) {
            for (let c = ca; c < cb; c += it.dilation) {
              ctx.strokeRect((c - c0) * px + 1, (r - r0) * px + 1, px - 2, px - 2);
            }
          }
        }
        strokeOnRim(ctx, x, y, w, h, "#ffbe00", lw, dpr);
      } else if (it.kind === "cell") {
        strokeOnRim(ctx, x, y, w, h, "#fff", lw, dpr);
      } else if (it.kind === "mark") {
        ctx.strokeStyle = "#0a8f3c";
        ctx.lineWidth = lw * 1.4;
        ctx.strokeRect(x + lw / 2, y + lw / 2, w - lw, h - lw);
      } else if (it.kind === "link") {
        ctx.fillStyle = "rgba(0, 170, 255, 0.25)";
        ctx.fillRect(x, y, w, h);
        ctx.strokeStyle = "#0077cc";
        ctx.lineWidth = lw;
        ctx.setLineDash([4 * dpr, 3 * dpr]);
        ctx.strokeRect(x, y, w, h);
      } else if (it.kind === "hover") {
        ctx.strokeStyle = "#0077cc";
        ctx.lineWidth = lw;
        ctx.strokeRect(x, y, w, h);
      }
      ctx.restore();
    }
  }

  cellAt(ev) {
    if (!this.data) return null;
    const rect = this.overlay.getBoundingClientRect();
    const x = ev.clientX - rect.left;
    const y = ev.clientY - rect.top;
    const c = Math.floor(x / this.cssCell) + this.view.c0;
    const r = Math.floor(y / this.cssCell) + this.view.r0;
    if (r < 0 || c < 0 || r >= this.data.rows || c >= this.data.cols) return null;
    return { r, c };
  }

  bindPointer() {
    this.overlay.addEventListener("pointermove", (ev) => {
      const cell = this.cellAt(ev);
      const tip = getTooltip();
      if (!cell) {
        tip.hidden = true;
        return;
      }
      const d = this.data;
      let text = `${d.label(cell.r, cell.c)} = ${d.approx ? "≈ " : ""}${this.fmt(d.value(cell.r, cell.c))}`;
      if (!this.revealed(cell.r * d.cols + cell.c)) text += " (not reached yet)";
      const extra = d.describe ? d.describe(cell.r, cell.c) : "";
      tip.textContent = extra ? `${text}\n${extra}` : text;
      tip.hidden = false;
      const tx = Math.min(ev.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
      const ty = ev.clientY + 16 + tip.offsetHeight > window.innerHeight ? ev.clientY - tip.offsetHeight - 10 : ev.clientY + 16;
      tip.style.left = `${Math.max(4, tx)}px`;
      tip.style.top = `${ty}px`;
      if (!this.hoverCell || this.hoverCell.r !== cell.r || this.hoverCell.c !== cell.c) {
        this.hoverCell = cell;
        this.drawOverlay();
        if (this.opts.onHover) this.opts.onHover(cell);
      }
    });
    this.overlay.addEventListener("pointerleave", () => {
      getTooltip().hidden = true;
      this.hoverCell = null;
      this.drawOverlay();
      if (this.opts.onHover) this.opts.onHover(null);
    });
    this.overlay.addEventListener("click", (ev) => {
      const cell = this.cellAt(ev);
      if (cell && this.opts.onClick) this.opts.onClick(cell);
    });
    if (this.opts.onClick) this.overlay.classList.add("clickable");
  }
}

export { NEVER };
