// The page's view kept in the URL, so a reload or a shared link opens the same view. Every
// page declares its keys in one table of properties (PROPS), as TensorFlow Playground's
// state.ts does, and this module reads and writes the query string from it: a new setting
// is one row, never two hand-written branches.
//
// A row: `key` (in the query string, in the table's order), `type` ({parse(text, ctx) ->
// value or undefined to keep the default, format(value) -> text}), and either `path` (where
// the value sits in the page's state object) or get(st, ctx) / set(st, v, ctx). Optional:
// when(st, ctx) (only then read and written), `default` (left out of the URL at that value),
// clean(v) (applied after parsing), check(v, ctx) (a reason the value is refused, such as
// "at most 64", or nothing when it is fine). A row with read(q, st, ctx) / write(q, st, ctx)
// handles several keys itself (a list). Bad values are dropped for the default, never an
// error; readProps lists what it dropped and why, for the page to say.

export const NUMBER = {
  parse: (t) => (t === "" || !Number.isFinite(Number(t)) ? undefined : Number(t)),
  format: String,
  expect: "a number",
};
export const TEXT = { parse: (t) => t, format: String };
export const BOOL = { parse: (t) => t !== "0", format: (v) => (v ? "1" : "0") };
export const oneOf = (...values) => ({
  parse: (t) => (values.includes(t) ? t : undefined),
  format: String,
  expect: `one of ${values.join(", ")}`,
});

/**
 * A row's check(v, ctx) for a whole number within ctx[name] = {min, max} (the page's boot
 * limits): the reason it is refused ("at most 64"), or undefined.
 */
export const withinLimits = (name) => (v, ctx) => {
  const b = ctx && ctx[name];
  if (!b) return undefined;
  if (!Number.isInteger(v)) return `a whole number from ${b.min} to ${b.max}`;
  if (v > b.max) return `at most ${b.max}`;
  if (v < b.min) return `at least ${b.min}`;
  return undefined;
};

function getPath(st, path) {
  return path.reduce((o, k) => (o == null ? undefined : o[k]), st);
}

function setPath(st, path, v) {
  const parent = getPath(st, path.slice(0, -1));
  if (parent) parent[path[path.length - 1]] = v;
}

const getProp = (p, st, ctx) => (p.get ? p.get(st, ctx) : getPath(st, p.path));

/**
 * The query string `search` read into the state `st` (changed in place), row by row.
 * `dropped` (optional) gets {key, value, why} for each value refused (unreadable, or its
 * row's check said why).
 */
export function readProps(props, search, st, ctx, dropped = []) {
  const q = new URLSearchParams(search);
  for (const p of props) {
    if (p.read) {
      p.read(q, st, ctx, dropped);
      continue;
    }
    if (!q.has(p.key) || (p.when && !p.when(st, ctx))) continue;
    const text = q.get(p.key);
    let v = p.type.parse(text, ctx);
    if (v === undefined) {
      if (p.type.expect) dropped.push({ key: p.key, value: text, why: `not ${p.type.expect}` });
      continue;
    }
    const why = p.check && p.check(v, ctx);
    if (why) {
      dropped.push({ key: p.key, value: text, why });
      continue;
    }
    if (p.clean) v = p.clean(v);
    if (p.set) p.set(st, v, ctx);
    else setPath(st, p.path, v);
  }
  return st;
}

/** The state `st` as a query string (without "?"; "" when every value is left out). */
export function writeProps(props, st, ctx) {
  const q = new URLSearchParams();
  for (const p of props) {
    if (p.write) {
      p.write(q, st, ctx);
      continue;
    }
    const v = getProp(p, st, ctx);
    if (v === undefined || v === null || v === "" || (p.when && !p.when(st, ctx))) continue;
    if ("default" in p && v === p.default) continue;
    q.set(p.key, p.type.format(v));
  }
  return q.toString();
}

/** This page's address with the query string `query` (and the hash kept). */
export function pageUrl(query) {
  return `${window.location.pathname}${query ? `?${query}` : ""}${window.location.hash}`;
}

/**
 * The address bar kept in line with the page: query() gives the query string. sync() asks
 * for a write, coalesced to at most one history write per `ms` (playing steps would
 * otherwise rewrite it many times a second); flush() writes now (before a test or a copy
 * reads it, or a step the user just chose). Never a new history entry.
 */
export function urlSync(query, { ms = 150 } = {}) {
  let timer = 0;
  const write = () => {
    const url = pageUrl(query());
    const now = `${window.location.pathname}${window.location.search}${window.location.hash}`;
    if (url !== now) window.history.replaceState(null, "", url);
  };
  return {
    sync() {
      if (timer) return;
      timer = setTimeout(() => {
        timer = 0;
        write();
      }, ms);
    },
    flush() {
      clearTimeout(timer);
      timer = 0;
      write();
    },
  };
}
