import { writeToStream } from "mqtt-packet";
import { parseCli, usage } from "./cli";
import { startGateway, type RunningGateway } from "./gateway";
import { createLog, withoutPassword } from "./log";
import { reloadFromCommandLine } from "./sighup";

/**
 * A signal this soon after the first is the same request: Ctrl-C in a terminal reaches both `npm start` and
 * the gateway, and npm relays it too. A later one ends the process at once, without a clean stop.
 */
const DUPLICATE_SIGNAL_MS = 1000;

/**
 * The mqttsn-gateway command: one line on stdout when ready, JSON logs on stderr, SIGINT/SIGTERM → clean exit 0,
 * SIGHUP → the config file read again (limits, predefined topics, log level; sessions stay).
 */
async function main(): Promise<void> {
  let cli;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`mqttsn-gateway: ${(err as Error).message}\n`);
    process.exit(2);
  }
  if (cli.kind === "help") {
    process.stdout.write(usage);
    return;
  }
  const config = cli.config;
  const log = createLog(config.logLevel);
  // mqtt-packet (the embedded broker's and the upstream connections' encoder) otherwise fills a table of 65,536
  // two-octet buffers on its first write, about 6 MB of heap for ever; without it each number is written as it comes.
  writeToStream.cacheNumbers = false;
  let gateway: RunningGateway | undefined;
  process.on("SIGHUP", () => {
    if (gateway === undefined) log.warn("config-reload-ignored", { reason: "the gateway is still starting" });
    else reloadFromCommandLine(process.argv.slice(2), gateway, log);
  });
  try {
    gateway = await startGateway(config, { log });
  } catch (err) {
    process.stderr.write(`mqttsn-gateway: ${(err as Error).message}\n`);
    process.exit(1);
  }
  let stoppingSince: number | undefined;
  const stop = (signal: string): void => {
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince < DUPLICATE_SIGNAL_MS) return;
      process.exit(1);
    }
    stoppingSince = Date.now();
    log.info("stopping", { signal });
    gateway.close().then(
      () => process.exit(0),
      (err: Error) => {
        process.stderr.write(`mqttsn-gateway: error while stopping: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  const onSigint = (): void => stop("SIGINT");
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", () => stop("SIGTERM"));
  // @stoprocent/noble's HCI bindings add a SIGINT listener that exits with 1 when it is the last one: keep ours last.
  process.on("newListener", (event, listener) => {
    if (event !== "SIGINT" || listener === onSigint) return;
    setImmediate(() => {
      process.removeListener("SIGINT", onSigint);
      process.on("SIGINT", onSigint);
    });
  });
  const brokerText =
    config.broker === "embedded" ? `${gateway.brokerUrl} (embedded)` : String(withoutPassword(gateway.brokerUrl));
  const otherLinks = gateway.links.slice(gateway.udpAddresses.length).map((l) => `${l.name}; `);
  const httpText = gateway.httpAddress === undefined ? "" : `; http ${gateway.httpAddress}`;
  process.stdout.write(
    `mqttsn-gateway ready: MQTT-SN on udp ${gateway.udpAddresses.join(", udp ")}; ${otherLinks.join("")}broker ${brokerText}${httpText}\n`,
  );
}

void main();
