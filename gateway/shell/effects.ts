import { step } from "../session/machine";
import type { Effect, SessionEvent } from "../session/types";
import { closeUpstream, forget } from "./clients";
import type { Client, Shell } from "./context";
import { dropRecord, recordAsleep } from "./durable-sleep";
import { sendTo } from "./send";
import { sinkFor } from "./upstream-sink";

function execute(shell: Shell, c: Client, e: Effect): void {
  switch (e.kind) {
    case "send":
      sendTo(c.link, c.address, c.nodeId, e.message);
      return;
    case "upConnect":
      c.upstream = shell.upstream.open(
        {
          clientId: c.session.clientId,
          cleanSession: c.session.cleanSession,
          keepAlive: c.session.duration,
          will: e.will,
        },
        sinkFor(shell, c),
        shell.upstreamClosing.get(c.session.clientId),
      );
      return;
    case "upPublish":
      if (c.upstream !== undefined && !c.upstream.publish(e.topic, e.payload, e.qos, e.retain, e.msgId))
        shell.counters.upstreamDropped++;
      return;
    case "upSubscribe":
      c.subscriptions.set(e.filter, e.qos);
      if (c.upstream !== undefined) c.upstream.subscribe(e.filter, e.qos, e.msgId);
      return;
    case "upUnsubscribe":
      c.subscriptions.delete(e.filter);
      if (c.upstream !== undefined) c.upstream.unsubscribe(e.filter, e.msgId);
      return;
    case "upReplaceWill":
      if (c.upstream !== undefined) c.upstream.replaceWill(e.will);
      return;
    case "upAck":
      e.token();
      return;
    case "upClose":
      if (c.upstream !== undefined && !shell.shuttingDown)
        closeUpstream(shell, c.session.clientId, c.upstream, e.graceful);
      return;
    case "end":
      dropRecord(shell, c);
      forget(shell, c);
      return;
    case "sleepPersist":
      recordAsleep(shell, c);
      return;
    case "publishWill":
      if (c.session.will !== undefined)
        shell.upstream.publishAnonymous(c.session.will.topic, c.session.will.payload, c.session.will.retain);
      return;
  }
}

/** The one place a session is stepped: the event goes through the state machine, then its effects are executed. */
export function createRun(shell: Shell): (c: Client, event: SessionEvent) => void {
  const effectArrays: Effect[][] = [];
  let depth = 0;
  return (c, event) => {
    if (c.ended) return;
    // One effects array reused per call depth: executing an effect may run another event (an mqtt.js
    // callback fired synchronously), which then gets an array of its own.
    const out = effectArrays[depth] ?? (effectArrays[depth] = []);
    depth++;
    try {
      step(c.session, event, shell.now(), shell.ctx, out);
      for (let i = 0; i < out.length; i++) execute(shell, c, out[i] as Effect);
    } finally {
      out.length = 0;
      depth--;
    }
  };
}
