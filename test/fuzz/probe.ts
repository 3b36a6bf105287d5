import mqtt, { type MqttClient } from "mqtt";
import { MsgType, ReturnCode } from "../../protocol";
import { SnClient } from "../support/sn-client";

const WAIT_MS = 10_000;

/**
 * A well-behaved client after the storm: a new socket and a new client id CONNECT (§6.2), REGISTER
 * (§6.5) and PUBLISH at QoS 1 (§6.6); the message must reach an mqtt.js watcher on the broker.
 * Returns what went wrong, or undefined when every step passed.
 */
export async function probeGateway(address: string, brokerUrl: string, clientId: string): Promise<string | undefined> {
  const topic = `fuzz-probe/${clientId}`;
  const text = `probe ${clientId}`;
  let watcher: MqttClient | undefined;
  let client: SnClient | undefined;
  try {
    // An mqtt.js subscriber of its own: the fuzzer loads nothing of the gateway it tests.
    watcher = await mqtt.connectAsync(brokerUrl, { reconnectPeriod: 0, clientId: `${clientId}-watcher` });
    await watcher.subscribeAsync(topic, { qos: 1 });
    let arrived = false;
    watcher.on("message", (t, p) => {
      if (t === topic && p.toString() === text) arrived = true;
    });
    client = await SnClient.open(address);
    client.send({ type: MsgType.Connect, will: false, cleanSession: true, duration: 60, clientId });
    const connAck = await client.expect(MsgType.ConnAck, WAIT_MS);
    if (connAck.returnCode !== ReturnCode.Accepted) return `CONNACK return code 0x${connAck.returnCode.toString(16)}`;
    const regId = client.msgId();
    client.send({ type: MsgType.Register, topicId: 0, msgId: regId, topicName: topic });
    const regAck = await client.expect(MsgType.RegAck, WAIT_MS);
    if (regAck.msgId !== regId || regAck.returnCode !== ReturnCode.Accepted)
      return `REGACK msgId ${regAck.msgId} (sent ${regId}) return code 0x${regAck.returnCode.toString(16)}`;
    const pubId = client.publish(regAck.topicId, text, { qos: 1 });
    const pubAck = await client.expect(MsgType.PubAck, WAIT_MS);
    if (pubAck.msgId !== pubId || pubAck.returnCode !== ReturnCode.Accepted)
      return `PUBACK msgId ${pubAck.msgId} (sent ${pubId}) return code 0x${pubAck.returnCode.toString(16)}`;
    const deadline = Date.now() + WAIT_MS;
    while (!arrived) {
      if (Date.now() > deadline) return `the QoS 1 message did not reach a subscriber on the broker in ${WAIT_MS} ms`;
      await new Promise((r) => setTimeout(r, 20));
    }
    client.send({ type: MsgType.Disconnect, duration: undefined });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client?.close();
    await watcher?.endAsync(true);
  }
}
