import mqtt from "mqtt";
import { describe, expect, it } from "vitest";
import { startGateway } from "../support/test-gateway";
import { defaultOptions } from "../../device-client/core/options";
import { ClientState } from "../../device-client/core/types";
import { NodeUdpClient } from "../../device-client/node/udp";
import { MsgType } from "../../protocol/index";
import { stateNames, until } from "./support/wait";

/** The sleep cycle with the Node build against the real gateway and its embedded broker. */
describe("device client sleep cycle against the real gateway", () => {
  it("sleeps, wakes, takes the message the gateway buffered, sleeps again, then reconnects", async () => {
    const gateway = await startGateway({ udp: [{ host: "127.0.0.1", port: 0 }], embeddedPort: 0 });
    const publisher = await mqtt.connectAsync(gateway.brokerUrl, { clientId: "sleep-gw-publisher" });
    const events: string[] = [];
    const done: string[] = [];
    const port = Number((gateway.udpAddresses[0] as string).split(":").pop());
    const udp = new NodeUdpClient(
      {
        stateChanged: (s) => events.push(`state ${stateNames[s] ?? s}`),
        message: (name, _type, _id, data, offset, length, qos) =>
          events.push(
            `message ${name} ${Buffer.from((data as unknown as Uint8Array).subarray(offset, offset + length)).toString()} qos ${qos}`,
          ),
        done: (type, msgId, rc) => done.push(`${type} ${msgId} ${rc}`),
      },
      defaultOptions("sleepy-gw-1", Math.random),
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
      await publisher.publishAsync("sleepy/in", "while-asleep", { qos: 1 });
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
    } finally {
      udp.close();
      await publisher.endAsync();
      await gateway.close();
    }
  }, 30_000);
});
