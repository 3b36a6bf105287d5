import mqtt from "mqtt";
import { describe, expect, it } from "vitest";
import { startGateway } from "../support/test-gateway";
import { defaultOptions } from "../../device-client/core/options";
import { ClientState } from "../../device-client/core/types";
import { NodeUdpClient } from "../../device-client/node/udp";
import { MsgType } from "../../protocol/index";
import { until } from "./support/wait";

/** Discovery, reconnection and the will, with the Node build over real UDP against the real gateway. */
describe("device client discovery and reconnection against the real gateway", () => {
  it("finds the gateway with SEARCHGW (GWINFO answer) and connects to the address that answered", async () => {
    const gateway = await startGateway({ udp: [{ host: "127.0.0.1", port: 0 }], embeddedPort: 0, gatewayId: 42 });
    const port = Number((gateway.udpAddresses[0] as string).split(":").pop());
    const options = defaultOptions("searcher-1", () => 0.1);
    options.searchGateway = true;
    options.hasConfiguredGateway = false;
    options.searchDelay = 200;
    const states: number[] = [];
    // The configured address is a dead port: only the GWINFO's sender can lead the client to the gateway.
    const udp = new NodeUdpClient({ stateChanged: (s) => states.push(s), message: () => {}, done: () => {} }, options, {
      host: "127.0.0.1",
      port: 9,
      broadcastHost: "127.0.0.1",
      broadcastPort: port,
      tickInterval: 10,
    });
    try {
      await udp.start();
      await until("Active", () => udp.client.state === ClientState.Active);
      expect(states).toEqual([ClientState.Searching, ClientState.Connecting, ClientState.Active]);
      expect(udp.client.gwId).toBe(42);
      expect(gateway.sessionCount()).toBe(1);
    } finally {
      udp.close();
      await gateway.close();
    }
  });

  it("loses the gateway when it goes away, reconnects when it is back, and registers its topic again", async () => {
    const first = await startGateway({ udp: [{ host: "127.0.0.1", port: 0 }], embeddedPort: 0 });
    const port = Number((first.udpAddresses[0] as string).split(":").pop());
    const options = defaultOptions("reconnect-1", Math.random);
    // Short enough for a test, long enough that a loaded machine does not look like a lost gateway.
    options.retryInterval = 1000;
    options.reconnectDelay = 300;
    const states: number[] = [];
    const done: string[] = [];
    const udp = new NodeUdpClient(
      { stateChanged: (s) => states.push(s), message: () => {}, done: (t, id, rc) => done.push(`${t} ${id} ${rc}`) },
      options,
      { host: "127.0.0.1", port, tickInterval: 10 },
    );
    let second: Awaited<ReturnType<typeof startGateway>> | undefined;
    try {
      await udp.start();
      await until("Active", () => udp.client.state === ClientState.Active);
      const id = udp.client.publish("re/connect", [1, 2], 0, 2, 1, false);
      await until("PUBACK", () => done.includes(`${MsgType.Publish} ${id} 0`));
      await first.close();
      await until("Lost", () => udp.client.state === ClientState.Lost);
      second = await startGateway({ udp: [{ host: "127.0.0.1", port }], embeddedPort: 0 });
      await until(
        "Active again",
        () => udp.client.state === ClientState.Active && states.lastIndexOf(ClientState.Lost) >= 0,
      );
      expect(udp.client.topicId("re/connect")).toBe(-1);
      const again = udp.client.publish("re/connect", [3], 0, 1, 1, false);
      await until("PUBACK from the new gateway", () => done.includes(`${MsgType.Publish} ${again} 0`));
    } finally {
      udp.close();
      if (second) await second.close();
    }
  }, 20_000);
});

describe("device client will against the real gateway and broker", () => {
  it("connects with a will, updates it, and the broker publishes the updated will when the client goes silent", async () => {
    const gateway = await startGateway({ udp: [{ host: "127.0.0.1", port: 0 }], embeddedPort: 0 });
    const watcher = await mqtt.connectAsync(gateway.brokerUrl, { clientId: "will-watch" });
    const wills: string[] = [];
    watcher.on("message", (topic, payload) => wills.push(`${topic} ${payload.toString()}`));
    await watcher.subscribeAsync("wills/#", { qos: 1 });
    const options = defaultOptions("will-1", Math.random);
    options.keepAlive = 1;
    options.willTopic = "wills/first";
    options.willQos = 1;
    options.willMessage = Array.from(Buffer.from("first will"));
    options.willMessageLength = 10;
    const done: string[] = [];
    const port = Number((gateway.udpAddresses[0] as string).split(":").pop());
    const udp = new NodeUdpClient(
      { stateChanged: () => {}, message: () => {}, done: (t, id, rc) => done.push(`${t} ${id} ${rc}`) },
      options,
      {
        host: "127.0.0.1",
        port,
        tickInterval: 10,
      },
    );
    try {
      await udp.start();
      await until("Active", () => udp.client.state === ClientState.Active);
      expect(udp.client.updateWillTopic("wills/second", 1, false)).toBe(0);
      await until("WILLTOPICRESP", () => done.includes(`${MsgType.WillTopicUpd} 0 0`));
      const message = Array.from(Buffer.from("second will"));
      expect(udp.client.updateWillMessage(message, 0, message.length)).toBe(0);
      await until("WILLMSGRESP", () => done.includes(`${MsgType.WillMsgUpd} 0 0`));
      // Silence: no PINGREQ, no DISCONNECT. The gateway takes the client as lost after its keep-alive.
      udp.close();
      await until("the will at the broker", () => wills.length > 0, 10_000);
      expect(wills).toEqual(["wills/second second will"]);
    } finally {
      await watcher.endAsync();
      await gateway.close();
    }
  }, 20_000);
});
