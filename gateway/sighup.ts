import type { Log } from "../transports/link";
import { parseCli } from "./cli";
import { ConfigError } from "./config";
import type { RunningGateway } from "./gateway";

/** Keeps a rejected value out of the log when it sits under a password key. */
function shown(key: string, value: unknown): unknown {
  return /password$/i.test(key) ? "[redacted]" : value;
}

function failed(log: Log, err: unknown): void {
  const action = "the running config stays";
  const cause = err instanceof Error && err.cause instanceof ConfigError ? err.cause : err;
  if (cause instanceof ConfigError)
    log.error("config-reload-failed", {
      key: cause.key,
      value: shown(cause.key, cause.value),
      allowed: cause.allowed,
      action,
    });
  else log.error("config-reload-failed", { error: (err as Error).message, action });
}

/**
 * SIGHUP: reads the command line again (the config file, then the flags over it, as at start) and puts the
 * reloadable keys in force (limits, predefined topics, log level); sessions stay. A file that cannot be read
 * or fails validation is logged with the key, the value and what is allowed, and changes nothing.
 */
export function reloadFromCommandLine(argv: string[], gateway: RunningGateway, log: Log): void {
  try {
    const cli = parseCli(argv);
    if (cli.kind !== "run") return;
    const result = gateway.reload(cli.config);
    log.info("config-reloaded", {
      applied: result.applied,
      limits: gateway.config.limits,
      logLevel: gateway.config.logLevel,
    });
    if (result.restartNeeded.length > 0)
      log.warn("config-reload-restart-needed", {
        keys: result.restartNeeded,
        action: "these keys keep their running values until the gateway is restarted",
      });
  } catch (err) {
    failed(log, err);
  }
}
