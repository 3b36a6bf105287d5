import { MsgType, ReturnCode, type Connect, type WillMsg, type WillTopic } from "../../protocol";
import { connectionGone, discardAll } from "../session/custody";
import { closeConnection, endSession, hasOpenUpstream, resetConnection, transition } from "../session/lifecycle";
import { pump } from "../session/outbound";
import type { Effect, Route, Session, SessionContext, Will, WillUpdate } from "../session/types";

/** decode() refuses a WILLTOPIC or WILLTOPICUPD with QoS -1 (DecodeErrorCode.BadQos), so a will's QoS is 0, 1 or 2. */
type WillQos = Will["qos"];

/**
 * §6.2 / §6.3: CONNECT starts a connection of this client id's session; with the Will flag the will
 * handshake comes first. On a session that already has a connection it is either the client retrying
 * the step it is at (§6.13: same route, handshake unfinished) or a new connection that replaces the old
 * one, from the same route or another (a takeover: NAT rebinding, a new radio path).
 * CleanSession 1 discards what the session held (MQTT 3.1.1 §3.1.2.4) and starts a clean upstream
 * session: the old upstream connection is closed with DISCONNECT, so the broker does not publish the old
 * will. CleanSession 0 on a CleanSession 0 session keeps its queued messages and topic ids, delivered after
 * the new CONNACK, and keeps its upstream connection open through the handshake: the messages the broker
 * has not had acknowledged stay valid and in order. It is replaced only if the will changed.
 */
