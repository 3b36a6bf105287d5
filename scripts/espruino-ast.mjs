// What the Espruino size passes (espruino-top-level.mjs, espruino-this-alias.mjs) share: walking an
// acorn tree and rewriting the code by source ranges.

/** The child nodes of an acorn node, in source order of its keys. */
export function children(node) {
  const out = [];
  for (const key of Object.keys(node)) {
    const value = node[key];
    if (Array.isArray(value)) {
      for (const v of value) if (v !== null && typeof v === "object" && typeof v.type === "string") out.push(v);
    } else if (value !== null && typeof value === "object" && typeof value.type === "string") {
      out.push(value);
    }
  }
  return out;
}

/** code with each { start, end, text } edit applied; edits must not overlap (an insertion has start === end). */
export function applyEdits(code, edits) {
  let out = code;
  for (const e of [...edits].sort((a, b) => b.start - a.start || b.end - a.end)) {
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
  }
  return out;
}
