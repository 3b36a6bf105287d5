import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MsgType, ReturnCode } from "../../protocol";
import { startGatewayCommand, type StartedGateway } from "../support/gateway-command";
import { startMosquitto, type RunningMosquitto } from "../support/mosquitto";
import { SnClient } from "../support/sn-client";
import { systemHas } from "../support/system";
import { Peer } from "../gateway/admission/peer";

/** Broker users and their passwords (mosquitto_passwd -b). bad-pw's entry gives the gateway another password. */
const USERS: Record<string, string> = {
  watcher: "pw-watcher",
  gw: "pw-gw",
  "ok-1": "pw-ok-1",
  "ok-2": "pw-ok-2",
  "late-1": "pw-late-1",
  "bad-pw": "right",
};

/** Mosquitto's own ACL: each device writes under sensors/<its user>/ and reads cmd/<its user>/. */
const ACL = [
  "user watcher",
  "topic readwrite #",
  "user gw",
  "topic write open/#",
  "topic write sensors/#",
  "pattern write sensors/%u/#",
  "pattern read cmd/%u/#",
  "",
].join("\n");

const PREDEFINED = { global: { "open/x": 7, "alarm/all": 5 } };

function accessConfig(dir: string, afterReload: boolean): object {
  const ok = {
    clientId: "ok-*",
    from: ["udp:127.0.0.0/8"],
    username: "%c",
    password: "pw-%c",
    publish: [afterReload ? "sensors/%c/new/#" : "sensors/%c/#"],
    subscribe: ["cmd/%c/#"],
  };
  const clients: object[] = [
    ok,
    { clientId: "far-*", from: ["udp:10.0.0.0/8"], username: "%c", password: "pw-%c" },
    { clientId: "bad-pw", username: "bad-pw", passwordFile: join(dir, "bad-pw.secret") },
    { clientId: "guest-*", from: ["udp:127.0.0.2"], username: "gw", password: "pw-gw", publish: ["open/#"] },
  ];
  if (afterReload) {
    clients.unshift({ clientId: "late-1", username: "late-1", password: "pw-late-1" });
    // Matches every client id, "" too: a QoS -1 PUBLISH without a session is judged as the client id "".
    clients.push({ clientId: "*", from: ["udp:127.0.0.2"], username: "gw", password: "pw-gw", publish: ["open/#"] });
  }
  return { default: "deny", clients };
}

