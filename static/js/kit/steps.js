// Step records, fetched lazily a page at a time around the current step (never all of them:
// a 256 x 256 image has about half a million convolution steps). One request in flight per
// stage; while the player runs fast, the newest wanted step wins and older wants are dropped.

import { fetchSteps } from "./api.js";

const MAX_RECORDS = 20000;

export class StepStore {
  /**
   * image = {id, settings, file, requestSettings}; onArrive(stage) is called as pages land.
   * fetch(image, {stage, offset, limit, totals_at?}) asks for a page (/api/steps by default).
   */
  constructor(image, { pageSize = 64, onArrive = () => {}, onError = () => {}, fetch = fetchSteps } = {}) {
    this.image = image;
    this.fetch = fetch;
    this.pageSize = pageSize;
    this.onArrive = onArrive;
    this.onError = onError;
    this.records = new Map(); // stage -> Map(k -> record)
    this.totalsByStage = new Map();
    this.inflight = new Map(); // stage -> k being fetched
    this.wanted = new Map(); // stage -> newest k wanted while busy
    this.totalsCache = new Map();
    this.closed = false;
  }

  close() {
    this.closed = true;
  }

  seed(stage, page) {
    if (!page) return;
    this.totalsByStage.set(stage, page.total);
    this.add(stage, page.steps);
  }

  add(stage, steps) {
    if (!this.records.has(stage)) this.records.set(stage, new Map());
    const m = this.records.get(stage);
    for (const s of steps) m.set(s.index, s);
    while (m.size > MAX_RECORDS) m.delete(m.keys().next().value);
  }

  total(stage) {
    return this.totalsByStage.get(stage) ?? 0;
  }

  get(stage, k) {
    const m = this.records.get(stage);
    return m ? m.get(k) : undefined;
  }

  /** Make sure step k (and its neighbours) will arrive; returns the record if already here. */
  want(stage, k) {
    const have = this.get(stage, k);
    const off = Math.floor(k / this.pageSize) * this.pageSize;
    if (have) {
      // prefetch the neighbouring page when close to this page's edge
      const into = k - off;
      if (into >= this.pageSize * 0.75) this.fetchPage(stage, off + this.pageSize, false);
      else if (into < this.pageSize * 0.25 && off > 0) this.fetchPage(stage, off - this.pageSize, false);
      return have;
    }
    this.fetchPage(stage, off, true);
    return undefined;
  }

  fetchPage(stage, offset, needed) {
    if (this.closed) return;
    const total = this.total(stage);
    if (offset < 0 || (total && offset >= total)) return;
    if (this.get(stage, offset) && this.get(stage, Math.min(total - 1, offset + this.pageSize - 1))) return;
    if (this.inflight.has(stage)) {
      if (needed) this.wanted.set(stage, offset);
      return;
    }
    this.inflight.set(stage, offset);
    this.fetch(this.image, { stage, offset, limit: this.pageSize })
      .then((page) => {
        if (this.closed) return;
        this.totalsByStage.set(stage, page.total);
        this.add(stage, page.steps);
        this.onArrive(stage);
      })
      .catch((err) => {
        if (!this.closed && err.name !== "AbortError") this.onError(err);
      })
      .finally(() => {
        this.inflight.delete(stage);
        const next = this.wanted.get(stage);
        this.wanted.delete(stage);
        if (next !== undefined && next !== offset) this.fetchPage(stage, next, true);
      });
  }

  /** The records of steps `ks`: the missing ones fetched in runs of consecutive steps. */
  async many(stage, ks) {
    const missing = [...new Set(ks)].filter((k) => !this.get(stage, k)).sort((a, b) => a - b);
    const runs = [];
    for (const k of missing) {
      const run = runs[runs.length - 1];
      if (run && k === run.offset + run.limit && run.limit < this.pageSize) run.limit += 1;
      else runs.push({ offset: k, limit: 1 });
    }
    const pages = await Promise.all(runs.map((run) => this.fetch(this.image, { stage, ...run })));
    const got = new Map(ks.map((k) => [k, this.get(stage, k)]));
    for (const page of pages) {
      this.add(stage, page.steps);
      for (const s of page.steps) got.set(s.index, s);
    }
    return ks.map((k) => got.get(k));
  }

  /** Running totals after step k of a backward stage (the server's `totals_at`). */
  async totals(stage, k) {
    const key = `${stage}:${k}`;
    if (this.totalsCache.has(key)) return this.totalsCache.get(key);
    const page = await this.fetch(this.image, { stage, offset: k, limit: 1, totals_at: k });
    this.add(stage, page.steps);
    if (this.totalsCache.size > 16) this.totalsCache.delete(this.totalsCache.keys().next().value);
    this.totalsCache.set(key, page.totals);
    return page.totals;
  }
}
