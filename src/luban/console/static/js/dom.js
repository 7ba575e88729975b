// A tiny DOM builder: h("div", {class: "x", onclick: fn}, child, "text", [more]) -> element.
export function h(tag, attrs = {}, ...children) {
  const el = tag === "svg" || attrs.svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "svg" || v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "style" && typeof v === "object") Object.assign(el.style, v);
    else if (k === "value" && "value" in el) el.value = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function svg(tag, attrs = {}, ...children) { return h(tag, { ...attrs, svg: true }, ...children); }

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

/** A table from rows of objects: cols = [{key, label, render?(row) -> node|string}] */
export function table(rows, cols, attrs = {}) {
  return h("table", attrs,
    h("thead", {}, h("tr", {}, cols.map((c) => h("th", {}, c.label)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, cols.map((c) => h("td", {}, c.render ? c.render(r) : fmt(r[c.key])))))));
}

export function fmt(v) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") return Number.isInteger(v) ? v.toLocaleString() : v.toFixed(Math.abs(v) < 1 ? 4 : 2);
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function when(epochSeconds) {
  if (!epochSeconds) return "–";
  return new Date(epochSeconds * 1000).toLocaleString();
}
