import { readFileSync } from "node:fs";
import type { AccessGrant } from "../access/decide";
import type { UpstreamSessionOptions } from "../upstream/upstream";
import type { Shell } from "./context";

type Login = Pick<UpstreamSessionOptions, "username" | "password" | "cert" | "key">;

/**
 * A client's own upstream identity from its access grant: username and password, and its TLS client
 * certificate, read from its files at each upstream CONNECT (a renewed certificate needs no restart). Nothing
 * given: the gateway's upstream.* identity. A certificate that cannot be read is logged and left out: the
 * broker then decides (a broker that requires one refuses, and the client hears CONNACK 0x03).
 */
export function loginOf(shell: Shell, grant: AccessGrant | undefined, clientId: string): Login {
  if (grant === undefined) return {};
  const login: Login = {};
  if (grant.username !== undefined) login.username = grant.username;
  if (grant.password !== undefined) login.password = grant.password;
  if (grant.certFile !== undefined && grant.keyFile !== undefined) {
    try {
      login.cert = readFileSync(grant.certFile);
      login.key = readFileSync(grant.keyFile);
    } catch (err) {
      shell.log.error("client-certificate-unreadable", {
        clientId,
        certFile: grant.certFile,
        keyFile: grant.keyFile,
        error: (err as Error).message,
      });
    }
  }
  return login;
}
