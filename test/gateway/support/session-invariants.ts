import { expect } from "vitest";
import { MsgType } from "../../../protocol";
import type { Effect, Session, SessionContext } from "../../../gateway/session/types";
import { messageBytes, type SleepBufferLimits } from "../../../gateway/sleep/buffer";

function within(limits: SleepBufferLimits, count: number, bytes: number): boolean {
  return count <= limits.maxMessages && bytes <= limits.maxBytes;
}

/**
 * What holds after every step, whatever came in: tables within their bounds; the queue within the
 * client's limits except a record put back at its head (an exchange cut short); at most one message
 * awaiting the client's answer; a finite deadline whenever something is due, none once ended, and a
 * tick at the deadline moves it on.
 */
export function checkSession(
  s: Session,
  ctx: SessionContext,
  limits: SleepBufferLimits,
  effects: readonly Effect[],
  now: number,
  lateTick: boolean,
): void {
  expect(s.topics.size).toBeLessThanOrEqual(ctx.maxTopicsPerClient);
  expect(s.upstreamPending.size + s.qos2Received.size).toBeLessThanOrEqual(ctx.maxInflight);
  expect(s.pendingSubscribes.size).toBeLessThanOrEqual(ctx.maxInflight);
  expect(s.pendingUnsubscribes.size).toBeLessThanOrEqual(ctx.maxInflight);

  const queue = s.queue.toArray();
  const head = queue[0];
  const putBackAtHead = head !== undefined && within(limits, queue.length - 1, s.queue.bytes - messageBytes(head));
  expect(within(limits, queue.length, s.queue.bytes) || putBackAtHead).toBe(true);

  const awaiting = new Set<number>();
  for (const e of effects) {
    if (e.kind !== "send") continue;
    const m = e.message;
    if (m.type === MsgType.Register || m.type === MsgType.PubRel || (m.type === MsgType.Publish && m.qos > 0))
      awaiting.add(m.msgId);
  }
  expect(awaiting.size).toBeLessThanOrEqual(1);

  const ended = s.state === "disconnected" || s.state === "lost";
  if (ended) {
    expect(s.deadline).toBe(Infinity);
    expect(s.inFlight).toBeUndefined();
  } else {
    for (const id of awaiting) expect(s.inFlight?.msgId).toBe(id);
  }
  const due =
    s.state === "awaitingWillTopic" ||
    s.state === "awaitingWillMsg" ||
    s.state === "connectingUpstream" ||
    s.state === "asleep" ||
    s.state === "awake" ||
    (s.state === "active" && (s.duration > 0 || s.inFlight !== undefined));
  if (due) expect(s.deadline).toBeLessThan(Infinity);
  if (lateTick) expect(s.deadline).toBeGreaterThan(now);
}