export function handleConnect(
  s: Session,
  m: Connect,
  route: Route,
  now: number,
  ctx: SessionContext,
  out: Effect[],
): void {
  const inHandshake =
    s.state === "awaitingWillTopic" || s.state === "awaitingWillMsg" || s.state === "connectingUpstream";
  if (inHandshake && route.key === s.key) {
    if (s.state === "awaitingWillTopic") out.push({ kind: "send", message: { type: MsgType.WillTopicReq } });
    else if (s.state === "awaitingWillMsg") out.push({ kind: "send", message: { type: MsgType.WillMsgReq } });
    return;
  }
  if (s.state !== "new") {
    const live = s.state !== "disconnected" && s.state !== "lost";
    if (live && route.key !== s.key) {
      ctx.counters.takeovers++;
      ctx.log.info("session-takeover", { clientId: m.clientId, from: s.key, to: route.key });
    }
    const keepUpstream = hasOpenUpstream(s) && !s.cleanSession && !m.cleanSession && s.replacing === undefined;
    if (keepUpstream) resetConnection(s);
    else closeConnection(s, true, out);
    s.upstreamKept = keepUpstream;
    transition(s, "new", live ? `new CONNECT from ${route.key}` : "CONNECT", ctx);
  }
  if (route.key !== s.key) {
    out.push({ kind: "rebind", route, from: s.key });
    s.key = route.key;
  }
  if (m.cleanSession) {
    discardAll(s, "CONNECT with CleanSession 1", ctx, out);
    s.qos2Sent.clear();
    s.topics.clear();
    s.subscriptions.clear();
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

/** Another client id CONNECTed from this session's route: the address was reused, so this client is gone and its will is published. */
export function handleAddressTaken(s: Session, by: string, ctx: SessionContext, out: Effect[]): void {
  ctx.log.info("session-replaced", { key: s.key, oldClientId: s.clientId, clientId: by });
  endSession(s, "lost", `address taken by client ${by}`, false, ctx, out);
}

function sameWill(a: Will | undefined, b: Will | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.topic !== b.topic || a.qos !== b.qos || a.retain !== b.retain || a.payload.length !== b.payload.length)
    return false;
  return a.payload.every((octet, i) => octet === b.payload[i]);
}

/**
 * The handshake is complete: CONNECT upstream, or, with the upstream connection kept from the previous
 * connection, CONNACK at once when the will is the same, else that connection is replaced with the new will.
 */
function connectUpstream(s: Session, will: Will | undefined, now: number, ctx: SessionContext, out: Effect[]): void {
  const kept = s.upstreamKept;
  const unchanged = kept && sameWill(s.will, will);
  s.upstreamKept = false;
  s.will = will;
  s.handshakeDeadline = now + ctx.upstreamConnectTimeoutMs;
  transition(s, "connectingUpstream", "connect handshake complete", ctx);
  if (unchanged) {
    handleUpConnack(s, true, false, now, ctx, out);
    return;
  }
  if (kept) {
    connectionGone(s, true);
    out.push({ kind: "upReplace", will });
    return;
  }
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
  if (s.replacing !== undefined) {
    const willChanged = s.replacing === "will";
    s.replacing = undefined;
    for (const update of s.willResponses.splice(0)) {
      const type = update === "willTopic" ? MsgType.WillTopicResp : MsgType.WillMsgResp;
      out.push({ kind: "send", message: { type, returnCode: ok ? ReturnCode.Accepted : ReturnCode.Congestion } });
    }
    if (!ok) {
      out.push({ kind: "send", message: { type: MsgType.Disconnect, duration: undefined } });
      endSession(s, "lost", "broker refused the replaced connection", false, ctx, out);
      return;
    }
    // A restart resumes a recorded sleeper with the will the broker holds now.
    if (willChanged) out.push({ kind: "persist", state: s.sleep !== undefined ? "asleep" : "active" });
    return;
  }
  if (s.state !== "connectingUpstream") {
    // A session resumed after a restart opened its connection without a CONNECT from the client: if the
    // broker refuses it or cannot be reached, the session has no upstream and ends (its stored messages kept).
    if (!ok && hasOpenUpstream(s))
      endSession(s, "lost", refused ? "broker refused the resumed connection" : "broker unreachable", false, ctx, out);
    return;
  }
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
  out.push({ kind: "persist", state: "active" });
  pump(s, now, ctx, out);
}

function mayUpdateWill(s: Session, ctx: SessionContext): boolean {
  if (s.state === "active" || s.state === "awake") return true;
  ctx.counters.protocolViolations++;
  return false;
}

/**
 * A will update replaces the upstream connection. One arriving while a replacement is under way (a
 * WILLTOPICUPD at once followed by WILLMSGUPD) replaces it again with the newest will; every update is
 * answered once that connection is up. A retransmitted update is answered once.
 */
function replaceUpstream(s: Session, update: WillUpdate, out: Effect[]): void {
  s.replacing = "will";
  if (!s.willResponses.includes(update)) s.willResponses.push(update);
  connectionGone(s, true);
  out.push({ kind: "upReplace", will: s.will });
}

/**
 * §6.4 WILLTOPICUPD: an MQTT connection cannot change its will, so the upstream connection is replaced:
 * DISCONNECT (the old will is discarded, not published), CONNECT again with the same client id and the
 * new will; the adapter restores the subscriptions when the session is clean. WILLTOPICRESP follows the
 * broker's CONNACK.
 */
export function handleWillTopicUpd(s: Session, m: WillTopic, ctx: SessionContext, out: Effect[]): void {
  if (!mayUpdateWill(s, ctx)) return;
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
  replaceUpstream(s, "willTopic", out);
}

/** §6.4 WILLMSGUPD: as WILLTOPICUPD; without a will topic there is nothing to update ("not supported"). */
export function handleWillMsgUpd(s: Session, m: WillMsg, ctx: SessionContext, out: Effect[]): void {
  if (!mayUpdateWill(s, ctx)) return;
  if (s.will === undefined) {
    out.push({ kind: "send", message: { type: MsgType.WillMsgResp, returnCode: ReturnCode.NotSupported } });
    return;
  }
  s.will = { ...s.will, payload: copyWillMsg(m) };
  replaceUpstream(s, "willMsg", out);
}
