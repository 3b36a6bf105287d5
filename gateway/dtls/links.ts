import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { DtlsLink } from "../../transports/dtls";
import type { Log } from "../../transports/link";
import { ConfigError } from "../config-error";
import type { DtlsConfig } from "./config";

function readPem(key: string, path: string | undefined): string {
  if (path === undefined)
    throw new ConfigError(
      key,
      path,
      "the path of a PEM file: dtls.certFile and dtls.keyFile are needed with DTLS listeners",
    );
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(key, path, `a readable PEM file; reading ${resolve(path)} failed: ${(err as Error).message}`);
  }
}

/** The DTLS listeners of the config, each a link of its own; none without dtls.listen. */
export function dtlsLinksFor(config: DtlsConfig, mtu: number, log: Log): DtlsLink[] {
  if (config.listen.length === 0) return [];
  const certPem = readPem("dtls.certFile", config.certFile);
  const keyPem = readPem("dtls.keyFile", config.keyFile);
  const caPem = config.caFile !== undefined ? readPem("dtls.caFile", config.caFile) : undefined;
  return config.listen.map(
    (spec) =>
      new DtlsLink({
        host: spec.host,
        port: spec.port,
        certPem,
        keyPem,
        ...(caPem !== undefined ? { caPem } : {}),
        mtu,
        maxPeers: config.maxPeers,
        handshakeTimeoutMs: config.handshakeTimeoutMs,
        idleTimeoutMs: config.idleTimeoutS * 1000,
        log,
      }),
  );
}
