import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** PEM files made by openssl for one test run: a CA, a gateway and a device it issued, a device it did not. */
export interface DtlsCerts {
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  strangerCertFile: string;
  strangerKeyFile: string;
  read(file: string): string;
  remove(): void;
}

const run = (dir: string, args: string[]): void => {
  execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
};

function ecKey(dir: string, name: string): void {
  run(dir, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`]);
}

function issue(dir: string, name: string, subject: string, ca: string): void {
  ecKey(dir, name);
  run(dir, ["req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`]);
  run(dir, [
    ...["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`],
    ...["-CAcreateserial", "-days", "2", "-out", `${name}.crt`],
  ]);
}

function selfSigned(dir: string, name: string, subject: string): void {
  ecKey(dir, name);
  run(dir, ["req", "-x509", "-new", "-key", `${name}.key`, "-subj", subject, "-days", "2", "-out", `${name}.crt`]);
}

/** ECDSA P-256 keys (PKCS#8) and certificates valid for two days, in a fresh temporary folder. */
export function makeDtlsCerts(): DtlsCerts {
  const dir = mkdtempSync(join(tmpdir(), "dtls-certs-"));
  selfSigned(dir, "ca", "/CN=test-ca");
  issue(dir, "server", "/CN=127.0.0.1", "ca");
  issue(dir, "client", "/CN=device-1", "ca");
  selfSigned(dir, "stranger-ca", "/CN=stranger-ca");
  issue(dir, "stranger", "/CN=device-1", "stranger-ca");
  const at = (f: string) => join(dir, f);
  return {
    dir,
    caFile: at("ca.crt"),
    serverCertFile: at("server.crt"),
    serverKeyFile: at("server.key"),
    clientCertFile: at("client.crt"),
    clientKeyFile: at("client.key"),
    strangerCertFile: at("stranger.crt"),
    strangerKeyFile: at("stranger.key"),
    read: (file) => readFileSync(file, "utf8"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
