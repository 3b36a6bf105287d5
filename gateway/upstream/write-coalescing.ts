/** Something whose writes are held (a connection's outbox) until it is flushed. */
export interface Flushable {
  flush(): void;
}

let pending: Flushable[] = [];
let scheduled = false;

function flushAll(): void {
  const turn = pending;
  pending = [];
  scheduled = false;
  for (const f of turn) f.flush();
}

/**
 * Write coalescing: the first write on a connection in an event-loop turn registers it here; one
 * setImmediate for every connection of the process flushes them all after the turn's datagrams were read.
 * Under load many packets share one socket write instead of a system call each; when idle a packet waits
 * one turn.
 */
export function flushAfterThisTurn(f: Flushable): void {
  pending.push(f);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}
