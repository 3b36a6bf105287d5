/**
 * The Espruino example, shared by its two builds (espruino-publish.ts on the sensor profile,
 * espruino-publish-full.ts on the full client): connect to the gateway and publish `count` messages.
 * Define a global MQTTSN_CONFIG = {host, port, clientId, topic, count, qos} before it runs (and
 * connect Wi-Fi first).
 */
import type { MqttSnClient } from "../core/client";
import { defaultOptions } from "../espruino/options";
import type { ClientHandler, ClientOptions } from "../core/types";
import { EspruinoUdpClient, type EspruinoDgram } from "../espruino/udp";
import { PublishApp } from "./publish-app";
import type { QoS } from "../../protocol/messages";

export interface EspruinoConfig {
  host: string;
  port: number;
  clientId: string;
  topic: string;
  count: number;
  qos: QoS;
  subscribe: string | undefined;
  /** "Serial1" or "Bluetooth": talk SLIP-framed MQTT-SN on that port (already set up) instead of UDP. */
  serial: string | undefined;
}

export interface ExampleLink {
  readonly client: MqttSnClient;
  start(): void;
  close(): void;
}

declare const MQTTSN_CONFIG: EspruinoConfig | undefined;
/** require("dgram"), done by the build's banner line outside the bundle. */
declare const MQTTSN_DGRAM: EspruinoDgram;

/** The UDP link to config.host:config.port, with the example's buffers and tick. */
export function openUdp(handler: ClientHandler, options: ClientOptions, config: EspruinoConfig): ExampleLink {
  return new EspruinoUdpClient(handler, options, {
    dgram: MQTTSN_DGRAM,
    host: config.host,
    port: config.port,
    broadcastHost: "255.255.255.255",
    bufferSize: 128,
    inflight: 2,
    tickInterval: 100,
  });
}

/**
 * Runs the example over the link `open` makes. refusal: why this build cannot run the configuration
 * ("" when it can); then it prints that and "failed" and sends nothing.
 */
export function runExample(
  open: (handler: ClientHandler, options: ClientOptions, config: EspruinoConfig) => ExampleLink,
  refusal: (config: EspruinoConfig) => string,
): void {
  const config: EspruinoConfig =
    typeof MQTTSN_CONFIG !== "undefined" && MQTTSN_CONFIG !== undefined
      ? MQTTSN_CONFIG
      : {
          host: "192.168.1.10",
          port: 1884,
          ["clientId"]: "espruino-1",
          topic: "sensors/espruino",
          count: 5,
          qos: 1,
          subscribe: undefined,
          serial: undefined,
        };
  const why = refusal(config);
  if (why !== "") {
    console.log(why);
    console.log("failed");
    return;
  }
  const app = new PublishApp(
    {
      topic: config.topic,
      count: config.count,
      qos: config.qos,
      subscribe: config.subscribe === undefined ? "" : config.subscribe,
    },
    {
      line: (text) => console.log(text),
      finished: (ok) => {
        console.log(ok ? "finished" : "failed");
        link.close();
      },
    },
    new Uint8Array(32) as unknown as number[],
  );
  // By its quoted name: the Espruino build shortens the property clientId, a key of the options
  // (device-client/espruino/options.ts), wherever the code names it plainly.
  const options = defaultOptions(config["clientId"], Math.random);
  options.keepAlive = 30;
  // A lost gateway is tried again after 5 s rather than T_WAIT (5 minutes, §6.16).
  options.reconnectDelay = 5000;
  const link = open(app.handler, options, config);
  app.client = link.client;
  link.start();
}
