/**
 * A device inside a network namespace, driven by a test outside it: run as
 * `ip netns exec NS node --import tsx test/support/netns-device.ts` (netns-device-driver.ts does).
 *
 * Each line on stdin is a JSON request {gateway: "HOST:PORT" or "[V6]:PORT", clientId, topic, payload}. The
 * device opens a UDP socket (udp4 or udp6 by the gateway's address), CONNECTs with CleanSession (MQTT-SN §6.2),
 * REGISTERs the topic name (§6.5), PUBLISHes the payload at QoS 1 and waits for its PUBACK (§6.8), DISCONNECTs
 * (§6.13), and writes one JSON line: {ok: true} with the return codes, or {ok: false, error}.
 */
import { createInterface } from "node:readline";
import { MsgType, ReturnCode } from "../../protocol";
import { SnClient } from "./sn-client";

export interface DeviceRequest {
  gateway: string;
  clientId: string;
  topic: string;
  payload: string;
}

export type DeviceAnswer = { ok: true; connack: number; regack: number; puback: number } | { ok: false; error: string };

async function publishOnce(request: DeviceRequest): Promise<DeviceAnswer> {
  const device = await SnClient.open(request.gateway);
  try {
    const connack = await device.connect(request.clientId);
    if (connack !== ReturnCode.Accepted) return { ok: false, error: `CONNACK return code ${connack}` };
    const regack = await device.register(request.topic);
    if (regack.returnCode !== ReturnCode.Accepted)
      return { ok: false, error: `REGACK return code ${regack.returnCode}` };
    const msgId = device.publish(regack.topicId, request.payload, { qos: 1 });
    const puback = await device.expect(MsgType.PubAck);
    if (puback.msgId !== msgId) return { ok: false, error: `PUBACK for ${puback.msgId}, expected ${msgId}` };
    device.send({ type: MsgType.Disconnect, duration: undefined });
    await device.expect(MsgType.Disconnect);
    return { ok: true, connack, regack: regack.returnCode, puback: puback.returnCode };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  } finally {
    await device.close();
  }
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() === "") continue;
  process.stdout.write(`${JSON.stringify(await publishOnce(JSON.parse(line) as DeviceRequest))}\n`);
}
