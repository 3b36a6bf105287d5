/** An HTTP answer as a test reads it. */
export interface HttpAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** GET (or another method) on the gateway's HTTP listener, e.g. get("127.0.0.1:9184", "/metrics"). */
export async function get(address: string, path: string, method = "GET"): Promise<HttpAnswer> {
  const res = await fetch(`http://${address}${path}`, { method });
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", body: await res.text() };
}

/**
 * The samples of a Prometheus text exposition, by series as written: 'mqttsn_clients{state="active"}' → 1.
 * Comment lines are skipped; a line that is not "series value" fails the parse.
 */
export function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a Prometheus sample line: ${line}`);
    samples.set(m[1] as string, Number(m[2]));
  }
  return samples;
}

/** The value of one series; fails naming the series when the exposition lacks it. */
export function sample(samples: Map<string, number>, series: string): number {
  const v = samples.get(series);
  if (v === undefined) throw new Error(`no series ${series} in /metrics`);
  return v;
}

/** Polls `read` until `done` holds for its value; fails with the last value after timeoutMs. */
export async function eventually<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
