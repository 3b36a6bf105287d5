import { parseArgs } from "node:util";
import { ConfigError, defaultConfig, loadConfigFile, validateConfig, type GatewayConfig } from "./config";
import { withDtlsFlags } from "./dtls/config";

export const usage = `Usage: mqttsn-gateway [options]

MQTT-SN over UDP, serial lines and Bluetooth LE into MQTT sessions on an MQTT broker: one connection
per client (transparent mode), or a few shared ones (aggregating mode).

Options:
  --udp HOST:PORT        listen for MQTT-SN on this UDP address; repeatable; IPv6 as [::]:1884
                         (default 0.0.0.0:1884); --udp 0.0.0.0:P --udp [::]:P are two listeners, the
                         [::] one IPv6 only; [::]:P alone takes IPv4 too (Linux default)
  --dtls HOST:PORT       also listen for MQTT-SN over DTLS 1.2 on this UDP address; repeatable; needs
                         dtls.certFile and dtls.keyFile (and caFile for client certificates) in the
                         config file; see docs/dtls.md
  --serial PATH          also serve the serial port PATH (e.g. /dev/ttyUSB0); repeatable; more ports,
                         each with its own settings, through "serial" in the config file
  --serial-baud N        baud rate of the --serial ports (default 115200)
  --serial-framing F     framing of the --serial ports: slip (default) or raw; see hardware/serial-framing.md
  --broker URL|embedded  upstream broker: mqtt://host:1883, mqtts://host:8883, or embedded (default):
                         an in-process broker on 127.0.0.1
  --embedded-port PORT   port of the embedded broker (default 1883)
  --mode MODE            transparent (default): each client its own broker connection and identity;
                         aggregating: clients share up to 8 connections (scales to many devices);
                         overrides per client id in the config file ("mode": {"default", "clients"})
  --config FILE          JSON file with everything else: gatewayId, limits, timers, predefinedTopics,
                         upstream (username, password, caFile, certFile, keyFile), advertiseTarget,
                         serial, ble, sleep (sleeping clients and their session store), access,
                         dtls, mode, aggregating
  --log-level LEVEL      debug, info, warn (default), error, silent; logs are JSON lines on stderr
  --http HOST:PORT       serve /metrics (Prometheus), /healthz and a status page there (default: off);
                         keep it on 127.0.0.1 or a trusted network: it has no authentication
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
        dtls: { type: "string", multiple: true },
        serial: { type: "string", multiple: true },
        "serial-baud": { type: "string" },
        "serial-framing": { type: "string" },
        broker: { type: "string" },
        "embedded-port": { type: "string" },
        mode: { type: "string" },
        config: { type: "string" },
        "log-level": { type: "string" },
        http: { type: "string" },
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
  if (v.dtls !== undefined) overrides.dtls = withDtlsFlags(config.dtls, v.dtls);
  if (v.broker !== undefined) overrides.broker = v.broker;
  if (v.serial !== undefined)
    overrides.serial = [...config.serial, ...serialFlags(v.serial, v["serial-baud"], v["serial-framing"])];
  else if (v["serial-baud"] !== undefined || v["serial-framing"] !== undefined) {
    throw new Error("--serial-baud and --serial-framing apply to --serial PATH; add --serial PATH");
  }
  if (v["log-level"] !== undefined) overrides.logLevel = v["log-level"];
  if (v.http !== undefined) overrides.http = v.http;
  // The flag sets the default mode; the config file's overrides per client id stay.
  if (v.mode !== undefined) overrides.mode = { default: v.mode, clients: config.mode.clients };
  if (v["embedded-port"] !== undefined) {
    const port = Number(v["embedded-port"]);
    overrides.embeddedPort = /^\d+$/.test(v["embedded-port"]) ? port : v["embedded-port"];
  }
  try {
    config = validateConfig(overrides, config);
  } catch (err) {
    if (err instanceof ConfigError) {
      const flag = {
        udp: "--udp",
        broker: "--broker",
        logLevel: "--log-level",
        embeddedPort: "--embedded-port",
        http: "--http",
        "dtls.listen": "--dtls",
        "mode.default": "--mode",
      }[err.key.replace(/\[\d+\]$/, "")];
      if (flag !== undefined)
        throw new Error(`${flag} ${JSON.stringify(err.value)} is not allowed; allowed: ${err.allowed}`, { cause: err });
    }
    throw err;
  }
  return { kind: "run", config };
}

function serialFlags(paths: string[], baud: string | undefined, framing: string | undefined): unknown[] {
  if (baud !== undefined && !/^\d+$/.test(baud))
    throw new Error(`--serial-baud ${JSON.stringify(baud)} is not allowed; allowed: an integer from 50 to 4000000`);
  if (framing !== undefined && framing !== "raw" && framing !== "slip") {
    throw new Error(`--serial-framing ${JSON.stringify(framing)} is not allowed; allowed: slip or raw`);
  }
  return paths.map((path) => ({
    path,
    baudRate: baud === undefined ? 115200 : Number(baud),
    framing: framing ?? "slip",
  }));
}
