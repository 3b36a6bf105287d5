import type { QoS } from "../../protocol/index";

export interface ExampleArgs {
  host: string;
  port: number;
  clientId: string;
  topic: string;
  count: number;
  qos: QoS;
  subscribe: string;
  /** CA file (PEM) to trust: set, the example speaks DTLS 1.2 to the gateway's --dtls listener; "" for plain UDP. */
  dtls: string;
  /** This device's certificate and key files (PEM) for DTLS; "" for none. */
  cert: string;
  key: string;
}

export const usage =
  "usage: publish --host H --port P --client-id ID --topic T [--count N] [--qos Q] [--subscribe FILTER]\n" +
  "               [--dtls CAFILE [--cert FILE --key FILE]]\n" +
  "  --host       the gateway: a host name, an IPv4 or an IPv6 address (default 127.0.0.1)\n" +
  "  --port       the gateway's UDP port (default 1884)\n" +
  "  --client-id  the MQTT-SN client id, 1 to 23 characters\n" +
  "  --topic      the topic name to publish on\n" +
  "  --count      how many messages to publish (default 1)\n" +
  "  --qos        -1, 0, 1 or 2 (default 1); -1 needs a two-character short topic name\n" +
  "  --subscribe  also subscribe to FILTER and wait for each message to come back\n" +
  "  --dtls       speak DTLS 1.2 to the gateway's DTLS port, trusting the CA certificate in CAFILE (PEM)\n" +
  "  --cert       with --dtls: this device's certificate (PEM), for a gateway that verifies clients\n" +
  "  --key        with --dtls: the private key of --cert (PEM)\n" +
  "  --help       print this and exit";

/** True when the command line asks for the usage (--help or -h in place of an option). */
export function wantsHelp(argv: string[]): boolean {
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === "--help" || argv[i] === "-h") return true;
  }
  return false;
}

/** Parses the example's command line; throws with the usage on anything missing or wrong. */
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
    dtls: values.get("dtls") ?? "",
    cert: values.get("cert") ?? "",
    key: values.get("key") ?? "",
  };
}
