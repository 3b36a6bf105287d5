import { parseArgs } from "node:util";
import { ConfigError, defaultConfig, loadConfigFile, validateConfig, type GatewayConfig } from "./config";

export const usage = `Usage: mqttsn-gateway [options]

MQTT-SN over UDP into one MQTT session per client on an MQTT broker (transparent mode).

Options:
  --udp HOST:PORT        listen for MQTT-SN on this UDP address; repeatable; IPv6 as [::]:1884
                         (default 0.0.0.0:1884)
  --broker URL|embedded  upstream broker: mqtt://host:1883, mqtts://host:8883, or embedded (default):
                         an in-process broker on 127.0.0.1
  --embedded-port PORT   port of the embedded broker (default 1883)
  --config FILE          JSON file with everything else: gatewayId, limits, timers, predefinedTopics,
                         upstream (username, password, caFile, certFile, keyFile), advertiseTarget
  --log-level LEVEL      debug, info, warn (default), error, silent; logs are JSON lines on stderr
  -h, --help             show this text
`;

export type CliResult = { kind: "run"; config: GatewayConfig } | { kind: "help" };

/** Flags override the config file, which overrides the defaults. Throws ConfigError / Error with what to fix. */
export function parseCli(argv: string[]): CliResult {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        udp: { type: "string", multiple: true },
        broker: { type: "string" },
        "embedded-port": { type: "string" },
        config: { type: "string" },
        "log-level": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}\n\n${usage}`, { cause: err });
  }
  const v = parsed.values;
  if (v.help === true) return { kind: "help" };
  let config = v.config !== undefined ? loadConfigFile(v.config) : defaultConfig();
  const overrides: Record<string, unknown> = {};
  if (v.udp !== undefined) overrides.udp = v.udp;
  if (v.broker !== undefined) overrides.broker = v.broker;
  if (v["log-level"] !== undefined) overrides.logLevel = v["log-level"];
  if (v["embedded-port"] !== undefined) {
    const port = Number(v["embedded-port"]);
    overrides.embeddedPort = /^\d+$/.test(v["embedded-port"]) ? port : v["embedded-port"];
  }
  try {
    config = validateConfig(overrides, config);
  } catch (err) {
    if (err instanceof ConfigError) {
      const flag = { udp: "--udp", broker: "--broker", logLevel: "--log-level", embeddedPort: "--embedded-port" }[err.key.replace(/\[\d+\]$/, "")];
      if (flag !== undefined) throw new Error(`${flag} ${JSON.stringify(err.value)} is not allowed; allowed: ${err.allowed}`, { cause: err });
    }
    throw err;
  }
  return { kind: "run", config };
}
