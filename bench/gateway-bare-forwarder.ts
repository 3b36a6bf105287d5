// The baseline of bench/gateway-throughput.ts (--bare): the least a Node forwarder can do — dgram in,
// one mqtt.js connection per client out to the broker — with just enough MQTT-SN (CONNACK, REGACK,
// PUBACK) for the benchmark's clients. No sessions, limits, timers or checks: not a gateway.
import { createSocket } from "node:dgram";
import mqtt, { type MqttClient } from "mqtt";
import { decode, encode, encodingLength, MsgType, type Bytes, type Message } from "../protocol";

const broker = process.argv[2] as string;
const socket = createSocket("udp4");
const clients = new Map<string, { mqtt: MqttClient; topics: string[] }>();

function reply(m: Message, port: number, address: string): void {
  const b = Buffer.allocUnsafe(encodingLength(m));
  encode(m, b as unknown as Bytes, 0);
  socket.send(b, port, address);
}

socket.on("message", (frame, rinfo) => {
  const m = decode(frame as unknown as Bytes, 0, frame.length);
  if (m.type === "error") return;
  const key = `${rinfo.address}:${rinfo.port}`;
  const c = clients.get(key);
  if (m.type === MsgType.Connect) {
    const client = mqtt.connect(broker, { clientId: m.clientId, reconnectPeriod: 0, log: () => {} });
    clients.set(key, { mqtt: client, topics: [] });
    client.once("connect", () => reply({ type: MsgType.ConnAck, returnCode: 0 }, rinfo.port, rinfo.address));
  } else if (c !== undefined && m.type === MsgType.Register) {
    c.topics.push(m.topicName);
    reply({ type: MsgType.RegAck, topicId: c.topics.length, msgId: m.msgId, returnCode: 0 }, rinfo.port, rinfo.address);
  } else if (c !== undefined && m.type === MsgType.Publish) {
    const topic = c.topics[m.topicId - 1] as string;
    const payload = frame.subarray(m.dataOffset, m.dataOffset + m.dataLength);
    if (m.qos === 1) {
      const { topicId, msgId } = m;
      c.mqtt.publish(topic, payload, { qos: 1 }, () =>
        reply({ type: MsgType.PubAck, topicId, msgId, returnCode: 0 }, rinfo.port, rinfo.address),
      );
    } else c.mqtt.publish(topic, payload, { qos: 0 });
  }
});

socket.bind(0, "127.0.0.1", () => {
  socket.setRecvBufferSize(4 * 1024 * 1024);
  process.stdout.write(`bare forwarder ready: udp 127.0.0.1:${socket.address().port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
