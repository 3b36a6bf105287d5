import { decode, MsgType } from "../../protocol/index";
import type { Bytes } from "../../protocol/index";
import type { ClientCore } from "./state";
import { onConnAck, onWillRequest, onWillResp } from "./connect";
import { onAdvertise, onGwInfo } from "./discovery";
import { onDisconnect, onPingResp } from "./ping";
import { onPubAck, onPubComp, onPublish, onPubRec, onPubRel } from "./publish";
import { onRegAck, onRegister } from "./register";
import { onSubAck, onUnsubAck } from "./subscribe";

/**
 * The dispatcher: one datagram to its family's handler. fromGateway: the adapter saw it come from the
 * selected gateway; anything else is taken only when it is an ADVERTISE or GWINFO.
 */
export function receive(c: ClientCore, buf: Bytes, length: number, fromGateway: boolean): void {
  const m = decode(buf, 0, length, c.decodeOptions);
  if (m.type === "error") {
    c.dropped++;
    return;
  }
  if (m.type === MsgType.Advertise) {
    onAdvertise(c, m.gwId, m.duration, fromGateway);
    return;
  }
  if (m.type === MsgType.GwInfo) {
    onGwInfo(c, m.gwId);
    return;
  }
  if (!fromGateway) {
    c.dropped++;
    return;
  }
  switch (m.type) {
    case MsgType.WillTopicReq:
    case MsgType.WillMsgReq:
      onWillRequest(c, m.type);
      return;
    case MsgType.ConnAck:
      onConnAck(c, m.returnCode);
      return;
    case MsgType.Register:
      onRegister(c, m.topicId, m.msgId, m.topicName);
      return;
    case MsgType.RegAck:
      onRegAck(c, m.topicId, m.msgId, m.returnCode);
      return;
    case MsgType.Publish:
      onPublish(c, m);
      return;
    case MsgType.PubAck:
      onPubAck(c, m.topicId, m.msgId, m.returnCode);
      return;
    case MsgType.PubRec:
      onPubRec(c, m.msgId);
      return;
    case MsgType.PubRel:
      onPubRel(c, m.msgId);
      return;
    case MsgType.PubComp:
      onPubComp(c, m.msgId);
      return;
    case MsgType.SubAck:
      onSubAck(c, m.topicId, m.msgId, m.returnCode);
      return;
    case MsgType.UnsubAck:
      onUnsubAck(c, m.msgId);
      return;
    case MsgType.WillTopicResp:
      onWillResp(c, MsgType.WillTopicUpd, m.returnCode);
      return;
    case MsgType.WillMsgResp:
      onWillResp(c, MsgType.WillMsgUpd, m.returnCode);
      return;
    case MsgType.PingResp:
      onPingResp(c);
      return;
    case MsgType.Disconnect:
      onDisconnect(c);
      return;
    default:
      c.dropped++;
  }
}
