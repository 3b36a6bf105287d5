/**
 * A DTLS listener in /metrics, /healthz and on the status page: its frames, its bounded peer table and what it
 * dropped or refused, over real DTLS sessions of the Node device client and real UDP datagrams on 127.0.0.1.
 */
import { createSocket, type Socket } from "node:dgram";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { openDtlsSession, type DtlsSession } from "../../device-client/node/dtls-session";
import { startGateway, type RunningGateway } from "../../gateway";
import { decode, encode, encodingLength, MsgType, type Bytes, type Message } from "../../protocol";
import { DtlsLink } from "../../transports/dtls";
import { parseHostPort } from "../../transports/udp";
import { makeDtlsCerts } from "../support/dtls-certs";
import { eventually, get, parseMetrics, sample } from "../support/http";
import { systemHas } from "../support/system";
import { FrameQueue } from "../transports/support/frames";

const certs = systemHas(["openssl"], "sudo apt-get install -y openssl") ? makeDtlsCerts() : undefined;
afterAll(() => certs?.remove());

function frameOf(message: Message): Uint8Array {
  const frame = new Uint8Array(encodingLength(message));
  encode(message, frame as unknown as Bytes, 0);
  return frame;
}

const connect = (clientId: string): Uint8Array =>
  frameOf({ type: MsgType.Connect, will: false, cleanSession: true, duration: 60, clientId });

const udpSocket = (): Promise<Socket> =>
  new Promise((resolve) => {
    const s = createSocket("udp4");
    s.bind(0, "127.0.0.1", () => resolve(s));
  });

