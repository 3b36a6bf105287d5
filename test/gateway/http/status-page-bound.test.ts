/**
 * The status page and /metrics stay bounded with 10,000 devices. The devices are CONNECTs handed in
 * through a MemoryLink (one address each: 10,000 UDP sockets are not what this test is about), and the
 * upstream is a stand-in that accepts every connection at once, so that 10,000 sessions do not need
 * 10,000 broker connections on a small shared machine. What that leaves out, the broker side and the UDP
 * link, test/e2e/http.test.ts covers with a real broker and a real socket.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../../gateway";
import { startGateway } from "../../support/test-gateway";
import { acceptingUpstream } from "../support/accepting-upstream";
import { MsgType } from "../../../protocol";
import { get, parseMetrics, sample } from "../../support/http";
import { MemoryLink } from "../support/memory-link";

const DEVICES = 10_000;

const rowsOf = (html: string): number => html.split('<td class="id">').length - 1;

describe("the status page with 10,000 devices", () => {
  let gateway: RunningGateway;
  let http: string;

  beforeAll(async () => {
    let connAcks = 0;
    const link = new MemoryLink("memory", (_address, m) => {
      if (m.type === MsgType.ConnAck && m.returnCode === 0) connAcks++;
    });
    gateway = await startGateway(
      {
        udp: ["127.0.0.1:0"],
        broker: "mqtt://127.0.0.1:1",
        http: "127.0.0.1:0",
        advertiseTarget: "",
        limits: { maxClients: DEVICES + 10 },
        timers: { advertiseIntervalS: 0 },
        sleep: { store: { path: "" } },
      },
      { links: [link], upstream: acceptingUpstream() },
    );
    http = gateway.httpAddress as string;
    for (let i = 0; i < DEVICES; i++) {
      const clientId = `dev-${String(i).padStart(5, "0")}`;
      link.inject(`10.${Math.floor(i / 256)}.${i % 256}.1:5000`, {
        type: MsgType.Connect,
        will: false,
        cleanSession: true,
        duration: 3600,
        clientId,
      });
    }
    expect(connAcks).toBe(DEVICES);
  }, 60_000);

  afterAll(async () => {
    await gateway.close();
  });

  it("lists 100 devices a page and says how many are not shown", async () => {
    const started = performance.now();
    const first = await get(http, "/");
    const ms = performance.now() - started;
    console.log(`GET / with ${DEVICES} devices: ${first.body.length} octets in ${ms.toFixed(1)} ms`);
    expect(first.status).toBe(200);
    expect(rowsOf(first.body)).toBe(100);
    expect(first.body).toContain("Showing 1–100 of 10,000 (9,900 not shown).");
    expect(first.body).toContain('<a href="/?page=2">next 100</a>');
    expect(first.body).toContain('<a href="/?state=active">active 10,000</a>');
    expect(first.body.length).toBeLessThan(100_000);

    const last = await get(http, "/?page=100");
    expect(rowsOf(last.body)).toBe(100);
    expect(last.body).toContain("Showing 9,901–10,000 of 10,000 (9,900 not shown).");
    expect(last.body).toContain('<td class="id">dev-09999</td>');
    expect(last.body).not.toContain("next 100");

    const beyond = await get(http, "/?page=101");
    expect(rowsOf(beyond.body)).toBe(0);
    expect(beyond.body).toContain("No device on page 101: 10,000 devices, 100 a page.");
  });

  it("finds a device by part of its client id and by state, and escapes what the query says", async () => {
    const one = await get(http, "/?q=dev-04321");
    expect(rowsOf(one.body)).toBe(1);
    expect(one.body).toContain('<td class="id">dev-04321</td>');
    expect(one.body).toContain("Showing 1–1 of 1.");

    const asleep = await get(http, "/?state=asleep");
    expect(rowsOf(asleep.body)).toBe(0);
    expect(asleep.body).toContain("No device matches.");

    const hostile = await get(http, `/?q=${encodeURIComponent('"><script>alert(1)</script>')}`);
    expect(hostile.status).toBe(200);
    expect(hostile.body).not.toContain("<script>");
    expect(hostile.body).toContain('value="&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;"');
  });

  it("counts every session in /metrics", async () => {
    const started = performance.now();
    const metrics = parseMetrics((await get(http, "/metrics")).body);
    console.log(`GET /metrics with ${DEVICES} devices: ${(performance.now() - started).toFixed(1)} ms`);
    expect(sample(metrics, 'mqttsn_clients{state="active"}')).toBe(DEVICES);
    expect(sample(metrics, 'mqttsn_limit{limit="maxClients"}')).toBe(DEVICES + 10);
  });
});