describe.runIf(systemHas(["mosquitto", "mosquitto_passwd"], "sudo apt-get install -y mosquitto"))(
  "access against Mosquitto with password_file and acl_file",
  () => {
    let dir: string;
    let broker: RunningMosquitto;
    let gateway: StartedGateway;
    let watcher: MqttClient;
    const received: Array<{ topic: string; payload: string }> = [];
    const cleanup: Array<() => Promise<void> | void> = [];
    const log = (): string =>
      existsSync(join(dir, "mosquitto.log")) ? readFileSync(join(dir, "mosquitto.log"), "utf8") : "";
    const configFile = (afterReload: boolean): string => {
      const file = join(dir, "gateway.json");
      writeFileSync(
        file,
        JSON.stringify({
          udp: ["127.0.0.1:0"],
          broker: broker.url,
          advertiseTarget: "",
          logLevel: "info",
          sleep: { store: { path: "" } },
          upstream: { username: "gw", password: "pw-gw" },
          predefinedTopics: PREDEFINED,
          access: accessConfig(dir, afterReload),
          // Each device its own broker user: transparent mode only (aggregating mode refuses own logins).
          mode: "transparent",
        }),
      );
      return file;
    };
    const waitForLog = async (text: string): Promise<void> => {
      const deadline = Date.now() + 4000;
      while (!log().includes(text)) {
        if (Date.now() > deadline) throw new Error(`Mosquitto never logged ${text}:\n${log()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const waitForMessage = async (topic: string, payload: string): Promise<void> => {
      const deadline = Date.now() + 4000;
      while (!received.some((m) => m.topic === topic && m.payload === payload)) {
        if (Date.now() > deadline) throw new Error(`no ${topic} ${payload}; got ${JSON.stringify(received)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const device = async (): Promise<SnClient> => {
      const c = await SnClient.open(gateway.udp);
      cleanup.push(() => c.close());
      return c;
    };
    /** Waits for the gateway's log record of a refused CONNECT of this client id, for this reason. */
    const refusal = (clientId: string, reason: string): Promise<void> =>
      gateway.waitFor(`access-refused ${clientId} ${reason}`, () =>
        gateway.records().some((r) => r.event === "access-refused" && r.clientId === clientId && r.reason === reason),
      );

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "mqttsn-access-"));
      // Mosquitto started as root drops to its own user: it must still write its log here.
      chmodSync(dir, 0o777);
      const passwords = join(dir, "passwords");
      for (const [user, password] of Object.entries(USERS)) {
        const args = existsSync(passwords)
          ? ["-b", passwords, user, password]
          : ["-c", "-b", passwords, user, password];
        execFileSync("mosquitto_passwd", args);
      }
      chmodSync(passwords, 0o644);
      writeFileSync(join(dir, "acl"), ACL, { mode: 0o644 });
      writeFileSync(join(dir, "bad-pw.secret"), "wrong\n");
      broker = await startMosquitto([
        "allow_anonymous false",
        `password_file ${passwords}`,
        `acl_file ${join(dir, "acl")}`,
        `log_dest file ${join(dir, "mosquitto.log")}`,
        "log_type all",
      ]);
      gateway = await startGatewayCommand({ args: ["--config", configFile(false)] });
      watcher = await mqtt.connectAsync(broker.url, {
        username: "watcher",
        password: "pw-watcher",
        clientId: "watcher",
        reconnectPeriod: 0,
      });
      watcher.on("message", (topic, payload) => received.push({ topic, payload: payload.toString() }));
      await watcher.subscribeAsync("#", { qos: 1 });
    });

    afterEach(async () => {
      for (const f of cleanup.splice(0).reverse()) await f();
    });

    afterAll(async () => {
      await watcher?.endAsync();
      expect(gateway.foreignOutput()).toEqual([]);
      expect(await gateway.stop()).toBe(0);
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("admits by client id and source, logs each device in as its own broker user, refuses the rest with CONNACK 0x03", async () => {
      const d = await device();
      expect(await d.connect("stranger")).toBe(ReturnCode.NotSupported);
      await refusal("stranger", "unknown-client");
      expect(await d.connect("far-1")).toBe(ReturnCode.NotSupported);
      await refusal("far-1", "wrong-source");
      // "guest-*" admits only from 127.0.0.2.
      expect(await d.connect("guest-1")).toBe(ReturnCode.NotSupported);
      await refusal("guest-1", "wrong-source");
      const elsewhere = await Peer.open("127.0.0.2", gateway.udp);
      cleanup.push(() => elsewhere.close());
      elsewhere.connect("guest-1");
      expect((await elsewhere.next(MsgType.ConnAck)).returnCode).toBe(ReturnCode.Accepted);
      await waitForLog("as guest-1 (p2, c1, k60, u'gw')");

      // The entry admits bad-pw; Mosquitto refuses the password from its passwordFile.
      expect(await d.connect("bad-pw")).toBe(ReturnCode.NotSupported);
      expect(log()).toMatch(/Sending CONNACK to \S+ \(0, 5\)/);

      expect(await d.connect("ok-1")).toBe(ReturnCode.Accepted);
      await waitForLog("as ok-1 (p2, c1, k60, u'ok-1')");
      const d2 = await device();
      expect(await d2.connect("ok-2")).toBe(ReturnCode.Accepted);
      await waitForLog("as ok-2 (p2, c1, k60, u'ok-2')");
    });

    it("lets a device publish and subscribe inside its filters only: REGACK, PUBACK, SUBACK 0x03 and drops outside, nothing at the broker", async () => {
      const d = await device();
      expect(await d.connect("ok-1")).toBe(ReturnCode.Accepted);

      const own = await d.register("sensors/ok-1/temp");
      expect(own.returnCode).toBe(ReturnCode.Accepted);
      expect((await d.register("sensors/ok-2/temp")).returnCode).toBe(ReturnCode.NotSupported);
      expect((await d.register("alarm/all")).returnCode).toBe(ReturnCode.NotSupported);

      // Predefined (alarm/all) and short ("zz") topics outside the filters, every QoS.
      const refusedAcks: number[] = [];
      for (const [topicId, topicIdType] of [
        [5, 1],
        ["z".charCodeAt(0) * 257, 2],
      ] as Array<[number, 1 | 2]>) {
        for (const qos of [-1, 0] as const) d.publish(topicId, `refused-q${qos}`, { qos, topicIdType });
        for (const qos of [1, 2] as const) {
          const msgId = d.publish(topicId, `refused-q${qos}`, { qos, topicIdType });
          const ack = await d.expect(MsgType.PubAck);
          expect(ack.msgId).toBe(msgId);
          refusedAcks.push(ack.returnCode);
        }
      }
      expect(refusedAcks).toEqual([3, 3, 3, 3]);

      // Its own topic, after the refused ones on the same connection: what was refused would have come first.
      const msgId = d.publish(own.topicId, "allowed", { qos: 1 });
      const ack = await d.expect(MsgType.PubAck);
      expect([ack.msgId, ack.returnCode]).toEqual([msgId, ReturnCode.Accepted]);
      d.publish(own.topicId, "allowed-q-1", { qos: -1 });
      await waitForMessage("sensors/ok-1/temp", "allowed");
      await waitForMessage("sensors/ok-1/temp", "allowed-q-1");
      expect(received.filter((m) => m.payload.startsWith("refused"))).toEqual([]);
      expect(log()).not.toMatch(/Received PUBLISH from ok-1 \([^)]*'(alarm\/all|zz)'/);
      expect(log()).toMatch(/Received PUBLISH from ok-1 \(d0, q1, r0, m\d+, 'sensors\/ok-1\/temp'/);

      expect((await d.subscribe("cmd/#")).returnCode).toBe(ReturnCode.NotSupported);
      expect((await d.subscribe("cmd/ok-2/led")).returnCode).toBe(ReturnCode.NotSupported);
      expect((await d.subscribe({ predefined: 5 })).returnCode).toBe(ReturnCode.NotSupported);
      const led = await d.subscribe("cmd/ok-1/led");
      expect(led.returnCode).toBe(ReturnCode.Accepted);
      expect(log()).toMatch(/\tcmd\/ok-1\/led \(QoS 0\)/);
      expect(log()).not.toMatch(/\t(cmd\/#|cmd\/ok-2\/led|alarm\/all) \(QoS/);
      await watcher.publishAsync("cmd/ok-2/led", "not-for-ok-1");
      await watcher.publishAsync("cmd/ok-1/led", "on");
      const command = await d.expect(MsgType.Publish);
      expect([
        command.topicId,
        Buffer.from(command.data.slice(command.dataOffset, command.dataOffset + command.dataLength)).toString(),
      ]).toEqual([led.topicId, "on"]);
      expect(d.pending().filter((m) => m.type === MsgType.Publish)).toEqual([]);
    });

    it("SIGHUP puts a new access config in force for new CONNECTs; a connected session keeps the grant it was admitted with", async () => {
      const early = await device();
      expect(await early.connect("late-1")).toBe(ReturnCode.NotSupported);
      const elsewhere = await Peer.open("127.0.0.2", gateway.udp);
      cleanup.push(() => elsewhere.close());
      const here = await device();
      const qosMinusOne = (payload: string, topicId: number): Parameters<Peer["send"]>[0] => ({
        type: MsgType.Publish,
        dup: false,
        qos: -1,
        retain: false,
        topicIdType: 1,
        topicId,
        msgId: 0,
        data: Array.from(Buffer.from(payload)),
        dataOffset: 0,
        dataLength: payload.length,
      });
      const qosMinusOneRefusals = (host: string): number =>
        gateway
          .records()
          .filter((r) => r.event === "access-refused" && r.qos === -1 && String(r.address).startsWith(`${host}:`))
          .length;
      // No entry matches the client id "" yet: under default "deny" a QoS -1 PUBLISH without a session is dropped.
      elsewhere.send(qosMinusOne("refused-before-reload", 7));
      await gateway.waitFor("QoS -1 refused from 127.0.0.2", () => qosMinusOneRefusals("127.0.0.2") === 1);
      const kept = await device();
      expect(await kept.connect("ok-1")).toBe(ReturnCode.Accepted);

      configFile(true);
      const seen = gateway.records().length;
      process.kill(gateway.pid, "SIGHUP");
      await gateway.waitFor("config-reloaded", () =>
        gateway
          .records()
          .slice(seen)
          .some((r) => r.event === "config-reloaded"),
      );
      const reloaded = gateway
        .records()
        .slice(seen)
        .find((r) => r.event === "config-reloaded");
      expect(reloaded?.applied).toEqual(["access"]);

      expect(await early.connect("late-1")).toBe(ReturnCode.Accepted);
      await waitForLog("as late-1 (p2, c1, k60, u'late-1')");
      const late = await early.register("sensors/late-1/t");
      expect(late.returnCode).toBe(ReturnCode.Accepted);

      // ok-1 keeps sensors/ok-1/#; a new session of ok-2 gets sensors/ok-2/new/# only.
      expect((await kept.register("sensors/ok-1/old")).returnCode).toBe(ReturnCode.Accepted);
      const fresh = await device();
      expect(await fresh.connect("ok-2")).toBe(ReturnCode.Accepted);
      expect((await fresh.register("sensors/ok-2/old")).returnCode).toBe(ReturnCode.NotSupported);
      expect((await fresh.register("sensors/ok-2/new/t")).returnCode).toBe(ReturnCode.Accepted);

      // QoS -1 without a session: the "*" entry admits 127.0.0.2 within open/#; 127.0.0.1 stays refused. The
      // allowed one goes last from its socket: once it is at the broker, the refused one before it was handled.
      elsewhere.send(qosMinusOne("refused-alarm", 5));
      here.publish(7, "refused-from-127.0.0.1", { qos: -1, topicIdType: 1 });
      await gateway.waitFor("QoS -1 refused from 127.0.0.1", () => qosMinusOneRefusals("127.0.0.1") === 1);
      elsewhere.send(qosMinusOne("open-from-127.0.0.2", 7));
      await waitForMessage("open/x", "open-from-127.0.0.2");
      expect(received.filter((m) => m.payload.startsWith("refused"))).toEqual([]);
    });
  },
);
