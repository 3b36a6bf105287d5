/** A client id pattern: an exact id, or one where each '*' stands for any run of characters (none included). */
export function clientIdMatches(pattern: string, clientId: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return pattern === clientId;
  const first = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  if (clientId.length < first.length + last.length) return false;
  if (!clientId.startsWith(first) || !clientId.endsWith(last)) return false;
  let at = first.length;
  const end = clientId.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i] as string;
    const found = clientId.indexOf(part, at);
    if (found < 0 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

/** `%c` in a template replaced by the MQTT-SN client id. */
export function withClientId(template: string, clientId: string): string {
  return template.split("%c").join(clientId);
}

/** MQTT 3.1.1 §4.7: whether a topic name matches a filter ('+' one level, '#' the rest; '$' names need a literal first level). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  if (topic.startsWith("$") && (f[0] === "+" || f[0] === "#")) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i] as string;
    if (level === "#") return true;
    if (i >= t.length) return false;
    if (level !== "+" && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Whether every topic `requested` (a filter) can match is also matched by `allowed`: the subscription stays inside it. */
export function filterCovers(allowed: string, requested: string): boolean {
  const a = allowed.split("/");
  const r = requested.split("/");
  if (requested.startsWith("$") && (a[0] === "+" || a[0] === "#")) return false;
  for (let i = 0; i < a.length; i++) {
    const level = a[i] as string;
    if (level === "#") return true;
    if (i >= r.length) return false;
    const want = r[i] as string;
    if (want === "#") return false;
    if (level !== "+" && (want === "+" || level !== want)) return false;
  }
  return a.length === r.length;
}
