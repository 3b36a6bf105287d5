import { parseCli, usage } from "./cli";
import { startGateway, type RunningGateway } from "./gateway";
import { createLog } from "./log";
import { reloadFromCommandLine } from "./sighup";

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
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      process.exit(1);
    }
    stopping = true;
    log.info("stopping", { signal });
    gateway.close().then(
      () => process.exit(0),
      (err: Error) => {
        process.stderr.write(`mqttsn-gateway: error while stopping: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  const brokerText = config.broker === "embedded" ? `${gateway.brokerUrl} (embedded)` : gateway.brokerUrl;
  const otherLinks = gateway.links.slice(gateway.udpAddresses.length).map((l) => `${l.name}; `);
  const httpText = gateway.httpAddress === undefined ? "" : `; http ${gateway.httpAddress}`;
  process.stdout.write(
    `mqttsn-gateway ready: MQTT-SN on udp ${gateway.udpAddresses.join(", udp ")}; ${otherLinks.join("")}broker ${brokerText}${httpText}\n`,
  );
}

void main();
