/**
 * One MQTT-SN client at the gateway, as a state machine with no I/O and no clock of its own.
 *
 *   new ──CONNECT(will)──▶ awaitingWillTopic ──WILLTOPIC──▶ awaitingWillMsg ──WILLMSG──┐
 *    └──CONNECT──────────────────────────────────────────────────────────────────────┴─▶ connectingUpstream
 *   connectingUpstream ──broker CONNACK──▶ active     (CONNACK 0x00 to the client only now)
 *                      ──refused / timeout──▶ disconnected (CONNACK 0x03 / 0x01)
 *   active ──DISCONNECT──▶ disconnected (upstream DISCONNECT: no will)
 *          ──keep-alive expired, retries exhausted, protocol violation, broker dropped──▶ lost
 *            (upstream dropped without DISCONNECT: the broker publishes the will)
 *   active / awake ──DISCONNECT(duration)──▶ asleep ──PINGREQ──▶ awake ──queue delivered──▶ asleep (§6.14)
 *   any state ──CONNECT of the same client id (any route)──▶ new connection of the same session
 *   disconnected / lost: a CleanSession 0 session still holding messages waits for its next CONNECT.
 *   new ──restored──▶ asleep; new ──restoredKept──▶ disconnected (a restart, from the durable store)
 *
 * Events (SessionEvent): a frame from the client, a CONNECT of this client id (connect), a restart's restore
 * of a sleeper with this start's access grant (restored) or of an ended session holding stored messages
 * (restoredKept), another client taking its address (addressTaken), a wake-up
 * from another address (wakeFrom), the upstream's answers (upConnack, upPublished, upSubAck, upUnsubAck),
 * a message from the broker (upMessage), the broker dropping the connection (upClosed), tick (the shell calls it when now ≥ session.deadline) and shutdown.
 * Effects (Effect): send to the client, upstream connect / publish / subscribe / unsubscribe / replace /
 * close, release a message's custody, rebind to a new route, end the connection.
 * Every gateway → client delivery goes through session/outbound.ts (deliver, pump).
 */
import { MsgType } from "../../protocol";
import {
  handleAddressTaken,
  handleConnect,
  handleUpConnack,
  handleWillMsg,
  handleWillMsgUpd,
  handleWillTopic,
  handleWillTopicUpd,
} from "../handlers/connect";
import { handleDisconnect } from "../handlers/disconnect";
import { handlePingReq, handleWakeFrom } from "../handlers/ping";
import {
  handleClientPublish,
  handlePubAck,
  handlePubComp,
  handlePubRec,
  handlePubRel,
  handleUpPublished,
} from "../handlers/publish";
import { handleRegAck, handleRegister } from "../handlers/register";
import { handleSubscribe, handleUnsubscribe, handleUpSubAck, handleUpUnsubAck } from "../handlers/subscribe";
import { endSession, isConnected, violation } from "./lifecycle";
import { checkSleepExpiry, finishWake, restoreKept, restoreSleeping, sleepingDeadline } from "../sleep/transitions";
import { onStored, refetchIfDrained } from "./custody";
import { deliver, onRetryDue } from "./outbound";
import type { Effect, Session, SessionContext, SessionEvent } from "./types";

/** When this session next needs attention: one deadline per session instead of a timer per message. */
export function computeDeadline(s: Session, ctx: SessionContext): number {
  switch (s.state) {
    case "awaitingWillTopic":
    case "awaitingWillMsg":
    case "connectingUpstream":
      return s.handshakeDeadline;
    case "active":
    case "awake": {
      if (s.sleep !== undefined && s.state === "awake") return sleepingDeadline(s, ctx);
      let d = s.duration > 0 ? s.lastHeard + s.duration * 1500 + ctx.keepAliveGraceMs : Infinity;
      if (s.inFlight !== undefined) d = Math.min(d, s.inFlight.sentAt + ctx.tRetryMs);
      return d;
    }
    case "asleep":
      return sleepingDeadline(s, ctx);
    default:
      return Infinity;
  }
}

function onTick(s: Session, now: number, ctx: SessionContext, out: Effect[]): void {
  if (now < s.deadline) return;
  switch (s.state) {
    case "awaitingWillTopic":
    case "awaitingWillMsg":
      endSession(s, "disconnected", "will handshake timed out", true, ctx, out);
      return;
    case "connectingUpstream":
      // §6.2: the client hears a refusal, never silence.
      out.push({ kind: "send", message: { type: MsgType.ConnAck, returnCode: 0x01 } });
      endSession(s, "disconnected", "broker did not answer CONNECT in time", true, ctx, out);
      return;
    case "asleep":
      checkSleepExpiry(s, now, ctx, out);
      return;
    case "awake":
      // §6.14: an awake client is supervised by its sleep duration, not its keep-alive.
      if (s.sleep !== undefined) {
        if (!checkSleepExpiry(s, now, ctx, out)) onRetryDue(s, now, ctx, out);
        return;
      }
      onRetryDue(s, now, ctx, out);
      return;
    case "active":
      if (s.duration > 0 && now >= s.lastHeard + s.duration * 1500 + ctx.keepAliveGraceMs) {
        // §6.14: keep-alive expired; dropping the upstream connection makes the broker publish the will.
        endSession(s, "lost", "keep-alive expired", false, ctx, out);
        return;
      }
      onRetryDue(s, now, ctx, out);
      return;
    default:
      return;
  }
}

