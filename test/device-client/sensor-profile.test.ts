import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MsgType, TopicIdType } from "../../protocol/index";
import type { MqttSnClient } from "../../device-client/core/client";
import { SensorClient } from "../../device-client/core/sensor";
import { ClientState } from "../../device-client/core/types";
import { Harness, bytes } from "./support/harness";

/**
 * Where the sensor profile (SensorClient; the sensor bundles) differs from the full client: its
 * messages are at most 255 octets; it does not watch the gateway's ADVERTISEs, and it searches until a
 * gateway answers.
 */
const T_RETRY = 10_000;

const sensor = (size: number, change?: ConstructorParameters<typeof Harness>[0]) =>
  new Harness<SensorClient>(change, 4, size, SensorClient);
const full = (size: number, change?: ConstructorParameters<typeof Harness>[0]) =>
  new Harness<MqttSnClient>(change, 4, size);

describe("sensor profile: messages of at most 255 octets (§5.2.1: the 1-octet Length form)", () => {
  it("sends a PUBLISH or a REGISTER of 255 octets whole from 300-octet buffers and refuses one octet more", () => {
    const h = sensor(300);
    h.connect();
    // PUBLISH: 7 octets and the data; REGISTER: 6 octets and the name.
    expect(h.client.publishId(TopicIdType.Predefined, 1, bytes("x".repeat(248)), 0, 248, 1, false)).toBeGreaterThan(0);
    expect(h.client.register("r".repeat(249))).toBeGreaterThan(0);
    expect(h.sent.map((s) => [s.octets.length, s.octets[0]])).toEqual([
      [255, 255],
      [255, 255],
    ]);
    h.sent.splice(0);
    expect(h.client.publishId(TopicIdType.Predefined, 1, bytes("x".repeat(249)), 0, 249, 1, false)).toBe(-1);
    expect(h.client.register("r".repeat(250))).toBe(-1);
    expect(h.client.publish("t", bytes("x".repeat(249)), 0, 249, 0, false)).toBe(-1);
    expect(h.sent).toEqual([]);
  });

  it("the full client sends the same messages one octet longer in the 3-octet form", () => {
    const h = full(300);
    h.connect();
    expect(h.client.publishId(TopicIdType.Predefined, 1, bytes("x".repeat(249)), 0, 249, 1, false)).toBeGreaterThan(0);
    expect(h.client.register("r".repeat(250))).toBeGreaterThan(0);
    expect(h.sent.map((s) => [s.octets.length, s.octets[0]])).toEqual([
      [258, 1],
      [258, 1],
    ]);
  });

  it("refuses at construction a client id whose CONNECT needs more than 255 octets", () => {
    // CONNECT: 6 octets and the client id.
    expect(() => sensor(300, (o) => (o.clientId = "c".repeat(249)))).not.toThrow();
    expect(() => sensor(300, (o) => (o.clientId = "c".repeat(250)))).toThrow(/do not fit 255/);
    expect(() => full(300, (o) => (o.clientId = "c".repeat(250)))).not.toThrow();
  });
});

describe("sensor profile: a lost gateway is found by unanswered requests, not by missed ADVERTISEs (§6.1)", () => {
  /** Finds gateway 7 by its ADVERTISE at 2.5 s (duration 20 s: lost after 72.5 s), connects, hears nothing more. */
  function searchAndConnect<C extends SensorClient>(h: Harness<C>): void {
    h.client.start(0);
    h.advance(2_500);
    h.fromGateway({ type: MsgType.Advertise, gwId: 7, duration: 20 }, false);
    expect(h.selected).toEqual([7]);
    h.fromGateway({ type: MsgType.ConnAck, returnCode: 0 });
    expect(h.client.state).toBe(ClientState.Active);
  }

  it("stays Active past N_ADV missed ADVERTISEs, then is Lost when its PINGREQ goes unanswered", () => {
    const h = sensor(128, (o) => (o.searchGateway = true));
    searchAndConnect(h);
    h.advance(60_000 + T_RETRY + 1);
    expect(h.client.state).toBe(ClientState.Active);
    expect(h.client.dropped).toBe(0);
    // Keep-alive (60 s) sent a PINGREQ; after N_RETRY retries without PINGRESP the gateway is lost.
    for (let i = 0; i < 3; i++) h.advance(T_RETRY);
    expect(h.client.state).toBe(ClientState.Active);
    h.advance(T_RETRY);
    expect(h.client.state).toBe(ClientState.Lost);
    expect(h.take().filter((m) => m.type === MsgType.PingReq)).toHaveLength(4);
  });

  it("searches on after N_RETRY unanswered SEARCHGWs, where the full client falls back to the configured gateway", () => {
    const h = sensor(128, (o) => (o.searchGateway = true));
    h.client.start(0);
    h.advance(2_500);
    for (let i = 0; i < 5; i++) h.advance(T_RETRY);
    expect(h.client.state).toBe(ClientState.Searching);
    expect(h.selected).toEqual([]);
    expect(h.sent.map((m) => [m.to, m.message.type])).toEqual(Array(6).fill(["broadcast", MsgType.SearchGw]));
    h.fromGateway({ type: MsgType.GwInfo, gwId: 3, gwAdd: [] }, false);
    expect(h.selected).toEqual([3]);
    expect(h.client.state).toBe(ClientState.Connecting);
  });

  it("the full client watching the same gateway is Lost once the ADVERTISEs stop", () => {
    const h = full(128, (o) => (o.searchGateway = true));
    searchAndConnect(h);
    h.advance(60_000 + T_RETRY);
    expect(h.client.state).toBe(ClientState.Active);
    h.advance(1);
    expect(h.client.state).toBe(ClientState.Lost);
  });

  it("the full client starts watching again after a sleep: ADVERTISEs missed asleep do not count", () => {
    const h = full(128, (o) => (o.searchGateway = true));
    searchAndConnect(h);
    expect(h.client.sleep(300)).toBe(true);
    h.fromGateway({ type: MsgType.Disconnect, duration: 300 });
    expect(h.client.state).toBe(ClientState.Asleep);
    h.advance(300_000);
    expect(h.client.state).toBe(ClientState.Awake);
    h.fromGateway({ type: MsgType.PingResp });
    expect(h.client.state).toBe(ClientState.Asleep);
  });
});