describe.skipIf(certs === undefined)("a DTLS link in /metrics, /healthz and on the status page", () => {
  const c = certs as NonNullable<typeof certs>;
  const cleanup: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it("counts frames, peers, plaintext, replayed and unknown-peer datagrams and refused certificates", async () => {
    const gateway: RunningGateway = await startGateway({
      udp: ["127.0.0.1:0"],
      broker: "embedded",
      embeddedPort: 0,
      http: "127.0.0.1:0",
      advertiseTarget: "",
      timers: { advertiseIntervalS: 0 },
      sleep: { store: { path: "" } },
      dtls: {
        listen: ["127.0.0.1:0"],
        certFile: c.serverCertFile,
        keyFile: c.serverKeyFile,
        caFile: c.caFile,
        maxPeers: 16,
      },
    });
    cleanup.push(() => gateway.close());
    const http = gateway.httpAddress as string;
    const link = gateway.links.find((l): l is DtlsLink => l instanceof DtlsLink) as DtlsLink;
    const target = parseHostPort(link.address());
    if (target === undefined) throw new Error(`bad address ${link.address()}`);
    const labels = `link="${link.name}",kind="dtls"`;

    // A relay between a device and the link, as a party on the path: it forwards both ways and keeps what the
    // device sent, to replay one record.
    const relay = await udpSocket();
    cleanup.push(() => {
      relay.close();
    });
    const sent: Buffer[] = [];
    let device: { port: number; address: string } | undefined;
    relay.on("message", (m: Buffer, from) => {
      if (from.port === target.port) {
        if (device !== undefined) relay.send(m, device.port, device.address);
        return;
      }
      device = from;
      sent.push(m);
      relay.send(m, target.port, target.host);
    });
    const session: DtlsSession = await openDtlsSession({
      host: "127.0.0.1",
      port: relay.address().port,
      caPem: c.read(c.caFile),
      certPem: c.read(c.clientCertFile),
      keyPem: c.read(c.clientKeyFile),
    });
    cleanup.push(() => session.close());
    const received = new FrameQueue();
    session.onMessage((data) => received.push(data));
    await session.send(connect("dtls-metrics-1"));
    const connAck = decode((await received.next()).frame as unknown as Bytes, 0, 3);
    expect(connAck).toMatchObject({ type: MsgType.ConnAck, returnCode: 0 });
    relay.send(sent[sent.length - 1] as Buffer, target.port, target.host);

    const stranger = openDtlsSession({
      host: target.host,
      port: target.port,
      certPem: c.read(c.strangerCertFile),
      keyPem: c.read(c.strangerKeyFile),
      timeoutMs: 2000,
    }).then(
      (s) => s.close(),
      () => undefined,
    );
    const plain = await udpSocket();
    cleanup.push(() => {
      plain.close();
    });
    plain.send(connect("plain-1"), target.port, target.host);
    // A record that is not a ClientHello (content type application data) from an address without a session.
    plain.send(Buffer.from([23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0]), target.port, target.host);
    await stranger;

    const metrics = await eventually(
      "the DTLS counters",
      async () => parseMetrics((await get(http, "/metrics")).body),
      (m) =>
        m.get(`mqttsn_dtls_handshakes_refused_total{${labels},reason="certificate"}`) === 1 &&
        m.get(`mqttsn_dtls_datagrams_dropped_total{${labels},reason="replayed"}`) === 1 &&
        m.get(`mqttsn_dtls_datagrams_dropped_total{${labels},reason="unknown_peer"}`) === 1 &&
        m.get(`mqttsn_dtls_datagrams_dropped_total{${labels},reason="plaintext"}`) === 1,
    );
    expect(sample(metrics, `mqttsn_link_up{${labels}}`)).toBe(1);
    expect(sample(metrics, `mqttsn_link_frames_received_total{${labels}}`)).toBe(1);
    expect(sample(metrics, `mqttsn_link_frames_sent_total{${labels}}`)).toBe(1);
    expect(sample(metrics, `mqttsn_link_send_refused_total{${labels}}`)).toBe(0);
    expect(sample(metrics, `mqttsn_link_frames_dropped_total{${labels},reason="oversize"}`)).toBe(0);
    expect(sample(metrics, `mqttsn_dtls_peers{${labels},state="established"}`)).toBe(1);
    expect(sample(metrics, `mqttsn_dtls_peers{${labels},state="handshake"}`)).toBe(0);
    expect(sample(metrics, `mqttsn_dtls_peers_limit{${labels}}`)).toBe(16);
    expect(sample(metrics, `mqttsn_dtls_handshakes_refused_total{${labels},reason="table_full"}`)).toBe(0);
    expect(sample(metrics, `mqttsn_dtls_handshakes_refused_total{${labels},reason="finished"}`)).toBe(0);
    expect(sample(metrics, `mqttsn_dtls_peers_expired_total{${labels}}`)).toBe(0);
    // The device's handshake and the stranger's each began with a ClientHello without a cookie (one sent again
    // on a slow machine is answered again).
    const verifyRequests = sample(metrics, `mqttsn_dtls_hello_verify_requests_total{${labels}}`);
    expect(verifyRequests).toBeGreaterThanOrEqual(2);
    expect(sample(metrics, 'mqttsn_clients{state="active"}')).toBe(1);

    const health = await get(http, "/healthz");
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body).listeners).toMatchObject({ [link.name]: "up" });

    const page = (await get(http, "/")).body;
    const row = /<table id="links">[\s\S]*?<\/table>/.exec(page)?.[0] ?? "";
    const dtlsRow = row.split("<tr>").find((r) => r.includes(link.name)) ?? "";
    expect(dtlsRow).toContain(`bound to ${link.address()}`);
    expect(dtlsRow).toContain("peers: 0 in handshake, 1 established, limit 16");
    expect(dtlsRow).toContain("datagrams dropped: 1 plaintext, 1 from unknown peers, 1 replayed");
    expect(dtlsRow).toContain(`${verifyRequests} ClientHellos answered with a cookie`);
    expect(dtlsRow).toContain("handshakes refused: 1 certificate");
    expect(dtlsRow).not.toContain("no counters");
  });
});
