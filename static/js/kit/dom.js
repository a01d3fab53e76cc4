// DOM helpers every page uses: el() and elAttrs() make an element, finder() and byIds() look
// elements up by id inside a page's root. No state, nothing drawn.

/** <tag class="cls">text</tag>: a new element; cls and text are optional. */
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A look-up of the elements inside `root` by id: $ = finder(root); $("pad"). */
export function finder(root) {
  return (id) => root.querySelector(`#${id}`);
}

/** The elements inside `root` with these ids, in that order. */
export function byIds(root, ...ids) {
  return ids.map(finder(root));
}

/**
 * <tag attrs...>text</tag>: `attrs` an object of attributes ("class" sets the class name;
 * true gives an empty attribute; false, null and undefined leave it out).
 */
export function elAttrs(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (v !== false && v !== null && v !== undefined) e.setAttribute(k, v === true ? "" : v);
  }
  if (text !== undefined) e.textContent = text;
  return e;
}
