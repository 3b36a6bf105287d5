import { MsgType } from "../../protocol";
import { mount, mountWill } from "../access/mountpoint";
import { step } from "../session/machine";
import type { Effect, SessionEvent } from "../session/types";
import { handshakeEnded, inHandshake } from "./admission";
import { forget, keepEnded, rebind } from "./clients";
import type { Client, LinkRoute, Shell } from "./context";
import { recordEnded, recordState, storeMessage } from "./durable-sleep";
import { countPublish } from "./publish-counters";
import { sendTo } from "./send";
import { loginOf } from "./login";
import { sinkFor } from "./upstream-sink";

function closeUpstream(c: Client, graceful: boolean): void {
  const upstream = c.upstream;
  c.upstream = undefined;
  if (upstream === undefined) return;
  const writes = c.storing.size > 0 ? Promise.allSettled([...c.storing]).then(() => undefined) : undefined;
  void upstream.close(graceful, writes);
}

function execute(shell: Shell, c: Client, e: Effect): void {
  // The client's topics at the broker carry its mountpoint (access), the session never sees it.
  const mp = c.session.access?.mountpoint;
  switch (e.kind) {
    case "send":
      sendTo(c.link, c.address, c.nodeId, e.message);
      if (e.message.type === MsgType.Publish && !e.message.dup) countPublish(shell.counters, "down", e.message.qos);
      return;
    case "upConnect":
      closeUpstream(c, true);
      c.upstream = shell.upstream.open(
        {
          clientId: c.session.clientId,
          cleanSession: c.session.cleanSession,
          keepAlive: c.session.duration,
          will: mountWill(mp, e.will),
          ...loginOf(shell, c.session.access, c.session.clientId),
        },
        sinkFor(shell, c),
      );
      return;
    // Without an upstream connection every operation still gets its answer, as a failure (queued events).
    case "upPublish":
      if (c.upstream === undefined) {
        if (e.qos === 0) shell.counters.upstreamDropped++;
        else shell.run(c, { kind: "upPublished", msgId: e.msgId, ok: false });
      } else if (!c.upstream.publish(mount(mp, e.topic), e.payload, e.qos, e.retain, e.msgId))
        shell.counters.upstreamDropped++;
      else countPublish(shell.counters, "up", e.qos);
      return;
    case "upSubscribe":
      if (c.upstream === undefined) shell.run(c, { kind: "upSubAck", msgId: e.msgId, granted: 0x80 });
      else c.upstream.subscribe(mount(mp, e.filter), e.qos, e.msgId);
      return;
    case "upUnsubscribe":
      if (c.upstream === undefined) shell.run(c, { kind: "upUnsubAck", msgId: e.msgId });
      else c.upstream.unsubscribe(mount(mp, e.filter), e.msgId);
      return;
    case "upReplace":
      if (c.upstream === undefined) shell.run(c, { kind: "upConnack", ok: false, refused: false });
      else c.upstream.replace(mountWill(mp, e.will));
      return;
    case "store":
      if (shell.store !== undefined) storeMessage(shell, c, e.delivery, shell.store);
      return;
    case "release":
      e.release();
      return;
    case "upClose":
      closeUpstream(c, e.graceful);
      return;
    case "rebind":
      rebind(shell, c, e.route as LinkRoute, e.from);
      return;
    case "end":
      recordEnded(shell, c, e.keep);
      forget(shell, c);
      if (e.keep && !shell.shuttingDown) keepEnded(shell, c.session);
      return;
    case "persist":
      recordState(shell, c, e.state);
      return;
  }
}

/**
 * The one place a session is stepped: the event goes through the state machine, then its effects are
 * executed. An effect may produce another event (an upstream callback that fires at once): it is queued
 * and handled after the current effects (DESIGN rule 11), never re-entered.
 * Each step runs under one guard: an exception on one client's path ends that client's connection only
 * (logged, counted in sessionFaults) and the gateway goes on.
 */
export function createRun(shell: Shell): (c: Client, event: SessionEvent) => void {
  const out: Effect[] = [];
  const queue: Array<[Client, SessionEvent]> = [];
  let running = false;
  return (first, firstEvent) => {
    queue.push([first, firstEvent]);
    if (running) return;
    running = true;
    try {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const [c, event] = next;
        if (c.ended) continue;
        try {
          const wasInHandshake = inHandshake(c.session);
          step(c.session, event, shell.now(), shell.ctx, out);
          handshakeEnded(shell, c, wasInHandshake);
          for (let i = 0; i < out.length; i++) execute(shell, c, out[i] as Effect);
        } catch (err) {
          fault(shell, c, event, err);
        } finally {
          out.length = 0;
        }
      }
    } finally {
      running = false;
    }
  };
}

/** Ends a client whose step threw: dropped from the tables, its upstream connection dropped (the broker publishes its will). */
export function fault(shell: Shell, c: Client, event: SessionEvent, err: unknown): void {
  shell.counters.sessionFaults++;
  const error = err instanceof Error ? err : new Error(String(err));
  shell.log.error("session-fault", {
    clientId: c.session.clientId,
    key: c.session.key,
    state: c.session.state,
    event: event.kind,
    error: error.message,
    stack: error.stack,
  });
  try {
    closeUpstream(c, false);
  } finally {
    forget(shell, c);
  }
}
