import { MsgType, ReturnCode, type RegAck, type Register } from "../../protocol";
import { refusesPublish } from "../admission/access-refusals";
import { refusesTopicName } from "../admission/topic-names";
import { delivered } from "../session/custody";
import { completeInFlight } from "../session/outbound";
import type { Effect, Session, SessionContext } from "../session/types";

/**
 * §6.5 client → gateway: REGISTER(name) → REGACK(id); a full table answers "congestion". A name with '+'
 * or '#' (MQTT 3.1.1 §4.7.1: wildcards are for filters) answers "not supported" (§5.3.10) and gets no id,
 * and so does a name outside the publish filters of the client's access entry: nothing of it reaches the broker.
 */
export function handleRegister(s: Session, m: Register, ctx: SessionContext, out: Effect[]): void {
  const fields = { clientId: s.clientId, message: "REGISTER" };
  if (
    refusesTopicName(m.topicName, ctx.counters, ctx.log, fields) ||
    refusesPublish(s.access, m.topicName, ctx.counters, ctx.log, fields)
  ) {
    out.push({
      kind: "send",
      message: { type: MsgType.RegAck, topicId: 0, msgId: m.msgId, returnCode: ReturnCode.NotSupported },
    });
    return;
  }
  const id = s.topics.register(m.topicName);
  if (id === undefined) {
    ctx.counters.congestionRefusals++;
    ctx.log.warn("limit-hit", {
      clientId: s.clientId,
      limit: "limits.maxTopicsPerClient",
      value: ctx.maxTopicsPerClient,
    });
    out.push({
      kind: "send",
      message: { type: MsgType.RegAck, topicId: 0, msgId: m.msgId, returnCode: ReturnCode.Congestion },
    });
    return;
  }
  out.push({
    kind: "send",
    message: { type: MsgType.RegAck, topicId: id, msgId: m.msgId, returnCode: ReturnCode.Accepted },
  });
}

/**
 * §6.5 gateway → client: REGACK to our REGISTER. Only an accepted id enters the table, then the PUBLISH
 * that needed it goes out; a refused one drops that message (its broker acknowledgement is released).
 */
export function handleRegAck(s: Session, m: RegAck, now: number, ctx: SessionContext, out: Effect[]): void {
  const f = s.inFlight;
  if (f === undefined || f.kind !== "register" || f.msgId !== m.msgId) return;
  if (m.returnCode === ReturnCode.Accepted) {
    s.topics.add(f.delivery.topicName, f.topicId);
    s.queue.putBack(f.delivery);
  } else {
    ctx.counters.deliveriesDropped++;
    ctx.log.warn("delivery-dropped", {
      clientId: s.clientId,
      topic: f.delivery.topicName,
      reason: `client refused REGISTER with return code ${m.returnCode}`,
    });
    delivered(f.delivery, out);
  }
  completeInFlight(s, now, ctx, out);
}
