import {
  decode,
  DecodeErrorCode,
  MsgType,
  ReturnCode,
  TopicIdType,
  type Bytes,
  type Message,
  type Publish,
} from "../../protocol";
import type { Link } from "../../transports/link";
import { gwInfo } from "../handlers/discovery";
import { refusesTopicName } from "../admission/topic-names";
import { isSleeping } from "../sleep/transitions";
import { refusesPublish } from "../admission/access-refusals";
import { decideConnect } from "../access/decide";
import { mount } from "../access/mountpoint";
import { admitAccess } from "./access";
import { admitConnect, admitDatagram, handshakeStarted } from "./admission";
import { onConnect, onWakeFromElsewhere } from "./connect";
import { routeKey } from "./clients";
import type { Client, LinkRoute, Shell } from "./context";
import { countPublish } from "./publish-counters";
import { sendTo } from "./send";

function nodeKey(nodeId: Bytes): string {
  let hex = "";
  for (let i = 0; i < nodeId.length; i++) hex += ((nodeId[i] as number) + 0x100).toString(16).slice(1);
  return hex;
}

/**
 * §6.8 QoS -1: no session needed; only predefined ids (the global table) and short names are valid, and
 * never a name with '+' or '#' (MQTT 3.1.1 §4.7.1). There is no answer: what is refused is dropped, counted.
 * With an `access` key, a sender without a session is judged as the client id "" from its link and address:
 * under default "deny" only an entry such as {"clientId": "*", "from": [...]} lets it publish, within its filters.
 */
function onQosMinusOne(shell: Shell, link: Link, address: string, m: Publish): void {
  let topic: string | undefined;
  if (m.topicIdType === TopicIdType.Predefined) topic = shell.globalPredefined.nameById.get(m.topicId);
  else if (m.topicIdType === TopicIdType.Short)
    topic = String.fromCharCode(Math.floor(m.topicId / 256), m.topicId % 256);
  const access = shell.config.access;
  const decision = access === undefined ? undefined : decideConnect(access, "", link.name, address);
  const fields = { message: "PUBLISH", qos: -1, link: link.name, address };
  if (
    topic === undefined ||
    refusesTopicName(topic, shell.counters, shell.log, fields) ||
    (decision !== undefined &&
      refusesPublish(
        decision.allowed ? decision.grant : { entry: undefined, publish: [] },
        topic,
        shell.counters,
        shell.log,
        fields,
      ))
  ) {
    shell.counters.qosMinusOneDropped++;
    return;
  }
  const data = m.data as unknown as Uint8Array;
  const mountpoint = decision?.allowed === true ? decision.grant.mountpoint : undefined;
  shell.upstream.publishAnonymous(
    mount(mountpoint, topic),
    data.subarray(m.dataOffset, m.dataOffset + m.dataLength),
    m.retain,
  );
  countPublish(shell.counters, "up", -1);
}

/** A CONNECT passes the per-source limits, then the access config, before its session hears of it. */
function connectFrom(
  shell: Shell,
  table: Map<string, Client>,
  route: LinkRoute,
  m: Message & { type: MsgType.Connect },
): void {
  if (!admitConnect(shell, table, route, m)) return;
  const access = admitAccess(shell, route, m);
  if (!access.admitted) return;
  onConnect(shell, table, route, m, access.grant);
  handshakeStarted(shell, table.get(route.key));
}

/** One frame from a link: decoded, unwrapped from a forwarder's encapsulation (§5.5), and dispatched. */
export function onFrame(
  shell: Shell,
  link: Link,
  table: Map<string, Client>,
  frame: Uint8Array,
  address: string,
): void {
  const { config, counters, log } = shell;
  if (!admitDatagram(shell, link, address)) return;
  const decoded = decode(frame as unknown as Bytes, 0, frame.length, shell.decodeOptions);
  if (decoded.type === "error") {
    counters.malformedDropped++;
    log.debug("malformed-dropped", { link: link.name, address, code: decoded.code, offset: decoded.offset });
    if (decoded.code === DecodeErrorCode.ClientIdLength && frame[frame[0] === 0x01 ? 3 : 1] === MsgType.Connect) {
      // A CONNECT whose client id is empty or too long is refused, not met with silence.
      log.warn("limit-hit", { limit: "limits.maxClientIdLength", value: config.limits.maxClientIdLength, address });
      sendTo(link, address, undefined, { type: MsgType.ConnAck, returnCode: ReturnCode.NotSupported });
    }
    return;
  }
  let m: Message = decoded;
  // The route key names the link too: the same address string on two links is two clients.
  let key = routeKey(link, address);
  let nodeId: Bytes | undefined;
  if (m.type === MsgType.Encapsulated) {
    nodeId = m.wirelessNodeId;
    key = routeKey(link, address) + "|" + nodeKey(nodeId);
    m = m.message;
  }
  if (m.type === MsgType.Publish && frame.length > config.limits.maxMessageSize) {
    counters.congestionRefusals++;
    log.warn("limit-hit", {
      limit: "limits.maxMessageSize",
      value: config.limits.maxMessageSize,
      size: frame.length,
      address,
    });
    if (m.qos > 0)
      sendTo(link, address, nodeId, {
        type: MsgType.PubAck,
        topicId: m.topicId,
        msgId: m.msgId,
        returnCode: ReturnCode.Congestion,
      });
    return;
  }
  const c = table.get(key);
  if (c !== undefined && m.type !== MsgType.Connect) {
    shell.run(c, { kind: "frame", message: m });
    return;
  }
  const route: LinkRoute = { key, link, address, nodeId };
  if (m.type === MsgType.PingReq && m.clientId !== undefined) {
    const sleeper = shell.byClientId.get(m.clientId);
    if (sleeper !== undefined && isSleeping(sleeper.session)) {
      onWakeFromElsewhere(shell, sleeper, route, m);
      return;
    }
  }
  switch (m.type) {
    case MsgType.Connect:
      connectFrom(shell, table, route, m);
      return;
    case MsgType.SearchGw:
      sendTo(link, address, nodeId, gwInfo(config.gatewayId));
      return;
    case MsgType.Publish:
      if (m.qos === -1) {
        onQosMinusOne(shell, link, address, m);
        return;
      }
      break;
    case MsgType.Disconnect:
      sendTo(link, address, nodeId, { type: MsgType.Disconnect, duration: undefined });
      return;
    case MsgType.Advertise:
    case MsgType.GwInfo:
      return; // another gateway, or a client answering for one
    default:
      break;
  }
  // Not connected: §6.13 a DISCONNECT tells the client to CONNECT again.
  counters.unknownClientFrames++;
  sendTo(link, address, nodeId, { type: MsgType.Disconnect, duration: undefined });
}
