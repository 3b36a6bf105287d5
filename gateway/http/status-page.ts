import { withoutPassword } from "../log";
import type { SessionState } from "../session/types";
import { SESSION_STATES } from "./census";
import { COUNTER_METRICS } from "./counter-metrics";
import type { Health } from "./health";
import { escapeHtml as h, formatCount, formatDuration } from "./html";
import { linkReport, type DtlsReport } from "./links";
import type { DeviceEntry, GatewayView } from "./view";

/** Devices listed on one page; the others are counted and reached through the page links. */
export const PAGE_SIZE = 100;
/** Subscriptions listed per device; the rest are counted. */
const TOPICS_SHOWN = 5;

/** What the query string of GET / may ask for: a page, a state, a part of a client id. */
export interface StatusQuery {
  page: number;
  state: SessionState | undefined;
  search: string;
}

export function statusQueryOf(params: URLSearchParams): StatusQuery {
  const page = Number(params.get("page") ?? "1");
  const state = params.get("state") ?? "";
  return {
    page: Number.isInteger(page) && page >= 1 ? page : 1,
    state: (SESSION_STATES as readonly string[]).includes(state) ? (state as SessionState) : undefined,
    search: (params.get("q") ?? "").slice(0, 100),
  };
}

function hrefFor(q: StatusQuery, changes: Partial<StatusQuery>): string {
  const next = { ...q, ...changes };
  const params = new URLSearchParams();
  if (next.page > 1) params.set("page", String(next.page));
  if (next.state !== undefined) params.set("state", next.state);
  if (next.search !== "") params.set("q", next.search);
  const text = params.toString();
  return text === "" ? "/" : `/?${text}`;
}

/** One walk over the sessions: the matching ones of the asked page, how many match, and how many per state. */
function select(
  view: GatewayView,
  q: StatusQuery,
): { rows: DeviceEntry[]; matching: number; byState: Record<string, number> } {
  const first = (q.page - 1) * PAGE_SIZE;
  const rows: DeviceEntry[] = [];
  const byState: Record<string, number> = {};
  let matching = 0;
  for (const entry of view.devices()) {
    const s = entry.session;
    byState[s.state] = (byState[s.state] ?? 0) + 1;
    if (q.state !== undefined && s.state !== q.state) continue;
    if (q.search !== "" && !s.clientId.includes(q.search)) continue;
    if (matching >= first && rows.length < PAGE_SIZE) rows.push(entry);
    matching++;
  }
  return { rows, matching, byState };
}

function deviceRow(view: GatewayView, e: DeviceEntry): string {
  const s = e.session;
  const ago = view.now() - s.lastHeard;
  const seenAt = new Date(Date.now() - ago).toISOString();
  const subs = [...s.subscriptions.keys()];
  const shown = subs.slice(0, TOPICS_SHOWN).map((t) => `<code>${h(t)}</code>`);
  if (subs.length > TOPICS_SHOWN) shown.push(`and ${formatCount(subs.length - TOPICS_SHOWN)} more`);
  const topics = `${shown.length > 0 ? `subscribed: ${shown.join(", ")}; ` : ""}${formatCount(s.topics.size)} registered`;
  const state = s.sleep !== undefined && s.state === "asleep" ? `asleep (${s.sleep.duration} s)` : s.state;
  return (
    `<tr><td class="id">${h(s.clientId)}</td><td>${h(e.link)}</td><td>${h(e.address)}</td>` +
    `<td><span class="state ${h(s.state)}">${h(state)}</span></td>` +
    `<td title="${h(seenAt)}">${h(formatDuration(ago))} ago</td>` +
    `<td class="n">${formatCount(s.queue.length)} (${formatCount(s.queue.bytes)} octets)</td><td>${topics}</td></tr>`
  );
}

function devicesSection(view: GatewayView, q: StatusQuery): string {
  const { rows, matching, byState } = select(view, q);
  const total = Object.values(byState).reduce((a, b) => a + b, 0);
  const chips = [`<a href="${h(hrefFor(q, { state: undefined, page: 1 }))}">all ${formatCount(total)}</a>`];
  for (const state of SESSION_STATES) {
    const n = byState[state] ?? 0;
    if (n > 0) chips.push(`<a href="${h(hrefFor(q, { state, page: 1 }))}">${h(state)} ${formatCount(n)}</a>`);
  }
  const first = (q.page - 1) * PAGE_SIZE;
  const filtered = q.state !== undefined || q.search !== "";
  let shownText: string;
  if (matching === 0) shownText = filtered ? "No device matches." : "No device.";
  else if (rows.length === 0)
    shownText = `No device on page ${formatCount(q.page)}: ${formatCount(matching)} devices, ${PAGE_SIZE} a page.`;
  else
    shownText =
      `Showing ${formatCount(first + 1)}–${formatCount(first + rows.length)} of ${formatCount(matching)}` +
      (matching > rows.length ? ` (${formatCount(matching - rows.length)} not shown).` : ".");
  const pager: string[] = [];
  if (rows.length === 0 && matching > 0) pager.push(`<a href="${h(hrefFor(q, { page: 1 }))}">first page</a>`);
  else if (q.page > 1) pager.push(`<a href="${h(hrefFor(q, { page: q.page - 1 }))}">previous ${PAGE_SIZE}</a>`);
  if (first + rows.length < matching)
    pager.push(`<a href="${h(hrefFor(q, { page: q.page + 1 }))}">next ${PAGE_SIZE}</a>`);
  return `<section><h2>Devices</h2>
<p class="chips">${chips.join(" ")}</p>
<form method="get" action="/">${q.state !== undefined ? `<input type="hidden" name="state" value="${h(q.state)}">` : ""}
<label>Client id contains <input name="q" value="${h(q.search)}" maxlength="100"></label> <button>Find</button></form>
<p id="shown">${h(shownText)} ${pager.join(" · ")}</p>
<table id="devices"><thead><tr><th>Client id</th><th>Link</th><th>Address</th><th>State</th><th>Last seen</th><th>Buffered</th><th>Topics</th></tr></thead>
<tbody>${rows.map((e) => deviceRow(view, e)).join("\n")}</tbody></table></section>`;
}

