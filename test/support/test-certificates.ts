import { execFileSync } from "node:child_process";
import { chmodSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestCertificates {
  /** The CA's certificate. */
  ca: string;
  /** The certificate issued to `name`. */
  pem(name: string): string;
  key(name: string): string;
}

/**
 * A throw-away CA in `dir` (openssl, valid one day) and the certificates it issues: `server` for 127.0.0.1
 * (subjectAltName IP:127.0.0.1), and one per client, its common name the client's name. Every file is made
 * readable by all, so that a broker running as its own user (mosquitto) reads them.
 */
export function makeTestCertificates(dir: string, server: string, clients: readonly string[] = []): TestCertificates {
  const openssl = (...args: string[]): void => void execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  const days = ["-days", "1"];
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    ...days,
    "-subj",
    "/CN=test CA",
  );
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
  const issued: Array<[string, string, string[]]> = [
    [server, "127.0.0.1", ["-extfile", "san.ext"]],
    ...clients.map((c): [string, string, string[]] => [c, c, []]),
  ];
  for (const [name, commonName, extensions] of issued) {
    openssl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${commonName}`,
    );
    const ca = ["-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"];
    openssl("x509", "-req", "-in", `${name}.csr`, ...ca, "-out", `${name}.pem`, ...days, ...extensions);
  }
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
  return { ca: join(dir, "ca.pem"), pem: (name) => join(dir, `${name}.pem`), key: (name) => join(dir, `${name}.key`) };
}