/**
 * The Espruino sensor bundle, where the 3-octet form is not even read: built, then run under Node's vm
 * with the Espruino built-ins it calls (E.toUint8Array, E.toString, E.asUTF8). Not covered here: the
 * interpreter itself (the scenario suite and bench:device-client run the bundle in it).
 */
describe("Espruino sensor bundle: the 1-octet Length form only, and only the options it reads", () => {
  let dir = "";
  let library = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "mqttsn-sensor-profile-"));
    execFileSync("node", ["scripts/build-device-espruino.mjs", "--out", dir], { stdio: "pipe" });
    library = readFileSync(join(dir, "mqttsn-sensor.min.js"), "utf8");
  }, 60_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("sends at most 255 octets and drops a message from the gateway in the 3-octet form, counted", () => {
    const E = {
      toUint8Array: (s: string) => new Uint8Array(Buffer.from(s, "latin1")),
      toString: (d: Uint8Array) => Buffer.from(d).toString("latin1"),
      asUTF8: (s: string) => s,
    };
    const context: Record<string, unknown> = { E, getTime: () => 0 };
    vm.runInNewContext(library, context);
    const api = context.MQTTSNClient as {
      Client: new (...args: unknown[]) => SensorClient;
      defaultOptions(clientId: string, random: () => number): unknown;
    };
    const sent: number[][] = [];
    const done: number[][] = [];
    const send = (b: Uint8Array, n: number) => sent.push(Array.from(b.subarray(0, n)));
    const inflight = [new Uint8Array(300), new Uint8Array(300)];
    const client = new api.Client(
      { send, broadcast: send, selectGateway: () => undefined },
      { stateChanged: () => undefined, done: (...a: number[]) => done.push(a) },
      { tx: new Uint8Array(300), inflight, size: 300 },
      api.defaultOptions("sensor-1", () => 0.5),
    );
    // The options only the full client reads are not in a sensor bundle's defaults.
    const keys = Object.keys(api.defaultOptions("sensor-1", () => 0.5) as object);
    expect(keys).toHaveLength(16);
    for (const key of ["hasConfiguredGateway", "advertiseMisses", "maxIncomingQos2"]) {
      expect(keys).not.toContain(key.slice(-1) + key.length);
    }
    const receive = (octets: number[]) => client.receive(octets, octets.length, true);
    client.start(0);
    receive([3, MsgType.ConnAck, 0]);
    expect(client.state).toBe(ClientState.Active);
    const data = new Uint8Array(249);
    expect(client.publishId(TopicIdType.Predefined, 1, data as unknown as number[], 0, 249, 1, false)).toBe(-1);
    const msgId = client.publishId(TopicIdType.Predefined, 1, data as unknown as number[], 0, 248, 1, false);
    expect(msgId).toBeGreaterThan(0);
    expect(sent.map((s) => [s.length, s[0]])).toEqual([
      [14, 14],
      [255, 255],
    ]);
    // PUBACK: TopicId, MsgId, ReturnCode; first in the 3-octet form, then in the 1-octet form.
    const body = [MsgType.PubAck, 0, 1, Math.floor(msgId / 256), msgId % 256, 0];
    receive([1, 0, body.length + 3, ...body]);
    expect(client.dropped).toBe(1);
    expect(done).toEqual([]);
    receive([body.length + 1, ...body]);
    expect(client.dropped).toBe(1);
    expect(done).toEqual([[MsgType.Publish, msgId, 0, 1]]);
  });
});