/** A DTLS link's peer table and what it dropped or refused, for the last column of its row. */
function dtlsExtra(d: DtlsReport): string[] {
  const counts = (pairs: Array<[number, string]>): string =>
    pairs
      .filter(([n]) => n > 0)
      .map(([n, what]) => `${formatCount(n)} ${what}`)
      .join(", ") || "none";
  return [
    `peers: ${formatCount(d.handshaking)} in handshake, ${formatCount(d.established)} established, limit ${formatCount(d.peerLimit)}`,
    `datagrams dropped: ${counts([
      [d.droppedPlaintext, "plaintext"],
      [d.droppedUnknownPeer, "from unknown peers"],
      [d.droppedReplayed, "replayed"],
    ])}`,
    `${formatCount(d.helloVerifyRequests)} ClientHellos answered with a cookie`,
    `handshakes refused: ${counts([
      [d.refusedTableFull, "table full"],
      [d.refusedCertificate, "certificate"],
      [d.refusedFinished, "Finished"],
    ])}`,
    `${formatCount(d.expired)} peers expired`,
  ];
}

function linksSection(view: GatewayView): string {
  const rows = view.links.map((link) => {
    const r = linkReport(link);
    if (r.kind === "other") return `<tr><td>${h(r.name)}</td><td colspan="6">no counters</td></tr>`;
    const up = r.up === undefined ? "?" : r.up ? "up" : "down";
    const extra: string[] = [];
    if (r.bound !== undefined && r.name !== `${r.kind}:${r.bound}`) extra.push(`bound to ${r.bound}`);
    if (r.dtls !== undefined) extra.push(...dtlsExtra(r.dtls));
    if (r.garbageOctets !== undefined) extra.push(`${formatCount(r.garbageOctets)} garbage octets`);
    if (r.lost !== undefined) extra.push(`lost ${formatCount(r.lost)}×, reopened ${formatCount(r.reopened ?? 0)}×`);
    if (r.connected !== undefined)
      extra.push(
        `${formatCount(r.connected)} connected, ${formatCount(r.connects ?? 0)} connects, ${formatCount(r.disconnects ?? 0)} disconnects`,
      );
    const dropped = Object.entries(r.dropped)
      .filter(([, n]) => n > 0)
      .map(([why, n]) => `${formatCount(n)} ${why.replace("_", " ")}`);
    return (
      `<tr><td>${h(r.name)}</td><td><span class="state ${up === "up" ? "active" : "lost"}">${up}</span></td>` +
      `<td class="n">${formatCount(r.framesReceived)}</td><td class="n">${formatCount(r.framesSent)}</td>` +
      `<td class="n">${formatCount(r.sendRefused)}</td><td>${h(dropped.join(", ") || "0")}</td><td>${h(extra.join("; "))}</td></tr>`
    );
  });
  return `<section><h2>Links</h2><table id="links"><thead><tr><th>Link</th><th>State</th><th>Frames in</th><th>Frames out</th><th>Send refused</th><th>Dropped</th><th></th></tr></thead>
<tbody>${rows.join("\n")}</tbody></table></section>`;
}

function countersSection(view: GatewayView): string {
  const rows = Object.entries(view.counters).map(([key, value]) => {
    const m = COUNTER_METRICS[key as keyof typeof COUNTER_METRICS];
    const labels =
      m.labels === undefined
        ? ""
        : `{${Object.entries(m.labels)
            .map(([k, v]) => `${k}="${v}"`)
            .join(",")}}`;
    return `<tr><td>${h(key)}</td><td class="n">${formatCount(value)}</td><td><code>${h(m.name + labels)}</code></td></tr>`;
  });
  return `<section><h2>Counters</h2><table id="counters"><thead><tr><th>Counter</th><th>Value</th><th>Metric</th></tr></thead>
<tbody>${rows.join("\n")}</tbody></table></section>`;
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.4em 0 .4em}
table{border-collapse:collapse;background:#fff}th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.n{text-align:right}td.id{font-family:monospace}code{font-size:.95em}
.state{padding:0 .4em;border-radius:.3em;background:#eee}.state.active,.state.awake{background:#d7f5dd}
.state.asleep{background:#dde7fb}.state.lost,.state.disconnected{background:#f8dcdc}
.ok{color:#17712b;font-weight:600}.bad{color:#a31515;font-weight:600}.chips a{margin-right:.6em}`;

/** GET /: the running state as one self-contained HTML page, every value escaped. */
export function renderStatusPage(view: GatewayView, health: Health, q: StatusQuery): string {
  const uptime = formatDuration(Date.now() - view.startedAt);
  const healthText = health.ok
    ? `<span class="ok">healthy</span>`
    : `<span class="bad">unhealthy: ${h(health.problems.join("; "))}</span>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MQTT-SN gateway</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body><h1>MQTT-SN gateway</h1>
<p>Up ${h(uptime)} (since ${h(new Date(view.startedAt).toISOString())}) · ${healthText} · broker <code>${h(withoutPassword(view.brokerUrl))}</code> ${h(health.broker.status)} · ${formatCount(view.deviceCount())} sessions · <a href="/metrics">metrics</a> · <a href="/healthz">health</a></p>
${devicesSection(view, q)}
${linksSection(view)}
${countersSection(view)}
</body></html>
`;
}