function onFrame(
  s: Session,
  event: Extract<SessionEvent, { kind: "frame" }>,
  now: number,
  ctx: SessionContext,
  out: Effect[],
): void {
  const m = event.message;
  s.lastHeard = now;
  switch (m.type) {
    case MsgType.Connect:
      return handleConnect(s, m, { key: s.key }, now, ctx, out);
    case MsgType.WillTopic:
      return handleWillTopic(s, m, now, ctx, out);
    case MsgType.WillMsg:
      return handleWillMsg(s, m, now, ctx, out);
    case MsgType.WillTopicUpd:
      return handleWillTopicUpd(s, m, ctx, out);
    case MsgType.WillMsgUpd:
      return handleWillMsgUpd(s, m, ctx, out);
    case MsgType.Disconnect:
      return handleDisconnect(s, m, now, ctx, out);
    case MsgType.PingReq:
      return handlePingReq(s, m, now, ctx, out);
    case MsgType.PingResp:
      return;
    default:
      break;
  }
  if (!isConnected(s)) {
    if (s.state === "connectingUpstream" || s.state === "asleep") {
      // Before its CONNACK the client will retry; while asleep (§6.14) only PINGREQ, CONNECT and DISCONNECT
      // mean something, and a late answer (a PUBACK after a restart) is harmless: ignored and counted.
      ctx.counters.unknownClientFrames++;
      return;
    }
    return violation(s, `message type ${m.type} before the connection was accepted`, ctx, out);
  }
  switch (m.type) {
    case MsgType.Register:
      return handleRegister(s, m, ctx, out);
    case MsgType.RegAck:
      return handleRegAck(s, m, now, ctx, out);
    case MsgType.Publish:
      return handleClientPublish(s, m, ctx, out);
    case MsgType.PubAck:
      return handlePubAck(s, m, now, ctx, out);
    case MsgType.PubRec:
      return handlePubRec(s, m, now, ctx, out);
    case MsgType.PubRel:
      return handlePubRel(s, m, ctx, out);
    case MsgType.PubComp:
      return handlePubComp(s, m, now, ctx, out);
    case MsgType.Subscribe:
      return handleSubscribe(s, m, ctx, out);
    case MsgType.Unsubscribe:
      return handleUnsubscribe(s, m, ctx, out);
    default:
      // A gateway-only message (ADVERTISE, CONNACK, SUBACK …) sent by a client.
      return violation(s, `message type ${m.type} is not sent by clients`, ctx, out);
  }
}

/**
 * The session logic: (session, event, now) → the session updated in place plus effects in `out`.
 * No I/O and no clock: the shell executes the effects and passes the time in.
 */
export function step(s: Session, event: SessionEvent, now: number, ctx: SessionContext, out: Effect[]): void {
  // An ended session only answers a new CONNECT; an unacknowledged broker message stays with the broker.
  if ((s.state === "disconnected" || s.state === "lost") && event.kind !== "connect" && event.kind !== "stored") return;
  switch (event.kind) {
    case "frame":
      onFrame(s, event, now, ctx, out);
      break;
    case "connect":
      s.lastHeard = now;
      s.access = event.access;
      handleConnect(s, event.message, event.route, now, ctx, out);
      break;
    case "restored":
      restoreSleeping(s, event.sleeper, event.messages, ctx);
      s.access = event.access;
      break;
    case "restoredKept":
      restoreKept(s, event.clientId, event.messages, ctx);
      break;
    case "addressTaken":
      handleAddressTaken(s, event.by, ctx, out);
      break;
    case "wakeFrom":
      handleWakeFrom(s, event.message, event.route, event.mayMove, now, ctx, out);
      break;
    case "upConnack":
      handleUpConnack(s, event.ok, event.refused, now, ctx, out);
      break;
    case "upPublished":
      handleUpPublished(s, event.msgId, event.ok, ctx, out);
      break;
    case "upSubAck":
      handleUpSubAck(s, event.msgId, event.granted, out);
      break;
    case "upUnsubAck":
      handleUpUnsubAck(s, event.msgId, out);
      break;
    case "upMessage":
      deliver(s, event.delivery, now, ctx, out);
      break;
    case "stored":
      onStored(s, event.delivery, event.release, ctx, out);
      break;
    case "upClosed":
      // The broker dropped the connection: tell the client, which reconnects (§6.2).
      out.push({ kind: "send", message: { type: MsgType.Disconnect, duration: undefined } });
      endSession(s, "lost", "broker closed the connection", false, ctx, out, true);
      break;
    case "tick":
      onTick(s, now, ctx, out);
      break;
    case "shutdown":
      out.push({ kind: "send", message: { type: MsgType.Disconnect, duration: undefined } });
      endSession(s, "disconnected", "gateway shutting down", true, ctx, out);
      break;
  }
  finishWake(s, now, ctx, out);
  refetchIfDrained(s, ctx, out);
  s.deadline = computeDeadline(s, ctx);
}
