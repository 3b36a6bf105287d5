import { describe, expect, it } from "vitest";
import { defaultOptions } from "../../device-client/core/options";
import { ClientState } from "../../device-client/core/types";
import { NodeUdpClient } from "../../device-client/node/udp";
import { MsgType } from "../../protocol/index";
import { ScriptedPeer } from "./support/peer";
import { stateNames, until } from "./support/wait";

/**
 * The sleep cycle over real UDP with the Node build, against the scripted gateway, which lets the
 * transcript be asserted datagram by datagram (sleep-gateway-e2e.test.ts runs it against the real one).
 */
describe("device client sleep cycle over real UDP (Node build, scripted gateway)", () => {
  it("sleeps, wakes, takes the message buffered while asleep, sleeps again, then reconnects", async () => {
    const peer = new ScriptedPeer();
    const port = await peer.start();
    const events: string[] = [];
    const done: string[] = [];
    const options = defaultOptions("sleepy-1", Math.random);
    const udp = new NodeUdpClient(
      {
        stateChanged: (s) => events.push(`state ${stateNames[s] ?? s}`),
        message: (name, _type, _id, data, offset, length, qos) =>
          events.push(
            `message ${name} ${Buffer.from((data as unknown as Uint8Array).subarray(offset, offset + length)).toString()} qos ${qos}`,
          ),
        done: (type, msgId, rc) => done.push(`${type} ${msgId} ${rc}`),
      },
      options,
      { host: "127.0.0.1", port, tickInterval: 20 },
    );
    try {
      await udp.start();
      await until("CONNACK", () => udp.client.state === ClientState.Active);
      const sub = udp.client.subscribe("sleepy/in", 1);
      await until("SUBACK", () => done.includes(`${MsgType.Subscribe} ${sub} 0`));
      expect(udp.client.sleep(2)).toBe(true);
      await until("asleep", () => udp.client.state === ClientState.Asleep);
      const asleepAt = events.length;
      peer.deliver("sleepy/in", "while-asleep", 1);
      await new Promise((r) => setTimeout(r, 300));
      expect(events.slice(asleepAt)).toEqual([]);
      await until("the wake-up and the return to sleep", () => events.length >= asleepAt + 3, 8_000);
      expect(events.slice(asleepAt, asleepAt + 3)).toEqual([
        "state Awake",
        "message sleepy/in while-asleep qos 1",
        "state Asleep",
      ]);
      expect(udp.client.connect()).toBe(true);
      await until("active again", () => udp.client.state === ClientState.Active);
      expect(udp.client.disconnect()).toBe(true);
      await until("disconnected", () => udp.client.state === ClientState.Disconnected);
      expect(udp.client.dropped).toBe(0);
      // On the wire: DISCONNECT(2) and its answer, PINGREQ naming the client, the buffered PUBLISH, PINGRESP,
      // the PUBACK, then CONNECT / CONNACK and DISCONNECT.
      const t = peer.transcript;
      const from = t.indexOf("> 04180002");
      expect(t.slice(from)).toEqual([
        "> 04180002",
        "< 0218",
        "> 0a16" + Buffer.from("sleepy-1").toString("hex"),
        "< 130c2000010064" + Buffer.from("while-asleep").toString("hex"),
        "< 0217",
        "> 070d0001006400",
        "> 0e040401003c" + Buffer.from("sleepy-1").toString("hex"),
        "< 030500",
        "> 0218",
        "< 0218",
      ]);
    } finally {
      udp.close();
      peer.close();
    }
  }, 30_000);
});
