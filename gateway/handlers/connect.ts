import { MsgType, ReturnCode, type Connect, type WillMsg, type WillTopic } from "../../protocol";
import { endSession, transition } from "../session/lifecycle";
import { pump } from "../session/outbound";
import type { Effect, Session, SessionContext, Will } from "../session/types";

/** decode() refuses a WILLTOPIC or WILLTOPICUPD with QoS -1 (DecodeErrorCode.BadQos), so a will's QoS is 0, 1 or 2. */
type WillQos = Will["qos"];

/** §6.2 / §6.3: CONNECT starts the session; with the Will flag the will handshake comes first. */
export function handleConnect(s: Session, m: Connect, now: number, ctx: SessionContext, out: Effect[]): void {
  if (s.state !== "new") {
    // A CONNECT on a session in progress is the client retrying it (§6.13): answer the step it is at.
    if (s.state === "awaitingWillTopic") out.push({ kind: "send", message: { type: MsgType.WillTopicReq } });
    else if (s.state === "awaitingWillMsg") out.push({ kind: "send", message: { type: MsgType.WillMsgReq } });
    else if (s.state === "active")
      out.push({ kind: "send", message: { type: MsgType.ConnAck, returnCode: ReturnCode.Accepted } });
    return;
  }
  s.clientId = m.clientId;
  s.cleanSession = m.cleanSession;
  s.duration = m.duration;
  s.handshakeDeadline = now + ctx.willHandshakeTimeoutMs;
  if (m.will) {
    transition(s, "awaitingWillTopic", "CONNECT with Will flag", ctx);
    out.push({ kind: "send", message: { type: MsgType.WillTopicReq } });
    return;
  }
  connectUpstream(s, undefined, now, ctx, out);
}

function connectUpstream(s: Session, will: Will | undefined, now: number, ctx: SessionContext, out: Effect[]): void {
  s.will = will;
  s.handshakeDeadline = now + ctx.upstreamConnectTimeoutMs;
  transition(s, "connectingUpstream", "connect handshake complete", ctx);
  out.push({ kind: "upConnect", will });
}

export function handleWillTopic(s: Session, m: WillTopic, now: number, ctx: SessionContext, out: Effect[]): void {
  if (s.state !== "awaitingWillTopic") {
    if (s.state === "awaitingWillMsg" || s.state === "connectingUpstream") return; // a duplicate: the next step is under way
    ctx.counters.protocolViolations++;
    return;
  }
  if (m.willTopic.length === 0) {
    // §5.4.7: an empty WILLTOPIC means no will.
    connectUpstream(s, undefined, now, ctx, out);
    return;
  }
  s.pendingWillTopic = { topic: m.willTopic, payload: new Uint8Array(0), qos: m.qos as WillQos, retain: m.retain };
  transition(s, "awaitingWillMsg", "WILLTOPIC received", ctx);
  out.push({ kind: "send", message: { type: MsgType.WillMsgReq } });
}

function copyWillMsg(m: WillMsg): Uint8Array {
  const bytes = new Uint8Array(m.willMsgLength);
  for (let i = 0; i < m.willMsgLength; i++) bytes[i] = m.willMsg[m.willMsgOffset + i] as number;
  return bytes;
}

export function handleWillMsg(s: Session, m: WillMsg, now: number, ctx: SessionContext, out: Effect[]): void {
  if (s.state !== "awaitingWillMsg" || s.pendingWillTopic === undefined) {
    if (s.state === "connectingUpstream") return;
    ctx.counters.protocolViolations++;
    return;
  }
  const will: Will = { ...s.pendingWillTopic, payload: copyWillMsg(m) };
  s.pendingWillTopic = undefined;
  connectUpstream(s, will, now, ctx, out);
}

/**
 * The broker answered the upstream CONNECT (or could not be reached). CONNACK only now, §6.2: a refusal
 * (bad credentials, client id rejected) is "not supported", an unreachable or slow broker "congestion".
 * During a will update it is the answer to WILLTOPICUPD / WILLMSGUPD instead.
 */
export function handleUpConnack(
  s: Session,
  ok: boolean,
  refused: boolean,
  now: number,
  ctx: SessionContext,
  out: Effect[],
): void {
  if (s.willUpdate !== undefined) {
    const type = s.willUpdate === "topic" ? MsgType.WillTopicResp : MsgType.WillMsgResp;
    s.willUpdate = undefined;
    out.push({ kind: "send", message: { type, returnCode: ok ? ReturnCode.Accepted : ReturnCode.Congestion } });
    if (!ok) {
      out.push({ kind: "send", message: { type: MsgType.Disconnect, duration: undefined } });
      endSession(s, "lost", "broker refused the connection with the updated will", false, ctx, out);
    }
    return;
  }
  if (s.state !== "connectingUpstream") return;
  if (!ok) {
    out.push({
      kind: "send",
      message: { type: MsgType.ConnAck, returnCode: refused ? ReturnCode.NotSupported : ReturnCode.Congestion },
    });
    endSession(s, "disconnected", refused ? "broker refused CONNECT" : "broker unreachable", true, ctx, out);
    return;
  }
  s.lastHeard = now;
  transition(s, "active", "broker accepted CONNECT", ctx);
  out.push({ kind: "send", message: { type: MsgType.ConnAck, returnCode: ReturnCode.Accepted } });
  pump(s, now, ctx, out);
}

/**
 * §6.4 WILLTOPICUPD: an MQTT connection cannot change its will, so the upstream connection is replaced:
 * DISCONNECT (the old will is discarded, not published), CONNECT again with the same client id and the
 * new will; the adapter restores the subscriptions when the session is clean. WILLTOPICRESP follows the
 * broker's CONNACK.
 */
export function handleWillTopicUpd(s: Session, m: WillTopic, ctx: SessionContext, out: Effect[]): void {
  if (s.state !== "active" && s.state !== "awake") {
    ctx.counters.protocolViolations++;
    return;
  }
  const will: Will | undefined =
    m.willTopic.length === 0
      ? undefined
      : {
          topic: m.willTopic,
          payload: s.will !== undefined ? s.will.payload : new Uint8Array(0),
          qos: m.qos as WillQos,
          retain: m.retain,
        };
  s.will = will;
  s.willUpdate = "topic";
  out.push({ kind: "upReplaceWill", will });
}

/** §6.4 WILLMSGUPD: as WILLTOPICUPD; without a will topic there is nothing to update ("not supported"). */
export function handleWillMsgUpd(s: Session, m: WillMsg, ctx: SessionContext, out: Effect[]): void {
  if (s.state !== "active" && s.state !== "awake") {
    ctx.counters.protocolViolations++;
    return;
  }
  if (s.will === undefined) {
    out.push({ kind: "send", message: { type: MsgType.WillMsgResp, returnCode: ReturnCode.NotSupported } });
    return;
  }
  s.will = { ...s.will, payload: copyWillMsg(m) };
  s.willUpdate = "msg";
  out.push({ kind: "upReplaceWill", will: s.will });
}
