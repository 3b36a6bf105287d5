import type { QoS } from "../../protocol/index";

export interface ExampleArgs {
  host: string;
  port: number;
  clientId: string;
  topic: string;
  count: number;
  qos: QoS;
  subscribe: string;
}

const usage =
  "usage: publish --host H --port P --client-id ID --topic T --count N --qos Q [--subscribe FILTER]\n" +
  "  Q is -1, 0, 1 or 2 (-1 needs a two-character short topic name)";

/** Parses the example's command line; throws with the usage line on anything missing or wrong. */
export function parseArgs(argv: string[]): ExampleArgs {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i] ?? "";
    const value = argv[i + 1];
    if (!key.startsWith("--") || value === undefined) throw new Error(`bad argument ${key}\n${usage}`);
    values.set(key.slice(2), value);
  }
  const need = (k: string) => {
    const v = values.get(k);
    if (v === undefined) throw new Error(`missing --${k}\n${usage}`);
    return v;
  };
  const qos = Number(values.get("qos") ?? "1");
  if (![-1, 0, 1, 2].includes(qos)) throw new Error(`--qos must be -1, 0, 1 or 2\n${usage}`);
  return {
    host: values.get("host") ?? "127.0.0.1",
    port: Number(values.get("port") ?? "1884"),
    clientId: need("client-id"),
    topic: need("topic"),
    count: Number(values.get("count") ?? "1"),
    qos: qos as QoS,
    subscribe: values.get("subscribe") ?? "",
  };
}
