import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { afterAll, describe, expect, it } from "vitest";
import { makeDtlsCerts } from "../support/dtls-certs";
import { freeUdpPort, startGatewayCommand, type StartedGateway } from "../support/gateway-command";
import { systemHas } from "../support/system";
import { brokers } from "./helpers";

const can = systemHas(["openssl", "mosquitto"], "apt-get install openssl mosquitto");
const certs = can ? makeDtlsCerts() : undefined;
afterAll(() => certs?.remove());

/** §5.4.4 CONNECT: Length, MsgType 0x04, Flags (CleanSession), ProtocolId 0x01, Duration 60 s, ClientId. */
function connectFrame(clientId: string): Buffer {
  const id = Buffer.from(clientId);
  return Buffer.concat([Buffer.from([6 + id.length, 0x04, 0x04, 0x01, 0x00, 0x3c]), id]);
}
/** §5.4.5 CONNACK with return code Accepted. */
const CONNACK_ACCEPTED = "030500";

/**
 * Debian's openssl as the DTLS 1.2 peer: it writes what it reads on stdin as application data and prints
 * what it receives. Resolves with everything it printed once `expectBytes` arrived or it ended.
 */
function opensslExchange(
  port: number,
  send: Buffer,
  expectBytes: number,
  extra: string[],
  timeoutMs = 8000,
): Promise<{ out: Buffer; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      "openssl",
      ["s_client", "-dtls1_2", "-connect", `127.0.0.1:${port}`, "-quiet", "-ign_eof", ...extra],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    const chunks: Buffer[] = [];
    let err = "";
    let sent = false;
    const finish = (): void => {
      clearTimeout(timer);
      child.kill();
      resolve({ out: Buffer.concat(chunks), err });
    };
    const timer = setTimeout(finish, timeoutMs);
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
      // s_client -quiet still reports the verification result once the handshake completes.
      if (!sent && /verify return|Verification|DONE|CONNECTED/i.test(err)) {
        sent = true;
        child.stdin.write(send);
      }
    });
    child.stdout.on("data", (d: Buffer) => {
      chunks.push(d);
      if (Buffer.concat(chunks).length >= expectBytes) finish();
    });
    child.on("exit", () => finish());
  });
}

describe.skipIf(!can)("DTLS listener of the gateway command with a real openssl peer", () => {
  const c = certs as NonNullable<typeof certs>;

  for (const broker of brokers) {
    it(`openssl s_client with a certificate the CA issued gets a CONNACK through DTLS (${broker.name})`, async () => {
      const b = await broker.start();
      const port = await freeUdpPort();
      let gw: StartedGateway | undefined;
      try {
        gw = await startGatewayCommand({
          args: ["--udp", "127.0.0.1:0", "--dtls", `127.0.0.1:${port}`, "--broker", b.broker, "--log-level", "info"],
          config: {
            embeddedPort: 0,
            dtls: { certFile: c.serverCertFile, keyFile: c.serverKeyFile, caFile: c.caFile },
          },
        });
        const { out, err } = await opensslExchange(port, connectFrame("ossl-dtls-1"), 3, [
          ...["-CAfile", c.caFile, "-cert", c.clientCertFile, "-key", c.clientKeyFile],
        ]);
        expect(out.toString("hex"), err).toBe(CONNACK_ACCEPTED);
        expect(gw.records().some((r) => r.event === "dtls-client-refused")).toBe(false);
      } finally {
        await gw?.stop();
        await b.stop();
      }
    });
  }

  it("refuses openssl with a certificate of another CA, and drops a plaintext CONNECT", async () => {
    const port = await freeUdpPort();
    const gw = await startGatewayCommand({
      args: ["--udp", "127.0.0.1:0", "--dtls", `127.0.0.1:${port}`, "--log-level", "debug"],
      config: { embeddedPort: 0, dtls: { certFile: c.serverCertFile, keyFile: c.serverKeyFile, caFile: c.caFile } },
    });
    try {
      const { out } = await opensslExchange(
        port,
        connectFrame("ossl-dtls-2"),
        3,
        [...["-cert", c.strangerCertFile, "-key", c.strangerKeyFile]],
        2000,
      );
      expect(out.toString("hex")).not.toContain(CONNACK_ACCEPTED);
      await gw.waitFor("the refusal in the log", () =>
        gw.records().some((r) => r.event === "dtls-client-refused" && String(r.reason).includes("trusted authority")),
      );

      const plain = createSocket("udp4");
      const replies: Buffer[] = [];
      plain.on("message", (m: Buffer) => replies.push(m));
      await new Promise<void>((r) => plain.bind(0, "127.0.0.1", () => r()));
      plain.send(connectFrame("plain-1"), port, "127.0.0.1");
      await gw.waitFor("the dropped plaintext datagram in the log", () =>
        gw.records().some((r) => r.event === "dtls-plaintext-dropped" && r.total === 1),
      );
      plain.close();
      expect(replies).toEqual([]);
    } finally {
      await gw.stop();
    }
  });
});
